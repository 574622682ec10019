"""Prometheus metrics, read from the samples in the database on every scrape (no in-memory counters).

* ``renkei_messages_total{flow,adapter,direction}``: messages the hub handled on a leg (received, routed);
* ``renkei_message_failures_total{flow,adapter}``: dead-lettered or rejected on that leg;
* ``renkei_leg_latency_seconds{flow,adapter}``: histogram of round trips (see the sampler);
* ``renkei_in_flight{flow,adapter}``, ``renkei_queue_depth{adapter}``, ``renkei_queue_consumers{adapter}``;
* ``renkei_dead_letters{group,message_type,stage,status}`` and ``renkei_dead_letter_occurrences_total{group}``
  per failure group;
* ``renkei_console_guard_redactions_total``: responses the number guard had to fix (should stay 0).

* the stored-state gauges of :mod:`hub.infra.observability.state_metrics` (held links, outbox backlog, dead
letters
  pending, checkpoint age, retention overdue).

Counters are sums over every sample since the first: the samples kept (``history_days``) plus what pruning
carried out of them (``metric_carried``), so they never fall. Only federation users may scrape: the figures
span associations.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from hub.console.auth import Principal, check_scope, require
from hub.console.context import ConsoleState, state_of
from hub.console.roles import Permission
from hub.console.schemas import API_ERRORS
from hub.infra.db.engine import Engine
from hub.infra.observability import metrics_history as history
from hub.infra.observability.metrics_sampler import LATENCY_BOUNDS_S
from hub.infra.observability.state_metrics import StoredStateCollector
from hub.infra.stores.dead_letters import SqlDeadLetterStore
from hub.ports.dead_letters import DeadLetterStatus

__all__ = ["SampleCollector", "router"]

router = APIRouter(tags=["metrics"], responses=API_ERRORS)


class SampleCollector(Collector):
    """Collects renkei's metrics from the database at scrape time."""

    def __init__(self, engine: Engine, state: ConsoleState | None = None) -> None:
        self._engine = engine
        self._state = state

    def collect(self) -> Iterator[Metric]:
        """Yield every metric family."""
        messages = CounterMetricFamily(
            "renkei_messages", "Messages the hub handled on a leg", labels=["flow", "adapter", "direction"]
        )
        failures = CounterMetricFamily(
            "renkei_message_failures",
            "Messages dead-lettered or rejected on a leg",
            labels=["flow", "adapter"],
        )
        latency = HistogramMetricFamily(
            "renkei_leg_latency_seconds", "Round trip on a leg", labels=["flow", "adapter"]
        )
        in_flight = GaugeMetricFamily(
            "renkei_in_flight", "Messages not yet handled", labels=["flow", "adapter"]
        )
        depth = GaugeMetricFamily(
            "renkei_queue_depth", "Ready messages in an adapter's queues", labels=["adapter"]
        )
        consumers = GaugeMetricFamily(
            "renkei_queue_consumers", "Consumers of an adapter's queue", labels=["adapter"]
        )
        dead = GaugeMetricFamily(
            "renkei_dead_letters",
            "Dead letters per failure group and status",
            labels=["group", "message_type", "stage", "status"],
        )
        occurrences = CounterMetricFamily(
            "renkei_dead_letter_occurrences", "Dead-letterings per failure group", labels=["group"]
        )
        with self._engine.connect() as conn:
            for t in history.totals(conn):
                messages.add_metric([t.flow, t.adapter, "received"], t.received)
                messages.add_metric([t.flow, t.adapter, "routed"], t.routed)
                failures.add_metric([t.flow, t.adapter], t.failed)
                buckets = [(f"{b:g}", float(c)) for b, c in zip(LATENCY_BOUNDS_S, t.buckets, strict=True)]
                buckets.append(("+Inf", float(t.latency_count)))
                latency.add_metric([t.flow, t.adapter], buckets, t.latency_sum_s)
            now = datetime.now(UTC)
            for row in history.flow_rows(conn, now - timedelta(minutes=5), now):
                in_flight.add_metric([row.flow, row.adapter], row.in_flight)
            for g in history.adapter_gauges(conn):
                if g.queue_depth is not None:
                    depth.add_metric([g.adapter], g.queue_depth)
                if g.consumers is not None:
                    consumers.add_metric([g.adapter], g.consumers)
            store = SqlDeadLetterStore(conn)
            totals: dict[str, int] = {}
            for status in DeadLetterStatus:
                for group in store.groups([status]):
                    labels = [group.fingerprint, group.message_type[:120], group.stage[:120], status.value]
                    dead.add_metric(labels, group.count)
                    totals[group.fingerprint] = totals.get(group.fingerprint, 0) + group.occurrences
            for fingerprint, count in totals.items():
                occurrences.add_metric([fingerprint], count)
        yield from (messages, failures, latency, in_flight, depth, consumers, dead, occurrences)
        if self._state is not None:
            guard = CounterMetricFamily(
                "renkei_console_guard_redactions", "Responses the number guard had to redact"
            )
            guard.add_metric([], self._state.guard_hits)
            yield guard


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(
    request: Request, principal: Annotated[Principal, Depends(require(Permission.VIEW_METRICS))]
) -> Response:
    """Prometheus text format; federation users only."""
    check_scope(request, principal, None)
    state = state_of(request)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SampleCollector(state.root.engine, state))
    registry.register(StoredStateCollector(state.root.engine))
    return Response(generate_latest(registry), media_type="text/plain; version=0.0.4; charset=utf-8")
