"""Fixtures for end-to-end runs on the real broker: a private exchange prefix and data directory per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

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


def make_e2e_settings(data_dir: Path) -> Settings:
    """Settings of one end-to-end run: its own data directory (SQLite, keys, files) and broker names.

    Every service logs in as the URL's user (shared identity): these tests are about the flows, and a set
    of broker users per test would cost two ``rabbitmqctl`` calls each. ``test_broker_identity`` runs the
    flows with per-service identity, its users created once for the module.
    """
    return Settings(
        amqp_url=amqp_url(),
        data_dir=data_dir,
        exchange_prefix=f"t{uuid.uuid4().hex[:8]}",
        log_json=True,
        batch_wait_ms=5,
        retry=RetrySettings(max_attempts=3, delays_ms=(200, 500, 1000), delivery_limit=5),
        broker=BrokerSettings(identity=BrokerIdentity.SHARED),
    )


def delete_e2e_topology(settings: Settings) -> None:
    """Remove the queues and exchanges of a run of :func:`make_e2e_settings`."""
    from hub.infra.broker.topology import renkei_topology

    prefix = settings.exchange_prefix
    topology = renkei_topology(prefix, settings.retry)
    delete_prefixed(
        settings.amqp_url, prefix, [q.name for q in topology.queues], [e.name for e in topology.exchanges]
    )


@pytest.fixture
def e2e_settings(tmp_path: Path) -> Iterator[Settings]:
    """Settings isolated per test (:func:`make_e2e_settings`); the test's broker names deleted after it."""
    settings = make_e2e_settings(tmp_path / "var")
    yield settings
    delete_e2e_topology(settings)
