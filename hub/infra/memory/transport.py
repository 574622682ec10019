"""An in-memory broker with RabbitMQ's routing and dead-lettering semantics, for unit tests.

It honours what renkei relies on, so that ``tests/contract/test_transport.py`` passes against it and
against RabbitMQ alike: direct, fanout and topic exchanges; the default exchange (routing key = queue
name); mandatory publishing (:class:`~contracts.errors.Unroutable` when no queue takes a message);
``x-dead-letter-exchange``/``-routing-key`` on reject and past ``x-delivery-limit`` (quorum queues count
deliveries from 0 and dead-letter on the return that passes the limit); ``x-message-ttl`` against an
injectable clock; the ``x-death`` / ``x-first-death-*`` headers the broker adds; and Validated User-ID:
every message carries the AMQP ``user_id`` of the transport that published it (dead-lettering and retry
tiers keep it), and a publish that names another user is refused, as RabbitMQ refuses it.

One broker, several users: :meth:`InMemoryTransport.for_user` gives a transport on the same queues that
connects as another broker user, the way each renkei service connects to RabbitMQ as its own.

:meth:`InMemoryTransport.consume` runs in the calling thread until ``stop`` is set, like the real
transport; :meth:`~InMemoryTransport.drain` and :meth:`~InMemoryTransport.run_until_idle` run handlers
until the queues are empty, which is what most unit tests want. Every method is thread-safe.
"""

from __future__ import annotations

import copy
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from contracts.errors import BrokerUnavailable, ConfigurationError, SenderNotPermitted, Unroutable
from hub.core.runtime.body_limits import BodyLimits
from hub.ports.transport import (
    BatchHandler,
    Delivery,
    Disposition,
    ExchangeSpec,
    HeaderValue,
    OutgoingMessage,
    QueueSpec,
    Topology,
    run_handler,
)

__all__ = ["InMemoryTransport", "ManualClock"]

_log = logging.getLogger(__name__)
_EXCHANGE_TYPES = frozenset({"direct", "fanout", "topic"})


class ManualClock:
    """A clock that moves only when told to; pass it to :class:`InMemoryTransport` to test TTLs."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        """Return the current time in seconds."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        with self._lock:
            self._now += seconds


@dataclass(slots=True)
class _Message:
    sent: OutgoingMessage  # body and ids as published; exchange, routing key and headers change below
    user_id: str  # the publishing transport's user, as the broker validated it
    exchange: str
    routing_key: str
    headers: dict[str, object]
    enqueued_at: float
    delivery_count: int = 0
    delivered: bool = False


@dataclass(slots=True)
class _Queue:
    name: str
    arguments: Mapping[str, HeaderValue]
    ready: deque[_Message] = field(default_factory=deque)
    stranded: list[_Message] = field(default_factory=list)
    consumers: int = 0

    @property
    def quorum(self) -> bool:
        return self.arguments.get("x-queue-type") == "quorum"


class InMemoryTransport:
    """A :class:`~hub.ports.transport.Transport` that keeps its queues in memory.

    Args:
        clock: seconds, monotonic; message TTLs expire against it (see :class:`ManualClock`).
        idle_wait_s: how long :meth:`consume` sleeps on an empty queue before it looks at ``stop`` again.
        user: the broker user this transport connects as (RabbitMQ's default user by default).
        body_limits: deliveries keep no more of a body than its type's limit, as the RabbitMQ transport's.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        idle_wait_s: float = 0.01,
        user: str = "guest",
        body_limits: BodyLimits | None = None,
    ) -> None:
        if not user:
            raise ConfigurationError("a broker user name must not be empty")
        self._user = user
        self._body_limits = body_limits
        self._clock = clock
        self._idle_wait_s = idle_wait_s
        self._cond = threading.Condition(threading.RLock())
        self._exchanges: dict[str, str] = {}
        self._bindings: dict[str, list[tuple[str, str]]] = {}
        self._queues: dict[str, _Queue] = {}
        self._unacked: dict[int, tuple[_Queue, _Message]] = {}
        self._tags = itertools.count(1)
        self._closed = False

    @property
    def user(self) -> str:
        """The broker user this transport publishes as."""
        return self._user

    def for_user(self, user: str) -> InMemoryTransport:
        """A transport on the same broker (queues, exchanges, messages) connected as ``user``.

        Closing it does not close this one.
        """
        if not user:
            raise ConfigurationError("a broker user name must not be empty")
        other = copy.copy(self)  # shares every queue, binding and lock; only the user and ``closed`` differ
        other._user = user
        other._closed = False
        return other

    def declare(self, topology: Topology) -> None:
        """Declare exchanges, queues and bindings; repeating an identical declaration changes nothing.

        Raises:
            ConfigurationError: an exchange or queue exists with another type or other arguments, or a
                binding names an exchange that does not exist.
        """
        with self._cond:
            self._check_open()
            for exchange in topology.exchanges:
                self._declare_exchange(exchange)
            for queue in topology.queues:
                self._declare_queue(queue)

    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        """Route every message; those that reach no queue make the call raise after the others are in.

        Raises:
            Unroutable: some message reached no queue (its id is named), or its exchange does not exist.
            SenderNotPermitted: a message names another ``user_id`` than this transport's user; nothing
                of the batch is published.
        """
        for m in messages:
            if m.user_id is not None and m.user_id != self._user:
                raise SenderNotPermitted(
                    f"user_id {m.user_id!r} is not the connection's user {self._user!r}: refused, as "
                    "RabbitMQ refuses it (Validated User-ID)"
                )
        unroutable: list[str] = []
        with self._cond:
            self._check_open()
            self._expire_due()
            now = self._clock()
            for m in messages:
                targets = self._route(m.exchange, m.routing_key)
                if not targets:
                    unroutable.append(m.message_id)
                    continue
                for queue in targets:
                    queue.ready.append(
                        _Message(m, self._user, m.exchange, m.routing_key, dict(m.headers), now)
                    )
            self._cond.notify_all()
        if unroutable:
            raise Unroutable(
                f"{len(unroutable)} message(s) reached no queue: {', '.join(unroutable[:10])}",
                message_ids=tuple(unroutable),
            )

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
        """Hand batches from ``queue`` to ``handler`` in the calling thread until ``stop`` is set.

        Raises:
            ConfigurationError: ``queue`` does not exist.
        """
        del batch_wait_s  # every ready message is already here; there is nothing to wait for
        size = max(1, min(batch_size, prefetch))
        with self._cond:
            self._check_open()
            self._queue(queue).consumers += 1
        if on_ready is not None:
            on_ready(True)
        try:
            while not stop.is_set():
                if not self._handle_one_batch(queue, handler, size):
                    with self._cond:
                        self._cond.wait(self._idle_wait_s)
        finally:
            if on_ready is not None:
                on_ready(False)
            with self._cond:
                self._queue(queue).consumers -= 1

    def queue_depth(self, queue: str) -> tuple[int, int]:
        """Return ``(ready messages, consumers)`` of ``queue``.

        Raises:
            ConfigurationError: ``queue`` does not exist.
        """
        with self._cond:
            self._check_open()
            self._expire_due()
            q = self._queue(queue)
            return len(q.ready), q.consumers

    def close(self) -> None:
        """Refuse further use; unsettled deliveries are lost with the memory."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def drain(
        self, queue: str, handler: BatchHandler, *, batch_size: int = 200, max_batches: int = 10_000
    ) -> int:
        """Run ``handler`` on ``queue`` until it has no ready message; return the deliveries handled.

        Raises:
            RuntimeError: the queue was not empty after ``max_batches`` batches.
        """
        handled = 0
        for _ in range(max_batches):
            count = self._handle_one_batch(queue, handler, batch_size)
            if not count:
                return handled
            handled += count
        raise RuntimeError(f"{queue} still had messages after {max_batches} batches")

    def run_until_idle(self, handlers: Mapping[str, BatchHandler], *, max_rounds: int = 1_000) -> int:
        """Drain every queue in ``handlers`` until none has a ready message; return deliveries handled.

        Raises:
            RuntimeError: the queues did not settle within ``max_rounds`` rounds.
        """
        total = 0
        for _ in range(max_rounds):
            handled = sum(self.drain(queue, handler) for queue, handler in handlers.items())
            if not handled:
                return total
            total += handled
        raise RuntimeError(f"queues still busy after {max_rounds} rounds")

    def ready(self, queue: str) -> list[Delivery]:
        """Peek at the ready messages of ``queue`` without delivering them (delivery tags are 0)."""
        with self._cond:
            self._expire_due()
            return [self._delivery(self._queue(queue), m, 0) for m in self._queue(queue).ready]

    def _handle_one_batch(self, queue: str, handler: BatchHandler, size: int) -> int:
        with self._cond:
            self._check_open()
            self._expire_due()
            q = self._queue(queue)
            batch: list[Delivery] = []
            while q.ready and len(batch) < size:
                message = q.ready.popleft()
                tag = next(self._tags)
                batch.append(self._delivery(q, message, tag))
                message.delivered = True
                self._unacked[tag] = (q, message)
        if not batch:
            return 0
        dispositions = run_handler(handler, batch, queue, _log)
        with self._cond:
            self._settle(batch, dispositions)
            self._cond.notify_all()
        return len(batch)

    def _settle(self, batch: Sequence[Delivery], dispositions: Sequence[Disposition]) -> None:
        returned: list[tuple[_Queue, _Message]] = []
        for delivery, disposition in zip(batch, dispositions, strict=True):
            entry = self._unacked.pop(delivery.delivery_tag, None)
            if entry is None:
                continue
            q, message = entry
            if disposition is Disposition.DEAD_LETTER:
                self._dead_letter(q, message, "rejected")
            elif disposition is Disposition.REQUEUE:
                message.delivery_count += 1
                returned.append(entry)
        # Quorum queues hand returned messages out again first, in their original order.
        for q, message in reversed(returned):
            limit = q.arguments.get("x-delivery-limit")
            if isinstance(limit, int) and message.delivery_count > limit:
                self._dead_letter(q, message, "delivery_limit")
            else:
                q.ready.appendleft(message)

    def _dead_letter(self, q: _Queue, message: _Message, reason: str) -> None:
        exchange = q.arguments.get("x-dead-letter-exchange")
        if not isinstance(exchange, str):
            _log.warning("dropped a %s message from %s: no dead-letter exchange", reason, q.name)
            return
        key = q.arguments.get("x-dead-letter-routing-key")
        routing_key = key if isinstance(key, str) else message.routing_key
        headers = dict(message.headers)
        death = {"count": 1, "reason": reason, "queue": q.name, "time": datetime.now(UTC)}
        death.update({"exchange": message.exchange, "routing-keys": [message.routing_key]})
        previous = [d for d in _deaths(headers) if (d.get("queue"), d.get("reason")) == (q.name, reason)]
        if previous:
            death["count"] = int(str(previous[0].get("count", 0))) + 1
        headers["x-death"] = [death, *(d for d in _deaths(headers) if d not in previous)]
        headers.setdefault("x-first-death-queue", q.name)
        headers.setdefault("x-first-death-reason", reason)
        headers.setdefault("x-first-death-exchange", message.exchange)
        try:
            targets = self._route(exchange, routing_key)
        except Unroutable:
            targets = []
        if not targets:
            if q.arguments.get("x-dead-letter-strategy") == "at-least-once":
                q.stranded.append(message)  # the broker keeps it until a queue takes it
            else:
                _log.warning(
                    "dropped a %s message from %s: its dead-letter exchange routes nowhere", reason, q.name
                )
            return
        for target in targets:  # a fresh message there: delivery count 0, not redelivered
            target.ready.append(
                _Message(message.sent, message.user_id, exchange, routing_key, dict(headers), self._clock())
            )

    def _expire_due(self) -> None:
        now = self._clock()
        for q in list(self._queues.values()):
            ttl = q.arguments.get("x-message-ttl")
            if not isinstance(ttl, int):
                continue
            while q.ready and q.ready[0].enqueued_at + ttl / 1000 <= now:
                self._dead_letter(q, q.ready.popleft(), "expired")

    def _route(self, exchange: str, routing_key: str) -> list[_Queue]:
        if exchange == "":
            return [self._queues[routing_key]] if routing_key in self._queues else []
        kind = self._exchanges.get(exchange)
        if kind is None:
            raise Unroutable(f"exchange {exchange!r} does not exist")
        names: dict[str, None] = {}
        for queue, key in self._bindings.get(exchange, []):
            if (
                kind == "fanout"
                or (kind == "direct" and key == routing_key)
                or (kind == "topic" and _topic_match(key, routing_key))
            ):
                names[queue] = None
        return [self._queues[n] for n in names]

    def _declare_exchange(self, spec: ExchangeSpec) -> None:
        if spec.type not in _EXCHANGE_TYPES:
            raise ConfigurationError(f"exchange type {spec.type!r} is not supported")
        existing = self._exchanges.setdefault(spec.name, spec.type)
        if existing != spec.type:
            raise ConfigurationError(f"exchange {spec.name!r} exists with type {existing!r}")

    def _declare_queue(self, spec: QueueSpec) -> None:
        existing = self._queues.get(spec.name)
        if existing is None:
            self._queues[spec.name] = _Queue(spec.name, dict(spec.arguments))
        elif dict(existing.arguments) != dict(spec.arguments):
            raise ConfigurationError(f"queue {spec.name!r} exists with other arguments")
        for exchange, key in spec.bindings:
            if exchange not in self._exchanges:
                raise ConfigurationError(f"cannot bind {spec.name!r}: exchange {exchange!r} does not exist")
            bindings = self._bindings.setdefault(exchange, [])
            if (spec.name, key) not in bindings:
                bindings.append((spec.name, key))

    def _queue(self, name: str) -> _Queue:
        try:
            return self._queues[name]
        except KeyError:
            raise ConfigurationError(f"queue {name!r} does not exist; apply the topology") from None

    def _check_open(self) -> None:
        if self._closed:
            raise BrokerUnavailable("the in-memory transport is closed")

    def _delivery(self, q: _Queue, m: _Message, tag: int) -> Delivery:
        headers = dict(m.headers)
        if q.quorum:
            headers["x-delivery-count"] = m.delivery_count
        body, arrived_size = m.sent.body, None
        if self._body_limits is not None:
            body, arrived_size = self._body_limits.cut(m.sent.message_type, body)
        return Delivery(
            queue=q.name,
            body=body,
            message_id=m.sent.message_id,
            message_type=m.sent.message_type,
            correlation_id=m.sent.correlation_id,
            headers=headers,
            redelivered=m.delivered,
            delivery_tag=tag,
            routing_key=m.routing_key,
            exchange=m.exchange,
            user_id=m.user_id,
            arrived_size=arrived_size,
        )


def _deaths(headers: Mapping[str, object]) -> list[dict[str, object]]:
    deaths = headers.get("x-death")
    return [d for d in deaths if isinstance(d, dict)] if isinstance(deaths, list) else []


def _topic_match(pattern: str, key: str) -> bool:
    def match(p: list[str], k: list[str]) -> bool:
        if not p:
            return not k
        if p[0] == "#":
            return any(match(p[1:], k[i:]) for i in range(len(k) + 1))
        return bool(k) and p[0] in ("*", k[0]) and match(p[1:], k[1:])

    return match(pattern.split("."), key.split("."))
