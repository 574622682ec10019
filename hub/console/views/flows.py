"""Flows: per flow and adapter, messages per second, in flight, completed, failed; queues; as charts.

Counts come from the per-minute samples in the database (:mod:`hub.infra.observability.metrics_history`),
which the samplers derive from the access record; nothing is kept only in memory.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from hub.console.auth import Principal, require
from hub.console.context import state_of
from hub.console.pages import render
from hub.console.roles import Permission
from hub.console.schemas import API_ERRORS, AdapterGaugeOut, FlowRowOut, FlowsOut
from hub.infra.observability import metrics_history as history

__all__ = ["api", "pages"]

WINDOWS: Final = (15, 60, 360, 1440)
pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["flows"], responses=API_ERRORS)

Window = Annotated[int, Query(ge=1, le=43_200, description="minutes to look back")]


def _flows(request: Request, window: int) -> FlowsOut:
    state = state_of(request)
    now = datetime.now(UTC)
    since = now - timedelta(minutes=window)
    with state.root.engine.connect() as conn:
        rows = history.flow_rows(conn, since, now)
        gauges = history.adapter_gauges(conn)
        last = history.last_sample_at(conn)
    return FlowsOut(
        window_minutes=window,
        flows=[
            FlowRowOut(
                flow=r.flow,
                adapter=r.adapter,
                received=r.received,
                routed=r.routed,
                completed=r.completed,
                failed=r.failed,
                per_second=r.per_second,
                in_flight=r.in_flight,
                total_completed=r.total_completed,
                total_failed=r.total_failed,
                last_seen=r.last_seen,
            )
            for r in rows
        ],
        adapters=[
            AdapterGaugeOut(
                adapter=g.adapter,
                observed_at=g.minute,
                queue_depth=g.queue_depth,
                consumers=g.consumers,
                in_flight=g.in_flight,
            )
            for g in gauges
        ],
        last_sample_at=last,
    )


@api.get("/flows", response_model=FlowsOut, summary="Flows and adapters: counts, rates, queues")
def flows_api(
    request: Request,
    _: Annotated[Principal, Depends(require(Permission.VIEW_FLOWS))],
    window_minutes: Window = 60,
) -> FlowsOut:
    """Per flow and adapter over the window, with totals over every sample kept."""
    return _flows(request, window_minutes)


@pages.get("/flows", response_class=HTMLResponse)
def flows_page(
    request: Request,
    _: Annotated[Principal, Depends(require(Permission.VIEW_FLOWS))],
    window: Annotated[int, Query(ge=1, le=43_200)] = 60,
) -> HTMLResponse:
    """The flows page with its charts."""
    data = _flows(request, window)
    now = datetime.now(UTC)
    since = now - timedelta(minutes=window)
    with state_of(request).root.engine.connect() as conn:
        series = history.flow_series(conn, since)
        queues = history.queue_series(conn, since)
    completed = {f: [(p.minute, float(p.completed)) for p in points] for f, points in series.items()}
    failed = {f: [(p.minute, float(p.failed)) for p in points] for f, points in series.items()}
    depth = {a: [(t, float(d)) for t, d in points] for a, points in queues.items()}
    flows = sorted({r.flow for r in data.flows})
    return render(
        request,
        "flows.html",
        data=data,
        flows=flows,
        windows=WINDOWS,
        window=window,
        since=since,
        now=now,
        completed=completed,
        failed=failed,
        depth=depth,
    )
