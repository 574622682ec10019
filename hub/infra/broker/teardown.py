"""Deleting a topology from the broker: what a benchmark or a scratch run declared, removed afterwards.

Declaring is idempotent and lives in :mod:`hub.infra.broker.topology`; deleting is rare and destructive, so it
is kept apart and used only for names the caller made for itself (a benchmark phase's own prefix).
"""

from __future__ import annotations

import pika
import pika.exceptions

from contracts.errors import BrokerUnavailable
from hub.infra.broker._io import connection_parameters
from hub.ports.transport import Topology

__all__ = ["delete_topology"]


def delete_topology(amqp_url: str, topology: Topology, *, connection_name: str) -> None:
    """Delete every queue and exchange of ``topology`` (their messages with them); missing ones are fine.

    Raises:
        BrokerUnavailable: the broker could not be reached or refused a deletion.
        ConfigurationError: the URL cannot be parsed.
    """
    params = connection_parameters(amqp_url, connection_name)
    try:
        connection = pika.BlockingConnection(params)
        try:
            channel = connection.channel()
            for queue in topology.queues:
                channel.queue_delete(queue.name)
            for exchange in topology.exchanges:
                channel.exchange_delete(exchange.name)
        finally:
            connection.close()
    except pika.exceptions.AMQPError as exc:
        raise BrokerUnavailable(f"deleting a topology: {type(exc).__name__}") from exc
