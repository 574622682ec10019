"""Rendering a page: the template, the signed-in user, the navigation their role allows, a CSRF token."""

from __future__ import annotations

from typing import Any, Final

from fastapi import Request
from fastapi.responses import HTMLResponse

from hub.console.auth import Principal
from hub.console.charts import line_chart
from hub.console.context import state_of
from hub.console.render import safe, short, when
from hub.console.roles import Permission, allowed

__all__ = ["NAV", "render"]

NAV: Final = (
    ("Flows", "/flows", Permission.VIEW_FLOWS),
    ("Dead letters", "/dead-letters", Permission.VIEW_DEAD_LETTERS),
    ("承認 (Approvals)", "/approvals", Permission.VIEW_APPROVALS),
    ("Trace", "/trace", Permission.VIEW_TRACE),
    ("Audit", "/audit", Permission.VIEW_AUDIT),
    ("Health", "/health", Permission.VIEW_HEALTH),
)


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` for the request's principal (if any), never cached."""
    state = state_of(request)
    principal: Principal | None = getattr(request.state, "principal", None)
    csrf = ""
    nav: list[tuple[str, str]] = []
    if principal is not None:
        if principal.session is not None:
            csrf = state.sessions.csrf(principal.session)
        nav = [(label, href) for label, href, need in NAV if allowed(principal.user.role, need)]
    response = state.templates.TemplateResponse(
        request,
        template,
        {
            "user": None if principal is None else principal.user,
            "csrf": csrf,
            "nav": nav,
            "path": request.url.path,
            "safe": safe,
            "short": short,
            "when": when,
            "line_chart": line_chart,
            **context,
        },
        status_code=status,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
