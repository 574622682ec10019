"""The last line of defence: no response leaves the console holding an Individual Number it should not.

Pages and API responses are built from redacted data (:mod:`hub.console.render`), so this middleware should
never find anything. It reads every text, HTML and JSON response body before it is sent, and replaces any
number :mod:`contracts.redaction` finds by the redaction marker, except the one number an admin's reveal put
in ``request.state.revealed_number`` for that one response. Each hit is logged (without the digits) and
counted (``renkei_console_guard_redactions_total``), because it means a page forgot to redact.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts.redaction import scrub as redact_counted

__all__ = ["NumberGuard", "scrub"]

log = logging.getLogger(__name__)

_TEXT_TYPES = ("text/", "application/json", "application/problem+json", "application/openmetrics-text")


def scrub(text: str, allowed: str | None = None) -> tuple[str, int]:
    """``text`` with every number but ``allowed`` redacted, and how many were (:mod:`contracts.redaction`)."""
    return redact_counted(text, keep=allowed)


class NumberGuard:
    """ASGI middleware that scrubs response bodies (see the module docstring).

    Args:
        app: the application.
        on_hit: called with the request path whenever something had to be scrubbed.
    """

    def __init__(self, app: ASGIApp, on_hit: Callable[[str], None] | None = None) -> None:
        self.app = app
        self.on_hit = on_hit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app, holding text responses back until they are scrubbed."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []
        textual = False

        async def wrapped(message: Message) -> None:
            nonlocal start, textual
            if message["type"] == "http.response.start":
                headers = {k.lower(): v for k, v in message.get("headers", [])}
                content_type = headers.get(b"content-type", b"").decode("latin-1")
                textual = content_type.startswith(_TEXT_TYPES)
                if not textual:
                    await send(message)
                    return
                start = message
                return
            if message["type"] != "http.response.body" or not textual:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            await self._flush(scope, send, start, b"".join(chunks))

        await self.app(scope, receive, wrapped)

    async def _flush(self, scope: Scope, send: Send, start: Message | None, body: bytes) -> None:
        state: dict[str, Any] = scope.get("state") or {}
        allowed = state.get("revealed_number")
        text = body.decode("utf-8", errors="replace")
        scrubbed, hits = scrub(text, allowed if isinstance(allowed, str) else None)
        if hits:
            log.error(
                "console response held a number; redacted before sending",
                extra={"path": scope.get("path"), "count": hits},
            )
            if self.on_hit is not None:
                self.on_hit(str(scope.get("path")))
            body = scrubbed.encode("utf-8")
        assert start is not None
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode("ascii")))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})
