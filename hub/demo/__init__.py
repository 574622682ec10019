"""The demo and the benchmark drive flows: each flow starts an exchange and counts what completed.

A flow is one business exchange of the seed's document (the survival/change inquiry, a number
acquisition, an information query, a payment report, ...). New flows implement :class:`DemoFlow` in their
own module and are listed in :data:`hub.demo.registry.FLOWS`.
"""
