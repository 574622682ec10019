"""Rendering a page: the template, the signed-in user, the navigation their role allows, a CSRF token.

Pages are in the reader's language (:mod:`hub.console.i18n`): Japanese unless English was chosen.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from hub.console.auth import Principal
from hub.console.charts import line_chart
from hub.console.context import state_of
from hub.console.i18n import LANGUAGES, N_, current_language, gettext
from hub.console.labels import label, named
from hub.console.notices import shown
from hub.console.render import safe, short, when
from hub.console.roles import Permission, allowed

__all__ = ["NAV", "language_links", "number", "render"]

NAV: Final = (
    (N_("Flows"), "/flows", Permission.VIEW_FLOWS),
    (N_("Dead letters"), "/dead-letters", Permission.VIEW_DEAD_LETTERS),
    (N_("Approvals"), "/approvals", Permission.VIEW_APPROVALS),
    (N_("Trace"), "/trace", Permission.VIEW_TRACE),
    (N_("Audit"), "/audit", Permission.VIEW_AUDIT),
    (N_("Health"), "/health", Permission.VIEW_HEALTH),
)
_LANGUAGE_NAMES: Final = {"ja": "日本語", "en": "English"}
"""Each language by its own name: the switch reads the same in either language."""


def number(value: object) -> str:
    """A count with thousands separators (``12,345``); anything not a number as its text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}".rstrip("0").rstrip(".")


def language_links(request: Request) -> list[tuple[str, str, str, bool]]:
    """The language switch: ``(code, name, href, current)``; a page shown after a form goes to the start."""
    path, query = request.url.path, [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    if request.method != "GET" or not path.startswith("/") or path.startswith("//") or "\\" in path:
        path, query = "/", []  # after a form, or a path that would read as another site's address
    current = current_language()
    return [
        (code, _LANGUAGE_NAMES[code], f"{path}?{urlencode([*query, ('lang', code)])}", code == current)
        for code in LANGUAGES
    ]


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` for the request's principal (if any), never cached."""
    state = state_of(request)
    principal: Principal | None = getattr(request.state, "principal", None)
    csrf = ""
    nav: list[tuple[str, str]] = []
    if principal is not None:
        if principal.session is not None:
            csrf = state.sessions.csrf(principal.session)
        nav = [(gettext(text), href) for text, href, need in NAV if allowed(principal.user.role, need)]
    response = state.templates.TemplateResponse(
        request,
        template,
        {
            "user": None if principal is None else principal.user,
            "csrf": csrf,
            "nav": nav,
            "path": request.url.path,
            "lang": current_language(),
            "languages": language_links(request),
            "safe": safe,
            "short": short,
            "when": when,
            "label": label,
            "named": named,
            "num": number,
            "tr": shown,
            "line_chart": line_chart,
            **context,
        },
        status_code=status,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
