"""The console's application factory: pages, the JSON API (``/api``, described at ``/openapi.json``), metrics.

``create_app(root, users)`` wires the routers, the error pages, the security headers, the number guard
(:mod:`hub.console.guard`) and a background metrics sampler (started with the application's lifespan,
stopped with it). Nothing connects at import time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from http import HTTPStatus
from importlib import resources
from typing import TYPE_CHECKING, Any, Final

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.console.auth import NeedsSignIn, Refused, is_api, require
from hub.console.context import ConsoleState, SerialTransport, state_of
from hub.console.guard import NumberGuard
from hub.console.i18n import N_, LanguageMiddleware, LazyText, gettext, install
from hub.console.pages import render
from hub.console.roles import Permission
from hub.console.sessions import SessionCodec, load_session_secret
from hub.console.users import UserDirectory
from hub.console.views import approvals, audit, dead_letters, flows, health, metrics, session, trace
from hub.infra.observability.metrics_sampler import MetricsSampler
from hub.ports.transport import Transport

if TYPE_CHECKING:
    from hub.bootstrap.console import ConsoleRoot

__all__ = ["create_app"]

log = logging.getLogger(__name__)

_CSP: Final = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_DOCS_CSP: Final = _CSP + "; script-src 'self'; connect-src 'self'"
"""The API docs page runs Swagger UI: scripts and the fetch of /openapi.json, from the console itself only."""
_DOCS_ASSETS: Final = "/api/docs/assets"

_HEADERS: Final = {
    "content-security-policy": _CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def _package_dir(name: str) -> str:
    return str(resources.files("hub.console").joinpath(name))


def _sampler_loop(state: ConsoleState, stop: threading.Event, interval_s: float) -> None:
    # The first pass runs at once: after a short `renkei demo`, the flows view has its counts right away.
    for _ in range(10**9):
        try:
            state.sampler.sample()
        except Exception:
            log.exception("console metrics sampler: pass failed")
        if stop.wait(interval_s):
            return


def create_app(
    root: ConsoleRoot,
    users: UserDirectory,
    *,
    sessions: SessionCodec | None = None,
    transport: Transport | None = None,
    start_sampler: bool = True,
) -> FastAPI:
    """Build the console for ``root`` and ``users``.

    Args:
        root: the console's composition root (database, keys, settings, topology names, its connection).
        users: who may sign in.
        sessions: the session codec (default: the secret from the settings, generated in development).
        transport: the broker connection for queue depths and replays (default: the root's; pass one in
            tests).
        start_sampler: run the metrics sampler in the background while the app runs.
    """
    settings = root.settings.console
    codec = sessions or SessionCodec(
        load_session_secret(root.settings), timedelta(hours=settings.session_hours)
    )
    serial = SerialTransport(transport if transport is not None else root.transport())
    state = ConsoleState(
        root=root,
        users=users,
        sessions=codec,
        templates=_templates(),
        sampler=MetricsSampler(
            root.engine,
            root.names,
            queue_depth=serial.queue_depth,
            history=timedelta(days=settings.history_days),
        ),
        transport=serial,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        thread = None
        if start_sampler:
            thread = threading.Thread(
                target=_sampler_loop,
                args=(state, stop, settings.sample_interval_s),
                name="console-sampler",
                daemon=True,
            )
            thread.start()
        try:
            yield
        finally:
            stop.set()
            if thread is not None:
                thread.join(10)

    app = FastAPI(
        title="renkei console API",
        version="1",
        description=(
            "The operator console's JSON API: flows, dead letters (replay, discard, reveal), flow traces, "
            "the access record, health. Authenticate with `Authorization: Bearer <token>` "
            "(tokens from `renkei console new-token`). No response carries an Individual Number, except the "
            "reveal call's, which is recorded in the access record first."
        ),
        lifespan=lifespan,
        # Served below, behind sign-in, from installed assets (never a CDN).
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.console = state
    _install_handlers(app)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for key, value in _HEADERS.items():
            response.headers.setdefault(key, value)
        response.headers.setdefault("cache-control", "no-store")  # nothing here may sit in a cache
        if request.url.path == "/api/docs":
            # Swagger UI is the one page with scripts: its own and the console's, nothing from elsewhere.
            response.headers["content-security-policy"] = _DOCS_CSP
        return response

    def hit(_: str) -> None:
        state.guard_hits += 1

    app.add_middleware(NumberGuard, on_hit=hit)
    app.add_middleware(LanguageMiddleware)  # outermost: everything inside serves the request's language
    app.mount("/static", StaticFiles(directory=_package_dir("static")), name="static")
    for module in (flows, dead_letters, approvals, trace, audit, health):
        app.include_router(module.pages)
        app.include_router(module.api)
    app.include_router(session.router)
    app.include_router(metrics.router)
    app.include_router(health.probes)
    _install_docs(app)
    return app


def _templates() -> Jinja2Templates:
    """The pages' templates, with Jinja2's i18n extension following each request's language."""
    env = Environment(
        loader=FileSystemLoader(_package_dir("templates")),
        autoescape=select_autoescape(),
        auto_reload=False,
    )
    install(env)
    return Jinja2Templates(env=env)


def _install_docs(app: FastAPI) -> None:
    """``/openapi.json`` and ``/api/docs``, signed in only; Swagger UI from the installed fastapi-offline."""
    signed_in = Depends(require(Permission.VIEW_FLOWS))
    app.mount(_DOCS_ASSETS, StaticFiles(directory=_swagger_assets()), name="api-docs-assets")

    @app.get("/openapi.json", include_in_schema=False, dependencies=[signed_in])
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/api/docs", include_in_schema=False, dependencies=[signed_in])
    async def docs(request: Request) -> Response:
        templates = state_of(request).templates
        return templates.TemplateResponse(request, "api_docs.html", {})


def _swagger_assets() -> str:
    """Swagger UI's files as the pinned ``fastapi-offline`` package ships them (no CDN, no network)."""
    return str(resources.files("fastapi_offline").joinpath("static"))


_TITLES: Final = {
    403: (
        N_("Not allowed"),
        N_(
            "Your role or association may not do this. If your work needs it, ask the federation's console "
            "administrator."
        ),
    ),
    404: (
        N_("Not found"),
        N_("It is not there (or not for you to see). Go back to the list and choose again."),
    ),
    409: (
        N_("Cannot do this now"),
        N_(
            "Nothing was done. Read the reason above, reload the item to see where it stands, then decide "
            "again."
        ),
    ),
    422: (
        N_("Please check the form"),
        N_("Nothing was done. Correct what is named above and send the form again."),
    ),
    503: (
        N_("Temporarily unavailable"),
        N_(
            "Nothing was done. Wait a minute and try again; if it persists, look at the health page and tell "
            "the engineer on duty."
        ),
    ),
}
_OTHER: Final = (
    N_("Cannot show this"),
    N_("Go back and try again; if it persists, tell the engineer on duty what you did."),
)
_FIELDS: Final = {
    "reason": N_("reason"),
    "ids": N_("dead letters"),
    "group": N_("failure group"),
    "operation": N_("operation"),
    "rate": N_("rate"),
    "limit": N_("limit"),
    "approval_id": N_("request"),
    "action": N_("action"),
    "decision": N_("decision"),
    "note": N_("comment"),
    "sealed_index": N_("which number"),
    "dead_letter_id": N_("dead letter"),
    "name": N_("name"),
    "password": N_("password"),
    "window": N_("window"),
    "status": N_("status"),
}
_PROBLEMS: Final = {
    "missing": N_("%(field)s: required"),
    "string_too_short": N_("%(field)s: at least %(min_length)s characters"),
    "string_too_long": N_("%(field)s: at most %(max_length)s characters"),
    "string_pattern_mismatch": N_("%(field)s: not in the expected form"),
    "int_parsing": N_("%(field)s: a whole number is expected"),
    "float_parsing": N_("%(field)s: a number is expected"),
    "greater_than_equal": N_("%(field)s: at least %(ge)s"),
    "greater_than": N_("%(field)s: more than %(gt)s"),
    "less_than_equal": N_("%(field)s: at most %(le)s"),
    "enum": N_("%(field)s: not one of the allowed values"),
}


def _problem(error: Mapping[str, Any]) -> str:
    """One validation problem for a page: the field by its label, what is wrong (never the input)."""
    loc = [str(p) for p in error.get("loc", ())][1:]
    name = loc[0] if loc else ""
    field: str = LazyText(_FIELDS[name]) if name in _FIELDS else ".".join(loc)
    template = _PROBLEMS.get(str(error.get("type")))
    ctx = {
        k: f"{v:,g}" if isinstance(v, float) else v
        for k, v in (error.get("ctx") or {}).items()
        if isinstance(v, int | float | str)
    }
    if template is None:
        return LazyText("%(field)s: %(problem)s", field=field, problem=str(error.get("msg", "")))
    try:
        return LazyText(template, field=field, **ctx)
    except (KeyError, ValueError, TypeError):
        return LazyText("%(field)s: %(problem)s", field=field, problem=str(error.get("msg", "")))


def _error_page(request: Request, status: int, message: object, problems: Sequence[str] = ()) -> Response:
    title, hint = _TITLES.get(status, _OTHER)
    if isinstance(message, str) and not isinstance(message, LazyText):
        try:
            if message == HTTPStatus(status).phrase:  # Starlette's own detail, e.g. "Not Found"
                message = ""
        except ValueError:
            pass
    return render(
        request,
        "error.html",
        status=status,
        title=gettext(title),
        hint=gettext(hint),
        message=message,
        problems=problems,
    )


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(NeedsSignIn)
    async def needs_sign_in(request: Request, _: NeedsSignIn) -> Response:
        if is_api(request):
            return JSONResponse(
                {"detail": "sign in: send Authorization: Bearer <token>"},
                status_code=401,
                headers={"www-authenticate": "Bearer"},
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={_quote(target)}", status_code=303)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        if is_api(request):
            return JSONResponse({"detail": str(exc.message)}, status_code=403)
        return _error_page(request, 403, exc.message)

    # FastAPI's HTTPException is Starlette's: this one handler covers both.
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if is_api(request) or request.url.path in ("/openapi.json",) or exc.status_code == 405:
            return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code)
        return _error_page(request, exc.status_code, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        # Never echo the input: it may hold anything, a number included.
        errors = exc.errors()
        problems = [
            {
                "loc": [str(p) for p in e.get("loc", ())],
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type")),
            }
            for e in errors
        ]
        if is_api(request):
            return JSONResponse({"detail": problems}, status_code=422)
        return _error_page(request, 422, "", [_problem(e) for e in errors])


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")
