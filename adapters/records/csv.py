"""The CSV engine: rows whose items are declared as data (item number, most characters, type, required).

Two dialects are in use, and the items are read and written alike in both:

* **CP932, no quoting** (eLTAX payment report and receipt, 総務省通達形式): rows are split on the byte
  ``,`` *before* decoding: 0x2C is never a CP932 trail byte, so the split is exact, and a byte that is not
  CP932 is reported against its item (:meth:`CsvCodec.problems`, :meth:`CsvCodec.encode_row`).
* **UTF-8, RFC 4180 quoting** (intermediate server files): the caller splits lines with
  :func:`rfc4180_items` and writes them with :func:`rfc4180_line`, and reads and writes the items with
  :meth:`CsvCodec.read_items` and :meth:`CsvCodec.write_items`.

Lengths count characters ("全角60" is sixty characters). Writing checks every item and raises what the
``writing`` factory makes of the problem; reading raises what ``reading`` makes of the first problem, or
lists every problem of a row for a counterpart's per-record errors. No message holds a value.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from adapters.records.fields import (
    CONTROL,
    JST,
    ErrorFactory,
    Field,
    FieldProblem,
    FieldType,
    Problem,
    ProblemKind,
    encode_plain,
    fail,
    place,
    plain_decoder,
    read_field,
    write_field,
)
from adapters.records.text import cp932_fullwidth, cp932_halfwidth_kana, to_fullwidth_kana, to_halfwidth_kana

__all__ = [
    "SEPARATOR",
    "CsvCodec",
    "CsvLayout",
    "csv_layout",
    "decoder",
    "encode_item",
    "rfc4180_items",
    "rfc4180_line",
]

SEPARATOR: Final = b","
_ASCII_ITEM: Final = re.compile(r"[ -~]*")
_FIXED_ONLY: Final = (FieldType.KANJI, FieldType.SHIFT_IN, FieldType.SHIFT_OUT, FieldType.MONTH)


@dataclass(frozen=True, slots=True)
class CsvLayout:
    """The items of one row kind, in order (``offset`` is the 0-based item index)."""

    name: str
    fields: tuple[Field, ...]

    def __post_init__(self) -> None:
        for index, f in enumerate(self.fields):
            if f.offset != index or f.length < 1:
                raise ValueError(f"layout {self.name}: item {f.name} is out of place")
            if f.type in _FIXED_ONLY:
                raise ValueError(f"layout {self.name}: {f.name}: {f.type.value} items are fixed-width only")

    @property
    def labels(self) -> list[str]:
        """The items' labels in order (a column line)."""
        return [f.label for f in self.fields]


def csv_layout(name: str, *fields: Field) -> CsvLayout:
    """Number the items in order."""
    return CsvLayout(name, place(fields, by_bytes=False))


def _fits(text: str, f: Field) -> str:
    if len(text) > f.length:
        raise FieldProblem(f"is longer than {f.length} characters", ProblemKind.SIZE)
    return text


def _free_text(text: str, f: Field) -> str:
    if CONTROL.search(text) or text != text.strip():
        raise FieldProblem("is not text without control characters or surrounding spaces")
    return _fits(text, f)


def encode_item(f: Field, value: Any) -> str:
    """``value`` (not ``None``) as the text of one item, raising :class:`FieldProblem`."""
    plain = encode_plain(f, value, padded=f.padded)
    if plain is not None:
        return plain
    t = f.type
    if not isinstance(value, str) and t in (
        FieldType.ASCII,
        FieldType.TEXT,
        FieldType.FULLWIDTH,
        FieldType.KANA,
    ):
        raise FieldProblem("is not text")
    if t is FieldType.ASCII:
        if not value or not _ASCII_ITEM.fullmatch(value) or "," in value or '"' in value:
            raise FieldProblem("is not printable ASCII without comma or quote")
        if f.pattern and not re.fullmatch(f.pattern, value):
            raise FieldProblem("does not match its pattern")
        return _fits(value, f)
    if t is FieldType.TEXT:
        return _free_text(value, f)
    if t is FieldType.FULLWIDTH:
        if not value or cp932_fullwidth(value) is None:
            raise FieldProblem("is not full-width (two-byte) CP932 text", ProblemKind.CHARSET)
        return _fits(value, f)
    if t is FieldType.KANA:
        half = to_halfwidth_kana(value) if value and value == value.strip(" \u3000") else None
        if half is None or cp932_halfwidth_kana(half) is None:
            raise FieldProblem("is not katakana with a half-width form", ProblemKind.CHARSET)
        return _fits(half, f)
    if t is FieldType.DATETIME:
        local = _in_japan(value)
        if local is None:
            raise FieldProblem("is not an aware date and time that Japan time can hold")
        return f"{local.year:04d}{local:%m%d%H%M%S}"
    raise FieldProblem("cannot be written")


def _in_japan(value: Any) -> datetime | None:
    if not isinstance(value, datetime) or value.tzinfo is None:
        return None
    try:
        return value.astimezone(JST)
    except OverflowError:  # the last hours of year 9999 UTC are in year 10000 in Japan
        return None


def _datetime(text: str) -> datetime:
    parsed: datetime | None = None
    if len(text) == 14 and text.isascii() and text.isdigit():
        parts = [int(text[i:j]) for i, j in ((0, 4), (4, 6), (6, 8), (8, 10), (10, 12), (12, 14))]
        try:
            year, month, day, hour, minute, second = parts
            parsed = datetime(year, month, day, hour, minute, second, tzinfo=JST)
        except ValueError:
            parsed = None
    return parsed if parsed is not None else fail("is not a date and time YYYYMMDDHHMMSS", ProblemKind.RANGE)


def decoder(f: Field) -> Callable[[str], Any]:
    """The function that reads ``f`` from its (non-empty) text, raising :class:`FieldProblem`."""
    plain = plain_decoder(f, padded=f.padded)
    if plain is not None:
        return plain
    t = f.type
    if t is FieldType.ASCII:
        rule = re.compile(f.pattern) if f.pattern else None

        def ascii_(text: str) -> str:
            if not _ASCII_ITEM.fullmatch(text) or '"' in text:
                raise FieldProblem("is not printable ASCII")
            if rule is not None and not rule.fullmatch(text):
                raise FieldProblem("does not match its pattern")
            return _fits(text, f)

        return ascii_
    if t is FieldType.TEXT:
        return lambda text: _free_text(text, f)
    if t is FieldType.FULLWIDTH:
        return lambda text: (
            _fits(text, f)
            if cp932_fullwidth(text) is not None
            else fail("is not full-width text", ProblemKind.CHARSET)
        )
    if t is FieldType.KANA:
        return lambda text: (
            to_fullwidth_kana(_fits(text, f))
            if cp932_halfwidth_kana(text) is not None and text == text.strip(" ")
            else fail("is not half-width katakana", ProblemKind.CHARSET)
        )
    if t is FieldType.DATETIME:
        return _datetime
    if t is FieldType.CODE:
        table = dict(f.codes)
        return lambda text: table[text] if text in table else fail("is not a known code")
    raise ValueError(f"no decoder for {t}")


def rfc4180_line(items: Sequence[str], terminator: str = "\r\n") -> str:
    """One line of RFC 4180 CSV (quoted only where needed), ending in ``terminator``."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=terminator, quoting=csv.QUOTE_MINIMAL).writerow(items)
    return buffer.getvalue()


def rfc4180_items(text: str) -> list[str] | None:
    """The items of one RFC 4180 line (no terminator); ``None``: bad quoting, or not one record."""
    try:
        rows = list(csv.reader([text], strict=True))
    except csv.Error:
        return None
    return rows[0] if len(rows) == 1 else None


class CsvCodec:
    """Reads and writes the rows of one :class:`CsvLayout`.

    Args:
        layout: the row's layout.
        reading: makes the adapter's error for a row that breaks the layout.
        writing: makes the adapter's error for a value the layout refuses (``reading`` when not given).
    """

    def __init__(
        self, layout: CsvLayout, *, reading: ErrorFactory, writing: ErrorFactory | None = None
    ) -> None:
        self.layout = layout
        self._reading = reading
        self._writing = writing or reading
        constants = (FieldType.LITERAL, FieldType.FILLER)
        self._readers = tuple(None if f.type in constants else decoder(f) for f in layout.fields)

    def write_items(self, values: Mapping[str, Any], record_no: int) -> list[str]:
        """The items of one row from ``{item name: value}`` (absent names are ``None``).

        Raises:
            Exception: what ``writing`` makes of a value the layout refuses, naming the record and item.
        """
        items = []
        for f in self.layout.fields:
            if f.type is FieldType.LITERAL:
                items.append(f.literal)
                continue
            if f.type is FieldType.FILLER:
                items.append("")
                continue
            item = write_field(f, values.get(f.name), encode_item, "")
            if isinstance(item, Problem):
                raise self._writing(item, record_no)
            items.append(item)
        return items

    def encode_row(self, values: Mapping[str, Any], record_no: int) -> bytes:
        """One CP932 row without quoting or line terminator (see :meth:`write_items`).

        The CP932 kinds (ASCII, FULLWIDTH, KANA, ...) were checked by :func:`encode_item`; free text may
        still hold a character CP932 lacks or would change, refused here against its item.
        """
        parts = []
        for f, item in zip(self.layout.fields, self.write_items(values, record_no), strict=True):
            raw = _to_cp932(item)
            # Free text must read back as written: CP932 folds some characters (U+00A2 reads as U+FFE0).
            if raw is None or (f.type is FieldType.TEXT and raw.decode("cp932") != item):
                raise self._writing(Problem(f, "is not CP932", ProblemKind.CHARSET), record_no)
            parts.append(raw)
        return SEPARATOR.join(parts)

    def read_items(self, items: Sequence[str | None]) -> tuple[dict[str, Any], list[Problem]]:
        """Read a row's items, collecting every problem: ``(values read, problems)``.

        An item is ``None`` when its bytes were not in the file's character set.
        """
        if len(items) != len(self.layout.fields):
            found = f"has {len(items)} items, not {len(self.layout.fields)}"
            return {}, [Problem(None, found, ProblemKind.STRUCTURE)]
        values: dict[str, Any] = {}
        found_all: list[Problem] = []
        for f, text, read in zip(self.layout.fields, items, self._readers, strict=True):
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
            value = read_field(f, read, text)
            if isinstance(value, Problem):
                found_all.append(value)
            else:
                values[f.name] = value
        return values, found_all

    def problems(self, line: bytes) -> tuple[dict[str, Any], list[Problem]]:
        """Read a CP932 row, collecting every problem: ``(values read, problems)``."""
        return self.read_items(_cp932_items(line))

    def decode_items(self, items: Sequence[str | None], record_no: int) -> dict[str, Any]:
        """Read one row's items into ``{item name: value}`` (``None``: an item not in the character set).

        Raises:
            Exception: what ``reading`` makes of the first problem, naming record ``record_no``.
        """
        values, found = self.read_items(items)
        if found:
            raise self._reading(found[0], record_no)
        return values

    def decode_row(self, line: bytes, record_no: int) -> dict[str, Any]:
        """Read one CP932 row into ``{item name: value}``.

        Raises:
            Exception: what ``reading`` makes of the first problem, naming record ``record_no``.
        """
        return self.decode_items(_cp932_items(line), record_no)


def _to_cp932(text: str) -> bytes | None:
    try:
        return text.encode("cp932")
    except UnicodeEncodeError:
        return None


def _cp932(raw: bytes) -> str | None:
    try:
        return raw.decode("cp932")
    except UnicodeDecodeError:
        return None


def _cp932_items(line: bytes) -> list[str | None]:
    """The items of a CP932 row, split on the byte ``,`` before decoding (``None``: not CP932)."""
    return [_cp932(raw) for raw in line.split(SEPARATOR)]
