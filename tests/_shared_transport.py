"""One in-memory broker for every role of a test: each role's transport is a view that closes alone."""

from __future__ import annotations

from typing import Any

from hub.bootstrap.transports import TransportFactory
from hub.infra.memory.transport import InMemoryTransport
from hub.infra.service_names import ServiceName
from hub.ports.transport import Transport


class _View:
    """The shared broker as one connection: closing it leaves the broker (and other views) running."""

    def __init__(self, broker: InMemoryTransport, service: ServiceName, role: str) -> None:
        self._broker = broker
        self.service = service
        self.role = role
        self.closed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._broker, name)

    def close(self) -> None:
        self.closed = True


def shared(broker: InMemoryTransport, made: list[Any] | None = None) -> TransportFactory:
    """A factory handing out views of ``broker`` (the roles' builders close their transports).

    Every view made is appended to ``made`` when given (``service``, ``role`` and ``closed`` tell about it).
    """

    def make(service: ServiceName, role: str) -> Transport:
        view = _View(broker, service, role)
        if made is not None:
            made.append(view)
        return view

    return make
