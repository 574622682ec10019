"""Health: the database, the broker, the hub's consumers, each adapter and simulator, the samplers.

An adapter or simulator is *live* when its queue has a consumer (RabbitMQ drops the consumer of a process
that died or lost its connection). Every adapter is expected: one without a consumer fails. Simulators are
expected in development only (a missing one warns there); in production none is listed unless one runs,
which warns. So a complete production deployment says ``ok``.

``/healthz`` and ``/readyz`` (no sign-in, for container health checks) tell whether the console itself
runs and reaches its database: they say nothing about the rest of the deployment.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse

from contracts.errors import RenkeiError
from hub.console.auth import Principal, require
from hub.console.context import state_of
from hub.console.i18n import LazyText
from hub.console.labels import Label
from hub.console.pages import render
from hub.console.roles import Permission
from hub.console.schemas import API_ERRORS, HealthCheckOut, HealthOut
from hub.infra.broker.topology import ADAPTERS, COUNTERPARTS
from hub.infra.db.engine import DATABASE_FAILURES, ping
from hub.infra.db.migrate import current_revision, head_revision
from hub.infra.observability import metrics_history as history
from hub.settings import Environment

__all__ = ["api", "pages", "probes"]

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["health"], responses=API_ERRORS)


@dataclass(frozen=True, slots=True)
class _Check:
    """One check; its detail in English for the API, translated on the page (:class:`LazyText`)."""

    name: str
    kind: str
    status: str
    detail: str

    def out(self) -> HealthCheckOut:
        return HealthCheckOut(name=self.name, kind=self.kind, status=self.status, detail=str(self.detail))


def _database(request: Request) -> list[_Check]:
    engine = state_of(request).root.engine
    try:
        with engine.connect() as conn:
            ping(conn)
            last = history.last_sample_at(conn)
        current, head = current_revision(engine), head_revision()
    except (*DATABASE_FAILURES, RenkeiError) as exc:
        return [_Check("database", "database", "fail", type(exc).__name__)]
    checks = [
        _Check(
            "database",
            "database",
            "ok" if current == head else "warn",
            LazyText(
                "%(dialect)s, migration %(current)s (newest %(head)s)",
                dialect=engine.dialect.name,
                current=current,
                head=head,
            ),
        )
    ]
    stale = last is None or datetime.now(UTC) - last > timedelta(minutes=2)
    checks.append(
        _Check(
            "metrics sampler",
            "sampler",
            "warn" if stale else "ok",
            LazyText("no sample yet")
            if last is None
            else LazyText("last sample %(at)s", at=f"{last:%Y-%m-%d %H:%M:%SZ}"),
        )
    )
    return checks


def _queue(request: Request, name: str, kind: str, queue: str, expected: bool) -> _Check:
    transport = state_of(request).transport
    if transport is None:
        return _Check(name, kind, "warn", LazyText("no broker connection configured"))
    try:
        ready, consumers = transport.queue_depth(queue)
    except RenkeiError as exc:
        return _Check(
            name, kind, "fail", LazyText("%(queue)s: %(code)s", queue=queue, code=Label("error", exc.code))
        )
    live = consumers > 0
    status = "ok" if live else ("fail" if expected else "warn")
    counts = {"queue": queue, "consumers": consumers, "ready": ready}
    if live:
        return _Check(
            name, kind, status, LazyText("%(queue)s: %(consumers)s consumer(s), %(ready)s ready", **counts)
        )
    return _Check(
        name,
        kind,
        status,
        LazyText("%(queue)s: %(consumers)s consumer(s), %(ready)s ready — not running", **counts),
    )


def _simulators(request: Request) -> list[_Check]:
    """Simulators run only in demo and test set-ups.

    In development a missing one is worth a warning. In production none is expected: a missing one is not
    listed, and one that runs (synthetic data where real counterparts are) is a warning.
    """
    state = state_of(request)
    production = state.root.settings.environment is Environment.PRODUCTION
    checks = []
    for counterpart in COUNTERPARTS:
        queue = state.root.names.counterpart_queue(counterpart, "outbound")
        check = _queue(request, f"simulator {counterpart}", "simulator", queue, expected=False)
        if production:
            if check.status == "warn":
                continue  # not running, as it should be
            if check.status == "ok":
                check = replace(
                    check,
                    status="warn",
                    detail=LazyText("%(detail)s — a simulator runs in production", detail=check.detail),
                )
        checks.append(check)
    return checks


def _health(request: Request) -> tuple[str, list[_Check]]:
    state = state_of(request)
    names = state.root.names
    checks = _database(request)
    broker = _queue(request, "broker", "broker", names.ingress_queue, expected=False)
    if broker.status == "fail" or state.transport is None:
        checks.append(replace(broker, detail=LazyText("unreachable: %(detail)s", detail=broker.detail)))
    else:
        checks.append(_Check("broker", "broker", "ok", LazyText("answers")))
        checks.append(_queue(request, "hub worker", "hub", names.ingress_queue, expected=True))
        checks.append(_queue(request, "dead-letter consumer", "hub", names.dead_letter_queue, expected=True))
        for adapter in ADAPTERS:
            checks.append(
                _queue(request, f"adapter {adapter}", "adapter", names.adapter_queue(adapter), expected=True)
            )
        checks.extend(_simulators(request))
    worst = "fail" if any(c.status == "fail" for c in checks) else "ok"
    if worst == "ok" and any(c.status == "warn" for c in checks):
        worst = "warn"
    return worst, checks


@api.get("/health", response_model=HealthOut, summary="Liveness of the database, broker, adapters")
def health_api(
    request: Request, _: Annotated[Principal, Depends(require(Permission.VIEW_HEALTH))]
) -> HealthOut:
    """Every check, and the worst status among them."""
    status, checks = _health(request)
    return HealthOut(status=status, checks=[c.out() for c in checks])


@pages.get("/health", response_class=HTMLResponse)
def health_page(
    request: Request, _: Annotated[Principal, Depends(require(Permission.VIEW_HEALTH))]
) -> HTMLResponse:
    """The health page."""
    status, checks = _health(request)
    return render(
        request,
        "health.html",
        health=HealthOut(status=status, checks=[c.out() for c in checks]),
        checks=[(c.out(), c.detail) for c in checks],
    )


probes = APIRouter(include_in_schema=False)


@probes.get("/healthz")
def healthz() -> JSONResponse:
    """Liveness of the console process (no sign-in: for container health checks)."""
    return JSONResponse({"status": "ok", "role": "console"}, headers={"cache-control": "no-store"})


@probes.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """The console answers and reaches its database (no sign-in: names and statuses only)."""
    engine = state_of(request).root.engine
    try:
        with engine.connect() as conn:
            ping(conn)
    except (*DATABASE_FAILURES, RenkeiError) as exc:
        check = {"name": "database", "kind": "database", "status": "fail", "detail": type(exc).__name__}
        return JSONResponse({"status": "fail", "role": "console", "checks": [check]}, status_code=503)
    check = {
        "name": "database",
        "kind": "database",
        "status": "ok",
        "detail": f"{engine.dialect.name} answers",
    }
    return JSONResponse({"status": "ok", "role": "console", "checks": [check]})
