"""Free text in messages: what a name, an address or a counterpart's remark may hold.

Two rules, each its own validator so that a field takes the ones it needs: no control or bidirectional
formatting character (names and addresses end up in line-based files and on screens), and no Individual
Number (numbers travel only in their sealed fields).
"""

from __future__ import annotations

import re
from typing import Annotated, Final

from pydantic import AfterValidator

from contracts.redaction import holds_number

__all__ = ["NumberFreeText", "PlainText", "holds_no_number", "plain_text"]

_UNSAFE: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""Control characters, line and paragraph separators, and bidirectional marks, embeddings, overrides
and isolates: nothing a name or an address holds, and what breaks line-based files or makes text
display other than it reads (an RTL override)."""


def plain_text(value: str) -> str:
    """Refuse text with a control or bidirectional formatting character (the message names no value).

    Raises:
        ValueError: such a character is present.
    """
    if _UNSAFE.search(value):
        raise ValueError("holds a control or bidirectional formatting character")
    return value


def holds_no_number(value: str) -> str:
    """Refuse text that holds an Individual Number, ASCII or full-width (the message names no value).

    Numbers travel only in their sealed fields: one typed into a name, a remark or a counterpart's message
    would otherwise ride through every queue, log and table in plain text.

    Raises:
        ValueError: a number in any form :mod:`contracts.redaction` finds (spaced, full-width, escaped,
            inside a longer digit run) is present.
    """
    if holds_number(value):
        raise ValueError(
            "holds a 12-digit number with a valid check digit (the form of an Individual Number); "
            "numbers travel only in their sealed fields"
        )
    return value


NumberFreeText = Annotated[str, AfterValidator(holds_no_number)]
"""Free text that may hold any character but an Individual Number (a counterpart's message, a remark)."""

PlainText = Annotated[str, AfterValidator(plain_text), AfterValidator(holds_no_number)]
"""Free text (a name, an address) without control or bidirectional formatting characters and without an
Individual Number."""
