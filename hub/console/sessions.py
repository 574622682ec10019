"""Signed session cookies and their CSRF tokens, with a secret kept in a file (generated in development).

A session is ``<payload>.<signature>``: the payload names the user, the time it was issued and a random
session id; the signature is HMAC-SHA256 under the console's secret. Nothing secret is in the cookie, and
nothing is kept on the server. The cookie is ``HttpOnly``, ``SameSite=Strict`` and lives
``session_hours``; a form that changes something also carries a CSRF token derived from the session id.

Every token here is written in the letters ``a``-``p`` (one per hex digit): never a run of digits that a
leak scanner could take for an Individual Number.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from contracts.errors import ConfigurationError
from hub.settings import Environment, Settings

__all__ = ["COOKIE", "Session", "SessionCodec", "letters", "load_session_secret"]

COOKIE: Final = "renkei_console"
_LETTERS: Final = str.maketrans("0123456789abcdef", "abcdefghijklmnop")


def letters(data: bytes) -> str:
    """``data`` in the letters a-p (two per byte)."""
    return data.hex().translate(_LETTERS)


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in user's session."""

    user: str
    session_id: str
    issued_at: datetime


class SessionCodec:
    """Issues and checks session cookies and CSRF tokens.

    Args:
        secret: at least 32 bytes.
        lifetime: how long a session is valid.
    """

    def __init__(self, secret: bytes, lifetime: timedelta) -> None:
        if len(secret) < 32:
            raise ConfigurationError("the console session secret has at least 32 bytes")
        self._secret = secret
        self.lifetime = lifetime

    def _sign(self, purpose: str, data: bytes) -> str:
        return letters(hmac.new(self._secret, purpose.encode() + b"|" + data, hashlib.sha256).digest())

    def issue(self, user: str, now: datetime | None = None) -> str:
        """A cookie value for ``user``."""
        moment = now or datetime.now(UTC)
        payload = json.dumps(
            {"u": user, "i": int(moment.timestamp()), "s": letters(secrets.token_bytes(16))},
            separators=(",", ":"),
        ).encode()
        body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return f"{body}.{self._sign('session', body.encode())}"

    def read(self, cookie: str | None, now: datetime | None = None) -> Session | None:
        """The session in ``cookie``, or ``None`` when it is missing, forged or expired."""
        if not cookie or cookie.count(".") != 1 or len(cookie) > 1_000:
            return None
        body, signature = cookie.split(".")
        if not hmac.compare_digest(signature, self._sign("session", body.encode())):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            issued = datetime.fromtimestamp(int(data["i"]), UTC)
            session = Session(user=str(data["u"]), session_id=str(data["s"]), issued_at=issued)
        except (ValueError, KeyError, TypeError, OverflowError):
            return None
        moment = now or datetime.now(UTC)
        if not issued - timedelta(minutes=5) <= moment < issued + self.lifetime:
            return None
        return session

    def csrf(self, session: Session) -> str:
        """The CSRF token of ``session`` (forms and cookie-authenticated API calls that change things)."""
        return self._sign("csrf", session.session_id.encode())

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        """Whether ``token`` is the CSRF token of ``session``."""
        return bool(token) and hmac.compare_digest(self.csrf(session), token or "")


def load_session_secret(settings: Settings) -> bytes:
    """The session secret from ``RENKEI_CONSOLE_SESSION_SECRET_FILE``, or generated in development.

    Raises:
        ConfigurationError: missing in production, open to others, or too short.
    """
    path: Path = settings.console.session_secret_file or settings.data_dir / "keys" / "console-session.key"
    if not path.exists():
        if settings.environment is not Environment.DEVELOPMENT:
            raise ConfigurationError(
                f"no console session secret at {path}: set RENKEI_CONSOLE_SESSION_SECRET_FILE; secrets are "
                "never generated in production"
            )
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # another console generated it first: use theirs
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_urlsafe(48) + "\n")
    mode = path.stat().st_mode
    if os.name == "posix" and mode & 0o077:
        raise ConfigurationError(f"the console session secret {path} is open to others; chmod 600 it")
    secret = path.read_text(encoding="ascii").strip().encode()
    if len(secret) < 32:
        raise ConfigurationError(f"the console session secret {path} is shorter than 32 characters")
    return secret
