"""Per-minute samples of every flow and adapter, kept in the database for the console and Prometheus.

One row is one minute of one ``(flow, adapter)``: the messages the hub handled on that leg (received from
the adapter, routed to it), the failures, and the adapter's round-trip times as histogram buckets. These
counts are *recomputed* from the access record for the last minutes on every pass of the sampler
(:mod:`hub.infra.observability.metrics_sampler`), so two samplers (the hub's and the console's) write the same
values and a sampler that was down catches up when it starts. Gauges (in flight, queue depth, consumers) are
observed live and kept as the last value seen in the minute; rows with ``flow = '*'`` hold an adapter's queue
gauges, which belong to no single flow.

No column holds a person's data: flows, adapters, counts and times only.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from hub.infra.db.tables.metadata import metadata

__all__ = ["ALL_FLOWS", "COUNTERS", "counters_of", "metric_carried", "metric_samples"]

ALL_FLOWS = "*"
"""The ``flow`` of rows that hold an adapter's queue gauges (depth, consumers), shared by every flow."""

metric_samples = Table(
    "metric_samples",
    metadata,
    Column("minute", DateTime(timezone=True), nullable=False),
    Column("flow", String(80), nullable=False),
    Column("adapter", String(80), nullable=False),
    Column("received", Integer, nullable=False),
    Column("routed", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("in_flight", Integer, nullable=True),
    Column("queue_depth", Integer, nullable=True),
    Column("consumers", Integer, nullable=True),
    Column("latency_count", Integer, nullable=False),
    Column("latency_sum_ms", BigInteger, nullable=False),
    Column("latency_buckets", Text, nullable=False, comment="JSON list: cumulative counts per bound"),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("minute", "flow", "adapter"),
    Index("ix_metric_samples_flow_minute", "flow", "minute"),
)

metric_carried = Table(
    "metric_carried",
    metadata,
    Column("flow", String(80), nullable=False),
    Column("adapter", String(80), nullable=False),
    Column("received", BigInteger, nullable=False),
    Column("routed", BigInteger, nullable=False),
    Column("failed", BigInteger, nullable=False),
    Column("latency_count", BigInteger, nullable=False),
    Column("latency_sum_ms", BigInteger, nullable=False),
    Column("latency_buckets", Text, nullable=False, comment="JSON list: cumulative counts per bound"),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("flow", "adapter"),
)
"""What pruning took out of ``metric_samples``, per flow and adapter: counts and latency buckets summed.

Pruning moves a sample's counts here in the same transaction that deletes it, so that the totals the
console exports to Prometheus (carried + kept samples) never fall: an hourly prune used to look like a
counter reset.
"""


COUNTERS: Final = (
    "flow",
    "adapter",
    "received",
    "routed",
    "failed",
    "latency_count",
    "latency_sum_ms",
    "latency_buckets",
)
"""The columns a flow's counters are kept in, in ``metric_samples`` and in what pruning carried out of it."""


def counters_of(table: Table) -> list[ColumnElement[Any]]:
    """The :data:`COUNTERS` columns of ``metric_samples`` or ``metric_carried``, in that order."""
    return [table.c[name] for name in COUNTERS]
