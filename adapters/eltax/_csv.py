"""The CSV engine: rows whose items are declared as data (item number, most characters, type, required).

Used for the payment report (公的年金等支払報告書, 総務省通達形式: CP932, comma-separated, no quoting) and
for the receipt. Rows are split on the byte ``,`` *before* decoding: 0x2C is never a CP932 trail byte,
so the split is exact, and a byte that is not CP932 is reported against its item. Lengths count
characters, as the 総務省通達形式 does ("全角60" is sixty characters).

Writing checks every item and raises :class:`~adapters.eltax.errors.EltaxFieldRefused` naming the record
and the item; reading raises :class:`~adapters.eltax.errors.EltaxWireError`, or lists every problem of a
row (:meth:`CsvCodec.problems`) for the receipt's per-record errors. No message holds a value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from adapters.eltax._fields import Field, FieldProblem, FieldType, Problem, ProblemKind, place
from adapters.eltax._text import cp932_fullwidth, cp932_halfwidth_kana, to_fullwidth_kana, to_halfwidth_kana
from adapters.eltax.errors import EltaxFieldRefused, EltaxWireError
from contracts.individual_number import IndividualNumber, is_valid_individual_number

__all__ = ["SEPARATOR", "CsvCodec", "CsvLayout", "csv_layout"]

SEPARATOR: Final = b","
_UNKNOWN: Final = object()
_ASCII_ITEM: Final = re.compile(r"[ -~]*")


@dataclass(frozen=True, slots=True)
class CsvLayout:
    """The items of one row kind, in order (``offset`` is the 0-based item index)."""

    name: str
    fields: tuple[Field, ...]

    def __post_init__(self) -> None:
        for index, f in enumerate(self.fields):
            if f.offset != index or f.length < 1:
                raise ValueError(f"layout {self.name}: item {f.name} is out of place")
            if f.type in (FieldType.KANJI, FieldType.SHIFT_IN, FieldType.SHIFT_OUT):
                raise ValueError(f"layout {self.name}: {f.name}: JIS items are fixed-length only")


def csv_layout(name: str, *fields: Field) -> CsvLayout:
    """Number the items in order."""
    return CsvLayout(name, place(fields, by_bytes=False))


def _fits(text: str, f: Field) -> str:
    if len(text) > f.length:
        raise FieldProblem(f"is longer than {f.length} characters", ProblemKind.SIZE)
    return text


def encode_item(f: Field, value: Any) -> str:  # noqa: PLR0912 - a flat dispatch on the type
    """``value`` as the text of one item, raising :class:`FieldProblem`."""
    t = f.type
    if t is FieldType.DIGITS:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 10**f.length:
            raise FieldProblem("is not a non-negative integer that fits", ProblemKind.SIZE)
        return str(value).zfill(f.length) if f.padded else str(value)
    if not isinstance(value, str) and t in (FieldType.ASCII, FieldType.FULLWIDTH, FieldType.KANA):
        raise FieldProblem("is not text")
    if t is FieldType.ASCII:
        if not value or not _ASCII_ITEM.fullmatch(value) or "," in value or '"' in value:
            raise FieldProblem("is not printable ASCII without comma or quote")
        if f.pattern and not re.fullmatch(f.pattern, value):
            raise FieldProblem("does not match its pattern")
        return _fits(value, f)
    if t is FieldType.FULLWIDTH:
        if not value or cp932_fullwidth(value) is None:
            raise FieldProblem("is not full-width (two-byte) CP932 text", ProblemKind.CHARSET)
        return _fits(value, f)
    if t is FieldType.KANA:
        half = to_halfwidth_kana(value) if value and value == value.strip(" \u3000") else None
        if half is None or cp932_halfwidth_kana(half) is None:
            raise FieldProblem("is not katakana with a half-width form", ProblemKind.CHARSET)
        return _fits(half, f)
    if t is FieldType.DATE:
        if not isinstance(value, date) or not 1 <= value.year <= 9999:
            raise FieldProblem("is not a date")
        return f"{value.year:04d}{value.month:02d}{value.day:02d}"
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
    raise FieldProblem("cannot be written")


def _fail(problem: str, kind: ProblemKind = ProblemKind.PATTERN) -> Any:
    raise FieldProblem(problem, kind)


def _digits(f: Field) -> Callable[[str], int]:
    def read(text: str) -> int:
        if not text.isascii() or not text.isdigit() or len(text) > f.length:
            raise FieldProblem(f"is not at most {f.length} ASCII digits")
        if f.padded and len(text) != f.length:
            raise FieldProblem(f"is not {f.length} zero-padded digits")
        return int(text)

    return read


def _date(text: str) -> date:
    parsed: date | None = None
    if len(text) == 8 and text.isascii() and text.isdigit():
        try:
            parsed = date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            parsed = None
    return parsed if parsed is not None else _fail("is not a calendar date YYYYMMDD", ProblemKind.RANGE)


def decoder(f: Field) -> Callable[[str], Any]:
    """The function that reads ``f`` from its (non-empty) text, raising :class:`FieldProblem`."""
    t = f.type
    if t is FieldType.DIGITS:
        return _digits(f)
    if t is FieldType.ASCII:
        rule = re.compile(f.pattern) if f.pattern else None

        def ascii_(text: str) -> str:
            if not _ASCII_ITEM.fullmatch(text) or '"' in text:
                raise FieldProblem("is not printable ASCII")
            if rule is not None and not rule.fullmatch(text):
                raise FieldProblem("does not match its pattern")
            return _fits(text, f)

        return ascii_
    if t is FieldType.FULLWIDTH:
        return lambda text: (
            _fits(text, f)
            if cp932_fullwidth(text) is not None
            else _fail("is not full-width text", ProblemKind.CHARSET)
        )
    if t is FieldType.KANA:
        return lambda text: (
            to_fullwidth_kana(_fits(text, f))
            if cp932_halfwidth_kana(text) is not None and text == text.strip(" ")
            else _fail("is not half-width katakana", ProblemKind.CHARSET)
        )
    if t is FieldType.DATE:
        return _date
    if t is FieldType.CODE:
        table = dict(f.codes)
        return lambda text: table[text] if text in table else _fail("is not a known code")
    if t is FieldType.FLAG:
        return lambda text: text == "1" if text in ("0", "1") else _fail("is not a flag 0 or 1")
    if t is FieldType.INDIVIDUAL_NUMBER:
        return lambda text: (
            IndividualNumber(text)
            if is_valid_individual_number(text)
            else _fail("is not twelve ASCII digits with a valid check digit")
        )
    raise ValueError(f"no decoder for {t}")


class CsvCodec:
    """Reads and writes the rows of one :class:`CsvLayout` (CP932, no line terminator).

    Args:
        layout: the row's layout.
        file_kind: how errors name the file (``payment report``).
    """

    def __init__(self, layout: CsvLayout, file_kind: str) -> None:
        self.layout = layout
        self.file_kind = file_kind
        constants = (FieldType.LITERAL, FieldType.FILLER)
        self._readers = tuple(None if f.type in constants else decoder(f) for f in layout.fields)

    def encode_row(self, values: Mapping[str, Any], record_no: int) -> bytes:
        """One row from ``{item name: value}`` (absent names are ``None``), in CP932.

        Raises:
            EltaxFieldRefused: a value the layout forbids; the record and the item are named.
        """
        items = []
        for f in self.layout.fields:
            value = values.get(f.name)
            problem: str | None = None
            if f.type is FieldType.LITERAL:
                items.append(f.literal)
                continue
            if f.type is FieldType.FILLER or (value is None and not f.required):
                items.append("")
                continue
            if value is None:
                problem = "is required"
            else:
                try:
                    items.append(encode_item(f, value))
                except FieldProblem as exc:
                    problem = str(exc)
            if problem is not None:
                raise EltaxFieldRefused(problem, file_kind=self.file_kind, record_no=record_no, field=f.title)
        # Every item was checked to be CP932 above; the join cannot fail.
        return ",".join(items).encode("cp932")

    def problems(self, line: bytes) -> tuple[dict[str, Any], list[Problem]]:
        """Read a row, collecting every problem: ``(values read, problems)``."""
        parts = line.split(SEPARATOR)
        if len(parts) != len(self.layout.fields):
            found = f"has {len(parts)} items, not {len(self.layout.fields)}"
            return {}, [Problem(None, found, ProblemKind.STRUCTURE)]
        values: dict[str, Any] = {}
        found_all: list[Problem] = []
        for f, raw, read in zip(self.layout.fields, parts, self._readers, strict=True):
            try:
                text: str | None = raw.decode("cp932")
            except UnicodeDecodeError:
                text = None
            if text is None:
                found_all.append(Problem(f, "is not CP932", ProblemKind.CHARSET))
                continue
            if read is None:
                if text != f.literal:
                    rule = "is not the expected constant" if f.literal else "is not blank"
                    found_all.append(Problem(f, rule, ProblemKind.STRUCTURE))
                continue
            if not text:
                values[f.name] = None
                if f.required:
                    found_all.append(Problem(f, "is required", ProblemKind.REQUIRED))
                continue
            problem: FieldProblem | None = None
            try:
                values[f.name] = read(text)
            except FieldProblem as exc:
                problem = exc
            if problem is not None:
                found_all.append(Problem(f, str(problem), problem.kind))
        return values, found_all

    def decode_row(self, line: bytes, record_no: int) -> dict[str, Any]:
        """Read one row into ``{item name: value}``.

        Raises:
            EltaxWireError: the row breaks the layout; the first problem is named with the record.
        """
        values, found = self.problems(line)
        if found:
            raise EltaxWireError(
                found[0].text, file_kind=self.file_kind, record_no=record_no, field=found[0].where
            )
        return values
