"""SIGKILL the adapter of the other implementing bodies in the middle of its flow: every claim arrives once.

600 claims forwarded to the other implementing bodies (事務 (6)) run from the pension system through the
hub and the adapter to the simulated network and back. The flow is short, so the adapter is killed once,
with its forwardings queued; afterwards every claim reached the pension system exactly once and the access
record has no duplicate. The simulator stays up: it stands in for the outside network, whose state a
renkei failure does not touch. The intermediate server, eLTAX and NTA adapters, each killed three times in
a flow of 10,000 people, have a file each (``test_kill_intermediate_server.py``, ``test_kill_eltax.py``,
``test_kill_nta.py``).
"""

from __future__ import annotations

import pytest

from hub.demo.implementing_bodies import ClaimForwardingFlow
from tests.faults.harness import assert_every_record_once

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e, pytest.mark.slow]


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
