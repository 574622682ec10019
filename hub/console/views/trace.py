"""Flow trace: every step of one correlation id across adapters, from the access record, oldest first."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse

from hub.console.auth import Principal, check_scope, require
from hub.console.context import state_of
from hub.console.i18n import LazyText
from hub.console.pages import render
from hub.console.roles import Permission
from hub.console.schemas import API_ERRORS, ErrorOut, TraceOut
from hub.console.views.records import record_out
from hub.infra.audit.browse import newest_first
from hub.infra.audit.query import RecordFilter, search
from hub.infra.stores.associations import AssociationScope

__all__ = ["api", "pages"]

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["trace"], responses={**API_ERRORS, 404: {"model": ErrorOut}})

Tracer = Annotated[Principal, Depends(require(Permission.VIEW_TRACE))]
_STEPS: Final = 2_000
_ID = r"^[A-Za-z0-9._:-]{1,200}$"


def _trace(request: Request, principal: Principal, correlation_id: str) -> TraceOut:
    with state_of(request).root.engine.connect() as conn:
        steps = search(conn, correlation_id=correlation_id, limit=_STEPS)
        owner = (
            AssociationScope(conn).owner(correlation_id=correlation_id, message_id=None) if steps else None
        )
    if not steps:
        raise HTTPException(404, LazyText("no access record has this correlation id"))
    check_scope(request, principal, owner, correlation_id=correlation_id)
    return TraceOut(correlation_id=correlation_id, steps=[record_out(r) for r in steps])


@api.get("/trace/{correlation_id}", response_model=TraceOut, summary="Every step of one correlation")
def trace_api(
    request: Request, principal: Tracer, correlation_id: Annotated[str, Path(pattern=_ID)]
) -> TraceOut:
    """The correlation's access records, oldest first (at most 2,000)."""
    return _trace(request, principal, correlation_id)


@pages.get("/trace", response_class=HTMLResponse)
def trace_page(
    request: Request,
    principal: Tracer,
    correlation_id: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    """A correlation id form, and the trace when one is given."""
    trace = _trace(request, principal, correlation_id.strip()) if correlation_id else None
    return render(
        request,
        "trace.html",
        trace=trace,
        correlation_id=correlation_id or "",
        recent=[] if trace else _recent(request, principal),
    )


def _recent(request: Request, principal: Principal, count: int = 15) -> list[tuple[str, str, str]]:
    """The newest correlations the principal may trace: ``(correlation id, message type, time)``."""
    seen: dict[str, tuple[str, str]] = {}
    with state_of(request).root.engine.connect() as conn:
        for record in newest_first(conn, RecordFilter(), max_pages=5):
            if record.correlation_id and record.correlation_id not in seen:
                seen[record.correlation_id] = (
                    record.message_type or "",
                    record.at.strftime("%Y-%m-%d %H:%M"),
                )
                if len(seen) >= count * 3:
                    break
        if not principal.user.federation:
            owners = AssociationScope(conn).owners_of_correlations(list(seen))
            seen = {c: v for c, v in seen.items() if owners.get(c) == principal.user.org}
    return [(c, t, at) for c, (t, at) in list(seen.items())[:count]]
