"""What one process counts while it runs: Prometheus counters, gauges and histograms kept in memory.

Every renkei worker (hub, adapters, the pension poller, simulators) exports these on its own ``/metrics``
(:mod:`hub.infra.observability.health_server`). They live in the process, so a counter only ever grows until
the process restarts, which Prometheus's ``rate()`` recognises as a reset. Labels are bounded: services are
the names of a :class:`~hub.infra.runner.ServiceGroup`'s threads, message types the registered contracts
(anything else is ``other``), publish kinds the topology's exchanges.

* ``renkei_messages_handled_total{service,message_type,outcome}``: deliveries settled by a consumer;
  ``outcome`` is ``ack``, ``dead_letter`` (rejected to the dead-letter exchange), ``requeue`` or ``error``
  (the handler raised: the whole batch was requeued).
* ``renkei_messages_published_total{kind,message_type}``: messages the broker confirmed, by the kind of
  exchange (``hub``, ``adapter``, ``counterpart``, ``retry``, ``dead_letter``, ``other``).
* ``renkei_messages_retried_total{message_type}``: copies sent to a delayed-retry tier.
* ``renkei_messages_dead_lettered_total{message_type,how}``: ``published`` to the dead-letter exchange by
  renkei (permanent failure, attempts spent) or ``rejected`` (the broker dead-letters the delivery).
* ``renkei_batch_size{service}`` and ``renkei_handler_seconds{service}``: histograms per consumer.
* ``renkei_consumer_up{service}``: 1 while the broker has confirmed the consumer, else 0.
* ``renkei_task_runs_total{task,outcome}``, ``renkei_task_items_total{task}`` and
  ``renkei_task_last_success_timestamp_seconds{task}``: periodic tasks (outbox relay, pension poller, ...).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Final

from prometheus_client import Counter, Gauge, Histogram

from contracts.registry import registered
from hub.infra.broker.topology import COUNTERPARTS
from hub.ports.transport import BatchHandler, Delivery, Disposition, OutgoingMessage

__all__ = [
    "BATCH_SIZE",
    "CONSUMER_UP",
    "DEAD_LETTERED",
    "HANDLED",
    "HANDLER_SECONDS",
    "METRIC_NAMES",
    "PUBLISHED",
    "RETRIED",
    "TASK_ITEMS",
    "TASK_LAST_SUCCESS",
    "TASK_RUNS",
    "count_published",
    "instrument",
    "message_type_label",
    "publish_kind",
]

OTHER: Final = "other"

HANDLED = Counter(
    "renkei_messages_handled",
    "Deliveries settled by a consumer, by outcome",
    ["service", "message_type", "outcome"],
)
PUBLISHED = Counter(
    "renkei_messages_published",
    "Messages published and confirmed by the broker, by kind of exchange",
    ["kind", "message_type"],
)
RETRIED = Counter("renkei_messages_retried", "Copies sent to a delayed-retry tier", ["message_type"])
DEAD_LETTERED = Counter(
    "renkei_messages_dead_lettered",
    "Messages dead-lettered: published to the dead-letter exchange, or rejected to it",
    ["message_type", "how"],
)
BATCH_SIZE = Histogram(
    "renkei_batch_size",
    "Deliveries per batch handed to a consumer's handler",
    ["service"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000),
)
HANDLER_SECONDS = Histogram(
    "renkei_handler_seconds",
    "Time a consumer's handler took for one batch",
    ["service"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
CONSUMER_UP = Gauge(
    "renkei_consumer_up", "1 while the broker has confirmed this process's consumer", ["service"]
)
TASK_RUNS = Counter("renkei_task_runs", "Runs of a periodic task, by outcome", ["task", "outcome"])
TASK_ITEMS = Counter(
    "renkei_task_items", "Items a periodic task reported handling (files taken, rows relayed)", ["task"]
)
TASK_LAST_SUCCESS = Gauge(
    "renkei_task_last_success_timestamp_seconds", "When a periodic task last succeeded", ["task"]
)

METRIC_NAMES: Final = frozenset(
    {
        "renkei_messages_handled_total",
        "renkei_messages_published_total",
        "renkei_messages_retried_total",
        "renkei_messages_dead_lettered_total",
        "renkei_batch_size",
        "renkei_handler_seconds",
        "renkei_consumer_up",
        "renkei_task_runs_total",
        "renkei_task_items_total",
        "renkei_task_last_success_timestamp_seconds",
    }
)
"""The series names this module exports (histograms add ``_bucket``, ``_sum`` and ``_count``)."""


@functools.cache
def _known_types() -> frozenset[str]:
    return frozenset({t for (t, _), _ in registered()} | {f"{c}.file" for c in COUNTERPARTS})


def message_type_label(message_type: str | None) -> str:
    """A message type as a label: a registered type names itself, anything else is ``other``.

    Producers may put anything in the AMQP type property; an unbounded label would grow without end.
    """
    return message_type if message_type in _known_types() else OTHER


def publish_kind(exchange: str) -> str:
    """The kind of an exchange of the topology (:class:`~hub.infra.broker.topology.Names`), from its name."""
    last = exchange.rsplit(".", 1)[-1]
    if last == "ingress":
        return "hub"
    if last == "route":
        return "adapter"
    if last == "counterpart":
        return "counterpart"
    if last == "dead":
        return "dead_letter"
    parts = exchange.split(".")
    if len(parts) >= 2 and parts[-2] == "retry" and last.endswith("ms"):
        return "retry"
    return OTHER


def count_published(messages: Iterable[OutgoingMessage]) -> None:
    """Count messages the broker confirmed."""
    for message in messages:
        kind, label = publish_kind(message.exchange), message_type_label(message.message_type)
        PUBLISHED.labels(kind, label).inc()
        if kind == "retry":
            RETRIED.labels(label).inc()
        elif kind == "dead_letter":
            DEAD_LETTERED.labels(label, "published").inc()


def instrument(service: str, handler: BatchHandler) -> BatchHandler:
    """``handler`` counting its deliveries by outcome, its batch sizes and its time."""
    sizes, seconds = BATCH_SIZE.labels(service), HANDLER_SECONDS.labels(service)

    def handle(batch: Sequence[Delivery]) -> Sequence[Disposition]:
        sizes.observe(len(batch))
        started = time.perf_counter()
        try:
            dispositions = handler(batch)
        except BaseException:
            for delivery in batch:
                HANDLED.labels(service, message_type_label(delivery.message_type), "error").inc()
            raise
        finally:
            seconds.observe(time.perf_counter() - started)
        for delivery, disposition in zip(batch, dispositions, strict=False):
            label = message_type_label(delivery.message_type)
            HANDLED.labels(service, label, disposition.value).inc()
            if disposition is Disposition.DEAD_LETTER:
                DEAD_LETTERED.labels(label, "rejected").inc()
        return dispositions

    return handle


class TaskTimer:
    """Counts the runs of one periodic task and remembers when it last succeeded (for readiness)."""

    def __init__(self, task: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.task = task
        self._clock = clock
        self._lock = threading.Lock()
        self.last_success: float | None = None
        self.last_run_failed = False

    def succeeded(self, result: object) -> None:
        """Record a run that returned ``result`` (an int counts as items handled)."""
        now = self._clock()
        with self._lock:
            self.last_success = now
            self.last_run_failed = False
        TASK_RUNS.labels(self.task, "ok").inc()
        TASK_LAST_SUCCESS.labels(self.task).set(time.time())
        if isinstance(result, int) and not isinstance(result, bool) and result > 0:
            TASK_ITEMS.labels(self.task).inc(result)

    def failed(self) -> None:
        """Record a run that raised."""
        with self._lock:
            self.last_run_failed = True
        TASK_RUNS.labels(self.task, "error").inc()
