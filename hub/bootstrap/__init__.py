"""Composition roots: one small builder per process role, the only place concrete infrastructure is wired.

* :mod:`~hub.bootstrap.hub_worker`: the hub worker (ingress consumer, outbox relay, dead-letter consumer,
  metrics sampler, and audit checkpoints when its settings name a signing key);
* :mod:`~hub.bootstrap.adapters`: an adapter host, from the table of adapter specs;
* :mod:`~hub.bootstrap.simulators`: a simulated counterpart, from the table of simulator specs;
* :mod:`~hub.bootstrap.console`: what the operator console works with;
* :mod:`~hub.bootstrap.operator`: the operator tools (vault, dead letters, members, checkpoints);
* :mod:`~hub.bootstrap.transports`: the one factory every transport is made by (per service name);
* :mod:`~hub.bootstrap.prepare`: migrating the database and declaring the broker topology;
* :mod:`~hub.bootstrap.common`: settings-derived wiring shared by the roles (names, retry, units of work).

Each builder takes the settings, the typed key bundles of its role (:mod:`hub.infra.keys.service_keys`)
and a :data:`~hub.bootstrap.transports.TransportFactory`; nothing connects at import time. Running every role
in one process (the demo, the benchmark, tests) is :mod:`hub.demo.deployment`'s business, not this package's.
"""
