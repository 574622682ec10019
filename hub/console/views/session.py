"""Sign-in and sign-out with a password; the start page.

A failed sign-in is recorded (REFUSED, actor ``console:<name>`` for a known name, ``console:anonymous``
otherwise, so a password typed into the name field is never written down). After five failures for one
name within fifteen minutes, that name is locked for fifteen minutes (in this process).
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.console.auth import authenticate
from hub.console.context import state_of
from hub.console.i18n import LazyText
from hub.console.pages import render
from hub.console.sessions import COOKIE

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only a path on this site: never an absolute URL (open redirect).
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/flows"


@router.get("/", response_class=RedirectResponse)
def index(request: Request) -> RedirectResponse:
    """The flows view, or the sign-in page."""
    return RedirectResponse("/flows" if authenticate(request) else "/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    """The sign-in form."""
    return render(request, "login.html", next=_safe_next(next), error=None)


@router.post("/login", response_class=HTMLResponse, response_model=None)
def login(
    request: Request,
    name: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1_000)],
    next: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    """Check the password; on success set the session cookie and go on."""
    state = state_of(request)
    now = time.monotonic()
    known = state.users.get(name)
    if state.throttle.locked(name, now):
        state.refuse(known, request, "sign-in locked after repeated failures")
        return render(
            request,
            "login.html",
            status=429,
            next=_safe_next(next),
            error=LazyText("Too many failed sign-ins for this name; wait 15 minutes and try again."),
        )
    user = state.users.by_password(name, password)
    if user is None:
        state.throttle.failed(name, now)
        state.refuse(known, request, "sign-in failed: wrong name or password")
        return render(
            request,
            "login.html",
            status=401,
            next=_safe_next(next),
            error=LazyText("Wrong name or password."),
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE,
        state.sessions.issue(user.name),
        max_age=int(state.sessions.lifetime.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout", response_class=RedirectResponse)
def logout() -> RedirectResponse:
    """Forget the session cookie."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
