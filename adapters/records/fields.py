"""The field kinds every counterpart layout is declared with, and the problems a field can have.

A layout is data: a tuple of :class:`Field` (name, label, offset, length, type, required, ...). The
fixed-width engine (:mod:`adapters.records.fixed`) counts offsets and lengths in bytes; the CSV engine
(:mod:`adapters.records.csv`) counts offsets in items (columns) and lengths in characters, as CSV
specifications (総務省通達形式) do. Both read and write from the same declaration, so the two directions
cannot drift apart, and the documentation tables are generated from it (:func:`markdown_table`).

Every reader and writer raises :class:`FieldProblem` whose text names the rule broken, never the value: a
field may hold an Individual Number. The engines turn problems into the adapter's own error through an
:data:`ErrorFactory`, so this package knows no adapter and no hub.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any, Final, TypeVar

from contracts.individual_number import IndividualNumber, is_valid_individual_number

__all__ = [
    "CONSTANT_TYPES",
    "CONTROL",
    "JST",
    "ErrorFactory",
    "Field",
    "FieldProblem",
    "FieldType",
    "Problem",
    "ProblemKind",
    "encode_plain",
    "fail",
    "field",
    "markdown_table",
    "place",
    "plain_decoder",
    "read_field",
    "write_field",
]

JST: Final = timezone(timedelta(hours=9))
"""Japan time: the zone of every ``DATETIME`` field (counterpart files carry no offset)."""
CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""Control characters, and the bidirectional marks, embeddings, overrides and isolates: an RTL override
in a name makes it display other than it reads, in every file and screen it reaches."""


class FieldType(StrEnum):
    """How a field's value is written and read. Some kinds exist only in one engine (said below)."""

    LITERAL = "literal"
    """Fixed ASCII text (a record kind, a format id, a document kind such as ``331``)."""
    DIGITS = "digits"
    """An unsigned integer in ASCII digits: always zero-padded in fixed-width records, in CSV only when
    the field is ``padded``."""
    ASCII = "ascii"
    """Printable ASCII matching the field's pattern (in CSV: no comma, no quote)."""
    TEXT = "text"
    """Free text without control characters or surrounding white space; fixed-width: UTF-8, the length
    in bytes."""
    FULLWIDTH = "fullwidth"
    """CSV only: characters CP932 writes in two bytes (全角); the length counts characters."""
    KANA = "kana"
    """Half-width katakana on the wire (半角カナ), full-width katakana in Python (U+3000 as the space)."""
    KANJI = "kanji"
    """Fixed-width only: JIS X 0208 two-byte codes between shift sequences, padded with U+3000."""
    DATE = "date"
    """A calendar date, ``YYYYMMDD``."""
    ISO_DATE = "iso_date"
    """A calendar date, ``YYYY-MM-DD`` (ISO 8601, as the pension exchange writes every date)."""
    MONTH = "month"
    """Fixed-width only: a month, ``YYYYMM`` on the wire, ``YYYY-MM`` in Python."""
    DATETIME = "datetime"
    """CSV only: an aware instant, ``YYYYMMDDHHMMSS`` in Japan time on the wire."""
    CODE = "code"
    """One code of a closed table."""
    FLAG = "flag"
    """``0`` or ``1``."""
    INDIVIDUAL_NUMBER = "individual_number"
    """Twelve ASCII digits with a valid check digit."""
    SHIFT_IN = "shift_in"
    """Fixed-width only: the 3-byte ``ESC $ B`` before a kanji field."""
    SHIFT_OUT = "shift_out"
    """Fixed-width only: the 3-byte ``ESC ( B`` after a kanji field."""
    FILLER = "filler"
    """Spaces only (予備)."""


CONSTANT_TYPES: Final = frozenset(
    {FieldType.LITERAL, FieldType.SHIFT_IN, FieldType.SHIFT_OUT, FieldType.FILLER}
)
"""The kinds that carry no value: what they hold is fixed by the layout."""


@dataclass(frozen=True, slots=True)
class Field:
    """One field (fixed-width) or item (CSV) of a layout.

    Attributes:
        name: the field's name in Python, also the key of its value in a decoded record.
        label: the field's name in the specification (Japanese), shown in errors and documentation; a
            CSV with a column line writes it there.
        offset: 0-based byte offset (fixed-width) or item index (CSV); set by the layout.
        length: bytes (fixed-width) or the most characters (CSV).
        type: how the value is written and read.
        required: a blank required field is an error; a blank optional one reads as ``None``.
        literal: the text of a ``LITERAL`` field.
        pattern: the regular expression an ``ASCII`` value matches in full.
        codes: ``(wire code, value)`` pairs of a ``CODE`` field.
        padded: a ``DIGITS`` item of a CSV is zero-padded to ``length`` (fixed-width ones always are).
        source: where the field comes from: ``D`` documented, ``D-code`` public code, ``I`` inferred.
    """

    name: str
    label: str
    offset: int
    length: int
    type: FieldType
    required: bool = True
    literal: str = ""
    pattern: str = ""
    codes: tuple[tuple[str, Any], ...] = ()
    padded: bool = False
    source: str = "D-code"

    @property
    def title(self) -> str:
        """How errors name the field: its Python name and its label (or the name alone)."""
        return f"{self.name} ({self.label})" if self.label else self.name


class ProblemKind(StrEnum):
    """What kind of rule a field breaks; the value is the error code a receipt may carry."""

    REQUIRED = "E001"
    """必須: a required field is blank."""
    PATTERN = "E002"
    """パターン: not the field's type, pattern or code table."""
    SIZE = "E003"
    """サイズ: longer than the field."""
    RANGE = "E004"
    """範囲: the form is right but the value is impossible (a date that does not exist)."""
    CHARSET = "E005"
    """文字: a character outside the field's character set (CP932 two-byte, JIS X 0208, JIS X 0201)."""
    STRUCTURE = "E010"
    """構成: the record's shape (item count, constants, shifts, truncation)."""
    CONSISTENCY = "E020"
    """整合: fields that contradict each other within the record or the file."""


class FieldProblem(Exception):
    """A field-level problem; its text never holds the value.

    Attributes:
        kind: the kind of rule broken.
    """

    def __init__(self, problem: str, kind: ProblemKind = ProblemKind.PATTERN) -> None:
        super().__init__(problem)
        self.kind = kind


def fail(problem: str, kind: ProblemKind = ProblemKind.PATTERN) -> Any:
    """Raise :class:`FieldProblem`; typed ``Any`` so a reader can use it as the other branch of a choice."""
    raise FieldProblem(problem, kind)


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found in a record: the field (``None``: the record as a whole), the rule, its kind."""

    field: Field | None
    text: str
    kind: ProblemKind

    @property
    def where(self) -> str | None:
        """How an error names the field (:attr:`Field.title`), or ``None`` for the record as a whole."""
        return None if self.field is None else self.field.title


ErrorFactory = Callable[[Problem, int], Exception]
"""Turns a problem of record ``record_no`` into the adapter's own error (the engines raise what it
returns, outside any ``except`` block, so no error carries a chained exception quoting the input)."""

W = TypeVar("W")
Raw = TypeVar("Raw")


def write_field(f: Field, value: Any, encode: Callable[[Field, Any], W], blank: W) -> W | Problem:
    """What an engine writes for ``value`` in ``f``, or the :class:`Problem` naming ``f``.

    An absent value (``None``, or ``""`` in free text) is ``blank`` when ``f`` is optional and a problem
    when it is required; any other value is what ``encode`` makes of it, or the problem it raises. The
    problem is returned for the engine to raise outside any ``except`` block (:data:`ErrorFactory`).
    """
    if value is None or (value == "" and f.type is FieldType.TEXT):
        return blank if not f.required else Problem(f, "is required", ProblemKind.REQUIRED)
    try:
        return encode(f, value)
    except FieldProblem as exc:  # its text names the rule, never the value
        return Problem(f, str(exc), exc.kind)


def read_field(f: Field, read: Callable[[Raw], Any], raw: Raw) -> object:
    """What ``read`` makes of the (non-blank) ``raw`` of ``f``, or the :class:`Problem` it raises."""
    try:
        return read(raw)
    except FieldProblem as exc:  # its text names the rule, never the value
        return Problem(f, str(exc), exc.kind)


def field(
    name: str,
    label: str,
    length: int,
    type_: FieldType,
    *,
    required: bool = True,
    literal: str = "",
    pattern: str = "",
    codes: tuple[tuple[str, Any], ...] = (),
    padded: bool = False,
    source: str = "D-code",
) -> Field:
    """A field whose offset the layout fills in (``label`` may be ``""`` where the format has none)."""
    return Field(name, label, -1, length, type_, required, literal, pattern, codes, padded, source)


def place(fields: Iterable[Field], *, by_bytes: bool) -> tuple[Field, ...]:
    """Give each field its offset: running byte offsets, or item indexes."""
    placed, offset = [], 0
    for f in fields:
        placed.append(replace(f, offset=offset))
        offset += f.length if by_bytes else 1
    return tuple(placed)


def markdown_table(title: str, fields: Iterable[Field], *, by_bytes: bool, labelled: bool = True) -> str:
    """A layout as a Markdown table (positions 1-based, as specifications print them).

    ``labelled`` tables add the label, the code table and the source of each field; the short form is
    for formats whose fields have no label of their own.
    """
    if not labelled:
        lines = [f"| {title}: field | from byte | bytes | type | required |", "|---|---|---|---|---|"]
        for f in fields:
            kind = f"literal `{f.literal}`" if f.type is FieldType.LITERAL else f.type.value
            lines.append(
                f"| {f.name} | {f.offset + 1} | {f.length} | {kind} | {'yes' if f.required else 'no'} |"
            )
        return "\n".join(lines)
    where, size = ("byte", "bytes") if by_bytes else ("item", "max chars")
    lines = [
        f"| {title}: field | label | {where} | {size} | type | required | source |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in fields:
        kind = f"literal `{f.literal}`" if f.type is FieldType.LITERAL else f.type.value
        if f.type is FieldType.CODE:
            kind += " " + "/".join(code for code, _ in f.codes)
        lines.append(
            f"| {f.name} | {f.label} | {f.offset + 1} | {f.length} | {kind} | "
            f"{'yes' if f.required else 'no'} | {f.source} |"
        )
    return "\n".join(lines)


def encode_plain(f: Field, value: Any, *, padded: bool) -> str | None:
    """The text of ``value`` (not ``None``) for the kinds both engines write alike, else ``None``.

    Digits, dates, codes, flags and Individual Numbers are ASCII and the same text in a fixed-width field
    and a CSV item; only the padding of digits differs (``padded``). Raises :class:`FieldProblem`.
    """
    t = f.type
    if t is FieldType.DIGITS:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 10**f.length:
            raise FieldProblem("is not a non-negative integer that fits", ProblemKind.SIZE)
        return str(value).zfill(f.length) if padded else str(value)
    if t is FieldType.DATE:
        if not isinstance(value, date) or isinstance(value, datetime):
            raise FieldProblem("is not a date")
        return f"{value.year:04d}{value.month:02d}{value.day:02d}"
    if t is FieldType.ISO_DATE:
        if not isinstance(value, date) or isinstance(value, datetime):
            raise FieldProblem("is not a date")
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    if t is FieldType.CODE:
        codes = [code for code, v in f.codes if v == value]
        if not codes:
            raise FieldProblem("has no code")
        return codes[0]
    if t is FieldType.FLAG:
        if not isinstance(value, bool):
            raise FieldProblem("is not a flag")
        return "1" if value else "0"
    if t is FieldType.INDIVIDUAL_NUMBER:
        if not isinstance(value, IndividualNumber):
            raise FieldProblem("is not an Individual Number")
        return value.reveal()
    return None


def _date(text: str) -> date:
    parsed: date | None = None
    if len(text) == 8 and text.isascii() and text.isdigit():
        try:
            parsed = date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            parsed = None
    return parsed if parsed is not None else fail("is not a calendar date YYYYMMDD", ProblemKind.RANGE)


def _iso_date(text: str) -> date:
    parsed: date | None = None
    if len(text) == 10 and text.isascii() and text[4] == text[7] == "-":
        year, month, day = text[:4], text[5:7], text[8:]
        if all(part.isdigit() for part in (year, month, day)):
            try:
                parsed = date(int(year), int(month), int(day))
            except ValueError:
                parsed = None
    return parsed if parsed is not None else fail("is not a calendar date YYYY-MM-DD", ProblemKind.RANGE)


def _number(text: str) -> IndividualNumber:
    if not is_valid_individual_number(text):
        raise FieldProblem("is not twelve ASCII digits with a valid check digit")
    return IndividualNumber(text)


def _flag(text: str) -> bool:
    return text == "1" if text in ("0", "1") else fail("is not a flag 0 or 1")


def plain_decoder(f: Field, *, padded: bool) -> Callable[[str], Any] | None:
    """What reads the (non-blank) text of the kinds both engines read alike, else ``None``.

    Digits, dates (both forms), flags and Individual Numbers; the reader raises :class:`FieldProblem`.
    """
    if f.type is FieldType.DIGITS:

        def digits(text: str) -> int:
            if not text.isascii() or not text.isdigit() or len(text) > f.length:
                raise FieldProblem(f"is not at most {f.length} ASCII digits")
            if padded and len(text) != f.length:
                raise FieldProblem(f"is not {f.length} zero-padded digits")
            return int(text)

        return digits
    return {
        FieldType.DATE: _date,
        FieldType.ISO_DATE: _iso_date,
        FieldType.FLAG: _flag,
        FieldType.INDIVIDUAL_NUMBER: _number,
    }.get(f.type)
