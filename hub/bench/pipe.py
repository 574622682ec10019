"""A closed-loop load driver: publish with at most ``window`` messages outstanding, time every arrival.

The baseline and the hub phase drive the broker the same way. The driver publishes (confirmed, through
the transport) in small batches while a consumer thread of its own takes the messages that come out at
the far end, acknowledges them and notes when each arrived. It never lets more than ``window`` messages be
published and not yet arrived, so that the system runs saturated but the latency it measures is the time
through the system at that load (Little's law: about ``window`` / rate), not the age of an ever-growing
backlog.

A message's latency runs from the moment its publish call started to the moment the consumer saw the
message it turned into at the far end (the message itself for the baseline; the hub's J-LIS inquiry for
the hub phase, whose id is derived from the request's).
"""

from __future__ import annotations

import threading
import time
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from hub.bench.errors import BenchError
from hub.bench.measure import percentile
from hub.ports.transport import Delivery, Disposition, OutgoingMessage, Transport

__all__ = ["PipeResult", "drive"]

_WAIT_S = 0.2  # how long the publisher sleeps at most between looks at the consumer's progress


@dataclass(frozen=True, slots=True)
class PipeResult:
    """What one drive measured."""

    messages: int
    seconds: float
    latencies_ms: Sequence[float]
    """Sorted, one per message."""

    @property
    def rate(self) -> float:
        """Messages through per second, from the first publish to the last arrival."""
        return self.messages / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> dict[str, object]:
        """The figures of the report."""
        lat = self.latencies_ms
        return {
            "messages": self.messages,
            "seconds": round(self.seconds, 3),
            "messages_per_s": round(self.rate, 1),
            "latency_ms": {
                "p50": round(percentile(lat, 0.50), 2),
                "p99": round(percentile(lat, 0.99), 2),
                "max": round(lat[-1], 2),
            },
        }


class _Arrivals:
    """The consumer's side: which expected message arrived when. Thread-safe."""

    def __init__(self, expected: dict[str, int], count: int) -> None:
        self._expected = expected
        self.at = array("d", bytes(8 * count))
        self._seen = bytearray(count)
        self.arrived = 0
        self.unexpected = 0
        self.cond = threading.Condition()

    def __call__(self, deliveries: Sequence[Delivery]) -> list[Disposition]:
        now = time.perf_counter()
        with self.cond:
            for delivery in deliveries:
                index = self._expected.get(delivery.message_id or "")
                if index is None or self._seen[index]:
                    self.unexpected += 1  # a redelivery, or a message of no interest
                    continue
                self._seen[index] = 1
                self.at[index] = now
                self.arrived += 1
            self.cond.notify_all()
        return [Disposition.ACK] * len(deliveries)


def drive(
    publisher: Transport,
    consumer: Transport,
    *,
    messages: Callable[[int, int], list[OutgoingMessage]],
    count: int,
    arrival_id: Callable[[str], str],
    queue: str,
    window: int,
    batch: int,
    consume_options: dict[str, float | int],
    timeout_s: float,
) -> PipeResult:
    """Publish ``count`` messages and wait until each has come out of ``queue``.

    Args:
        publisher: publishes the messages (its confirms are part of the measurement).
        consumer: consumes ``queue`` (a transport of its own, so confirms and deliveries do not queue up
            behind one another).
        messages: ``messages(start, stop)`` builds the messages ``start`` to ``stop - 1``; built as they go
            out, so that memory does not grow with ``count``.
        count: messages to publish.
        arrival_id: the id under which the message with a given id arrives at the far end.
        queue: where they arrive.
        window: at most this many published and not yet arrived.
        batch: messages per publish call.
        consume_options: ``prefetch``, ``batch_size`` and ``batch_wait_s`` of the consumer.
        timeout_s: give up after this long.

    Raises:
        BenchError: not every message arrived within ``timeout_s``, or the consumer died.
    """
    sent_at = array("d", bytes(8 * count))
    expected: dict[str, int] = {}
    arrivals = _Arrivals(expected, count)
    stop = threading.Event()
    failure: list[BaseException] = []

    def consume() -> None:
        try:
            consumer.consume(queue, arrivals, stop=stop, **consume_options)  # type: ignore[arg-type]  # prefetch, batch_size, batch_wait_s: int or float each
        except BaseException as exc:  # noqa: BLE001 - handed to the publisher, which raises it
            failure.append(exc)
            with arrivals.cond:
                arrivals.cond.notify_all()

    thread = threading.Thread(target=consume, name="bench-consumer", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    started = time.perf_counter()
    try:
        for start, stop_at in _batches(count, batch):
            _wait_for_room(
                arrivals, start, stop_at - start, window=window, deadline=deadline, failure=failure
            )
            out = messages(start, stop_at)
            with arrivals.cond:
                for offset, message in enumerate(out):
                    expected[arrival_id(message.message_id)] = start + offset
            now = time.perf_counter()
            for index in range(start, stop_at):
                sent_at[index] = now
            publisher.publish(out)
        _wait_for_room(arrivals, count, 0, window=0, deadline=deadline, failure=failure)
    finally:
        stop.set()
        thread.join(10)
    finished = max(arrivals.at) if count else started
    latencies = sorted((arrivals.at[i] - sent_at[i]) * 1000 for i in range(count))
    return PipeResult(messages=count, seconds=finished - started, latencies_ms=latencies)


def _batches(count: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, count, size):
        yield start, min(count, start + size)


def _wait_for_room(
    arrivals: _Arrivals,
    published: int,
    wanted: int,
    *,
    window: int,
    deadline: float,
    failure: list[BaseException],
) -> None:
    """Wait until ``published + wanted - arrived <= window`` (with ``window`` 0: until all arrived)."""
    with arrivals.cond:
        while published + wanted - arrivals.arrived > window:  # bounded by the deadline
            if failure:
                raise BenchError(f"the benchmark's consumer stopped: {failure[0]}") from failure[0]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BenchError(
                    f"{published - arrivals.arrived} of {published} messages had not arrived in time"
                )
            arrivals.cond.wait(min(_WAIT_S, remaining))
