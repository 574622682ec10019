"""SIGKILL every service at once (a host crash) in the middle of a 10,000-record survival inquiry.

The hub holds the only state of the flow (vault, inbox, outbox, access record). The kill loses every
process's in-memory work: unacknowledged deliveries come back from the broker, committed outbox rows that
were not relayed are published by the restarted hub's relay sweep, and the inbox drops whatever was
already handled. After recovery every person has exactly one outcome and the access record has no
duplicate.
"""

from __future__ import annotations

import pytest

from tests.faults.harness import assert_every_record_once
from tests.faults.scenarios import CHUNK

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.timeout(240)
def test_every_service_killed_together_then_restarted_completes_every_record_once(deploy):
    d = deploy(chunk_records=CHUNK)
    d.start()
    d.drop_request()
    d.wait_completed(int(0.4 * d.records), 120)
    for name in d.services:  # a host crash: everything dies at (nearly) the same moment
        d.kill(name)
    d.start()
    d.wait_completed(d.flow.sent(), 120)
    report = assert_every_record_once(d)
    assert all(service.kills == 1 for service in d.services.values())
    print("\n".join(d.events), report, sep="\n")
