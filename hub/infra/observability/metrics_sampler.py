"""The metrics sampler: per-minute counts per flow and adapter, derived from the access record, kept in SQL.

Why the access record: it is the one durable account of every message the hub handled (each RECEIVED,
ROUTED, DEAD_LETTERED is committed with the work), so counts derived from it survive restarts, agree
between processes and can be recomputed. Each pass recomputes the last few minutes from it and *upserts*
the rows (:mod:`hub.infra.db.tables.metrics`); the hub's sampler and the console's write the same values,
and a sampler that starts after a quiet spell (or after a one-second ``renkei demo``) catches up from the
newest sample it finds, at most ``history`` back.

Definitions (documented in ``docs/console.md``):

* **flow**: the business exchange a message belongs to, named after the message type of the first record
  of its correlation (``pension.survival_inquiry.requested`` → ``survival_inquiry``: the middle part).
* **adapter**: the counterpart side of a leg: the source of a RECEIVED record, the destination of a ROUTED
  one, or the adapter whose queue a DEAD_LETTERED record names.
* **received / routed / failed**: records per minute; completed = received + routed (handled on that leg).
* **latency**: on a leg the hub asked (ROUTED to X, later RECEIVED from X), the time to the answer; on a
  leg that started the correlation (RECEIVED from X first), the time from X's last request to the hub's
  answer routed back to X.
* **gauges**, observed live: per adapter, ready messages and consumers of its queue, plus outbox rows not
  yet relayed to it (``in_flight``), on ``flow = '*'`` rows; per flow and adapter, unrelayed outbox rows.
"""

from __future__ import annotations

import bisect
import json
import logging
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from contracts.errors import RenkeiError
from hub.infra.audit.codec import to_utc
from hub.infra.broker.topology import ADAPTERS, COUNTERPARTS, Names
from hub.infra.db.tables.audit import access_records
from hub.infra.db.tables.messaging import outbox
from hub.infra.db.tables.metrics import ALL_FLOWS, counters_of, metric_carried, metric_samples

__all__ = [
    "LATENCY_BOUNDS_S",
    "MetricsSampler",
    "SampleReport",
    "adapter_of_queue",
    "flow_name",
    "minute_of",
    "parse_buckets",
]

log = logging.getLogger(__name__)

LATENCY_BOUNDS_S: Final = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
"""Upper bounds (seconds) of the latency histogram's buckets; +Inf is the row's ``latency_count``."""

_PARTIES: Final = frozenset({*ADAPTERS, "operator"})
_IN_CHUNK: Final = 500
_MAX_ROWS_PER_PASS: Final = 2_000_000
_ROOT_CACHE: Final = 20_000
_OVERLAP: Final = timedelta(minutes=3)
_PRUNE_MARGIN: Final = timedelta(hours=1)


def minute_of(moment: datetime) -> datetime:
    """The UTC minute ``moment`` falls in."""
    return to_utc(moment).replace(second=0, microsecond=0)


def flow_name(root_message_type: str | None) -> str:
    """The flow of a correlation, from the message type of its first record.

    ``pension.survival_inquiry.requested`` → ``survival_inquiry``; a type of one or two parts names itself.
    """
    if not root_message_type:
        return "unknown"
    parts = root_message_type.split(".")
    return (parts[1] if len(parts) >= 3 else root_message_type)[:80]


def adapter_of_queue(queue: str | None, names: Names, message_type: str | None = None) -> str:
    """The adapter a queue belongs to; the hub's own queues name the producer of the message type."""
    if not queue:
        return "hub"
    prefix = names.prefix + "."
    rest = queue[len(prefix) :] if queue.startswith(prefix) else queue
    parts = rest.split(".")
    if len(parts) >= 2 and parts[0] in ("adapter", "counterpart") and parts[1] in ADAPTERS:
        return parts[1]
    if rest in _PARTIES:
        return rest
    producer = (message_type or "").split(".")[0]
    return producer if producer in ADAPTERS else "hub"


@dataclass(frozen=True, slots=True)
class _Rec:
    correlation_id: str
    at: datetime
    action: str
    outcome: str
    source: str | None
    destination: str | None
    message_type: str | None


@dataclass(slots=True)
class _Cell:
    received: int = 0
    routed: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)

    def values(self) -> dict[str, Any]:
        buckets = [0] * len(LATENCY_BOUNDS_S)
        for seconds in self.latencies:
            start = bisect.bisect_left(LATENCY_BOUNDS_S, seconds)
            for i in range(start, len(buckets)):
                buckets[i] += 1
        return {
            "received": self.received,
            "routed": self.routed,
            "failed": self.failed,
            "latency_count": len(self.latencies),
            "latency_sum_ms": int(sum(self.latencies) * 1000),
            "latency_buckets": json.dumps(buckets),
        }


@dataclass(frozen=True, slots=True)
class SampleReport:
    """What one pass did."""

    since: datetime
    rows: int
    records: int
    broker_ok: bool


class MetricsSampler:
    """Writes per-minute samples of every flow and adapter.

    Args:
        engine: the hub's database.
        names: the topology's names (queues of each adapter).
        queue_depth: ``(ready, consumers)`` of a queue (a transport's ``queue_depth``); ``None``: no gauges.
        clock: the current time.
        history: samples older than this are deleted; also how far back a first pass looks.
    """

    def __init__(
        self,
        engine: Engine,
        names: Names,
        *,
        queue_depth: Callable[[str], tuple[int, int]] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        history: timedelta = timedelta(days=30),
    ) -> None:
        self._engine = engine
        self._names = names
        self._queue_depth = queue_depth
        self._clock = clock
        self._history = history
        self._covered: datetime | None = None
        self._roots: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()
        self._pruned_at: datetime | None = None

    def sample(self) -> SampleReport:
        """One pass: recompute recent minutes, observe the gauges, prune old rows. Thread-safe."""
        with self._lock:
            return self._sample()

    def _sample(self) -> SampleReport:
        now = to_utc(self._clock())
        with self._engine.connect() as conn:
            since = self._since(conn, now)
            records = self._records(conn, since)
        cells = self._cells(records, since)
        gauges, broker_ok = self._gauges(records, now)
        with self._engine.begin() as conn:
            for (minute, flow, adapter), cell in cells.items():
                self._upsert(conn, minute, flow, adapter, cell.values())
            for (flow, adapter), values in gauges.items():
                self._upsert(conn, minute_of(now), flow, adapter, values)
            self._prune(conn, now)
        self._covered = now
        rows = len(cells) + len(gauges)
        return SampleReport(since=since, rows=rows, records=len(records), broker_ok=broker_ok)

    # -- what to recompute ----------------------------------------------------------------------------

    def _since(self, conn: Connection, now: datetime) -> datetime:
        oldest = minute_of(now - self._history)
        if self._covered is not None:
            return max(oldest, minute_of(self._covered - _OVERLAP))
        latest = conn.execute(select(func.max(metric_samples.c.minute))).scalar()
        if latest is None:
            first = conn.execute(select(func.min(access_records.c.at))).scalar()
            return max(oldest, minute_of(first)) if first is not None else minute_of(now)
        return max(oldest, minute_of(to_utc(latest) - _OVERLAP))

    def _records(self, conn: Connection, since: datetime) -> list[_Rec]:
        r = access_records
        window = conn.execute(
            select(r.c.correlation_id)
            .where(r.c.at >= since, r.c.correlation_id.is_not(None))
            .group_by(r.c.correlation_id)
        ).scalars()
        correlations = sorted({c for c in window if c})
        records: list[_Rec] = []
        columns = (r.c.correlation_id, r.c.at, r.c.action, r.c.outcome, r.c.source, r.c.destination)
        for start in range(0, len(correlations), _IN_CHUNK):
            chunk = correlations[start : start + _IN_CHUNK]
            rows = conn.execute(
                select(*columns, r.c.message_type)
                .where(r.c.correlation_id.in_(chunk))
                .order_by(r.c.correlation_id, r.c.at, r.c.chain_id, r.c.seq)
            )
            for row in rows:
                records.append(_Rec(row[0], to_utc(row[1]), row[2], row[3], row[4], row[5], row[6]))
            if len(records) > _MAX_ROWS_PER_PASS:
                log.warning("metrics sampler: too many records in one pass; the rest waits for the next")
                break
        self._remember_roots(records)
        return records

    def _remember_roots(self, records: Iterable[_Rec]) -> None:
        for rec in records:  # ordered by correlation, then time: the first one seen is the root
            if rec.correlation_id not in self._roots:
                self._roots[rec.correlation_id] = flow_name(rec.message_type)
                if len(self._roots) > _ROOT_CACHE:
                    self._roots.popitem(last=False)

    # -- counting ---------------------------------------------------------------------------------------

    def _adapter(self, rec: _Rec) -> tuple[str, str] | None:
        """``(adapter, direction)`` of a record, or ``None`` when it is no traffic on a leg."""
        if rec.action == "received" and rec.source and rec.source != "hub":
            return rec.source, "in"
        if rec.action == "routed" and rec.destination and rec.destination != "hub":
            return rec.destination, "out"
        if rec.action in ("dead_lettered", "rejected"):
            return adapter_of_queue(rec.source, self._names, rec.message_type), "failed"
        return None

    def _cells(self, records: Sequence[_Rec], since: datetime) -> dict[tuple[datetime, str, str], _Cell]:
        cells: dict[tuple[datetime, str, str], _Cell] = defaultdict(_Cell)
        by_correlation: dict[str, list[_Rec]] = defaultdict(list)
        for rec in records:
            by_correlation[rec.correlation_id].append(rec)
        for correlation, recs in by_correlation.items():
            flow = self._roots.get(correlation) or flow_name(recs[0].message_type)
            self._count(recs, flow, since, cells)
        return {k: v for k, v in cells.items() if v.received or v.routed or v.failed}

    def _count(
        self, recs: list[_Rec], flow: str, since: datetime, cells: dict[tuple[datetime, str, str], _Cell]
    ) -> None:
        """Count one correlation's records (oldest first) into ``cells``, with leg latencies."""
        root_adapter = self._adapter(recs[0])
        last_out: dict[str, datetime] = {}
        last_in: dict[str, datetime] = {}
        for rec in recs:
            leg = self._adapter(rec)
            if leg is None:
                continue
            adapter, direction = leg
            cell = cells[(minute_of(rec.at), flow, adapter[:80])] if rec.at >= since else _Cell()
            if direction == "failed":
                cell.failed += 1
            elif rec.outcome != "ok":
                continue
            elif direction == "in":
                cell.received += 1
                asked = last_out.pop(adapter, None)
                if asked is not None:
                    cell.latencies.append((rec.at - asked).total_seconds())
                last_in[adapter] = rec.at
            else:
                cell.routed += 1
                request = last_in.get(adapter)
                if request is not None and root_adapter == (adapter, "in"):
                    cell.latencies.append((rec.at - request).total_seconds())
                last_out[adapter] = rec.at

    # -- gauges ------------------------------------------------------------------------------------------

    def _gauges(
        self, records: Sequence[_Rec], now: datetime
    ) -> tuple[dict[tuple[str, str], dict[str, Any]], bool]:
        gauges: dict[tuple[str, str], dict[str, Any]] = {}
        pending = self._unrelayed()
        for (flow, adapter), count in pending.items():
            gauges[(flow, adapter)] = {"in_flight": count}
        broker_ok = self._queue_depth is not None
        for adapter in ADAPTERS:
            waiting = sum(n for (_, a), n in pending.items() if a == adapter)
            values: dict[str, Any] = {"in_flight": waiting}
            if self._queue_depth is not None and broker_ok:
                try:
                    ready, consumers = self._queue_depth(self._names.adapter_queue(adapter))
                    if adapter in COUNTERPARTS:
                        back, _ = self._queue_depth(self._names.counterpart_queue(adapter, "inbound"))
                        ready += back
                except RenkeiError as exc:
                    log.warning("metrics sampler: queue depth unavailable", extra={"error": exc.code})
                    broker_ok = False
                else:
                    values.update(queue_depth=ready, consumers=consumers, in_flight=waiting + ready)
            gauges[(ALL_FLOWS, adapter)] = values
        return gauges, broker_ok

    def _unrelayed(self) -> dict[tuple[str, str], int]:
        o = outbox
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(o.c.correlation_id, o.c.routing_key, o.c.message_type, func.count())
                .where(o.c.sent_at.is_(None))
                .group_by(o.c.correlation_id, o.c.routing_key, o.c.message_type)
            ).all()
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for correlation, routing_key, message_type, n in rows:
            flow = self._roots.get(correlation) or flow_name(message_type)
            adapter = routing_key if routing_key in ADAPTERS else adapter_of_queue(routing_key, self._names)
            counts[(flow, adapter)] += int(n)
        return counts

    # -- writing ---------------------------------------------------------------------------------------

    def _upsert(
        self,
        conn: Connection,
        minute: datetime,
        flow: str,
        adapter: str,
        values: dict[str, Any],
    ) -> None:
        # Only the given columns change on conflict: a gauge pass leaves the counts alone, and back.
        now = to_utc(self._clock())
        row = {
            "minute": minute,
            "flow": flow,
            "adapter": adapter,
            "received": 0,
            "routed": 0,
            "failed": 0,
            "latency_count": 0,
            "latency_sum_ms": 0,
            "latency_buckets": json.dumps([0] * len(LATENCY_BOUNDS_S)),
            "updated_at": now,
            **values,
        }
        changed = {**values, "updated_at": now}
        dialect = conn.dialect.name
        statement: Any
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            statement = pg_insert(metric_samples).values(**row)
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            statement = sqlite_insert(metric_samples).values(**row)
        else:  # pragma: no cover - the hub runs on SQLite or PostgreSQL
            conn.execute(insert(metric_samples).values(**row))
            return
        conn.execute(
            statement.on_conflict_do_update(index_elements=["minute", "flow", "adapter"], set_=changed)
        )

    def _prune(self, conn: Connection, now: datetime) -> None:
        """Delete samples older than the history, carrying their counts into ``metric_carried``.

        The cut-off lies an hour before the oldest minute any sampler recomputes (``_since``), so that a
        minute carried is never written again (samplers in other processes may run a little ahead or
        behind). The delete returns what it removed, and only that is carried: two pruners racing cannot
        carry one row twice (PostgreSQL locks the rows the first one deletes).
        """
        if self._pruned_at is not None and now - self._pruned_at < timedelta(hours=1):
            return
        cutoff = minute_of(now - self._history) - _PRUNE_MARGIN
        m = metric_samples
        removed = conn.execute(delete(m).where(m.c.minute < cutoff).returning(*counters_of(m))).all()
        sums: dict[tuple[str, str], _Carry] = {}
        for flow, adapter, *values in removed:
            if flow == ALL_FLOWS:
                continue  # gauges only: nothing to carry
            sums.setdefault((flow, adapter), _Carry()).add(values)
        for (flow, adapter), carry in sums.items():
            self._carry(conn, flow, adapter, carry, now)
        self._pruned_at = now

    @staticmethod
    def _carry(conn: Connection, flow: str, adapter: str, carry: _Carry, now: datetime) -> None:
        c = metric_carried
        zero = json.dumps([0] * len(LATENCY_BOUNDS_S))
        row = conn.execute(
            select(c).where(c.c.flow == flow, c.c.adapter == adapter).with_for_update()
        ).first()
        if row is None:
            conn.execute(
                insert(c).values(
                    flow=flow,
                    adapter=adapter,
                    received=0,
                    routed=0,
                    failed=0,
                    latency_count=0,
                    latency_sum_ms=0,
                    latency_buckets=zero,
                    updated_at=now,
                )
            )
            row = conn.execute(
                select(c).where(c.c.flow == flow, c.c.adapter == adapter).with_for_update()
            ).one()
        kept = carry.buckets_plus(row.latency_buckets)
        conn.execute(
            update(c)
            .where(c.c.flow == flow, c.c.adapter == adapter)
            .values(
                received=row.received + carry.received,
                routed=row.routed + carry.routed,
                failed=row.failed + carry.failed,
                latency_count=row.latency_count + carry.latency_count,
                latency_sum_ms=row.latency_sum_ms + carry.latency_sum_ms,
                latency_buckets=json.dumps(kept),
                updated_at=now,
            )
        )


@dataclass(slots=True)
class _Carry:
    received: int = 0
    routed: int = 0
    failed: int = 0
    latency_count: int = 0
    latency_sum_ms: int = 0
    buckets: list[int] = field(default_factory=lambda: [0] * len(LATENCY_BOUNDS_S))

    def add(self, row: Sequence[Any]) -> None:
        """Add one pruned sample ``(received, routed, failed, count, sum_ms, buckets)``."""
        received, routed, failed, count, sum_ms, buckets = row
        self.received += received
        self.routed += routed
        self.failed += failed
        self.latency_count += count
        self.latency_sum_ms += sum_ms
        self.buckets = self.buckets_plus(buckets)

    def buckets_plus(self, text: str) -> list[int]:
        return [a + b for a, b in zip(self.buckets, parse_buckets(text), strict=True)]


def parse_buckets(text: str) -> list[int]:
    """A row's JSON latency buckets; anything malformed counts as empty."""
    try:
        values = json.loads(text)
    except ValueError:
        return [0] * len(LATENCY_BOUNDS_S)
    if not isinstance(values, list) or len(values) != len(LATENCY_BOUNDS_S):
        return [0] * len(LATENCY_BOUNDS_S)
    return [int(v) if isinstance(v, int) else 0 for v in values]
