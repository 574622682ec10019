"""Gauges of what the database holds, read at scrape time: what waits for an operator or a job.

Exported by the hub's ``/metrics`` (every hub replica reports the same values: alert on ``max``) and by the
console's. They are gauges of stored state, so they may fall, and no pruning can fake a counter reset.

* ``renkei_holds_waiting``, ``renkei_holds_oldest_waiting_seconds``: links held for an operator
  (``renkei vault pending``), and how long the oldest has waited;
* ``renkei_outbox_backlog``, ``renkei_outbox_oldest_seconds``: outbox rows not yet relayed to the broker;
* ``renkei_dead_letters_pending``: dead letters waiting for an operator (``renkei dlq``);
* ``renkei_audit_checkpoint_age_seconds``: since the newest signed checkpoint;
  ``renkei_audit_unsealed_oldest_seconds``: age of the oldest access record no checkpoint covers yet
  (0 when every record is covered);
* ``renkei_retention_overdue_numbers``: numbers whose retention ended more than a day ago and are still
  kept (the daily ``renkei retention run`` did not run, or failed);
  ``renkei_retention_last_erasure_timestamp_seconds``: when it last erased one;
* ``renkei_state_up``: 1 when every query above answered, else 0 (then the others are left out).

Each query is one indexed aggregate, or one look-up per audit chain that grew.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Connection, Engine, and_, func, select
from sqlalchemy.exc import SQLAlchemyError

from contracts.errors import RenkeiError
from hub.infra.audit.codec import to_utc
from hub.infra.db.tables.audit import access_records, audit_chains, audit_checkpoints, audit_coverage
from hub.infra.db.tables.dead_letters import dead_letters
from hub.infra.db.tables.holds import number_holds
from hub.infra.db.tables.messaging import outbox
from hub.infra.db.tables.vault import deletion_log, numbers

__all__ = ["STATE_METRIC_NAMES", "StoredStateCollector"]

log = logging.getLogger(__name__)

_JST = timezone(timedelta(hours=9), "JST")

STATE_METRIC_NAMES = frozenset(
    {
        "renkei_holds_waiting",
        "renkei_holds_oldest_waiting_seconds",
        "renkei_outbox_backlog",
        "renkei_outbox_oldest_seconds",
        "renkei_dead_letters_pending",
        "renkei_audit_checkpoint_age_seconds",
        "renkei_audit_unsealed_oldest_seconds",
        "renkei_retention_overdue_numbers",
        "renkei_retention_last_erasure_timestamp_seconds",
        "renkei_state_up",
    }
)


def _age(now: datetime, then: datetime | None) -> float:
    return 0.0 if then is None else max(0.0, (now - to_utc(then)).total_seconds())


class StoredStateCollector(Collector):
    """Reads the gauges above from ``engine`` on every collection."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._engine = engine
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        """Yield every gauge, or only ``renkei_state_up 0`` when the database does not answer."""
        up = GaugeMetricFamily("renkei_state_up", "1 when the stored-state gauges could be read")
        try:
            with self._engine.connect() as conn:
                families = list(self._families(conn, to_utc(self._clock())))
        except (SQLAlchemyError, RenkeiError) as exc:
            log.warning("stored-state metrics unavailable", extra={"error": type(exc).__name__})
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield from families
        yield up

    def _families(self, conn: Connection, now: datetime) -> Iterator[Metric]:
        h = number_holds
        waiting, oldest = conn.execute(
            select(func.count(), func.min(h.c.created_at)).where(h.c.status == "pending")
        ).one()
        yield _gauge("renkei_holds_waiting", "Links held for an operator's decision", waiting)
        yield _gauge(
            "renkei_holds_oldest_waiting_seconds",
            "How long the oldest held link has waited",
            _age(now, oldest),
        )
        o = outbox
        backlog, first = conn.execute(
            select(func.count(), func.min(o.c.created_at)).where(o.c.sent_at.is_(None))
        ).one()
        yield _gauge("renkei_outbox_backlog", "Outbox rows not yet relayed to the broker", backlog)
        yield _gauge(
            "renkei_outbox_oldest_seconds", "Age of the oldest outbox row not yet relayed", _age(now, first)
        )
        d = dead_letters
        pending = conn.execute(select(func.count()).where(d.c.status == "pending")).scalar_one()
        yield _gauge("renkei_dead_letters_pending", "Dead letters waiting for an operator", pending)
        newest = conn.execute(select(func.max(audit_checkpoints.c.at))).scalar()
        if newest is not None:
            yield _gauge(
                "renkei_audit_checkpoint_age_seconds",
                "Time since the newest signed checkpoint",
                _age(now, newest),
            )
        yield _gauge(
            "renkei_audit_unsealed_oldest_seconds",
            "Age of the oldest access record that no signed checkpoint covers (0: all covered)",
            _age(now, self._oldest_unsealed(conn)),
        )
        overdue_before = now.astimezone(_JST).date() - timedelta(days=1)
        yield _gauge(
            "renkei_retention_overdue_numbers",
            "Numbers whose retention ended more than a day ago and that are still kept",
            self._overdue(conn, overdue_before),
        )
        erased = conn.execute(select(func.max(deletion_log.c.erased_at))).scalar()
        if erased is not None:
            yield _gauge(
                "renkei_retention_last_erasure_timestamp_seconds",
                "When the retention job last erased a number",
                to_utc(erased).timestamp(),
            )

    @staticmethod
    def _oldest_unsealed(conn: Connection) -> datetime | None:
        c, v = audit_chains, audit_coverage
        covered = func.coalesce(v.c.seq, 0)
        grown = conn.execute(
            select(c.c.chain_id, covered)
            .select_from(c.outerjoin(v, v.c.chain_id == c.c.chain_id))
            .where(c.c.head_seq > covered)
        ).all()
        oldest: datetime | None = None
        r = access_records
        for chain_id, seq in grown:
            at = conn.execute(
                select(r.c.at).where(and_(r.c.chain_id == chain_id, r.c.seq == int(seq) + 1))
            ).scalar()
            if at is not None and (oldest is None or to_utc(at) < oldest):
                oldest = to_utc(at)
        return oldest

    @staticmethod
    def _overdue(conn: Connection, before: date) -> int:
        n = numbers
        return int(conn.execute(select(func.count()).where(n.c.purge_after < before)).scalar_one())


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation)
    family.add_metric([], float(value))
    return family
