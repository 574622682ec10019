"""SIGKILL the intermediate server, eLTAX and NTA adapters in the middle of their flows of 10,000 people.

The information query (情報照会: two queries per person, after code acquisition), the payment report
(公的年金等支払報告書) and the withholding slips (公的年金等の源泉徴収票, a file of 100 per message) run
from the pension system through the hub and the adapter to the simulated network and back. The adapter
is killed three times in each; afterwards every record reached the pension system exactly once and the
access record has no duplicate. The simulators stay up: they stand in for the outside networks, whose
state a renkei failure does not touch.
"""

from __future__ import annotations

import pytest

from hub.demo.eltax import PaymentReportFlow
from hub.demo.intermediate_server import InfoQueryFlow
from hub.demo.nta import WithholdingSlipFlow
from tests.faults.harness import assert_every_record_once

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("adapter", "flow"),
    [("intermediate_server", InfoQueryFlow), ("eltax", PaymentReportFlow), ("nta", WithholdingSlipFlow)],
    ids=["intermediate_server-info_query", "eltax-payment_report", "nta-withholding_slip"],
)
def test_an_adapter_killed_at_three_points_of_its_flow_completes_every_record_once(deploy, adapter, flow):
    d = deploy(flow=flow, services=("hub", "pension", adapter, f"simulator-{adapter}"))
    d.start()
    d.drop_request()
    for fraction in (0.1, 0.4, 0.7):
        d.wait_completed(int(fraction * d.flow.sent()), 180)
        d.restart(adapter)
    d.wait_completed(d.flow.sent(), 180)
    report = assert_every_record_once(d)
    assert d.services[adapter].kills == 3
    print("\n".join(d.events), report, sep="\n")
