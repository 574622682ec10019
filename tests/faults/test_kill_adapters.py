"""SIGKILL the J-LIS adapter, the pension adapter and the J-LIS simulator at several points of a flow.

None of them keeps state: idempotency comes from deterministic names and ids downstream. A killed
consumer's unacknowledged deliveries come back; a request file the pension adapter had not acknowledged
is published again with the same message ids (the hub's inbox drops them); an outcome file written twice
is written with the same bytes. After recovery every person has exactly one outcome.
"""

from __future__ import annotations

import pytest

from tests.faults.harness import Deployment, assert_every_record_once

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e, pytest.mark.slow]

CHUNK = 250


def _kill_at(d: Deployment, name: str, fractions: tuple[float, ...]) -> None:
    for fraction in fractions:
        d.wait_completed(int(fraction * d.records), 120)
        d.restart(name)


@pytest.mark.timeout(240)
def test_the_jlis_adapter_killed_while_writing_requests_and_reading_results(deploy):
    d = deploy(chunk_records=CHUNK)
    d.start()
    d.drop_request()
    # While request files are being written: the hub has sent its first inquiries on.
    d.wait_until(lambda: d.hub_handled() > 0, "the hub's first handled message", 90)
    d.restart("jlis")
    # While result files are turned into result messages.
    _kill_at(d, "jlis", (0.2, 0.6))
    d.wait_completed(d.flow.sent(), 120)
    report = assert_every_record_once(d)
    assert d.services["jlis"].kills == 3
    print("\n".join(d.events), report, sep="\n")


@pytest.mark.timeout(240)
def test_the_pension_adapter_killed_while_publishing_the_request_and_writing_outcomes(deploy):
    # 100 records per message: the poller publishes 100 messages from the one request file. The hub
    # starts later, so that what the poller published piles up in the ingress queue where the test sees it.
    d = deploy(chunk_records=100)
    chunks = d.records // 100
    d.start("jlis", "pension", "simulator")
    d.drop_request()
    d.wait_until(lambda: d.ingress_depth() > 0, "the poller's first message", 90, poll_s=0.002)
    d.restart("pension")
    d.note(
        f"killed with {d.ingress_depth()} of {chunks} messages published; the request file was "
        f"{'already' if d.request_taken() else 'not yet'} acknowledged"
    )
    d.start("hub")
    # While outcome files are being written.
    _kill_at(d, "pension", (0.3, 0.7))
    d.wait_completed(d.flow.sent(), 120)
    report = assert_every_record_once(d)
    assert d.services["pension"].kills == 3
    d.note(f"the hub skipped {d.log_count('hub', 'duplicate delivery skipped')} duplicate deliveries")
    assert report.audit_actions["enriched"] == chunks, "each chunk was enriched and sent on once"
    print("\n".join(d.events), report, sep="\n")


@pytest.mark.timeout(240)
def test_the_jlis_simulator_killed_at_three_points(deploy):
    d = deploy(chunk_records=CHUNK)
    d.start()
    d.drop_request()
    _kill_at(d, "simulator", (0.1, 0.5, 0.8))
    d.wait_completed(d.flow.sent(), 120)
    report = assert_every_record_once(d)
    assert d.services["simulator"].kills == 3
    print("\n".join(d.events), report, sep="\n")
