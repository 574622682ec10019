"""How a command reports what went wrong with the database: one sentence that says what to do."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer

from hub.infra.db.engine import DATABASE_FAILURES

__all__ = ["database_errors"]


@contextmanager
def database_errors(fail: Callable[[str], typer.Exit], *expected: type[Exception]) -> Iterator[None]:
    """Turn an ``expected`` error (its message) and a database failure (what to check) into an exit."""
    try:
        yield
    except expected as exc:
        raise fail(str(exc)) from exc
    except DATABASE_FAILURES as exc:
        raise fail(
            f"the database failed ({type(exc).__name__}); is it migrated (renkei db upgrade)?"
        ) from exc
