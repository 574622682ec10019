"""One pika ``SelectConnection`` on its own I/O thread, and the translation of pika's errors.

pika objects are not thread-safe. Each :class:`IoThread` owns one connection and every channel on it;
other threads only hand it work with :meth:`IoThread.call` (pika's ``add_callback_threadsafe``) or
:meth:`IoThread.call_future`, whose futures fail with :class:`~contracts.errors.BrokerUnavailable` if the
connection dies first. Keeping the I/O loop on its own thread keeps heartbeats and confirms flowing
while the caller waits or a handler works.
"""

from __future__ import annotations

import concurrent.futures
import copy
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import pika
import pika.exceptions
from pika.adapters.select_connection import SelectConnection

from contracts.errors import BrokerUnavailable, ConfigurationError, RenkeiError

__all__ = ["IoThread", "connection_parameters", "translate"]

_log = logging.getLogger(__name__)
T = TypeVar("T")

# AMQP reply codes that no reconnect can cure: a missing or mismatched queue/exchange, no permission.
_PERMANENT_REPLY_CODES = frozenset({403, 404, 405, 406, 530, 540})


def connection_parameters(amqp_url: str, connection_name: str) -> pika.URLParameters:
    """Parse ``amqp_url`` (``amqp://`` or ``amqps://`` with TLS) and name the connection.

    Raises:
        ConfigurationError: the URL cannot be parsed.
    """
    try:
        params = pika.URLParameters(amqp_url)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"invalid AMQP URL: {type(exc).__name__}") from exc
    params = copy.copy(params)
    params.client_properties = {"connection_name": connection_name, "product": "renkei"}
    return params


def translate(exc: BaseException, doing: str) -> RenkeiError:
    """Map a pika (or socket) exception met while ``doing`` something into the renkei hierarchy."""
    if isinstance(exc, RenkeiError):
        return exc
    if isinstance(exc, pika.exceptions.ChannelClosedByBroker | pika.exceptions.ConnectionClosedByBroker):
        message = f"{doing}: broker closed with {exc.reply_code} {exc.reply_text}"
        if exc.reply_code in _PERMANENT_REPLY_CODES:
            return ConfigurationError(message)
        return BrokerUnavailable(message)
    if isinstance(
        exc, pika.exceptions.ProbableAuthenticationError | pika.exceptions.ProbableAccessDeniedError
    ):
        if _lost_stream(exc):
            # pika guesses these from the stage at which the connection ended. RabbitMQ refuses a user or a
            # virtual host with a Connection.Close (403, 530: ConnectionClosedByBroker, above), since pika
            # announces authentication_failure_close; a stream reset or ended mid-handshake is a broker
            # stopping or starting, which the fault test met: the pension adapter exited on it.
            return BrokerUnavailable(f"{doing}: the connection was lost during the handshake: {exc}")
        return ConfigurationError(
            f"{doing}: the broker refused the credentials or the virtual host (renkei's users and their "
            "permissions come from `renkei topology users apply`; in development also from `renkei demo` and "
            "`renkei run`, or set RENKEI_BROKER_IDENTITY=shared)"
        )
    return BrokerUnavailable(f"{doing}: {type(exc).__name__}: {exc}")


_LOST_STREAM = ("StreamLostError", "ConnectionResetError", "BrokenPipeError", "EOF")
"""What pika's text for the underlying error (it keeps only its ``repr``) says when the stream was lost."""


def _lost_stream(exc: BaseException) -> bool:
    """Whether a handshake error of pika's stands for a lost stream rather than a refusal."""
    text = " ".join(str(arg) for arg in exc.args)
    return any(mark in text for mark in _LOST_STREAM)


class _BatchingConnection(SelectConnection):
    """A ``SelectConnection`` that can hand many frames to the socket in one write.

    pika writes every frame separately (three per published message) and its transport makes one
    ``send()`` per write; in the publisher's profile those system calls took most of the time. Inside
    :meth:`batched_output` frames are joined into writes of up to ``_MAX_WRITE`` bytes instead. Order is
    unchanged: every frame of this connection is written on the I/O thread, through this method.
    """

    _MAX_WRITE = 256 * 1024
    _pending: list[bytes] | None = None
    _pending_bytes = 0

    # pika.connection.Connection._output_marshaled_frames: private, but stable through pika 1.x.
    def _output_marshaled_frames(self, marshaled_frames: Sequence[bytes]) -> None:
        if self._pending is None:
            super()._output_marshaled_frames(marshaled_frames)  # type: ignore[misc]  # not in the stubs
            return
        for marshaled in marshaled_frames:
            self.bytes_sent += len(marshaled)
            self.frames_sent += 1
            self._pending.append(marshaled)
            self._pending_bytes += len(marshaled)
        if self._pending_bytes >= self._MAX_WRITE:
            self._flush_pending()

    @contextmanager
    def batched_output(self) -> Iterator[None]:
        """Join the frames written inside the block (I/O thread only)."""
        if self._pending is not None:  # already batching: the outer block flushes
            yield
            return
        self._pending, self._pending_bytes = [], 0
        try:
            yield
        finally:
            self._flush_pending()
            self._pending = None

    def _flush_pending(self) -> None:
        pending, self._pending, self._pending_bytes = self._pending, [], 0
        if pending and self.is_open:
            self._adapter_emit_data(b"".join(pending))  # type: ignore[attr-defined]  # missing from the stubs


class IoThread:
    """A ``SelectConnection`` running its I/O loop on a daemon thread.

    Args:
        params: connection parameters (see :func:`connection_parameters`).
        on_open: called on the I/O thread once the connection is open; it sets up channels and calls
            :meth:`ready` (or :meth:`fail`) when they are.
        on_lost: called on the I/O thread once, when the connection has closed for any reason.
    """

    def __init__(
        self,
        params: pika.URLParameters,
        *,
        on_open: Callable[[SelectConnection], None],
        on_lost: Callable[[RenkeiError], None] = lambda _: None,
    ) -> None:
        self._params = params
        self._on_open_hook = on_open
        self._on_lost_hook = on_lost
        self._ready = threading.Event()
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._futures: set[concurrent.futures.Future[Any]] = set()
        self._error: RenkeiError | None = None
        self._conn: _BatchingConnection | None = None
        name = (
            str(params.client_properties.get("connection_name", "amqp"))
            if params.client_properties
            else "amqp"
        )
        self._thread = threading.Thread(target=self._run, name=f"pika-io:{name}", daemon=True)

    @property
    def connection(self) -> _BatchingConnection:
        """The connection; touch it only on the I/O thread."""
        assert self._conn is not None
        return self._conn

    @property
    def alive(self) -> bool:
        """Whether the connection is open (or opening) and the loop runs."""
        return not self._stopped.is_set()

    @property
    def error(self) -> RenkeiError | None:
        """Why the connection closed, once it has."""
        return self._error

    def start(self, timeout_s: float) -> None:
        """Connect and wait until the owner's channels are ready.

        Raises:
            BrokerUnavailable: no connection within ``timeout_s``, or it closed while opening.
            ConfigurationError: the broker refused the credentials, or a channel set-up failed for good.
        """
        self._thread.start()
        if not self._ready.wait(timeout_s):
            self.close(timeout_s=1.0)
            raise BrokerUnavailable(f"no connection to the broker within {timeout_s:g} s")
        if self._error is not None:
            self.close(timeout_s=1.0)
            raise self._error

    def ready(self) -> None:
        """Tell :meth:`start` that the owner's channels are set up (I/O thread)."""
        self._ready.set()

    def fail(self, error: RenkeiError) -> None:
        """Record ``error`` and close the connection (I/O thread)."""
        if self._error is None:
            self._error = error
        self._close_in_io()

    def call(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the I/O thread, soon; dropped silently if the connection dies first.

        Raises:
            BrokerUnavailable: the connection is already closed.
        """
        if self._stopped.is_set() or self._conn is None:
            raise self._error or BrokerUnavailable("the connection is closed")
        self._conn.ioloop.add_callback_threadsafe(self._guarded(fn))

    def call_future(self, fn: Callable[[concurrent.futures.Future[T]], None], timeout_s: float) -> T:
        """Run ``fn(future)`` on the I/O thread and wait for it to resolve the future.

        Raises:
            BrokerUnavailable: the connection closed, or no answer came within ``timeout_s``.
            RenkeiError: whatever ``fn`` resolved the future with.
        """
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        with self._lock:
            if self._stopped.is_set():
                raise self._error or BrokerUnavailable("the connection is closed")
            self._futures.add(future)  # failed as a whole when the loop stops

        def run() -> None:
            if not future.done():
                fn(future)

        try:
            self.call(self._guarded(run, future))
            return future.result(timeout_s)
        except concurrent.futures.TimeoutError:
            raise BrokerUnavailable(f"the broker did not answer within {timeout_s:g} s") from None
        finally:
            with self._lock:
                self._futures.discard(future)

    def close(self, timeout_s: float = 5.0) -> None:
        """Close the connection and wait for the I/O thread to end."""
        if self._conn is not None and not self._stopped.is_set():
            self._conn.ioloop.add_callback_threadsafe(self._close_in_io)
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout_s)

    # -- I/O thread --------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._conn = _BatchingConnection(
                self._params,
                on_open_callback=self._on_open,
                on_open_error_callback=self._on_open_error,
                on_close_callback=self._on_close,
            )
            self._conn.ioloop.start()
        except Exception as exc:  # noqa: BLE001 - the loop's last word: record it, fail the waiters below
            _log.warning("pika I/O loop ended with %s", type(exc).__name__)
            if self._error is None:
                self._error = translate(exc, "running the connection")
        finally:
            with self._lock:
                self._stopped.set()
                futures = list(self._futures)
            error = self._error or BrokerUnavailable("the connection closed")
            for future in futures:
                if not future.done():
                    future.set_exception(error)
            self._ready.set()
            if self._conn is not None:
                self._conn.ioloop.close()

    def _on_open(self, conn: object) -> None:
        del conn
        self._on_open_hook(self.connection)

    def _on_open_error(self, conn: object, err: BaseException | str) -> None:
        del conn
        cause = err if isinstance(err, BaseException) else pika.exceptions.AMQPConnectionError(err)
        self._error = self._error or translate(cause, "connecting")
        self.connection.ioloop.stop()

    def _on_close(self, conn: object, reason: BaseException) -> None:
        del conn
        if self._error is None:
            self._error = translate(reason, "connection closed")
        try:
            self._on_lost_hook(self._error)
        finally:
            self.connection.ioloop.stop()

    def _close_in_io(self) -> None:
        conn = self._conn
        if conn is None:
            return
        if not (conn.is_closing or conn.is_closed):
            conn.close()
        elif conn.is_closed:
            conn.ioloop.stop()

    def _guarded(
        self, fn: Callable[[], None], future: concurrent.futures.Future[T] | None = None
    ) -> Callable[[], None]:
        """Wrap ``fn`` so that an exception fails ``future`` (or is logged) instead of killing the loop."""

        def guarded() -> None:
            try:
                fn()
            except Exception as exc:  # noqa: BLE001 - one failed step must not stop the I/O loop
                error = translate(exc, "on the I/O thread")
                if future is not None and not future.done():
                    future.set_exception(error)
                else:
                    _log.warning("pika callback failed: %s", error)

        return guarded
