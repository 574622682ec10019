"""Restart the broker, and the database, in the middle of a 10,000-record flow.

No process is restarted by the test: each must notice the outage and reconnect by itself (consumers
reconnect with back-off; publishes are retried or left in the outbox; a database error is a transient
failure whose messages go through the retry tiers). After recovery every person has exactly one outcome
and the access record verifies.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.faults._broker import PrivateBroker
from tests.faults._postgres import PrivatePostgres
from tests.faults.harness import Deployment, assert_every_record_once

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e, pytest.mark.slow]

CHUNK = 250
OUTAGE_S = 2.0
"""How long the broker stays down: long enough for every service to lose its connections."""


def _no_process_was_restarted(d: Deployment) -> None:
    for service in d.services.values():
        assert service.generation == 1, f"{service.name} was restarted"
        assert service.alive(), f"{service.name} did not survive the outage\n{d.diagnosis()}"


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
    _no_process_was_restarted(d)
    report = assert_every_record_once(d)
    print("\n".join(d.events), report, sep="\n")


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
    _no_process_was_restarted(d)
    report = assert_every_record_once(d)
    print("\n".join(d.events), report, sep="\n")
