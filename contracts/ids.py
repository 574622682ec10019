"""Identifiers that can never be mistaken for an Individual Number.

A random UUID ends in twelve hex digits; about one in 300 of them is twelve decimal digits, and one in ten
of those passes the check digit. Across millions of message ids, logs and tables would then hold strings a
data-loss-prevention scanner (ours, or the federation's) must treat as leaked numbers. Every identifier
renkei makes comes from here, and none of them, in canonical or hex form, contains such a run.
"""

from __future__ import annotations

import secrets
import string
import uuid

from contracts.redaction import find_numbers

__all__ = ["looks_like_a_number", "new_id", "random_letters", "stable_id"]

_LETTERS = string.ascii_lowercase


def looks_like_a_number(value: uuid.UUID | str) -> bool:
    """Tell whether ``value`` (in canonical or hex form) holds a 12-digit run with a valid check digit."""
    if isinstance(value, uuid.UUID):
        return looks_like_a_number(str(value)) or looks_like_a_number(value.hex)
    # Read as a scanner that knows no identifiers would: the redactor itself would keep a UUID whole.
    return bool(find_numbers(value, identifiers=False))


def new_id() -> uuid.UUID:
    """A random UUID (version 4) that never looks like a number."""
    while True:
        candidate = uuid.uuid4()
        if not looks_like_a_number(candidate):
            return candidate


def stable_id(namespace: uuid.UUID, name: str) -> uuid.UUID:
    """A deterministic UUID (version 5) of ``name`` that never looks like a number.

    The same ``(namespace, name)`` always gives the same id, so a redelivered input produces the same
    message ids downstream; in the rare case the plain uuid5 looks like a number, a numbered variant of
    the name is taken instead, deterministically.
    """
    candidate = uuid.uuid5(namespace, name)
    attempt = 0
    while looks_like_a_number(candidate):
        attempt += 1
        candidate = uuid.uuid5(namespace, f"{name}#{attempt}")
    return candidate


def random_letters(length: int = 26) -> str:
    """A random lowercase-letter string (26 letters carry about 122 bits); never contains a digit."""
    return "".join(secrets.choice(_LETTERS) for _ in range(length))
