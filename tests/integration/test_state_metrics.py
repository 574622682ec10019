"""The stored-state gauges (hub/infra/observability/state_metrics.py) count what the database holds.

An outbox row left unrelayed, an access record no checkpoint covers yet, a number kept past its
retention: each shows in its gauge, and goes back down once the relay, the checkpoint or the retention
job has done its work. Synthetic data, SQLite, no broker.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from hub.cli.retention import run_retention
from hub.demo.deployment import local_deployment
from hub.infra.db.tables.messaging import outbox
from hub.infra.observability.state_metrics import STATE_METRIC_NAMES, StoredStateCollector
from hub.ports.audit import AccessRecord, AuditAction, Outcome
from hub.ports.transport import OutgoingMessage
from hub.ports.vault import Retention
from hub.settings import Settings

NOW = datetime(2031, 3, 1, 3, 0, tzinfo=UTC)  # noon in Japan


def gauges(collector: StoredStateCollector) -> dict[str, float]:
    registry = CollectorRegistry()
    registry.register(collector)
    text = generate_latest(registry).decode()
    return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples}


def test_gauges_follow_the_outbox_the_checkpoints_and_retention(tmp_path):
    settings = Settings(data_dir=tmp_path / "var", exchange_prefix="state")
    hub = local_deployment(settings, configure_logs=False)
    try:
        hub.prepare_database()
        collector = StoredStateCollector(hub.engine, clock=lambda: NOW)
        empty = gauges(collector)
        assert set(empty) == STATE_METRIC_NAMES - {
            "renkei_audit_checkpoint_age_seconds",  # no checkpoint yet
            "renkei_retention_last_erasure_timestamp_seconds",  # nothing erased yet
        }
        assert empty["renkei_state_up"] == 1
        assert empty["renkei_outbox_backlog"] == empty["renkei_holds_waiting"] == 0
        assert empty["renkei_dead_letters_pending"] == empty["renkei_retention_overdue_numbers"] == 0

        factory = hub.uow_factory()
        with factory() as uow:
            uow.outbox.add([OutgoingMessage("state.route", "jlis", b"{}", "m1", "jlis.file", "c1")] * 2)
            uow.audit.append(
                [AccessRecord(actor="test", action=AuditAction.RECEIVED, message_id="m1", outcome=Outcome.OK)]
            )
            # Two people: one kept until last month (overdue), one until next year.
            population = hub.population(2)
            uow.vault.enrol(
                [(population.usage_number(0), population.individual_number(0))],
                retention=Retention(basis="test", purge_after=date(2031, 2, 1)),
                source="test",
            )
            uow.vault.enrol(
                [(population.usage_number(1), population.individual_number(1))],
                retention=Retention(basis="test", purge_after=date(2032, 2, 1)),
                source="test",
            )
            uow.commit()
        with hub.engine.begin() as conn:
            conn.execute(update(outbox).values(created_at=NOW - timedelta(minutes=10)))
        busy = gauges(collector)
        assert busy["renkei_outbox_backlog"] == 2
        assert busy["renkei_outbox_oldest_seconds"] == 600
        assert busy["renkei_audit_unsealed_oldest_seconds"] > 0
        assert busy["renkei_retention_overdue_numbers"] == 1

        with hub.engine.begin() as conn:
            conn.execute(update(outbox).values(sent_at=NOW))
        run_retention(settings, as_of=date(2031, 3, 1), actor="test")
        assert hub.checkpointer is not None
        hub.checkpointer.checkpoint_now()  # after the run: it records what it erased in the access record
        done = gauges(collector)
        assert done["renkei_outbox_backlog"] == done["renkei_outbox_oldest_seconds"] == 0
        assert done["renkei_audit_unsealed_oldest_seconds"] == 0
        assert "renkei_audit_checkpoint_age_seconds" in done
        assert done["renkei_retention_overdue_numbers"] == 0
        assert "renkei_retention_last_erasure_timestamp_seconds" in done
    finally:
        hub.close()


def test_only_state_up_when_the_database_is_gone(tmp_path):
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'no' / 'such.db'}")
    assert gauges(StoredStateCollector(engine)) == {"renkei_state_up": 0.0}
