"""The field declarations shared by the two layout engines (fixed-length records and CSV rows).

A layout is data: a tuple of :class:`Field` (name, offset, length, type, required, ...). The fixed-length
engine (:mod:`adapters.eltax._fixed`) counts lengths and offsets in bytes; the CSV engine
(:mod:`adapters.eltax._csv`) counts offsets in items (columns) and lengths in characters, as the 総務省通達
形式 does. Both read and write from the same declaration, so the two directions cannot drift apart, and the
documentation tables are generated from it (:func:`markdown_table`).

Codecs raise :class:`FieldProblem` with a text that names the rule broken, never the value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "CONSTANT_TYPES",
    "Field",
    "FieldProblem",
    "FieldType",
    "Problem",
    "ProblemKind",
    "field",
    "markdown_table",
    "place",
]


class FieldType(StrEnum):
    """How a field's value is written and read."""

    LITERAL = "literal"
    """Fixed ASCII text (a record kind, a document kind such as ``331``)."""
    DIGITS = "digits"
    """An unsigned integer in ASCII digits: zero-padded to the length when the field is ``padded``."""
    ASCII = "ascii"
    """Printable ASCII matching the field's pattern (no comma, no quote in a CSV item)."""
    FULLWIDTH = "fullwidth"
    """CSV only: characters CP932 writes in two bytes (全角); the length counts characters."""
    KANA = "kana"
    """Half-width katakana on the wire (半角カナ), full-width katakana in Python (U+3000 as the space)."""
    KANJI = "kanji"
    """Fixed-length only: JIS X 0208 two-byte codes between shift sequences, padded with U+3000."""
    DATE = "date"
    """A calendar date, ``YYYYMMDD``."""
    CODE = "code"
    """One code of a closed table."""
    FLAG = "flag"
    """``0`` or ``1``."""
    INDIVIDUAL_NUMBER = "individual_number"
    """Twelve ASCII digits with a valid check digit."""
    SHIFT_IN = "shift_in"
    """Fixed-length only: the 3-byte ``ESC $ B`` before a kanji field."""
    SHIFT_OUT = "shift_out"
    """Fixed-length only: the 3-byte ``ESC ( B`` after a kanji field."""
    FILLER = "filler"
    """Spaces only (予備)."""


CONSTANT_TYPES = frozenset({FieldType.LITERAL, FieldType.SHIFT_IN, FieldType.SHIFT_OUT, FieldType.FILLER})


@dataclass(frozen=True, slots=True)
class Field:
    """One field (fixed-length) or item (CSV) of a layout.

    Attributes:
        name: the field's name in Python, also the key of its value in a decoded record.
        label: the field's name in the specification (Japanese), shown in errors and documentation.
        offset: 0-based byte offset (fixed-length) or item index (CSV); set by the layout.
        length: bytes (fixed-length) or the most characters (CSV).
        type: how the value is written and read.
        required: a blank required field is an error; a blank optional one reads as ``None``.
        literal: the text of a ``LITERAL`` field.
        pattern: the regular expression an ``ASCII`` value matches in full.
        codes: ``(wire code, value)`` pairs of a ``CODE`` field.
        padded: a ``DIGITS`` item of a CSV is zero-padded to ``length`` (fixed-length ones always are).
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
        """How errors name the field: its Python name and its label."""
        return f"{self.name} ({self.label})"


class ProblemKind(StrEnum):
    """What kind of rule a field breaks; the value is the error code a receipt carries ([I] codes)."""

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


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found while reading a record: the field (``None``: the record), the rule, its kind."""

    field: Field | None
    text: str
    kind: ProblemKind

    @property
    def where(self) -> str | None:
        """How an error names the field, or ``None`` for the record as a whole."""
        return None if self.field is None else self.field.title


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
    """A field whose offset the layout fills in."""
    return Field(name, label, -1, length, type_, required, literal, pattern, codes, padded, source)


def place(fields: Iterable[Field], *, by_bytes: bool) -> tuple[Field, ...]:
    """Give each field its offset: running byte offsets, or item indexes."""
    placed, offset = [], 0
    for f in fields:
        placed.append(
            Field(
                f.name,
                f.label,
                offset,
                f.length,
                f.type,
                f.required,
                f.literal,
                f.pattern,
                f.codes,
                f.padded,
                f.source,
            )
        )
        offset += f.length if by_bytes else 1
    return tuple(placed)


def markdown_table(title: str, fields: Iterable[Field], *, by_bytes: bool) -> str:
    """A layout as a Markdown table (positions 1-based, as specifications print them)."""
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
