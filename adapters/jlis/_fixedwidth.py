"""A small engine for fixed-width records whose layout is declared as data.

A :class:`Layout` is a tuple of :class:`Field` (name, offset, length in bytes, type, required); one
:class:`RecordCodec` per layout turns a record's bytes into a dict of typed values and back. Both
directions are driven by the same table, so the written and the parsed format cannot drift apart, and the
documentation table can be generated from it (:func:`markdown_table`).

Strictness is the point: a field that breaks its type is an error naming the record and the field, never
the value (a field may hold an Individual Number). The helpers below return ``None`` instead of raising
inside ``except`` blocks, so that no error carries a chained exception that could quote the input.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Final

from adapters.jlis.errors import JlisWireError
from contracts.individual_number import IndividualNumber

__all__ = ["Field", "FieldType", "Layout", "RecordCodec", "field", "layout", "markdown_table"]

SPACE: Final = 0x20
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


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


@dataclass(frozen=True, slots=True)
class Layout:
    """The fields of one record kind, contiguous from offset 0 to ``length``."""

    name: str
    length: int
    fields: tuple[Field, ...]

    def __post_init__(self) -> None:
        position = 0
        for f in self.fields:
            if f.offset != position or f.length < 1:
                raise ValueError(f"layout {self.name}: field {f.name} is not contiguous")
            position += f.length
        if position != self.length:
            raise ValueError(f"layout {self.name}: fields cover {position} bytes, not {self.length}")


def field(
    name: str,
    length: int,
    type_: FieldType,
    *,
    required: bool = True,
    literal: str = "",
    pattern: str = "",
    codes: tuple[tuple[str, Any], ...] = (),
) -> Field:
    """A field whose offset :func:`layout` fills in."""
    return Field(name, -1, length, type_, required, literal, pattern, codes)


def layout(name: str, length: int, *fields: Field) -> Layout:
    """Lay ``fields`` out one after the other and pad the record with a filler up to ``length`` bytes."""
    placed, offset = [], 0
    for f in fields:
        placed.append(Field(f.name, offset, f.length, f.type, f.required, f.literal, f.pattern, f.codes))
        offset += f.length
    if offset < length:
        placed.append(Field("filler", offset, length - offset, FieldType.FILLER, required=False))
    return Layout(name, length, tuple(placed))


def markdown_table(lay: Layout) -> str:
    """The layout as a Markdown table (offsets 1-based, as layouts are usually printed)."""
    lines = [
        f"| {lay.name}: field | from byte | bytes | type | required |",
        "|---|---|---|---|---|",
    ]
    for f in lay.fields:
        kind = f"literal `{f.literal}`" if f.type is FieldType.LITERAL else f.type.value
        lines.append(f"| {f.name} | {f.offset + 1} | {f.length} | {kind} | {'yes' if f.required else 'no'} |")
    return "\n".join(lines)


class _Problem(Exception):
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


def _decoder(f: Field) -> Callable[[bytes], Any]:  # noqa: PLR0915 - one small closure per type
    """The function that reads ``f`` from its bytes (not blank), raising :class:`_Problem`."""
    if f.type is FieldType.DIGITS:

        def digits(raw: bytes) -> int:
            if not raw.isdigit() or not raw.isascii():
                raise _Problem("is not ASCII digits")
            return int(raw)

        return digits
    if f.type is FieldType.ASCII:
        rule = re.compile(f.pattern) if f.pattern else None

        def ascii_(raw: bytes) -> str:
            text = _ascii_text(raw)
            if text is None:
                raise _Problem("is not printable ASCII")
            value = text.rstrip(" ")
            if value != value.lstrip(" ") or (rule is not None and not rule.fullmatch(value)):
                raise _Problem("does not match its pattern")
            return value

        return ascii_
    if f.type is FieldType.TEXT:

        def text_(raw: bytes) -> str:
            text = _utf8(raw)
            if text is None:
                raise _Problem("is not valid UTF-8")
            if _CONTROL.search(text):
                raise _Problem("holds a control character")
            value = text.rstrip(" ")
            if value.startswith(" "):
                raise _Problem("is not left-aligned")
            return value

        return text_
    if f.type is FieldType.DATE:

        def date_(raw: bytes) -> date:
            if len(raw) != 8 or not raw.isdigit() or not raw.isascii():
                raise _Problem("is not a date YYYYMMDD")
            value = _make_date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
            if value is None:
                raise _Problem("is not a calendar date")
            return value

        return date_
    if f.type is FieldType.MONTH:

        def month(raw: bytes) -> str:
            if len(raw) != 6 or not raw.isdigit() or not raw.isascii() or not 1 <= int(raw[4:]) <= 12:
                raise _Problem("is not a month YYYYMM")
            return f"{raw[:4].decode()}-{raw[4:].decode()}"

        return month
    if f.type is FieldType.CODE:
        table = {code.encode("ascii").ljust(f.length): value for code, value in f.codes}

        def code(raw: bytes) -> Any:
            try:
                return table[raw]
            except KeyError:
                raise _Problem("is not a known code") from None

        return code
    if f.type is FieldType.FLAG:

        def flag(raw: bytes) -> bool:
            if raw == b"1":
                return True
            if raw == b"0":
                return False
            raise _Problem("is not a flag 0 or 1")

        return flag
    if f.type is FieldType.INDIVIDUAL_NUMBER:

        def number(raw: bytes) -> IndividualNumber:
            if not raw.isascii() or not raw.isdigit():
                raise _Problem("is not twelve ASCII digits")
            value = _individual_number(raw.decode("ascii"))
            if value is None:
                raise _Problem("has a bad check digit")
            return value

        return number
    raise ValueError(f"no decoder for {f.type}")


def _encode_value(f: Field, value: Any) -> bytes:  # noqa: PLR0912 - a flat dispatch on the type
    """``value`` as exactly ``f.length`` bytes, raising :class:`_Problem`."""
    if value is None:
        if f.required:
            raise _Problem("is required")
        return b" " * f.length
    raw: bytes
    if f.type is FieldType.DIGITS:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value >= 10**f.length:
            raise _Problem("is not a non-negative integer that fits")
        return b"%0*d" % (f.length, value)
    if f.type in (FieldType.ASCII, FieldType.TEXT):
        if not isinstance(value, str) or value != value.strip(" ") or _CONTROL.search(value):
            raise _Problem("is not text without control characters or surrounding spaces")
        if f.type is FieldType.ASCII and (
            not value.isascii() or (f.pattern and not re.fullmatch(f.pattern, value))
        ):
            raise _Problem("does not match its pattern")
        raw = value.encode("utf-8")
        if not raw and f.required:
            raise _Problem("is required")
    elif f.type is FieldType.DATE:
        if not isinstance(value, date):
            raise _Problem("is not a date")
        raw = b"%04d%02d%02d" % (value.year, value.month, value.day)
    elif f.type is FieldType.MONTH:
        if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", value):
            raise _Problem("is not a month YYYY-MM")
        raw = value.replace("-", "").encode("ascii")
    elif f.type is FieldType.CODE:
        codes = [code for code, v in f.codes if v == value]
        if not codes:
            raise _Problem("has no code")
        raw = codes[0].encode("ascii")
    elif f.type is FieldType.FLAG:
        if not isinstance(value, bool):
            raise _Problem("is not a flag")
        raw = b"1" if value else b"0"
    elif f.type is FieldType.INDIVIDUAL_NUMBER:
        if not isinstance(value, IndividualNumber):
            raise _Problem("is not an Individual Number")
        raw = value.reveal().encode("ascii")
    else:
        raise _Problem("cannot be written")
    if len(raw) > f.length:
        raise _Problem(f"is longer than {f.length} bytes")
    return raw.ljust(f.length, b" ")


class RecordCodec:
    """Reads and writes the records of one :class:`Layout`.

    Attributes:
        value_names: the names of the fields that carry values (not literals, not fillers), in order;
            :meth:`encode` takes the values in this order and :meth:`decode` returns them by name.
    """

    def __init__(self, lay: Layout) -> None:
        self.layout = lay
        self._struct = struct.Struct("".join(f"{f.length}s" for f in lay.fields))
        self.value_names = tuple(
            f.name for f in lay.fields if f.type not in (FieldType.LITERAL, FieldType.FILLER)
        )
        # Per field: (field, blank bytes, literal bytes, decoder or None for literals and fillers).
        self._reads = tuple(
            (
                f,
                b" " * f.length,
                f.literal.encode("ascii"),
                None if f.type in (FieldType.LITERAL, FieldType.FILLER) else _decoder(f),
            )
            for f in lay.fields
        )
        # Per field: (constant bytes, None, -1) for literals and fillers, else (blank, field, value index).
        steps: list[tuple[bytes, Field | None, int]] = []
        for f in lay.fields:
            if f.type is FieldType.LITERAL:
                steps.append((f.literal.encode("ascii"), None, -1))
            elif f.type is FieldType.FILLER:
                steps.append((b" " * f.length, None, -1))
            else:
                steps.append((b" " * f.length, f, self.value_names.index(f.name)))
        self._steps = tuple(steps)

    def decode(self, buffer: bytes, offset: int, record_no: int) -> dict[str, Any]:
        """Read the record at ``offset`` of ``buffer`` into ``{field name: value}`` (no literal, no filler).

        Raises:
            JlisWireError: a field breaks its type; the error names ``record_no`` and the field.
        """
        values: dict[str, Any] = {}
        parts = self._struct.unpack_from(buffer, offset)
        for (f, blank, literal, decode), raw in zip(self._reads, parts, strict=True):
            problem: str | None = None
            if decode is None:
                if f.type is FieldType.LITERAL and raw != literal:
                    problem = "is not the expected literal"
                elif f.type is FieldType.FILLER and raw != blank:
                    problem = "is not blank"
            elif raw == blank:
                if f.required:
                    problem = "is required"
                values[f.name] = None
            else:
                try:
                    values[f.name] = decode(raw)
                except _Problem as exc:
                    problem = str(exc)
            if problem is not None:
                raise JlisWireError(problem, record_no=record_no, field=f.name)
        return values

    def encode(self, values: Sequence[Any], record_no: int) -> bytes:
        """Write one record from its values, in the order of :attr:`value_names`.

        Raises:
            JlisWireError: a value does not fit its field; the error names ``record_no`` and the field.
        """
        parts = []
        for constant, f, index in self._steps:
            if f is None:
                parts.append(constant)
                continue
            value = values[index]
            if value is None and not f.required:
                parts.append(constant)
                continue
            try:
                parts.append(_encode_value(f, value))
            except _Problem as exc:
                raise JlisWireError(str(exc), record_no=record_no, field=f.name) from None
        return b"".join(parts)

    def encode_mapping(self, values: Mapping[str, Any], record_no: int) -> bytes:
        """Write one record from ``{field name: value}`` (absent names are ``None``)."""
        return self.encode([values.get(name) for name in self.value_names], record_no)
