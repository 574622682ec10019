"""Taking messages off a queue with pika in tests, typed: one place that knows what ``basic_get`` gives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import BasicProperties

__all__ = ["Got", "get"]


@dataclass(frozen=True, slots=True)
class Got:
    """One message taken from a queue: where it was published to, its body and its properties."""

    exchange: str
    routing_key: str
    body: bytes
    properties: BasicProperties


def get(channel: BlockingChannel, queue: str) -> Got | None:
    """Take one message from ``queue`` (acknowledged at once), or ``None`` when the queue is empty."""
    method, properties, body = channel.basic_get(queue, auto_ack=True)
    if method is None or properties is None or body is None:
        return None
    # types-pika types the body as str; pika delivers the body's bytes unchanged.
    return Got(method.exchange or "", method.routing_key or "", cast(bytes, body), properties)
