"""Fixtures for end-to-end runs on the real broker: a private exchange prefix and data directory per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pika
import pytest

from hub.settings import BrokerIdentity, BrokerSettings, RetrySettings, Settings


def amqp_url() -> str:
    url = os.environ.get("RENKEI_TEST_AMQP_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("RENKEI_TEST_AMQP_URL is not set in CI: `make test` starts the broker and sets it")
        pytest.skip("no broker: set RENKEI_TEST_AMQP_URL (make test does)")
    return url


def delete_prefixed(url: str, prefix: str, queues: list[str], exchanges: list[str]) -> None:
    """Remove a test's queues and exchanges."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        for queue in queues:
            if queue.startswith(prefix + "."):
                channel.queue_delete(queue)
        for exchange in exchanges:
            if exchange.startswith(prefix + "."):
                channel.exchange_delete(exchange)
    finally:
        connection.close()


@pytest.fixture
def e2e_settings(tmp_path) -> Iterator[Settings]:
    """Settings isolated per test: own data directory (SQLite, keys, files) and own broker names.

    Every service logs in as the URL's user (shared identity): these tests are about the flows, and a set
    of broker users per test would cost two ``rabbitmqctl`` calls each. ``test_broker_identity`` runs the
    flows with per-service identity, its users created once for the module.
    """
    url = amqp_url()
    prefix = f"t{uuid.uuid4().hex[:8]}"
    settings = Settings(
        amqp_url=url,
        data_dir=tmp_path / "var",
        exchange_prefix=prefix,
        log_json=True,
        batch_wait_ms=5,
        retry=RetrySettings(max_attempts=3, delays_ms=(200, 500, 1000), delivery_limit=5),
        broker=BrokerSettings(identity=BrokerIdentity.SHARED),
    )
    yield settings
    from hub.infra.broker.topology import renkei_topology

    topology = renkei_topology(prefix, settings.retry)
    delete_prefixed(url, prefix, [q.name for q in topology.queues], [e.name for e in topology.exchanges])
