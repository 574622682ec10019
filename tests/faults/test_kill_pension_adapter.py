"""SIGKILL the pension adapter while it publishes the request file and while it writes outcome files.

The adapter keeps no state: a request file it had not acknowledged is published again with the same
message ids (the hub's inbox drops them), and an outcome file written twice is written with the same
bytes. After recovery every person has exactly one outcome, and each chunk was enriched once.
"""

from __future__ import annotations

import pytest

from tests.faults.harness import assert_every_record_once
from tests.faults.scenarios import kill_at

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e, pytest.mark.slow]


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
    kill_at(d, "pension", (0.3, 0.7))
    d.wait_completed(d.flow.sent(), 120)
    report = assert_every_record_once(d)
    assert d.services["pension"].kills == 3
    d.note(f"the hub skipped {d.log_count('hub', 'duplicate delivery skipped')} duplicate deliveries")
    assert report.audit_actions["enriched"] == chunks, "each chunk was enriched and sent on once"
    print("\n".join(d.events), report, sep="\n")
