"""Restart PostgreSQL twice (fast, then immediate) in the middle of a 10,000-record flow on PostgreSQL.

No process is restarted by the test: each must notice the outage and carry on by itself (a database
error is a transient failure whose messages go through the retry tiers). After recovery every person has
exactly one outcome and the access record verifies. The broker restarted mid-flow is
``test_restart_broker.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults._postgres import PrivatePostgres
from tests.faults.harness import assert_every_record_once
from tests.faults.scenarios import CHUNK, no_process_was_restarted

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def pg_database(fault_postgres: PrivatePostgres) -> Iterator[str]:
    """A fresh database on the private cluster; dropped after the test (after its processes)."""
    name = fault_postgres.create_database()
    yield fault_postgres.url(name)
    fault_postgres.drop_database(name)


@pytest.mark.postgres
@pytest.mark.timeout(240)
def test_the_database_restarted_mid_flow_with_the_hub_on_postgresql_every_record_completes_once(
    pg_database: str, deploy, fault_postgres: PrivatePostgres
):
    d = deploy(chunk_records=CHUNK, db_url=pg_database)
    d.start()
    d.drop_request()
    for fraction, mode in ((0.2, "fast"), (0.6, "immediate")):
        d.wait_completed(int(fraction * d.records), 120)
        took = fault_postgres.restart(mode)
        d.note(f"PostgreSQL restarted ({mode}) in {took:.1f}s")
    d.wait_completed(d.flow.sent(), 180)
    no_process_was_restarted(d)
    report = assert_every_record_once(d)
    print("\n".join(d.events), report, sep="\n")
