"""The RabbitMQ transport: confirmed publishing with many messages in flight, batched consuming.

:class:`PikaTransport` implements :class:`~hub.ports.transport.Transport` with pika 1.x. Publishing runs
on one connection whose ``SelectConnection`` I/O loop has a thread of its own (``_publisher``); each
:meth:`~PikaTransport.consume` call opens a connection of its own (``_consumer``), because a
consumer must never share a connection with the publisher whose confirms it may be waiting for.
Declarations and queue look-ups go on a separate channel of the publishing connection (``_admin``).

Every pika exception is translated into :mod:`contracts.errors` before it leaves this package.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from tenacity import (
    RetryCallState,
    Retrying,
    before_sleep_log,
    retry_if_exception,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from contracts.errors import BrokerUnavailable, ConfigurationError, PublishNotConfirmed, SenderNotPermitted
from hub.core.runtime.body_limits import BodyLimits
from hub.infra.broker._addresses import BrokerAddresses
from hub.infra.broker._consumer import ConsumerSession
from hub.infra.broker._publisher import PublisherSession
from hub.infra.observability.process_metrics import count_published
from hub.ports.transport import BatchHandler, OutgoingMessage, Topology, run_handler

__all__ = ["PikaTransport"]

_log = logging.getLogger(__name__)
logging.getLogger("pika").setLevel(logging.WARNING)  # pika logs every frame problem at INFO/ERROR itself

_HEALTHY_SESSION_S = 5.0  # a consumer session that lasted this long resets the reconnect budget


class _SessionEnded(Exception):
    """A consumer session was lost after it had done useful work: reconnect with a fresh budget."""


class PikaTransport:
    """A :class:`~hub.ports.transport.Transport` over RabbitMQ.

    Args:
        amqp_url: ``amqp://`` or ``amqps://`` URL; TLS options come from the URL (``ssl_options``). Or
            several, one per cluster node, in order of preference: every connection goes to the first
            that answers, starting with the one that last worked (``_addresses``).
        connection_name: shown in the broker's connection list; ``.publisher``/``.consumer`` is appended.
        confirm_timeout_s: how long :meth:`publish` waits for the broker to confirm a batch.
        reconnect_max_s: how long :meth:`consume` keeps trying to reconnect before it gives up.
        publish_retry_s: how long :meth:`publish` retries a batch whose connection was lost or that the
            broker nacked (the batch is published again in full, so a consumer may see a message twice;
            consumers are idempotent).
        max_in_flight: unconfirmed publishes allowed at once on the publishing connection.
        connect_timeout_s: how long to wait for a connection, and for one declaration or look-up.
        user: the broker user the connection authenticates as, stamped as AMQP ``user_id`` on every
            message published (RabbitMQ validates it: "Validated User-ID"). Default: the user of the URLs'
            credentials; name it where the URL carries none (a client certificate's user, say).
        body_limits: consumers keep no more of an arriving body than its type's limit (``None``: all of
            it); see :class:`~hub.ports.transport.Delivery`.

    Raises:
        ConfigurationError: the URL cannot be parsed, or the URLs name different users.
    """

    def __init__(
        self,
        amqp_url: str | Sequence[str],
        *,
        connection_name: str,
        confirm_timeout_s: float = 30,
        reconnect_max_s: float = 120,
        publish_retry_s: float = 5,
        max_in_flight: int = 1_000,
        connect_timeout_s: float = 10,
        user: str | None = None,
        body_limits: BodyLimits | None = None,
    ) -> None:
        self._addresses = BrokerAddresses(amqp_url, connection_name)
        self._user = user or self._addresses.user
        if not self._user:
            raise ConfigurationError("no broker user: the URL names none; pass user=")
        self._body_limits = body_limits
        self._confirm_timeout_s = confirm_timeout_s
        self._reconnect_max_s = reconnect_max_s
        self._publish_retry_s = publish_retry_s
        self._max_in_flight = max_in_flight
        self._connect_timeout_s = connect_timeout_s
        self._lock = threading.Lock()
        self._publisher: PublisherSession | None = None
        self._topologies: list[Topology] = []
        self._known_exchanges: set[str] = {""}
        self._closed = False

    @property
    def user(self) -> str:
        """The broker user this transport connects as, stamped on every message it publishes."""
        return self._user

    def declare(self, topology: Topology) -> None:
        """Declare every exchange, queue and binding of ``topology``; it is declared again on every connect.

        Raises:
            ConfigurationError: something exists with other arguments or type.
            BrokerUnavailable: the broker could not be reached.
        """
        self._session().admin.declare(topology)
        with self._lock:
            if topology not in self._topologies:
                self._topologies.append(topology)
            self._known_exchanges.update(ex.name for ex in topology.exchanges)

    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        """Publish ``messages`` (persistent, mandatory) and return once the broker confirmed them all.

        Every message is handed to the broker before the first confirm is awaited (up to
        ``max_in_flight`` unconfirmed at once). When some messages reach no queue the others are still
        published and confirmed, and ``Unroutable`` names the ids of those that were not; when an exchange
        does not exist, nothing of the batch is published.

        Raises:
            Unroutable: a message reached no queue, or its exchange does not exist.
            PublishNotConfirmed: still nacked after ``publish_retry_s``, or no confirm in time.
            BrokerUnavailable: the connection stayed down for ``publish_retry_s``.
            SenderNotPermitted: a message names another ``user_id`` than :attr:`user` (nothing of the
                batch is published), or the broker refused this transport's ``user_id``.
        """
        if self._closed:
            raise BrokerUnavailable("the transport is closed")
        if not messages:
            return
        for m in messages:
            # Checked here as well as by the broker: a refused user_id closes the publishing channel, which
            # would fail every other batch in flight on it.
            if m.user_id is not None and m.user_id != self._user:
                raise SenderNotPermitted(
                    f"user_id {m.user_id!r} is not the connection's user {self._user!r}: RabbitMQ refuses "
                    "it (Validated User-ID)"
                )
        for attempt in Retrying(
            # A nack is transient too: a quorum queue whose leader was on a stopped node nacks publishes
            # until a new leader is elected (13 s seen on the local cluster). Failing at once would make
            # every caller requeue its delivery at once, and that loop spends a message's whole delivery
            # limit in a second and dead-letters it.
            retry=retry_if_exception(
                lambda exc: isinstance(exc, BrokerUnavailable | PublishNotConfirmed) and not self._closed
            ),
            wait=wait_exponential_jitter(max=1.0, jitter=0.2),  # ~1 s apart
            stop=stop_after_delay(self._publish_retry_s),
            before_sleep=before_sleep_log(_log, logging.WARNING),
            reraise=True,
        ):
            with attempt:
                session = self._session()
                self._check_exchanges(session, {m.exchange for m in messages})
                session.publish(messages, self._confirm_timeout_s)
        count_published(messages)

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
        """Deliver batches from ``queue`` to ``handler`` in the calling thread until ``stop`` is set.

        Reconnects after a lost connection, with exponential back-off and jitter, for at most
        ``reconnect_max_s`` without a healthy session; deliveries of the lost connection are never settled.

        Raises:
            BrokerUnavailable: no connection for ``reconnect_max_s``.
            ConfigurationError: the queue does not exist, or the credentials are refused.
        """

        def sleep(seconds: float) -> None:
            stop.wait(seconds)

        # Bounded: each pass either returns (stop), raises (budget spent) or follows a healthy session.
        while not stop.is_set():
            try:
                for attempt in Retrying(
                    retry=retry_if_exception_type(BrokerUnavailable),
                    wait=wait_exponential_jitter(max=5.0, jitter=0.5),  # 1, 2, 4, 5, 5 ... s
                    stop=stop_after_delay(self._reconnect_max_s) | _when(stop),
                    sleep=sleep,
                    before_sleep=before_sleep_log(_log, logging.WARNING),
                    reraise=True,
                ):
                    with attempt:
                        self._consume_session(
                            queue,
                            handler,
                            stop=stop,
                            prefetch=prefetch,
                            batch_size=batch_size,
                            batch_wait_s=batch_wait_s,
                            on_ready=on_ready,
                        )
            except _SessionEnded:
                _log.warning("consumer of %s lost its connection; reconnecting", queue)
            except BrokerUnavailable:
                if stop.is_set():
                    return
                raise
            else:
                return

    def queue_depth(self, queue: str) -> tuple[int, int]:
        """Return ``(messages ready, consumers)`` of ``queue`` (a passive declaration).

        Raises:
            ConfigurationError: the queue does not exist.
            BrokerUnavailable: the broker could not be reached.
        """
        return self._session().admin.queue_depth(queue)

    def close(self) -> None:
        """Close the publishing connection; a later call raises ``BrokerUnavailable``."""
        with self._lock:
            self._closed = True
            session, self._publisher = self._publisher, None
        if session is not None:
            session.close()

    # -- internals ---------------------------------------------------------------------------------

    def _session(self) -> PublisherSession:
        with self._lock:
            if self._closed:
                raise BrokerUnavailable("the transport is closed")
            session = self._publisher
            if session is not None and session.alive:
                return session
            self._known_exchanges = {""}  # a new connection: look the exchanges up again
            session = self._addresses.open(
                "publisher",
                lambda params: PublisherSession(
                    params,
                    max_in_flight=self._max_in_flight,
                    timeout_s=self._connect_timeout_s,
                    user=self._user,
                ),
            )
            self._publisher = session
            topologies = list(self._topologies)
        for topology in topologies:  # declared again on every connect
            session.admin.declare(topology)
        return session

    def _check_exchanges(self, session: PublisherSession, exchanges: set[str]) -> None:
        # Publishing to a missing exchange would close the confirm channel and fail every batch in
        # flight; look each exchange up once per connection instead, and fail only this batch.
        with self._lock:
            unknown = exchanges - self._known_exchanges
        for exchange in sorted(unknown):
            session.admin.check_exchange(exchange)
            with self._lock:
                self._known_exchanges.add(exchange)

    def _consume_session(
        self,
        queue: str,
        handler: BatchHandler,
        *,
        stop: threading.Event,
        prefetch: int,
        batch_size: int,
        batch_wait_s: float,
        on_ready: Callable[[bool], None] | None,
    ) -> None:
        with self._lock:
            topologies = list(self._topologies)
        session = self._addresses.open(
            "consumer",
            lambda params: ConsumerSession(
                params,
                queue=queue,
                prefetch=prefetch,
                topologies=topologies,
                timeout_s=self._connect_timeout_s,
                body_limits=self._body_limits,
            ),
        )
        started, settled = time.monotonic(), 0
        if on_ready is not None:
            on_ready(True)  # the session's constructor returns once the broker confirmed the consumer
        try:
            while not stop.is_set():  # each pass waits at most a poll interval for deliveries
                batch = session.next_batch(batch_size, batch_wait_s)
                if batch:
                    session.settle(batch, run_handler(handler, batch, queue, _log))
                    settled += 1
        except BrokerUnavailable as exc:
            if settled or time.monotonic() - started >= _HEALTHY_SESSION_S:
                raise _SessionEnded(str(exc)) from exc
            raise
        finally:
            if on_ready is not None:
                on_ready(False)
            session.close()


class _when(stop_base):  # noqa: N801 - reads like tenacity's own stop conditions
    """Stop retrying once ``event`` is set."""

    def __init__(self, event: threading.Event) -> None:
        self._event = event

    def __call__(self, retry_state: RetryCallState) -> bool:
        del retry_state
        return self._event.is_set()
