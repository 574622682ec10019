"""The one place a transport is made: a factory from a service name and a role within that service.

Every composition root receives a :data:`TransportFactory` and calls it for each connection it needs, naming
the service it runs as (``hub``, ``adapter-jlis``, ..., see :mod:`hub.infra.service_names`) and what the
connection is for (``ingress``, ``link``, ...). :func:`pika_transports` is the production factory: each
service logs in as its own broker user (:func:`hub.infra.broker_credentials.broker_login`), which its
transport stamps as AMQP ``user_id``; tests pass an in-memory one. Whoever calls the factory closes what it
returns: a long-lived transport is handed to its :class:`~hub.infra.runner.ServiceGroup` (closed at
shutdown), a short-lived one is used through :func:`transient`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Final

from hub.bootstrap.common import body_limits
from hub.infra.broker_credentials import broker_login
from hub.infra.service_names import ServiceName
from hub.infra.transport_pika import PikaTransport
from hub.ports.transport import Transport
from hub.settings import Settings

__all__ = ["BROKER_USER_OF", "TransportFactory", "pika_transports", "transient"]

TransportFactory = Callable[[ServiceName, str], Transport]
"""Makes a new transport (its own connections) for ``(service, role)``; the caller closes it."""


BROKER_USER_OF: Final[Mapping[ServiceName, ServiceName]] = {"console": "operator"}
"""Services that log in as another service's broker user: the console replays dead letters as the operator."""


def pika_transports(settings: Settings) -> TransportFactory:
    """The production factory: a :class:`PikaTransport` per call, logged in as the service's broker user.

    The connection name (shown by the broker's management UI) is ``renkei-{service}-{role}-{pid}``.

    Raises:
        ConfigurationError: (when called) the service's broker password is missing or unusable.
    """
    limits = body_limits(settings)

    def make(service: ServiceName, role: str) -> Transport:
        login = broker_login(settings, BROKER_USER_OF.get(service, service))
        return PikaTransport(
            login.addresses,
            connection_name=f"renkei-{service}-{role}-{os.getpid()}",
            user=login.user,
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
