"""Database failures that pass: translated to :class:`~contracts.errors.StoreUnavailable` at the edge.

A lost connection, a lock held too long by another process, a serialization failure or a server shutting
down says nothing about the message being handled: the same work succeeds once the database is back. Left
as SQLAlchemy's ``OperationalError``, such a failure inside a handler looked like a bug in the handler (a
*crash*: requeued, spending one of the message's deliveries towards the dead-letter queue). Translated, it
is a :class:`~contracts.errors.TransientError` and follows the retry policy like a broker outage does.

Everything else (an integrity violation, a programming error, a missing table) stays as it is: retrying
would not help, and the caller's own handling (conflicts, crash limits) applies.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext

from contracts.errors import StoreUnavailable

__all__ = ["is_passing_failure", "translate_passing_failures"]

_SQLSTATE_CLASSES: Final = ("08", "40", "53", "57")
"""PostgreSQL error classes that pass: connection exception, transaction rollback (serialization failure,
deadlock), insufficient resources, operator intervention (admin shutdown, cannot connect now)."""

_SQLITE_NAMES: Final = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR", "SQLITE_FULL", "SQLITE_CANTOPEN")
"""SQLite result codes that pass: another process holds the lock, or the disk hiccuped or filled up."""


def is_passing_failure(original: BaseException | None, *, is_disconnect: bool = False) -> bool:
    """Whether a driver exception is one that retrying the same work later can cure."""
    if is_disconnect:
        return True
    sqlstate = getattr(original, "sqlstate", None)  # psycopg
    if isinstance(sqlstate, str):
        return sqlstate[:2] in _SQLSTATE_CLASSES
    name = getattr(original, "sqlite_errorname", None)  # sqlite3 (Python 3.11+)
    if isinstance(name, str):
        return name.startswith(_SQLITE_NAMES)
    return False


def translate_passing_failures(engine: Engine) -> None:
    """Make every statement on ``engine`` raise :class:`StoreUnavailable` for a failure that passes.

    SQLAlchemy's ``handle_error`` event lets a listener replace the exception it is about to raise, and
    raises the replacement ``from`` the driver's exception, which so stays chained for the log. Connection
    invalidation after a disconnect still happens first, so the pool hands out a fresh connection next time.
    """

    @event.listens_for(engine, "handle_error")
    def _translate(context: ExceptionContext) -> BaseException | None:
        if is_passing_failure(context.original_exception, is_disconnect=context.is_disconnect):
            return StoreUnavailable("the database is unavailable for now; the work will be retried")
        return None
