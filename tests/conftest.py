"""Fixtures shared by every test tier: the local broker, isolated by unique names and cleaned up.

The broker URL comes from ``RENKEI_TEST_AMQP_URL`` (``make pytest`` sets it from ``var/services``). When it
is unset or nobody answers, broker tests are skipped on a developer machine and fail under ``CI``.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlparse

import pytest

from hub.ports.transport import Topology
from tests._availability import unavailable

logging.getLogger("pika").setLevel(logging.WARNING)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files with a ``slow`` test run first, every other file after them, each in the order collected.

    ``make test`` hands whole files to its workers (``--dist loadfile --no-loadscope-reorder``) in this
    order: the minutes-long flows start while the other worker still has plenty of short files to take, and
    the run ends on short tests instead of one worker finishing a long flow while the other waits.
    """
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)  # stable: within each group, collection order


@pytest.fixture(scope="session")
def amqp_url() -> str:
    """The test broker's URL; skips (or fails under CI) when there is none."""
    url = os.environ.get("RENKEI_TEST_AMQP_URL", "")
    if not url:
        unavailable("RENKEI_TEST_AMQP_URL is not set", tests="broker tests")
    parts = urlparse(url.replace("amqp", "http", 1))
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5672), timeout=2):
            pass
    except OSError:
        unavailable(f"no broker answers at {parts.hostname}:{parts.port}", tests="broker tests")
    return url


@dataclass
class BrokerSandbox:
    """A unique name prefix for one test, and the topologies to delete after it."""

    url: str
    prefix: str
    connection_name: str
    _topologies: list[Topology] = field(default_factory=list)

    def track(self, topology: Topology) -> Topology:
        """Delete every queue and exchange of ``topology`` when the test ends; returns it."""
        self._topologies.append(topology)
        return topology

    def cleanup(self) -> None:
        """Delete what was tracked (deleting a missing queue or exchange is fine)."""
        if not self._topologies:
            return
        import pika

        conn = pika.BlockingConnection(pika.URLParameters(self.url))
        try:
            channel = conn.channel()
            for topology in self._topologies:
                for queue in topology.queues:
                    channel.queue_delete(queue.name)
                for exchange in topology.exchanges:
                    channel.exchange_delete(exchange.name)
        finally:
            conn.close()


@pytest.fixture
def broker_sandbox(amqp_url: str, request: pytest.FixtureRequest) -> Iterator[BrokerSandbox]:
    """A per-test prefix ``t<8 hex>`` on the shared broker, cleaned up afterwards."""
    sandbox = BrokerSandbox(
        url=amqp_url,
        prefix=f"t{uuid.uuid4().hex[:8]}",
        connection_name=f"renkei-test:{request.node.nodeid}"[:200],
    )
    yield sandbox
    sandbox.cleanup()
