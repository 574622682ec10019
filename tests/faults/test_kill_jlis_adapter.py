"""SIGKILL the J-LIS adapter while it writes request files and while it reads result files.

The adapter keeps no state: idempotency comes from deterministic names and ids downstream. A killed
consumer's unacknowledged deliveries come back, and a file written twice is written with the same bytes.
After recovery every person has exactly one outcome.
"""

from __future__ import annotations

import pytest

from tests.faults.harness import assert_every_record_once
from tests.faults.scenarios import CHUNK, kill_at

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.timeout(240)
def test_the_jlis_adapter_killed_while_writing_requests_and_reading_results(deploy):
    d = deploy(chunk_records=CHUNK)
    d.start()
    d.drop_request()
    # While request files are being written: the hub has sent its first inquiries on.
    d.wait_until(lambda: d.hub_handled() > 0, "the hub's first handled message", 90)
    d.restart("jlis")
    # While result files are turned into result messages.
    kill_at(d, "jlis", (0.2, 0.6))
    d.wait_completed(d.flow.sent(), 120)
    report = assert_every_record_once(d)
    assert d.services["jlis"].kills == 3
    print("\n".join(d.events), report, sep="\n")
