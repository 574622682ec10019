#!/usr/bin/env python3
"""Container health check of a renkei process: its queues have a consumer on the broker.

Installed in the image as ``renkei-healthcheck``; its arguments mirror ``renkei run``:

    renkei-healthcheck hub
    renkei-healthcheck adapter jlis
    renkei-healthcheck simulator jlis

It reads the process's own settings (``RENKEI_AMQP_URL``, ``RENKEI_EXCHANGE_PREFIX``), looks each of the
process's queues up with a passive declaration (which needs no permission) and exits 0 when every one has
at least one consumer, 1 otherwise. A crashed consumer thread already ends ``renkei run`` (and Docker
restarts it); this check also catches a process that lost its broker and is still reconnecting. With
several replicas, another replica's consumer satisfies the check: it reports the service, not the copy.
"""

from __future__ import annotations

import sys

import pika
import pika.exceptions

from hub.infra.topology import COUNTERPARTS, Names
from hub.settings import Settings

TIMEOUT_S = 5


def queues(names: Names, argv: list[str]) -> list[str]:
    """The queues the process named by ``argv`` consumes."""
    match argv:
        case ["hub"]:
            return [names.ingress_queue]
        case ["adapter", name]:
            own = [names.adapter_queue(name)]
            return own + ([names.counterpart_queue(name, "inbound")] if name in COUNTERPARTS else [])
        case ["simulator", name]:
            return [names.counterpart_queue(name, "outbound")]
    raise SystemExit(f"usage: renkei-healthcheck hub | adapter NAME | simulator NAME (got {argv})")


def main(argv: list[str]) -> int:
    """Check the process's queues; print what is wrong; return the exit status."""
    settings = Settings()
    wanted = queues(Names(settings.exchange_prefix), argv)
    params = pika.URLParameters(settings.amqp_url)
    params.socket_timeout = params.blocked_connection_timeout = TIMEOUT_S
    params.stack_timeout, params.connection_attempts = TIMEOUT_S, 1
    params.client_properties = {"connection_name": f"renkei-healthcheck:{' '.join(argv)}"}
    try:
        connection = pika.BlockingConnection(params)
    except pika.exceptions.AMQPError as exc:
        print(f"unhealthy: no connection to the broker ({type(exc).__name__})")
        return 1
    try:
        channel = connection.channel()
        idle = []
        for queue in wanted:
            frame = channel.queue_declare(queue, passive=True)
            if not frame.method.consumer_count:
                idle.append(queue)
    except pika.exceptions.AMQPError as exc:
        print(f"unhealthy: {type(exc).__name__} while looking up {', '.join(wanted)}")
        return 1
    finally:
        if connection.is_open:
            connection.close()
    if idle:
        print(f"unhealthy: no consumer on {', '.join(idle)}")
        return 1
    print(f"healthy: {', '.join(wanted)} consumed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
