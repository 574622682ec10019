"""What every console request works with: the console's root, users, sessions, the console's own audit chain.

The console is one more writer of the access record, with its own hash chain (like every hub worker):
refusals and reveals are appended there, each in its own durably committed transaction
(:func:`hub.infra.audit.sql.append_durably`), *before* the response goes out.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import Request
from fastapi.templating import Jinja2Templates

from contracts.errors import AuditWriteFailed
from hub.console.sessions import SessionCodec
from hub.console.throttle import SignInThrottle
from hub.console.users import ConsoleUser, UserDirectory
from hub.infra.audit.sql import ChainWriter, append_durably
from hub.infra.observability.metrics_sampler import MetricsSampler
from hub.ports.audit import AccessRecord, AuditAction, Outcome
from hub.ports.transport import OutgoingMessage, Topology, Transport

if TYPE_CHECKING:
    from hub.bootstrap.console import ConsoleRoot

__all__ = ["ConsoleState", "SerialTransport", "state_of"]

log = logging.getLogger(__name__)


class SerialTransport:
    """A transport used by many request threads, one call at a time (a pika connection is not thread-safe)."""

    def __init__(self, inner: Transport) -> None:
        self._inner = inner
        self._lock = threading.Lock()

    @property
    def user(self) -> str:
        """The broker user of the inner transport."""
        return self._inner.user

    def declare(self, topology: Topology) -> None:
        """Declare ``topology``."""
        with self._lock:
            self._inner.declare(topology)

    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        """Publish with confirms."""
        with self._lock:
            self._inner.publish(messages)

    def consume(self, *args: object, **kwargs: object) -> None:
        """The console never consumes."""
        raise NotImplementedError("the console does not consume")

    def queue_depth(self, queue: str) -> tuple[int, int]:
        """``(ready, consumers)`` of ``queue``."""
        with self._lock:
            return self._inner.queue_depth(queue)

    def close(self) -> None:
        """Close the inner transport."""
        with self._lock:
            self._inner.close()


@dataclass
class ConsoleState:
    """Everything the console's routes need, built once by :func:`hub.console.app.create_app`."""

    root: ConsoleRoot
    users: UserDirectory
    sessions: SessionCodec
    templates: Jinja2Templates
    sampler: MetricsSampler
    transport: SerialTransport | None
    chain: ChainWriter = field(
        default_factory=lambda: ChainWriter(f"renkei console pid {os.getpid()} on {socket.gethostname()}")
    )
    throttle: SignInThrottle = field(default_factory=SignInThrottle)
    guard_hits: int = 0

    def record(self, records: Sequence[AccessRecord]) -> None:
        """Append ``records`` to the console's chain, durably; raises :class:`AuditWriteFailed`."""
        append_durably(self.root.engine, self.chain, records)

    def refuse(
        self,
        user: ConsoleUser | None,
        request: Request,
        reason: str,
        *,
        message_id: str | None = None,
        correlation_id: str | None = None,
        needs: str = "",
    ) -> None:
        """Write a REFUSED record for a request the console turned down (a failed write is logged)."""
        details = {"method": request.method, "path": request.url.path[:200]}
        if user is not None:
            details.update(role=user.role.value, org=user.org)
        if needs:
            details["needs"] = needs
        record = AccessRecord(
            actor=user.actor if user is not None else "console:anonymous",
            action=AuditAction.REFUSED,
            message_id=message_id,
            correlation_id=correlation_id,
            source="console",
            outcome=Outcome.REFUSED,
            reason=reason,
            details=details,
        )
        try:
            self.record([record])
        except AuditWriteFailed:
            log.exception("a console refusal could not be recorded", extra={"path": details["path"]})


def state_of(request: Request) -> ConsoleState:
    """The console's state from a request."""
    state: ConsoleState = request.app.state.console
    return state
