"""SIGKILL the intermediate server, eLTAX, NTA and implementing-body adapters in the middle of their flow.

The information query (情報照会: two queries per person, after code acquisition), the payment report
(公的年金等支払報告書) and the withholding slips (公的年金等の源泉徴収票, a file of 100 per message) of 10,000
people, and 600 claims forwarded to the other implementing bodies (事務 (6)), run from the pension system
through the hub and the adapter to the simulated network and back. The adapter is killed three times in
each of the first three, once in the last (a short flow: killed with its forwardings queued); afterwards
every record reached the pension system exactly once and the access record has no duplicate. The
simulators stay up: they stand in for the outside networks, whose state a renkei failure does not touch.
"""

from __future__ import annotations

import pytest

from hub.demo.eltax import PaymentReportFlow
from hub.demo.implementing_bodies import ClaimForwardingFlow
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


@pytest.mark.timeout(240)
def test_the_adapter_of_the_other_implementing_bodies_killed_mid_flow_forwards_every_claim_once(deploy):
    # 600 claims, 100 a message: six requests, a forwarding per destination each (24). The flow is quick, so
    # the forwardings are queued before the adapter starts, and it is killed while it works through them,
    # two at a time (prefetch 2).
    adapter = "implementing_bodies"
    services = ("hub", "pension", adapter, f"simulator-{adapter}")
    d = deploy(600, flow=ClaimForwardingFlow, services=services, prefetch=2, batch_size=1)
    d.start("hub", "pension", f"simulator-{adapter}")
    d.drop_request()
    queue = d.hub.names.adapter_queue(adapter)
    d.wait_until(lambda: d.queue_depth(queue) == 24, "the 24 forwardings queued", 60)
    d.start(adapter)
    d.wait_until(lambda: d.queue_depth(queue) < 24, "the adapter at work", 60, poll_s=0.01)
    left = d.queue_depth(queue)
    d.restart(adapter)  # SIGKILL with forwardings in hand and more queued
    d.wait_completed(d.flow.sent(), 120)
    report = assert_every_record_once(d)
    assert d.services[adapter].kills == 1
    assert left > 0, "the first kill came after the adapter had taken every forwarding"
    print("\n".join(d.events), f"{left} forwardings still queued at the first kill", report, sep="\n")
