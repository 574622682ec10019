"""Pydantic's validation errors, told without their input: locations and kinds only.

A refused value may be an Individual Number, and pydantic's own message quotes it. Every place that turns a
``ValidationError`` into one of renkei's errors (decoding a message, an adapter mapping a counterpart's
file onto a contract) says what was wrong through :func:`describe`, and raises its own error outside the
``except`` block, so that the chained ``ValidationError`` (and its input) does not travel with it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import ValidationError

__all__ = ["describe", "validated"]

T = TypeVar("T")
_SHOWN = 10


def describe(exc: ValidationError) -> str:
    """``records.0.name: string_too_long; ...`` for the first ten errors, and how many more there are."""
    errors = exc.errors(include_input=False, include_url=False)
    parts = [f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['type']}" for e in errors[:_SHOWN]]
    more = len(errors) - _SHOWN
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def validated(build: Callable[[], T], what: str, error: Callable[[str], Exception]) -> T:
    """Run ``build``; a validation error becomes ``error("<what> does not fit the contract: ...")``."""
    problem: str | None = None
    try:
        return build()
    except ValidationError as exc:
        problem = describe(exc)
    # Raised after the except block, so the error carries no chained ValidationError (and no input).
    raise error(f"{what} does not fit the contract: {problem}")
