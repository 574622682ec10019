"""Restart the broker twice in the middle of a 10,000-record flow: every service reconnects by itself.

No process is restarted by the test: each must notice the outage and reconnect by itself (consumers
reconnect with back-off; publishes are retried or left in the outbox). After recovery every person has
exactly one outcome and the access record verifies. The database restarted mid-flow is
``test_restart_postgres.py``.
"""

from __future__ import annotations

import time

import pytest

from tests.faults._broker import PrivateBroker
from tests.faults.harness import assert_every_record_once
from tests.faults.scenarios import CHUNK, no_process_was_restarted

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e, pytest.mark.slow]

OUTAGE_S = 2.0
"""How long the broker stays down: long enough for every service to lose its connections."""


@pytest.mark.timeout(240)
def test_a_broker_restarted_twice_mid_flow_every_service_reconnects_and_every_record_completes_once(
    deploy, fault_broker: PrivateBroker
):
    d = deploy(chunk_records=CHUNK)
    d.start()
    d.drop_request()
    for fraction in (0.2, 0.6):
        d.wait_completed(int(fraction * d.records), 120)
        fault_broker.stop_app()
        d.note("broker application stopped")
        time.sleep(OUTAGE_S)  # the outage itself (a scenario parameter, not a wait for a result)
        took = fault_broker.start_app()
        d.note(f"broker application serving again after {took:.1f}s")
    d.wait_completed(d.flow.sent(), 180)
    no_process_was_restarted(d)
    report = assert_every_record_once(d)
    print("\n".join(d.events), report, sep="\n")
