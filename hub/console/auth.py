"""Sign-in, and the role and scope check that every page and API call goes through.

A request is made by a *principal*: a user signed in with a password (a session cookie) or one presenting
an API token (``Authorization: Bearer``). :func:`require` is a FastAPI dependency that
1. finds the principal, or answers 401 (API) / sends to the sign-in page (pages);
2. checks the role holds the permission the route needs, or writes a REFUSED access record and answers 403;
3. for a change made with a session cookie, checks the CSRF token (form field or ``X-CSRF-Token``).

:func:`check_scope` is the second gate, for one message or record: a user of a 構成組合 may touch only what
belongs to its own association (:mod:`hub.infra.stores.associations`); anything else is refused and recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from hub.console.context import state_of
from hub.console.i18n import LazyText
from hub.console.roles import Permission, allowed
from hub.console.sessions import COOKIE, Session
from hub.console.users import ConsoleUser

__all__ = [
    "NeedsSignIn",
    "Principal",
    "Refused",
    "authenticate",
    "check_scope",
    "is_api",
    "require",
]

_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class NeedsSignIn(Exception):
    """No valid session or token: 401 for the API, the sign-in page for pages."""


class Refused(Exception):
    """The principal may not do this (already recorded): 403.

    ``message`` says why, in English for the API; a page shows it translated (a :class:`LazyText`).
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Principal:
    """Who makes a request; ``session`` is ``None`` for token (API) callers."""

    user: ConsoleUser
    session: Session | None


def is_api(request: Request) -> bool:
    """Whether the request is to the JSON API, its description or the metrics endpoint (not a page)."""
    path = request.url.path
    return path.startswith("/api/") or path in ("/metrics", "/openapi.json")


def authenticate(request: Request) -> tuple[ConsoleUser, Session | None] | None:
    """The user behind ``request`` and their session, if any valid credential is presented."""
    state = state_of(request)
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        user = state.users.by_token(token.strip())
        return None if user is None else (user, None)
    session = state.sessions.read(request.cookies.get(COOKIE))
    if session is None:
        return None
    user = state.users.get(session.user)
    if user is None or user.password_hash is None:
        return None
    return user, session


async def _csrf_token(request: Request) -> str | None:
    token = request.headers.get("x-csrf-token")
    if token:
        return token
    if request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf")
        return value if isinstance(value, str) else None
    return None


def require(permission: Permission) -> Callable[[Request], object]:
    """A dependency: the request's principal, who must hold ``permission``."""

    async def dependency(request: Request) -> Principal:
        found = authenticate(request)
        if found is None:
            raise NeedsSignIn
        user, session = found
        state = state_of(request)
        if not allowed(user.role, permission):
            state.refuse(
                user, request, f"role {user.role.value} may not {permission.value}", needs=permission
            )
            raise Refused(LazyText("Your role (%(role)s) may not do this.", role=user.role.value))
        if (
            session is not None
            and request.method in _UNSAFE
            and not state.sessions.csrf_ok(session, await _csrf_token(request))
        ):
            state.refuse(user, request, "missing or wrong CSRF token", needs=permission)
            raise Refused(LazyText("This form has expired; reload the page and try again."))
        principal = Principal(user, session)
        request.state.principal = principal
        return principal

    return dependency


def check_scope(
    request: Request,
    principal: Principal,
    owner: str | None,
    *,
    message_id: str | None = None,
    correlation_id: str | None = None,
) -> None:
    """Refuse (and record) when ``owner`` (an association, or ``None`` for the federation) is not the user's.

    Raises:
        Refused: the user belongs to another association, or the item is the federation's alone.
    """
    user = principal.user
    if user.federation or (owner is not None and owner == user.org):
        return
    state_of(request).refuse(
        user,
        request,
        f"scope: outside association {user.org}",
        message_id=message_id,
        correlation_id=correlation_id,
    )
    raise Refused(LazyText("This belongs to no member of your association (%(org)s).", org=user.org))
