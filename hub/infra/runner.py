"""Runs services as threads: consumers on the transport and periodic tasks, stopped together."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from hub.ports.transport import BatchHandler, Transport

__all__ = ["ServiceGroup"]

log = logging.getLogger(__name__)


@dataclass
class ServiceGroup:
    """A set of named threads sharing one stop event.

    A thread that dies records its exception in :attr:`failures`, which health checks and the demo read.
    """

    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    failures: dict[str, BaseException] = field(default_factory=dict)

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        def run() -> None:
            try:
                target()
            except BaseException as exc:  # recorded for health; the group keeps running
                self.failures[name] = exc
                log.exception("service stopped with an error", extra={"service": name})

        thread = threading.Thread(target=run, name=name, daemon=True)
        self.threads.append(thread)

    def consume(
        self,
        name: str,
        transport: Transport,
        queue: str,
        handler: BatchHandler,
        *,
        prefetch: int,
        batch_size: int,
        batch_wait_s: float,
    ) -> None:
        """Add a consumer of ``queue``."""
        self._spawn(
            name,
            lambda: transport.consume(
                queue,
                handler,
                stop=self.stop,
                prefetch=prefetch,
                batch_size=batch_size,
                batch_wait_s=batch_wait_s,
            ),
        )

    def every(self, name: str, interval_s: float, task: Callable[[], object]) -> None:
        """Add a periodic task; an error in one run is logged and the next run goes on."""

        def loop() -> None:
            while not self.stop.wait(interval_s):
                try:
                    task()
                except Exception:
                    log.exception("periodic task failed", extra={"service": name})

        self._spawn(name, loop)

    def start(self) -> None:
        """Start every thread."""
        for thread in self.threads:
            thread.start()

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """Ask every thread to stop and wait for them."""
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout_s)
