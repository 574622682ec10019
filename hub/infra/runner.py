"""Runs services as threads: consumers on the transport and periodic tasks, stopped together.

A :class:`ServiceGroup` also knows how its threads are doing, for the process's own health endpoints
(:mod:`hub.infra.observability.health_server`): each consumer reports whether the broker has confirmed it,
each periodic task when it last succeeded, and extra checks (the database) can be added. Consumers and tasks
are counted in :mod:`hub.infra.observability.process_metrics`. A group also owns what its services use
(transports):
:meth:`ServiceGroup.own` hands a resource to the group, and :meth:`ServiceGroup.shutdown` closes it once every
thread has stopped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from prometheus_client.registry import Collector

from hub.infra.observability.process_metrics import CONSUMER_UP, TaskTimer, instrument
from hub.ports.transport import BatchHandler, Transport

__all__ = ["Check", "Closeable", "Readiness", "ServiceGroup"]

log = logging.getLogger(__name__)


class Closeable(Protocol):
    """Anything a group closes when it shuts down (a transport)."""

    def close(self) -> None:
        """Release it."""
        ...


C = TypeVar("C", bound=Closeable)

MIN_STALE_S = 30.0
"""A periodic task that has not succeeded for this long (or ten intervals, if longer) makes it unready."""


@dataclass(frozen=True, slots=True)
class Check:
    """One line of a readiness report."""

    name: str
    kind: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class Readiness:
    """Whether the group does its work: every check ok."""

    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        """True when every check is ok (and there is at least one)."""
        return bool(self.checks) and all(c.ok for c in self.checks)


@dataclass
class _Task:
    timer: TaskTimer
    stale_after_s: float


@dataclass
class ServiceGroup:
    """A set of named threads sharing one stop event.

    A thread that dies records its exception in :attr:`failures`, which health checks and the demo read.
    :attr:`consumed` lists ``(service name, queue)`` of every consumer added (what the broker user of the
    process must be allowed to read).
    """

    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    failures: dict[str, BaseException] = field(default_factory=dict)
    collectors: list[Collector] = field(default_factory=list)
    """Extra Prometheus collectors of this group (stored-state gauges), exported beside the process's."""
    clock: Callable[[], float] = time.monotonic
    _consumers: dict[str, bool] = field(default_factory=dict)
    _tasks: dict[str, _Task] = field(default_factory=dict)
    _checks: dict[str, tuple[str, Callable[[], str]]] = field(default_factory=dict)
    _started_at: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    consumed: list[tuple[str, str]] = field(default_factory=list)
    """``(service name, queue)`` of every consumer added: what the process's broker user must read."""
    owned: list[Closeable] = field(default_factory=list)

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
        """Add a consumer of ``queue``, counted under ``name`` (``renkei_messages_handled_total``)."""
        self.consumed.append((name, queue))
        with self._lock:
            self._consumers[name] = False
        CONSUMER_UP.labels(name).set(0)

        def on_ready(up: bool) -> None:
            with self._lock:
                self._consumers[name] = up
            CONSUMER_UP.labels(name).set(1 if up else 0)

        measured = instrument(name, handler)
        self._spawn(
            name,
            lambda: transport.consume(
                queue,
                measured,
                stop=self.stop,
                prefetch=prefetch,
                batch_size=batch_size,
                batch_wait_s=batch_wait_s,
                on_ready=on_ready,
            ),
        )

    def every(
        self, name: str, interval_s: float, task: Callable[[], object], *, stale_after_s: float | None = None
    ) -> None:
        """Add a periodic task; an error in one run is logged and the next run goes on.

        The group is unready once the task has not succeeded for ``stale_after_s`` (default: ten intervals,
        at least :data:`MIN_STALE_S`).
        """
        timer = TaskTimer(name, clock=self.clock)
        with self._lock:
            self._tasks[name] = _Task(timer, stale_after_s or max(MIN_STALE_S, 10 * interval_s))

        def loop() -> None:
            while not self.stop.wait(interval_s):
                try:
                    result = task()
                except Exception:
                    timer.failed()
                    log.exception("periodic task failed", extra={"service": name})
                else:
                    timer.succeeded(result)

        self._spawn(name, loop)

    def check(self, name: str, kind: str, probe: Callable[[], str]) -> None:
        """Add a readiness check: ``probe`` returns a detail when all is well and raises when not."""
        with self._lock:
            self._checks[name] = (kind, probe)

    def readiness(self) -> Readiness:
        """Every consumer confirmed, every periodic task recent, every added check passing, no thread dead."""
        now = self.clock()
        with self._lock:
            consumers = dict(self._consumers)
            tasks = dict(self._tasks)
            checks = dict(self._checks)
            started = self._started_at
        found: list[Check] = []
        if started is None:
            found.append(Check("services", "group", False, "not started"))
        for name, exc in list(self.failures.items()):
            found.append(Check(name, "thread", False, f"stopped: {type(exc).__name__}"))
        for name, up in sorted(consumers.items()):
            detail = "consuming" if up else "not consuming (no broker connection or no consumer yet)"
            found.append(Check(name, "consumer", up, detail))
        for name, entry in sorted(tasks.items()):
            found.append(_task_check(name, entry, now, started))
        for name, (kind, probe) in sorted(checks.items()):
            try:
                detail = probe()
            except Exception as exc:  # noqa: BLE001 - any failure of a probe is a failed check
                found.append(Check(name, kind, False, f"failed: {type(exc).__name__}"))
            else:
                found.append(Check(name, kind, True, detail))
        return Readiness(tuple(found))

    @property
    def alive(self) -> bool:
        """Liveness: started, not stopping, and no thread died."""
        return self._started_at is not None and not self.stop.is_set() and not self.failures

    def own(self, resource: C) -> C:
        """Close ``resource`` when the group shuts down (after its threads); returns it."""
        self.owned.append(resource)
        return resource

    def start(self) -> None:
        """Start every thread."""
        with self._lock:
            self._started_at = self.clock()
        for thread in self.threads:
            thread.start()

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """Ask every thread to stop, wait for them, then close what the group owns (newest first)."""
        self.stop.set()
        for thread in self.threads:
            if thread.ident is not None:  # a group built but never started still closes what it owns
                thread.join(timeout_s)
        owned, self.owned = self.owned, []
        for resource in reversed(owned):
            try:
                resource.close()
            except Exception:
                log.exception("closing a service's resource failed")


def _task_check(name: str, entry: _Task, now: float, started: float | None) -> Check:
    last = entry.timer.last_success
    since = last if last is not None else started
    if since is None:
        return Check(name, "task", False, "not started")
    age = now - since
    ok = age <= entry.stale_after_s
    detail = f"no run yet ({age:.0f} s since start)" if last is None else f"last success {age:.1f} s ago"
    if entry.timer.last_run_failed:
        detail += "; the last run failed"
    if not ok:
        detail += f" (more than {entry.stale_after_s:.0f} s)"
    return Check(name, "task", ok, detail)
