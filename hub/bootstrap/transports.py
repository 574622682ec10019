"""The one place a transport is made: a factory from a service name and a role within that service.

Every composition root receives a :data:`TransportFactory` and calls it for each connection it needs, naming
the service it runs as (``hub``, ``adapter-jlis``, ..., see :mod:`hub.infra.service_names`) and what the
connection is for (``ingress``, ``link``, ...). :func:`pika_transports` is the production factory; tests
pass an in-memory one. Whoever calls the factory closes what it returns: a long-lived transport is handed to
its :class:`~hub.infra.runner.ServiceGroup` (closed at shutdown), a short-lived one is used through
:func:`transient`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from hub.bootstrap.common import body_limits
from hub.infra.service_names import ServiceName
from hub.infra.transport_pika import PikaTransport
from hub.ports.transport import Transport
from hub.settings import Settings

__all__ = ["TransportFactory", "pika_transports", "transient"]

TransportFactory = Callable[[ServiceName, str], Transport]
"""Makes a new transport (its own connections) for ``(service, role)``; the caller closes it."""


def pika_transports(settings: Settings) -> TransportFactory:
    """The production factory: a :class:`PikaTransport` on the settings' broker per call.

    The connection name (shown by the broker's management UI) is ``renkei-{service}-{role}-{pid}``.
    """
    limits = body_limits(settings)

    def make(service: ServiceName, role: str) -> Transport:
        return PikaTransport(
            settings.amqp_addresses,
            connection_name=f"renkei-{service}-{role}-{os.getpid()}",
            body_limits=limits,
        )

    return make


@contextmanager
def transient(transports: TransportFactory, service: ServiceName, role: str) -> Iterator[Transport]:
    """A transport for one piece of work, closed when the work is done (even when it fails)."""
    transport = transports(service, role)
    try:
        yield transport
    finally:
        transport.close()
