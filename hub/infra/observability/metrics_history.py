"""Reading the per-minute samples back: the flows table, chart series, latest gauges and totals.

Written by :mod:`hub.infra.observability.metrics_sampler`; read by the console's flows view, its JSON API and
its Prometheus endpoint. Every query is bounded by a time window or by the number of flows and adapters.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select

from hub.infra.audit.codec import to_utc
from hub.infra.db.tables.metrics import ALL_FLOWS, counters_of, metric_carried, metric_samples
from hub.infra.observability.metrics_sampler import LATENCY_BOUNDS_S, minute_of, parse_buckets

__all__ = [
    "AdapterGauge",
    "FlowRow",
    "Point",
    "Total",
    "adapter_gauges",
    "flow_rows",
    "flow_series",
    "last_sample_at",
    "queue_series",
    "totals",
]

m = metric_samples


@dataclass(frozen=True, slots=True)
class Point:
    """One minute of a series."""

    minute: datetime
    completed: int
    failed: int


@dataclass(slots=True)
class FlowRow:
    """One flow on one adapter: counts over the window and in total, the rate of the last full minute."""

    flow: str
    adapter: str
    received: int = 0
    routed: int = 0
    failed: int = 0
    last_minute: int = 0
    in_flight: int = 0
    total_completed: int = 0
    total_failed: int = 0
    last_seen: datetime | None = None

    @property
    def completed(self) -> int:
        """Messages handled on this leg in the window (received from it plus routed to it)."""
        return self.received + self.routed

    @property
    def per_second(self) -> float:
        """Messages per second over the last full minute."""
        return round(self.last_minute / 60, 3)


@dataclass(frozen=True, slots=True)
class AdapterGauge:
    """The latest queue gauges of one adapter."""

    adapter: str
    minute: datetime
    queue_depth: int | None
    consumers: int | None
    in_flight: int | None


@dataclass(slots=True)
class Total:
    """Everything kept for one flow and adapter: counters and the latency histogram (for Prometheus)."""

    flow: str
    adapter: str
    received: int = 0
    routed: int = 0
    failed: int = 0
    latency_count: int = 0
    latency_sum_s: float = 0.0
    buckets: list[int] = field(default_factory=lambda: [0] * len(LATENCY_BOUNDS_S))


def flow_rows(conn: Connection, since: datetime, now: datetime) -> list[FlowRow]:
    """Every flow and adapter with samples kept: counts since ``since``, totals, latest in-flight gauge."""
    rows: dict[tuple[str, str], FlowRow] = {}
    last_full = minute_of(now) - timedelta(minutes=1)
    totals_q = (
        select(
            m.c.flow,
            m.c.adapter,
            func.sum(m.c.received + m.c.routed),
            func.sum(m.c.failed),
            func.max(m.c.minute),
        )
        .where(m.c.flow != ALL_FLOWS)
        .group_by(m.c.flow, m.c.adapter)
    )
    for flow, adapter, completed, failed, last in conn.execute(totals_q):
        rows[(flow, adapter)] = FlowRow(
            flow,
            adapter,
            total_completed=int(completed or 0),
            total_failed=int(failed or 0),
            last_seen=None if last is None else to_utc(last),
        )
    c = metric_carried
    for flow, adapter, received, routed, failed in conn.execute(
        select(c.c.flow, c.c.adapter, c.c.received, c.c.routed, c.c.failed)
    ):
        row = rows.setdefault((flow, adapter), FlowRow(flow, adapter))
        row.total_completed += int(received + routed)
        row.total_failed += int(failed)
    window_q = select(m.c.minute, m.c.flow, m.c.adapter, m.c.received, m.c.routed, m.c.failed, m.c.in_flight)
    window_q = window_q.where(m.c.flow != ALL_FLOWS, m.c.minute >= since).order_by(m.c.minute)
    for minute, flow, adapter, received, routed, failed, in_flight in conn.execute(window_q):
        row = rows.setdefault((flow, adapter), FlowRow(flow, adapter))
        row.received += received
        row.routed += routed
        row.failed += failed
        if to_utc(minute) == last_full:
            row.last_minute = received + routed
        if in_flight is not None:
            row.in_flight = in_flight  # ordered by minute: the latest observation wins
    return sorted(rows.values(), key=lambda r: (r.flow, r.adapter))


def flow_series(conn: Connection, since: datetime) -> dict[str, list[Point]]:
    """Per flow, per minute since ``since``: completed and failed, summed over adapters."""
    query = (
        select(m.c.flow, m.c.minute, func.sum(m.c.received + m.c.routed), func.sum(m.c.failed))
        .where(m.c.flow != ALL_FLOWS, m.c.minute >= since)
        .group_by(m.c.flow, m.c.minute)
        .order_by(m.c.flow, m.c.minute)
    )
    series: dict[str, list[Point]] = defaultdict(list)
    for flow, minute, completed, failed in conn.execute(query):
        series[flow].append(Point(to_utc(minute), int(completed or 0), int(failed or 0)))
    return dict(series)


def queue_series(conn: Connection, since: datetime) -> dict[str, list[tuple[datetime, int]]]:
    """Per adapter, per minute since ``since``: the queue depth observed (minutes without one are absent)."""
    query = (
        select(m.c.adapter, m.c.minute, m.c.queue_depth)
        .where(m.c.flow == ALL_FLOWS, m.c.minute >= since, m.c.queue_depth.is_not(None))
        .order_by(m.c.adapter, m.c.minute)
    )
    series: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for adapter, minute, depth in conn.execute(query):
        series[adapter].append((to_utc(minute), int(depth)))
    return dict(series)


def adapter_gauges(conn: Connection) -> list[AdapterGauge]:
    """The newest gauge row of every adapter."""
    latest = (
        select(m.c.adapter, func.max(m.c.minute).label("minute"))
        .where(m.c.flow == ALL_FLOWS)
        .group_by(m.c.adapter)
        .subquery()
    )
    query = (
        select(m.c.adapter, m.c.minute, m.c.queue_depth, m.c.consumers, m.c.in_flight)
        .join(latest, (latest.c.adapter == m.c.adapter) & (latest.c.minute == m.c.minute))
        .where(m.c.flow == ALL_FLOWS)
        .order_by(m.c.adapter)
    )
    return [AdapterGauge(a, to_utc(t), d, c, f) for a, t, d, c, f in conn.execute(query)]


def last_sample_at(conn: Connection) -> datetime | None:
    """When any sampler last wrote (``updated_at``), or ``None``."""
    value = conn.execute(select(func.max(m.c.updated_at))).scalar()
    return None if value is None else to_utc(value)


def totals(conn: Connection) -> list[Total]:
    """Counters and latency histograms per flow and adapter since the first sample: never falling.

    The samples kept, plus what pruning carried out of them (``metric_carried``).
    """
    query = select(*counters_of(m)).where(m.c.flow != ALL_FLOWS)
    carried = select(*counters_of(metric_carried))
    found: dict[tuple[str, str], Total] = {}
    rows = [*conn.execute(carried), *conn.execute(query)]
    for flow, adapter, received, routed, failed, count, sum_ms, buckets in rows:
        total = found.setdefault((flow, adapter), Total(flow, adapter))
        total.received += received
        total.routed += routed
        total.failed += failed
        total.latency_count += count
        total.latency_sum_s += sum_ms / 1000
        for i, value in enumerate(parse_buckets(buckets)):
            total.buckets[i] += value
    return sorted(found.values(), key=lambda t: (t.flow, t.adapter))
