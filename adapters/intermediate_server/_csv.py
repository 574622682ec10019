"""The CSV engine of the intermediate server files: columns, typed values, strict reading and writing.

A file is UTF-8 (no BOM) lines ending in CR LF::

    IS1,<kind>,<request id: 28 letters>,<batch id or ->,<provider code or ->,<record count>  control line
    <column label>,<column label>,...                                                          column line
    <value>,<value>,...                                                                        one per record

Values follow RFC 4180 quoting. An optional value is empty. Nothing in a value may be a control character,
so a line never spans two. Every problem is an :class:`~adapters.intermediate_server.errors.IsWireError`
naming the line and the column, never the value.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta, timezone
from enum import Enum, auto
from typing import Any, Final, Generic, TypeVar

from adapters.intermediate_server.errors import IsWireError
from contracts.individual_number import IndividualNumber, is_valid_individual_number

__all__ = [
    "JST",
    "Column",
    "FileHeader",
    "Kind",
    "Layout",
    "id_of_text",
    "id_text",
    "parse_file",
    "write_file",
]

JST: Final = timezone(timedelta(hours=9))
TERMINATOR: Final = "\r\n"
MAGIC: Final = "IS1"
MAX_RECORDS: Final = 100_000
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_BATCH = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_PROVIDER = re.compile(r"[0-9A-Z]{6}")
R = TypeVar("R")
_LETTERS: Final = "abcdefghijklmnopqrstuvwxyz"
ID_LETTERS: Final = 28  # 26**28 > 2**128 > 26**27


def id_text(value: uuid.UUID) -> str:
    """A UUID as 28 lowercase letters: no digit, so no part of a file name can pass for a number."""
    number, letters = value.int, []
    for _ in range(ID_LETTERS):
        number, digit = divmod(number, 26)
        letters.append(_LETTERS[digit])
    return "".join(reversed(letters))


def id_of_text(text: str) -> uuid.UUID | None:
    """The UUID of :func:`id_text`'s form, or ``None`` when ``text`` is not one."""
    if len(text) != ID_LETTERS or not all("a" <= c <= "z" for c in text):
        return None
    number = 0
    for c in text:
        number = number * 26 + _LETTERS.index(c)
    return uuid.UUID(int=number) if number < 2**128 else None


class Kind(Enum):
    """How a column's text becomes a value."""

    INT = auto()
    """Non-negative decimal, 1-10 ASCII digits."""
    PATTERN = auto()
    """ASCII text matching ``pattern``."""
    TEXT = auto()
    """Any text without control characters, up to ``max_len`` characters."""
    CODE = auto()
    """One of ``codes`` (wire text -> value)."""
    FLAG = auto()
    """``0`` or ``1``."""
    DATE = auto()
    """``YYYYMMDD``."""
    DATETIME = auto()
    """``YYYYMMDDHHMMSS`` in Japan time."""
    NUMBER = auto()
    """An Individual Number: twelve ASCII digits with a valid check digit."""


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its label in the file, the record attribute it fills and how."""

    label: str
    attr: str
    kind: Kind
    required: bool = True
    pattern: str | None = None
    codes: tuple[tuple[str, Any], ...] = ()
    max_len: int = 200

    def decode(self, text: str, line_no: int) -> Any:
        """The value of ``text`` (``None`` when an optional column is empty)."""
        if text == "":
            if self.required:
                raise IsWireError("is required", line_no=line_no, column=self.label)
            return None
        decoder = _DECODERS[self.kind]
        try:
            return decoder(self, text)
        except (ValueError, KeyError, OverflowError):
            raise IsWireError(
                f"is not a valid {self.kind.name.lower()}", line_no=line_no, column=self.label
            ) from None

    def encode(self, value: Any, line_no: int) -> str:
        """The text of ``value`` (empty for ``None`` in an optional column)."""
        if value is None:
            if self.required:
                raise IsWireError("is required", line_no=line_no, column=self.label)
            return ""
        try:
            text = _ENCODERS[self.kind](self, value)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise IsWireError(
                f"does not fit a {self.kind.name.lower()}", line_no=line_no, column=self.label
            ) from None
        # What is written must read back as the same value: the layout checks apply to both directions.
        self.decode(text, line_no)
        return text


def _int(column: Column, text: str) -> int:
    if not (1 <= len(text) <= 10 and text.isascii() and text.isdigit()):
        raise ValueError
    return int(text)


def _pattern(column: Column, text: str) -> str:
    if not text.isascii() or column.pattern is None or not re.fullmatch(column.pattern, text):
        raise ValueError
    return text


def _text(column: Column, text: str) -> str:
    if len(text) > column.max_len or _CONTROL.search(text) or text != text.strip():
        raise ValueError
    return text


def _code(column: Column, text: str) -> Any:
    return dict(column.codes)[text]


def _flag(column: Column, text: str) -> bool:
    return {"0": False, "1": True}[text]


def _date(column: Column, text: str) -> date:
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        raise ValueError
    return date(int(text[:4]), int(text[4:6]), int(text[6:]))


def _datetime(column: Column, text: str) -> datetime:
    if len(text) != 14 or not text.isascii() or not text.isdigit():
        raise ValueError
    d = [int(text[i:j]) for i, j in ((0, 4), (4, 6), (6, 8), (8, 10), (10, 12), (12, 14))]
    return datetime(d[0], d[1], d[2], d[3], d[4], d[5], tzinfo=JST)


def _number(column: Column, text: str) -> IndividualNumber:
    if not is_valid_individual_number(text):
        raise ValueError
    return IndividualNumber(text)


_DECODERS: Final[dict[Kind, Callable[[Column, str], Any]]] = {
    Kind.INT: _int,
    Kind.PATTERN: _pattern,
    Kind.TEXT: _text,
    Kind.CODE: _code,
    Kind.FLAG: _flag,
    Kind.DATE: _date,
    Kind.DATETIME: _datetime,
    Kind.NUMBER: _number,
}


def _code_text(column: Column, value: Any) -> str:
    for text, coded in column.codes:
        if coded == value:
            return text
    raise ValueError


def _date_text(column: Column, value: date) -> str:
    if isinstance(value, datetime):
        raise TypeError
    return value.strftime("%Y%m%d")


def _datetime_text(column: Column, value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError
    return value.astimezone(JST).strftime("%Y%m%d%H%M%S")


def _int_text(column: Column, value: int) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError
    return str(value)


_ENCODERS: Final[dict[Kind, Callable[[Column, Any], str]]] = {
    Kind.INT: _int_text,
    Kind.PATTERN: lambda c, v: str(v),
    Kind.TEXT: lambda c, v: str(v),
    Kind.CODE: _code_text,
    Kind.FLAG: lambda c, v: {False: "0", True: "1"}[v],
    Kind.DATE: _date_text,
    Kind.DATETIME: _datetime_text,
    Kind.NUMBER: lambda c, v: v.reveal(),
}


@dataclass(frozen=True, slots=True)
class FileHeader:
    """The control line: which kind of file, for which request, batch and provider."""

    kind: str
    request_id: uuid.UUID
    batch_id: str | None = None
    provider: str | None = None


@dataclass(frozen=True, slots=True)
class Layout(Generic[R]):
    """The columns of one file kind, the record type they fill, and the record's own rules.

    ``check`` returns ``(column label, problem)`` for the first rule a record breaks, or ``None``.
    """

    kind: str
    columns: tuple[Column, ...]
    record: type[R]
    check: Callable[[R], tuple[str, str] | None] = lambda record: None

    def __post_init__(self) -> None:
        names = {f.name for f in fields(self.record)}  # type: ignore[arg-type]
        if {c.attr for c in self.columns} != names:
            raise ValueError(f"layout {self.kind} does not cover {self.record.__name__} exactly")


def _line(values: Sequence[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=TERMINATOR, quoting=csv.QUOTE_MINIMAL).writerow(values)
    return buffer.getvalue()


def write_file(layout: Layout[R], header: FileHeader, records: Sequence[R]) -> bytes:
    """The bytes of a file.

    Raises:
        IsWireError: no record, or a value does not fit its column (line and column named).
    """
    if header.kind != layout.kind:
        raise IsWireError("the header names another kind of file")
    if not 1 <= len(records) <= MAX_RECORDS:
        raise IsWireError(f"a file holds 1 to {MAX_RECORDS} records")
    if header.batch_id is not None and not _BATCH.fullmatch(header.batch_id):
        raise IsWireError("is not a batch id", line_no=1, column="batch_id")
    if header.provider is not None and not _PROVIDER.fullmatch(header.provider):
        raise IsWireError("is not an organisation code", line_no=1, column="provider")
    control = [MAGIC, layout.kind, id_text(header.request_id), header.batch_id or "-", header.provider or "-"]
    parts = [_line([*control, str(len(records))]), _line([c.label for c in layout.columns])]
    for line_no, record in enumerate(records, start=3):
        problem = layout.check(record)
        if problem is not None:
            raise IsWireError(problem[1], line_no=line_no, column=problem[0])
        parts.append(_line([c.encode(getattr(record, c.attr), line_no) for c in layout.columns]))
    return "".join(parts).encode("utf-8")


def _fields(text: str, line_no: int) -> list[str]:
    try:
        rows = list(csv.reader([text], strict=True))
    except csv.Error:
        raise IsWireError("breaks CSV quoting", line_no=line_no) from None
    if len(rows) != 1:
        raise IsWireError("is not one CSV record", line_no=line_no)
    return rows[0]


def _header(values: list[str], layout: Layout[Any]) -> tuple[FileHeader, int]:
    if len(values) != 6 or values[0] != MAGIC:
        raise IsWireError("is not a control line", line_no=1)
    if values[1] != layout.kind:
        raise IsWireError("names another kind of file", line_no=1, column="kind")
    request_id = id_of_text(values[2])
    if request_id is None:
        raise IsWireError("is not a request id (28 lowercase letters)", line_no=1, column="request_id")
    batch = None if values[3] == "-" else values[3]
    if batch is not None and not _BATCH.fullmatch(batch):
        raise IsWireError("is not a batch id", line_no=1, column="batch_id")
    provider = None if values[4] == "-" else values[4]
    if provider is not None and not _PROVIDER.fullmatch(provider):
        raise IsWireError("is not an organisation code", line_no=1, column="provider")
    if not (values[5].isascii() and values[5].isdigit() and 1 <= len(values[5]) <= 6):
        raise IsWireError("is not a record count", line_no=1, column="record_count")
    return FileHeader(layout.kind, request_id, batch, provider), int(values[5])


def parse_file(layout: Layout[R], content: bytes) -> tuple[FileHeader, list[R]]:
    """Parse a file strictly.

    Raises:
        IsWireError: the file breaks the layout (the line and column are named, never the value).
    """
    if not isinstance(content, bytes):
        raise IsWireError("content is not bytes")
    if content.startswith(b"\xef\xbb\xbf"):
        raise IsWireError("starts with a byte order mark")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise IsWireError("is not UTF-8") from None
    if not text.endswith(TERMINATOR):
        raise IsWireError("does not end with CR LF")
    lines = text[: -len(TERMINATOR)].split(TERMINATOR)
    for line_no, line in enumerate(lines, start=1):
        if "\r" in line or "\n" in line:
            raise IsWireError("has a line break that is not CR LF", line_no=line_no)
    if len(lines) < 3:
        raise IsWireError("needs a control line, a column line and at least one record")
    header, count = _header(_fields(lines[0], 1), layout)
    if count != len(lines) - 2:
        raise IsWireError("does not match the records", line_no=1, column="record_count")
    if _fields(lines[1], 2) != [c.label for c in layout.columns]:
        raise IsWireError("does not name the layout's columns in order", line_no=2)
    records: list[R] = []
    for line_no, line in enumerate(lines[2:], start=3):
        values = _fields(line, line_no)
        if len(values) != len(layout.columns):
            raise IsWireError(f"has {len(values)} values, not {len(layout.columns)}", line_no=line_no)
        record = layout.record(
            **{c.attr: c.decode(v, line_no) for c, v in zip(layout.columns, values, strict=True)}
        )
        problem = layout.check(record)
        if problem is not None:
            raise IsWireError(problem[1], line_no=line_no, column=problem[0])
        records.append(record)
    return header, records
