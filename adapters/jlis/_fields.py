"""The field types of the fixed-width engine: how one field's bytes are read and written.

Every reader and writer raises :class:`FieldProblem` with a text that names the rule broken, never the
value (a field may hold an Individual Number). Helpers return ``None`` instead of raising inside ``except``
blocks, so no error carries a chained exception that could quote the input.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Final

from contracts.individual_number import IndividualNumber

__all__ = ["Field", "FieldProblem", "FieldType", "decoder", "encode_value"]

_UNKNOWN: Final = object()
# Also the bidirectional marks, embeddings, overrides and isolates: an RTL override in a name makes it
# display other than it reads, in every file and screen it reaches.
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class FieldType(StrEnum):
    """How a field's bytes are read and written."""

    LITERAL = "literal"
    """Fixed ASCII text (a record kind, a format id)."""
    DIGITS = "digits"
    """An unsigned integer as zero-padded ASCII digits."""
    ASCII = "ascii"
    """Printable ASCII, left-aligned, space-padded, matching the field's pattern."""
    TEXT = "text"
    """UTF-8 text, left-aligned, space-padded; the length is in bytes. No control characters."""
    DATE = "date"
    """A calendar date, ``YYYYMMDD``."""
    MONTH = "month"
    """A month, ``YYYYMM`` on the wire, ``YYYY-MM`` in Python."""
    CODE = "code"
    """One code of a closed table."""
    FLAG = "flag"
    """``0`` or ``1``."""
    INDIVIDUAL_NUMBER = "individual_number"
    """Twelve ASCII digits with a valid check digit."""
    FILLER = "filler"
    """Spaces only."""


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a fixed-width record.

    Attributes:
        name: the field's name, also the key of its value in a decoded record.
        offset: 0-based byte offset in the record.
        length: length in bytes.
        type: how the bytes are read and written.
        required: a blank (all spaces) optional field reads as ``None``; a blank required one is an error.
        literal: the fixed text of a ``LITERAL`` field.
        pattern: the regular expression an ``ASCII`` field must match in full.
        codes: ``(wire code, value)`` pairs of a ``CODE`` field.
    """

    name: str
    offset: int
    length: int
    type: FieldType
    required: bool = True
    literal: str = ""
    pattern: str = ""
    codes: tuple[tuple[str, Any], ...] = ()


class FieldProblem(Exception):
    """A field-level problem; its text never holds the value."""


def _ascii_text(raw: bytes) -> str | None:
    if not raw.isascii():
        return None
    text = raw.decode("ascii")
    return None if _CONTROL.search(text) else text


def _utf8(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _individual_number(digits: str) -> IndividualNumber | None:
    try:
        return IndividualNumber(digits)  # validates the check digit (its error never holds the digits)
    except ValueError:
        return None


def _make_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def decoder(f: Field) -> Callable[[bytes], Any]:  # noqa: PLR0915 - one small closure per type
    """The function that reads ``f`` from its bytes (not blank), raising :class:`FieldProblem`."""
    if f.type is FieldType.DIGITS:

        def digits(raw: bytes) -> int:
            if not raw.isdigit() or not raw.isascii():
                raise FieldProblem("is not ASCII digits")
            return int(raw)

        return digits
    if f.type is FieldType.ASCII:
        rule = re.compile(f.pattern) if f.pattern else None

        def ascii_(raw: bytes) -> str:
            text = _ascii_text(raw)
            if text is None:
                raise FieldProblem("is not printable ASCII")
            value = text.rstrip(" ")
            if value != value.lstrip(" ") or (rule is not None and not rule.fullmatch(value)):
                raise FieldProblem("does not match its pattern")
            return value

        return ascii_
    if f.type is FieldType.TEXT:

        def text_(raw: bytes) -> str:
            text = _utf8(raw)
            if text is None:
                raise FieldProblem("is not valid UTF-8")
            if _CONTROL.search(text):
                raise FieldProblem("holds a control character")
            value = text.rstrip(" ")
            if value.startswith(" "):
                raise FieldProblem("is not left-aligned")
            return value

        return text_
    if f.type is FieldType.DATE:

        def date_(raw: bytes) -> date:
            if len(raw) != 8 or not raw.isdigit() or not raw.isascii():
                raise FieldProblem("is not a date YYYYMMDD")
            value = _make_date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
            if value is None:
                raise FieldProblem("is not a calendar date")
            return value

        return date_
    if f.type is FieldType.MONTH:

        def month(raw: bytes) -> str:
            if len(raw) != 6 or not raw.isdigit() or not raw.isascii() or not 1 <= int(raw[4:]) <= 12:
                raise FieldProblem("is not a month YYYYMM")
            return f"{raw[:4].decode()}-{raw[4:].decode()}"

        return month
    if f.type is FieldType.CODE:
        table = {code.encode("ascii").ljust(f.length): value for code, value in f.codes}

        def code(raw: bytes) -> Any:
            value = table.get(raw, _UNKNOWN)
            if value is _UNKNOWN:
                raise FieldProblem("is not a known code")
            return value

        return code
    if f.type is FieldType.FLAG:

        def flag(raw: bytes) -> bool:
            if raw == b"1":
                return True
            if raw == b"0":
                return False
            raise FieldProblem("is not a flag 0 or 1")

        return flag
    if f.type is FieldType.INDIVIDUAL_NUMBER:

        def number(raw: bytes) -> IndividualNumber:
            if not raw.isascii() or not raw.isdigit():
                raise FieldProblem("is not twelve ASCII digits")
            value = _individual_number(raw.decode("ascii"))
            if value is None:
                raise FieldProblem("has a bad check digit")
            return value

        return number
    raise ValueError(f"no decoder for {f.type}")


def encode_value(f: Field, value: Any) -> bytes:  # noqa: PLR0912 - a flat dispatch on the type
    """``value`` as exactly ``f.length`` bytes, raising :class:`FieldProblem`."""
    if value is None:
        if f.required:
            raise FieldProblem("is required")
        return b" " * f.length
    raw: bytes
    if f.type is FieldType.DIGITS:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value >= 10**f.length:
            raise FieldProblem("is not a non-negative integer that fits")
        return b"%0*d" % (f.length, value)
    if f.type in (FieldType.ASCII, FieldType.TEXT):
        if not isinstance(value, str) or value != value.strip(" ") or _CONTROL.search(value):
            raise FieldProblem("is not text without control characters or surrounding spaces")
        if f.type is FieldType.ASCII and (
            not value.isascii() or (f.pattern and not re.fullmatch(f.pattern, value))
        ):
            raise FieldProblem("does not match its pattern")
        raw = value.encode("utf-8")
        if not raw and f.required:
            raise FieldProblem("is required")
    elif f.type is FieldType.DATE:
        if not isinstance(value, date):
            raise FieldProblem("is not a date")
        raw = b"%04d%02d%02d" % (value.year, value.month, value.day)
    elif f.type is FieldType.MONTH:
        if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", value):
            raise FieldProblem("is not a month YYYY-MM")
        raw = value.replace("-", "").encode("ascii")
    elif f.type is FieldType.CODE:
        codes = [code for code, v in f.codes if v == value]
        if not codes:
            raise FieldProblem("has no code")
        raw = codes[0].encode("ascii")
    elif f.type is FieldType.FLAG:
        if not isinstance(value, bool):
            raise FieldProblem("is not a flag")
        raw = b"1" if value else b"0"
    elif f.type is FieldType.INDIVIDUAL_NUMBER:
        if not isinstance(value, IndividualNumber):
            raise FieldProblem("is not an Individual Number")
        raw = value.reveal().encode("ascii")
    else:
        raise FieldProblem("cannot be written")
    if len(raw) > f.length:
        raise FieldProblem(f"is longer than {f.length} bytes")
    return raw.ljust(f.length, b" ")
