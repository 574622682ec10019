"""A worker's memory stays flat while 100 over-limit messages arrive, and none of them is parsed.

The hub runs on RabbitMQ with a body limit of 256 KiB; 100 bodies of 512 KiB (50 MiB) arrive in ten rounds of
ten while its consumers run. Each is cut as it arrives (its first 64 KiB kept), dead-lettered as ``too_large``
unread, and stored. The measurement is the Python heap (tracemalloc, every thread): its live size, sampled
after each round, stays where it was after the first while 45 MiB more arrive, and its peak stays a small
fraction of what arrived. Memory, not time, is asserted; the figures are printed for the record
(``pytest -s``).
"""

from __future__ import annotations

import gc
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass
from unittest import mock

import pytest

from contracts import registry
from contracts.registry import Decoded
from hub.core.runtime import worker as worker_module
from hub.demo.deployment import local_deployment
from hub.ports.dead_letters import DeadLetterStatus
from hub.settings import BodyLimitSettings, Settings

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e, pytest.mark.slow]

KIB = 1024
MIB = 1024 * KIB
LIMIT = 256 * KIB
BODY = 512 * KIB
ROUNDS, PER_ROUND = 10, 10


@dataclass(frozen=True)
class Measured:
    """What one run saw: bytes that arrived, the heap after each round, its peak, dead letters, decodes."""

    arrived: int
    start: int
    rounds: tuple[int, ...]
    peak: int
    stored: int
    decoded: int

    def line(self) -> str:
        after = ", ".join(f"{(r - self.start) / MIB:+.1f}" for r in self.rounds)
        return (
            f"{self.stored} dead letters, {self.arrived / MIB:.0f} MiB arrived; heap after each round of "
            f"{PER_ROUND} (MiB from the start): {after}; peak {(self.peak - self.start) / MIB:+.1f} MiB; "
            f"decoder calls {self.decoded}"
        )


PUBLISHER = """
import random, string, sys
import pika
from contracts.individual_number import check_digit
url, exchange, first, count, size = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
connection = pika.BlockingConnection(pika.URLParameters(url))
channel = connection.channel()
channel.confirm_delivery()
for i in range(first, first + count):
    rng = random.Random(i)
    base = "".join(rng.choice(string.digits) for _ in range(11))
    head = ('{"note": "' + base + str(check_digit(base)) + '", "pad": "').encode()
    props = pika.BasicProperties(delivery_mode=2, message_id=f"m-{i}", type="garbage")
    channel.basic_publish(exchange, "hub", (head + b"x" * size)[:size], props, mandatory=True)
connection.close()
"""
"""Publishes over-limit bodies (each with a number at its start) from a process of its own, so that the heap
measured is the hub's alone."""


def publish(url: str, exchange: str, first: int, count: int, size: int) -> None:
    args = [sys.executable, "-c", PUBLISHER, url, exchange, str(first), str(count), str(size)]
    subprocess.run(args, check=True, timeout=60)


def measure(settings: Settings, *, size: int = BODY, timeout_s: float = 90) -> Measured:
    """Send ROUNDS rounds of PER_ROUND over-limit bodies to the running hub; sample the heap after each."""
    hub = local_deployment(settings)
    hub.prepare()
    names = hub.names
    decoded: list[int] = []
    real_decode = registry.decode  # the worker's own, which the test wraps

    def counting(raw: bytes) -> Decoded:
        decoded.append(len(raw))
        return real_decode(raw)

    def stored() -> int:  # counted in the database: loading the rows would weigh on the heap measured
        with hub.uow_factory()() as uow:
            return uow.dead_letters.count(DeadLetterStatus.PENDING)

    services = hub.hub_services()
    tracemalloc.start()
    samples: list[int] = []
    try:
        with mock.patch.object(worker_module, "decode", counting):
            services.start()
            gc.collect()
            start = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            deadline = time.monotonic() + timeout_s
            for r in range(ROUNDS):  # bounded: ROUNDS rounds, each waiting until the deadline at most
                first = r * PER_ROUND
                publish(settings.amqp_url, names.ingress_exchange, first, PER_ROUND, size)
                while stored() < first + PER_ROUND and time.monotonic() < deadline:
                    time.sleep(0.1)
                gc.collect()  # the live heap: what is kept, not garbage waiting for the collector
                samples.append(tracemalloc.get_traced_memory()[0])
            peak = tracemalloc.get_traced_memory()[1]
            count = stored()
        assert not services.failures
    finally:
        tracemalloc.stop()
        services.shutdown()
        hub.close()
    return Measured(ROUNDS * PER_ROUND * size, start, tuple(samples), peak, count, len(decoded))


@pytest.mark.timeout(150)
def test_memory_stays_flat_while_100_over_limit_messages_arrive(e2e_settings):
    limits = BodyLimitSettings(default_bytes=LIMIT, per_type={}, kept_bytes=64 * KIB)
    measured = measure(e2e_settings.model_copy(update={"body_limit": limits}))
    print("\n" + measured.line())
    assert measured.stored == ROUNDS * PER_ROUND, "every over-limit message became a dead letter"
    assert measured.decoded == 0, "not one of them reached the decoder"
    first, last = measured.rounds[0], measured.rounds[-1]
    # Flat: 45 MiB more arrived between the first sample and the last; the heap did not follow.
    assert last - first < 2 * MIB, measured.line()
    assert measured.peak - measured.start < measured.arrived / 8, measured.line()
