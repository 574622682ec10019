"""Consuming one queue on one connection: deliveries to the caller's thread, settlements back.

The I/O thread receives deliveries and puts them on a thread-safe inbox; the consuming thread takes
batches from it and calls the handler; the dispositions go back to the I/O thread with
``add_callback_threadsafe`` (pika's channels are not thread-safe), where contiguous runs are settled with
one ``multiple=True`` frame. A session lives as long as its connection: after a reconnect the next
session starts with a fresh inbox and channel, so a stale delivery tag can never be settled on the
wrong channel (its settlement is dropped, and the broker redelivers the message).
"""

from __future__ import annotations

import itertools
import logging
import queue as queue_mod
import time
from collections.abc import Sequence

import pika
import pika.spec
from pika.adapters.select_connection import SelectConnection
from pika.channel import Channel

from contracts.errors import BrokerUnavailable, RenkeiError
from hub.core.runtime.body_limits import BodyLimits
from hub.infra.broker._admin import declare_on
from hub.infra.broker._io import IoThread, translate
from hub.ports.transport import Delivery, Disposition, Topology

__all__ = ["ConsumerSession"]

_log = logging.getLogger(__name__)
_POLL_S = 0.1  # how often an idle consumer looks at its stop event
MAX_BATCH_BYTES = 4 * 1024 * 1024
"""A batch closes once its bodies reach this size, however few deliveries it holds.

Bulk flows send chunks of a thousand people (about 150 KB a message): 200 of them would make one
transaction of 200,000 people, with the memory that takes and nothing flowing downstream until it
commits. About 4 MiB keeps a bulk batch near 25,000 people and leaves small messages' batches alone.
"""


class ConsumerSession:
    """One connection consuming ``queue`` with ``prefetch`` unacknowledged deliveries at most.

    Args:
        params: connection parameters.
        queue: the queue to consume.
        prefetch: ``basic.qos`` prefetch count.
        topologies: declared again (idempotently) before consuming, as on every connect.
        timeout_s: how long to wait for the connection and the consumer to be set up.
        body_limits: a body over its type's limit is cut to the limit as it arrives, in the I/O thread, so
            that ``prefetch`` large messages cannot fill the memory; the consumer dead-letters it as
            ``too_large`` (:mod:`hub.core.runtime.body_limits`).

    Raises:
        BrokerUnavailable: the connection could not be opened.
        ConfigurationError: the queue does not exist, or the topology conflicts with the broker's.
    """

    def __init__(
        self,
        params: pika.URLParameters,
        *,
        queue: str,
        prefetch: int,
        topologies: Sequence[Topology] = (),
        timeout_s: float,
        body_limits: BodyLimits | None = None,
    ) -> None:
        self._queue = queue
        self._body_limits = body_limits
        self._prefetch = prefetch
        self._topologies = tuple(topologies)
        self._inbox: queue_mod.SimpleQueue[Delivery] = queue_mod.SimpleQueue()
        self._lost: RenkeiError | None = None
        self._io = IoThread(params, on_open=self._on_open, on_lost=self._on_lost)
        # I/O thread state only:
        self._channel: Channel | None = None
        self._settled_upto = 0  # every delivery tag up to here has been settled on this channel
        self._consuming = False
        self._io.start(timeout_s)

    def next_batch(self, batch_size: int, batch_wait_s: float) -> list[Delivery]:
        """Take up to ``batch_size`` deliveries, waiting up to ``batch_wait_s`` after the first for more.

        A batch also closes at :data:`MAX_BATCH_BYTES` of bodies. Returns an empty list when nothing came
        within a short poll interval, so the caller can look at its stop event.

        Raises:
            BrokerUnavailable: the connection or channel was lost (undelivered messages go back to the
                queue on the broker's side).
        """
        self._raise_if_lost()
        try:
            first = self._inbox.get(timeout=_POLL_S)
        except queue_mod.Empty:
            self._raise_if_lost()
            return []
        batch = [first]
        size = len(first.body)
        deadline = time.monotonic() + batch_wait_s
        while len(batch) < batch_size and size < MAX_BATCH_BYTES:  # bounded by batch_size
            remaining = deadline - time.monotonic()
            try:
                delivery = self._inbox.get_nowait() if remaining <= 0 else self._inbox.get(timeout=remaining)
            except queue_mod.Empty:
                break
            batch.append(delivery)
            size += len(delivery.body)
        self._raise_if_lost()
        return batch

    def settle(self, batch: Sequence[Delivery], dispositions: Sequence[Disposition]) -> None:
        """Hand the settlements to the I/O thread; dropped if the connection is gone by then."""
        pairs = [(d.delivery_tag, disp) for d, disp in zip(batch, dispositions, strict=True)]
        try:
            self._io.call(lambda: self._settle_in_io(pairs))
        except RenkeiError:
            _log.warning(
                "connection lost before %d settlements were sent; the broker will redeliver", len(pairs)
            )

    def close(self) -> None:
        """Close the connection; unsettled deliveries return to the queue."""
        self._io.close()

    def _raise_if_lost(self) -> None:
        if self._lost is not None:
            raise self._lost

    # -- I/O thread --------------------------------------------------------------------------------

    def _on_open(self, conn: SelectConnection) -> None:
        conn.channel(on_open_callback=self._on_channel_open)

    def _on_channel_open(self, channel: Channel) -> None:
        self._channel = channel
        channel.add_on_close_callback(self._on_channel_closed)
        channel.add_on_cancel_callback(self._on_cancelled)
        pending = list(self._topologies)

        def declare_next(_frame: object = None) -> None:
            if pending:
                declare_on(channel, pending.pop(0), declare_next)
            else:
                channel.basic_qos(prefetch_count=self._prefetch, callback=start_consuming)

        def consuming(_frame: object) -> None:
            self._consuming = True
            self._io.ready()

        def start_consuming(_frame: object) -> None:
            channel.basic_consume(self._queue, self._on_message, callback=consuming)

        declare_next()

    def _on_message(
        self,
        channel: Channel,
        method: pika.spec.Basic.Deliver,
        props: pika.spec.BasicProperties,
        body: bytes,
    ) -> None:
        del channel
        arrived_size = None
        if self._body_limits is not None:
            body, arrived_size = self._body_limits.cut(props.type, body)
        self._inbox.put(
            Delivery(
                queue=self._queue,
                body=body,
                message_id=props.message_id,
                message_type=props.type,
                correlation_id=props.correlation_id,
                headers=dict(props.headers or {}),
                redelivered=bool(method.redelivered),
                delivery_tag=int(method.delivery_tag or 0),
                routing_key=str(method.routing_key),
                exchange=str(method.exchange),
                user_id=props.user_id or None,
                arrived_size=arrived_size,
            )
        )

    def _settle_in_io(self, pairs: list[tuple[int, Disposition]]) -> None:
        channel = self._channel
        if channel is None or not channel.is_open or not pairs:
            return  # stale: the broker has already put these deliveries back
        # ``multiple=True`` settles every unsettled tag up to the given one, so it is used only when
        # every earlier tag is known to be settled and the run's tags are consecutive.
        contiguous = pairs[0][0] == self._settled_upto + 1 and all(
            b[0] == a[0] + 1 for a, b in itertools.pairwise(pairs)
        )
        if not contiguous:
            _log.warning("settling %d deliveries one by one: their tags are not contiguous", len(pairs))
        for disposition, run in itertools.groupby(pairs, key=lambda pair: pair[1]):
            tags = [tag for tag, _ in run]
            multiple = contiguous and len(tags) > 1
            for tag in tags[-1:] if multiple else tags:
                if disposition is Disposition.ACK:
                    channel.basic_ack(tag, multiple=multiple)
                elif disposition is Disposition.DEAD_LETTER and not multiple:
                    channel.basic_reject(tag, requeue=False)
                else:
                    channel.basic_nack(tag, multiple=multiple, requeue=disposition is Disposition.REQUEUE)
        self._settled_upto = max(self._settled_upto, pairs[-1][0]) if contiguous else self._settled_upto

    def _on_cancelled(self, frame: object) -> None:
        del frame
        # The broker cancelled the consumer (queue deleted, node shutting down): start over.
        self._lost = BrokerUnavailable(f"the broker cancelled the consumer of {self._queue!r}")
        self._io.fail(self._lost)

    def _on_channel_closed(self, channel: Channel, reason: BaseException) -> None:
        del channel
        self._channel = None
        error = translate(reason, f"consuming {self._queue!r}")
        if self._consuming and not isinstance(error, BrokerUnavailable):
            # Set-up errors (no such queue) are permanent; once consuming, a channel error (say, a
            # settlement the broker refused) costs this connection only: reconnect and carry on.
            error = BrokerUnavailable(str(error))
        if self._lost is None:
            self._lost = error
        self._io.fail(error)

    def _on_lost(self, error: RenkeiError) -> None:
        if self._lost is None:
            self._lost = error
