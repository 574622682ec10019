"""SIGKILL the J-LIS simulator at three points of a flow: every person still has exactly one outcome.

The simulator keeps no state of the flow: idempotency comes from deterministic names and ids downstream,
and a killed consumer's unacknowledged deliveries come back.
"""

from __future__ import annotations

import pytest

from tests.faults.harness import assert_every_record_once
from tests.faults.scenarios import CHUNK, kill_at

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.timeout(240)
def test_the_jlis_simulator_killed_at_three_points(deploy):
    d = deploy(chunk_records=CHUNK)
    d.start()
    d.drop_request()
    kill_at(d, "simulator", (0.1, 0.5, 0.8))
    d.wait_completed(d.flow.sent(), 120)
    report = assert_every_record_once(d)
    assert d.services["simulator"].kills == 3
    print("\n".join(d.events), report, sep="\n")
