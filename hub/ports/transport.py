"""The transport port: publish with confirms, consume in batches, settle each delivery.

Implementations: :class:`hub.infra.broker.transport.PikaTransport` (RabbitMQ) and
:class:`hub.infra.memory.transport.InMemoryTransport` (same routing semantics, for unit tests).
One contract test class (``tests/contract/test_transport.py``) runs against both.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

__all__ = [
    "Delivery",
    "Disposition",
    "ExchangeSpec",
    "HeaderValue",
    "OutgoingMessage",
    "QueueSpec",
    "Topology",
    "Transport",
    "run_handler",
]

HeaderValue = str | int | bool | None


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One message to publish: persistent, mandatory, confirmed.

    ``headers`` carry renkei's own metadata (attempt count, dead-letter reason, replay provenance);
    never put a value that may hold an Individual Number in a header.
    """

    exchange: str
    routing_key: str
    body: bytes
    message_id: str
    message_type: str
    correlation_id: str
    headers: Mapping[str, HeaderValue] = field(default_factory=dict)
    content_type: str = "application/json"
    user_id: str | None = None
    """The AMQP ``user_id`` to publish with; ``None`` (the rule) means the transport's own user.

    Every transport stamps its connection's user on every message it publishes; naming another user
    here is refused (:class:`~contracts.errors.SenderNotPermitted`), as RabbitMQ refuses it.
    """


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message received from a queue, not yet settled.

    ``headers`` holds the AMQP headers as the broker delivered them (``x-death`` included, so values may
    be nested lists and tables). ``user_id`` is the AMQP ``user_id`` property it arrived with: the broker
    user that published it, proven by the broker (Validated User-ID), or ``None`` when the publisher set
    none. A message the broker dead-lettered or moved through a retry tier keeps its publisher's user.

    A transport given body limits keeps no more of a body over its type's limit than the limit (so that
    memory stays flat whatever arrives) and says how large it was in ``arrived_size``; :attr:`size` is the
    size as it arrived either way.
    """

    queue: str
    body: bytes
    message_id: str | None
    message_type: str | None
    correlation_id: str | None
    headers: Mapping[str, object]
    redelivered: bool
    delivery_tag: int
    routing_key: str = ""
    exchange: str = ""
    user_id: str | None = None
    arrived_size: int | None = None

    @property
    def size(self) -> int:
        """The body's size in bytes as it arrived (``body`` may be only its first part)."""
        return len(self.body) if self.arrived_size is None else self.arrived_size


class Disposition(enum.Enum):
    """How a handler settles a delivery.

    ACK: done (its effects are committed), remove it.
    DEAD_LETTER: reject without requeue; the queue's dead-letter exchange takes it.
    REQUEUE: give it back for redelivery (counts towards the queue's delivery limit).
    """

    ACK = "ack"
    DEAD_LETTER = "dead_letter"
    REQUEUE = "requeue"


BatchHandler = Callable[[Sequence[Delivery]], Sequence[Disposition]]


def run_handler(
    handler: BatchHandler, batch: Sequence[Delivery], queue: str, log: logging.Logger
) -> Sequence[Disposition]:
    """Call ``handler`` as every transport does.

    A failure, or a wrong number of dispositions, requeues the whole batch (logged on the transport's
    ``log``); the queue's delivery limit ends a loop.
    """
    try:
        dispositions = handler(batch)
    except Exception:  # any handler failure requeues the batch; the delivery limit ends loops
        log.exception("handler failed; requeueing %d deliveries of %s", len(batch), queue)
        return [Disposition.REQUEUE] * len(batch)
    if len(dispositions) != len(batch):
        log.error(
            "handler returned %d dispositions for %d deliveries; requeueing", len(dispositions), len(batch)
        )
        return [Disposition.REQUEUE] * len(batch)
    return dispositions


@dataclass(frozen=True, slots=True)
class ExchangeSpec:
    """An exchange to declare (durable)."""

    name: str
    type: str = "direct"


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """A durable queue, its arguments and its bindings ``(exchange, routing_key)``."""

    name: str
    arguments: Mapping[str, HeaderValue] = field(default_factory=dict)
    bindings: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Topology:
    """Exchanges and queues that must exist; declared idempotently on every connect."""

    exchanges: tuple[ExchangeSpec, ...]
    queues: tuple[QueueSpec, ...]


class Transport(Protocol):
    """Publish and consume messages.

    Every message is published with the AMQP ``user_id`` of the transport's broker user (:attr:`user`),
    which RabbitMQ validates against the connection; consumers read it from :attr:`Delivery.user_id`.

    Errors: ``BrokerUnavailable`` (transient), ``PublishNotConfirmed`` (transient), ``Unroutable``
    (permanent, a mandatory publish that no queue took), ``SenderNotPermitted`` (permanent, a message
    that names another ``user_id``).
    """

    @property
    def user(self) -> str:
        """The broker user this transport connects as and stamps on every message it publishes."""
        ...

    def declare(self, topology: Topology) -> None:
        """Declare every exchange, queue and binding of ``topology``; safe to repeat."""
        ...

    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        """Publish ``messages`` and return once the broker has confirmed every one of them.

        Raises:
            SenderNotPermitted: a message names a ``user_id`` other than :attr:`user`; nothing of the
                batch is published.
        """
        ...

    def consume(
        self,
        queue: str,
        handler: BatchHandler,
        *,
        stop: threading.Event,
        prefetch: int = 500,
        batch_size: int = 200,
        batch_wait_s: float = 0.02,
        on_ready: Callable[[bool], None] | None = None,
    ) -> None:
        """Deliver batches from ``queue`` to ``handler`` until ``stop`` is set.

        ``on_ready(True)`` is called once the broker has confirmed the consumer (after every reconnect),
        ``on_ready(False)`` when it is lost or stopped: health checks read it (``/readyz``).

        The handler returns one :class:`Disposition` per delivery, in order, and the transport settles
        them (acks in bulk with ``multiple`` where it can). If the handler raises, every delivery of the
        batch is requeued, so that a message that keeps crashing reaches the delivery limit and is
        dead-lettered. Reconnects with bounded back-off when the broker goes away.
        """
        ...

    def queue_depth(self, queue: str) -> tuple[int, int]:
        """Return ``(messages ready, consumers)`` of ``queue``."""
        ...

    def close(self) -> None:
        """Close connections; pending confirms are awaited or failed."""
        ...
