"""Declarations and passive look-ups on a channel of their own, over an :class:`IoThread`.

A broker error on a declaration (``404 NOT_FOUND``, ``406 PRECONDITION_FAILED``) closes the channel it came
on. Keeping these operations on their own channel means such an error fails only the operation that caused
it: the confirm channel of the publisher and the consumer's channel are never touched.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from pika.channel import Channel
from pika.exceptions import ChannelClosedByBroker
from pika.exchange_type import ExchangeType

from contracts.errors import ConfigurationError, RenkeiError, Unroutable
from hub.infra.broker._io import IoThread, translate
from hub.ports.transport import Topology

__all__ = ["AdminChannel", "declare_on"]

_Op = Callable[[Channel, Callable[[Any], None]], None]


def declare_on(channel: Channel, topology: Topology, done: Callable[[Any], None]) -> None:
    """Issue every declaration of ``topology`` on ``channel`` (I/O thread); ``done`` follows the last.

    pika queues a channel's synchronous calls and sends each once the previous one is answered, so they
    can all be issued at once. A failure closes the channel, and its close callback reports it.
    """
    steps: list[Callable[[Callable[[Any], None]], None]] = []
    for ex in topology.exchanges:
        try:
            kind = ExchangeType(ex.type)
        except ValueError:
            raise ConfigurationError(f"exchange type {ex.type!r} is not supported") from None
        steps.append(partial(_exchange, channel, ex.name, kind))
    for q in topology.queues:
        steps.append(partial(_queue, channel, q.name, dict(q.arguments)))
        steps.extend(partial(_bind, channel, q.name, exchange, key) for exchange, key in q.bindings)
    if not steps:
        done(None)
        return
    for step in steps[:-1]:
        step(lambda _frame: None)
    steps[-1](done)


def _exchange(channel: Channel, name: str, kind: ExchangeType, callback: Callable[[Any], None]) -> None:
    channel.exchange_declare(name, kind, durable=True, callback=callback)


def _queue(channel: Channel, name: str, arguments: dict[str, Any], callback: Callable[[Any], None]) -> None:
    channel.queue_declare(name, durable=True, arguments=arguments, callback=callback)


def _bind(channel: Channel, queue: str, exchange: str, key: str, callback: Callable[[Any], None]) -> None:
    channel.queue_bind(queue, exchange, key, callback=callback)


class AdminChannel:
    """Synchronous declarations and look-ups for callers on other threads; one at a time.

    Args:
        io: the connection to open the channel on.
        timeout_s: how long one operation may wait for the broker.
    """

    def __init__(self, io: IoThread, timeout_s: float) -> None:
        self._io = io
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        self._channel: Channel | None = None
        self._pending: concurrent.futures.Future[Any] | None = None
        self._doing = ""
        self._not_found: Callable[[], RenkeiError] | None = None

    def declare(self, topology: Topology) -> None:
        """Declare ``topology``.

        Raises:
            ConfigurationError: something exists with other arguments, or a binding's exchange is missing.
            BrokerUnavailable: the connection failed.
        """
        self._run("declaring the topology", lambda ch, done: declare_on(ch, topology, done))

    def queue_depth(self, queue: str) -> tuple[int, int]:
        """Return ``(ready messages, consumers)`` of ``queue`` by a passive declaration.

        Raises:
            ConfigurationError: the queue does not exist.
        """
        frame = self._run(
            f"looking up queue {queue!r}",
            lambda ch, done: ch.queue_declare(queue, passive=True, callback=done),
        )
        return int(frame.method.message_count), int(frame.method.consumer_count)

    def check_exchange(self, exchange: str) -> None:
        """Make sure ``exchange`` exists.

        Raises:
            Unroutable: it does not.
        """
        self._run(
            f"looking up exchange {exchange!r}",
            lambda ch, done: ch.exchange_declare(exchange, passive=True, callback=done),
            not_found=lambda: Unroutable(f"exchange {exchange!r} does not exist"),
        )

    def _run(self, doing: str, op: _Op, not_found: Callable[[], RenkeiError] | None = None) -> Any:
        with self._lock:
            self._not_found = not_found
            return self._io.call_future(lambda future: self._start(doing, op, future), self._timeout_s)

    # -- I/O thread --------------------------------------------------------------------------------

    def _start(self, doing: str, op: _Op, future: concurrent.futures.Future[Any]) -> None:
        self._pending, self._doing = future, doing

        def done(result: Any) -> None:
            if not future.done():
                future.set_result(result)

        channel = self._channel
        if channel is not None and channel.is_open:
            op(channel, done)
            return

        def opened(ch: Channel) -> None:
            self._channel = ch
            ch.add_on_close_callback(self._on_closed)
            op(ch, done)

        self._io.connection.channel(on_open_callback=opened)

    def _on_closed(self, channel: Channel, reason: BaseException) -> None:
        if self._channel is channel:
            self._channel = None
        future = self._pending
        if future is None or future.done():
            return
        if (
            self._not_found is not None
            and isinstance(reason, ChannelClosedByBroker)
            and reason.reply_code == 404
        ):
            future.set_exception(self._not_found())
        else:
            future.set_exception(translate(reason, self._doing))
