"""The one place a transport is made: a factory from a service name and a role within that service.

Every composition root receives a :data:`TransportFactory` and calls it for each connection it needs, naming
the service it runs as (``hub``, ``adapter-jlis``, ..., ``console``, see :mod:`hub.infra.service_names`) and
what the connection is for (``ingress``, ``link``, ...). :func:`pika_transports` is the production factory:
each service logs in as its own broker user (:func:`hub.infra.broker.credentials.broker_login`), which its
transport stamps as AMQP ``user_id``, and the factory remembers who logged in as whom (:attr:`PikaTransports
.logins`, reported by ``renkei demo``); tests pass an in-memory one. Whoever calls the factory closes what it
returns: a long-lived transport is handed to its :class:`~hub.infra.runner.ServiceGroup` (closed at
shutdown), a short-lived one is used through :func:`transient`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from hub.bootstrap.common import body_limits
from hub.infra.broker.credentials import broker_login
from hub.infra.broker.transport import PikaTransport
from hub.infra.service_names import ServiceName
from hub.ports.transport import Transport
from hub.settings import Settings

__all__ = ["PikaTransports", "TransportFactory", "pika_transports", "transient"]

TransportFactory = Callable[[ServiceName, str], Transport]
"""Makes a new transport (its own connections) for ``(service, role)``; the caller closes it."""


class PikaTransports:
    """The production factory: a :class:`PikaTransport` per call, logged in as the service's own broker user.

    Every service, the console included, logs in as itself: no service borrows another's user. The
    connection name (shown by the broker's connection list) is ``renkei-{service}-{role}-{pid}``.

    Args:
        settings: the settings in force (addresses, identity mode, where passwords come from).
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._limits = body_limits(settings)
        self._lock = threading.Lock()
        self._logins: dict[str, str] = {}

    def __call__(self, service: ServiceName, role: str) -> Transport:
        """A new transport of ``service`` for ``role``; the caller closes it.

        Raises:
            ConfigurationError: the service's broker password is missing or unusable.
        """
        login = broker_login(self._settings, service)
        transport = PikaTransport(
            login.addresses,
            connection_name=f"renkei-{service}-{role}-{os.getpid()}",
            user=login.user,
            body_limits=self._limits,
        )
        with self._lock:
            self._logins[service] = login.user
        return transport

    @property
    def logins(self) -> dict[str, str]:
        """The broker user of every service this factory has made a transport for, by service."""
        with self._lock:
            return dict(sorted(self._logins.items()))


def pika_transports(settings: Settings) -> PikaTransports:
    """The production factory (see :class:`PikaTransports`)."""
    return PikaTransports(settings)


@contextmanager
def transient(transports: TransportFactory, service: ServiceName, role: str) -> Iterator[Transport]:
    """A transport for one piece of work, closed when the work is done (even when it fails)."""
    transport = transports(service, role)
    try:
        yield transport
    finally:
        transport.close()
