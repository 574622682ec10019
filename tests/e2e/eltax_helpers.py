"""Helpers of the eLTAX end-to-end tests: the pension system's files, a spy queue, bounded waits."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pika
from pika.spec import BasicProperties

from adapters.pension.messages import read_hub_messages
from contracts.envelope import Envelope
from hub.settings import Settings
from tests._amqp import get


def pension_messages(settings: Settings, message_type: str) -> list[Envelope]:
    """Every message of ``message_type`` the pension adapter wrote for the pension system."""
    return list(read_hub_messages(Path(settings.data_dir) / "wire" / "pension" / "outbound", message_type))


def bind_spy(settings: Settings, bindings: dict[str, list[str]]) -> str:
    """A queue receiving a copy of what the named exchanges (suffixes of the prefix) route by these keys.

    The topology must be declared first (``hub.prepare_broker()``).
    """
    spy = f"{settings.exchange_prefix}.spy"
    connection = pika.BlockingConnection(pika.URLParameters(settings.amqp_url))
    try:
        channel = connection.channel()
        channel.queue_declare(spy, durable=True)
        for suffix, keys in bindings.items():
            for key in keys:
                channel.queue_bind(spy, f"{settings.exchange_prefix}.{suffix}", routing_key=key)
    finally:
        connection.close()
    return spy


def drain(settings: Settings, queue: str, limit: int = 100_000) -> list[tuple[BasicProperties, bytes]]:
    """Take every message of ``queue``: ``(properties, body)``; bounded."""
    taken: list[tuple[BasicProperties, bytes]] = []
    connection = pika.BlockingConnection(pika.URLParameters(settings.amqp_url))
    try:
        channel = connection.channel()
        for _ in range(limit):
            got = get(channel, queue)
            if got is None:
                break
            taken.append((got.properties, got.body))
        channel.queue_delete(queue)
    finally:
        connection.close()
    return taken


def wait_for(condition: Callable[[], Any], *, seconds: float, every: float = 0.2) -> Any:
    """Poll ``condition`` until it returns something truthy, for at most ``seconds``; returns it."""
    deadline = time.monotonic() + seconds
    while True:
        result = condition()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(every)
