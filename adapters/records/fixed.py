"""The fixed-width engine: records whose layout is a table of fields with byte offsets.

Used for the J-LIS batch files (UTF-8 text, lengths in bytes) and the eLTAX special collection file
(年金特徴, JIS8: :mod:`adapters.records.text`). Shift sequences are fields of their own (``SHIFT_IN`` and
``SHIFT_OUT``, 3 bytes each), so every offset in the table is a true byte offset and a kanji field holds
nothing but its two-byte codes.

Strictness is the point: a field that breaks its type is an error naming the record and the field, never
the value (a field may hold an Individual Number). Writing checks every field before a byte is returned;
reading either stops at the first problem (:meth:`FixedCodec.decode`) or lists them all
(:meth:`FixedCodec.problems`) for a counterpart's per-record error report.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from adapters.records.fields import (
    CONSTANT_TYPES,
    CONTROL,
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
from adapters.records.text import (
    JIS_SPACE,
    KANJI_IN_ACCEPTED,
    KANJI_OUT_ACCEPTED,
    decode_jis0208,
    decode_jis_single,
    encode_jis0208,
    encode_jis_single,
    to_fullwidth_kana,
    to_halfwidth_kana,
)

__all__ = ["FixedCodec", "FixedLayout", "decoder", "encode_value", "fixed_layout"]

_UNKNOWN: Final = object()
_SHIFT = 3
_MONTH: Final = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
_CSV_ONLY: Final = (FieldType.FULLWIDTH, FieldType.DATETIME)


@dataclass(frozen=True, slots=True)
class FixedLayout:
    """The fields of one record kind, contiguous from byte 0 to ``length``."""

    name: str
    length: int
    fields: tuple[Field, ...]

    def __post_init__(self) -> None:
        position = 0
        for index, f in enumerate(self.fields):
            if f.offset != position or f.length < 1:
                raise ValueError(f"layout {self.name}: field {f.name} is not contiguous")
            if f.type in (FieldType.SHIFT_IN, FieldType.SHIFT_OUT) and f.length != _SHIFT:
                raise ValueError(f"layout {self.name}: shift {f.name} is not 3 bytes")
            if f.type is FieldType.KANJI:
                before = self.fields[index - 1].type if index else None
                after = self.fields[index + 1].type if index + 1 < len(self.fields) else None
                if f.length % 2 or before is not FieldType.SHIFT_IN or after is not FieldType.SHIFT_OUT:
                    raise ValueError(f"layout {self.name}: kanji {f.name} is not shifted or not even")
            if f.type in _CSV_ONLY:
                raise ValueError(f"layout {self.name}: {f.name}: {f.type.value} items are CSV only")
            position += f.length
        if position != self.length:
            raise ValueError(f"layout {self.name}: fields cover {position} bytes, not {self.length}")


def fixed_layout(
    name: str, length: int, *fields: Field, filler: tuple[str, str] = ("reserve", "予備")
) -> FixedLayout:
    """Lay ``fields`` out one after the other; pad the record up to ``length`` with a trailing filler.

    ``filler`` is the (name, label) of that filler: formats name their reserve bytes differently.
    """
    placed = list(place(fields, by_bytes=True))
    used = sum(f.length for f in placed)
    if used < length:
        placed.append(Field(filler[0], filler[1], used, length - used, FieldType.FILLER, required=False))
    return FixedLayout(name, length, tuple(placed))


def _blank(f: Field) -> bytes:
    return JIS_SPACE * (f.length // 2) if f.type is FieldType.KANJI else b" " * f.length


def _constant(f: Field) -> tuple[bytes, ...]:
    if f.type is FieldType.LITERAL:
        return (f.literal.encode("ascii"),)
    if f.type is FieldType.SHIFT_IN:
        return KANJI_IN_ACCEPTED
    if f.type is FieldType.SHIFT_OUT:
        return KANJI_OUT_ACCEPTED
    return (b" " * f.length,)


def _left(raw: bytes, f: Field) -> bytes:
    if len(raw) > f.length:
        raise FieldProblem(f"is longer than {f.length} bytes", ProblemKind.SIZE)
    return raw.ljust(f.length, b" ")


def _text_value(value: Any) -> str:
    if not isinstance(value, str) or not value or value != value.strip(" \u3000"):
        raise FieldProblem("is not text without surrounding spaces")
    return value


def encode_value(f: Field, value: Any) -> bytes:
    """``value`` (not ``None``) as exactly ``f.length`` bytes, raising :class:`FieldProblem`."""
    plain = encode_plain(f, value, padded=True)
    if plain is not None:
        return _left(plain.encode("ascii"), f)
    t = f.type
    if t is FieldType.ASCII:
        text = _text_value(value)
        if not text.isascii() or not text.isprintable() or (f.pattern and not re.fullmatch(f.pattern, text)):
            raise FieldProblem("does not match its pattern")
        return _left(text.encode("ascii"), f)
    if t is FieldType.TEXT:
        if not isinstance(value, str) or value != value.strip(" ") or CONTROL.search(value):
            raise FieldProblem("is not text without control characters or surrounding spaces")
        return _left(value.encode("utf-8"), f)
    if t is FieldType.KANA:
        half = to_halfwidth_kana(_text_value(value))
        raw = None if half is None else encode_jis_single(half)
        if raw is None:
            raise FieldProblem("is not katakana with a half-width form (JIS X 0201)", ProblemKind.CHARSET)
        return _left(raw, f)
    if t is FieldType.KANJI:
        raw = encode_jis0208(_text_value(value))
        if raw is None:
            raise FieldProblem("holds a character outside JIS X 0208", ProblemKind.CHARSET)
        if len(raw) > f.length:
            raise FieldProblem(f"is longer than {f.length // 2} characters", ProblemKind.SIZE)
        return raw + JIS_SPACE * ((f.length - len(raw)) // 2)
    if t is FieldType.MONTH:
        if not isinstance(value, str) or not _MONTH.fullmatch(value):
            raise FieldProblem("is not a month YYYY-MM")
        return value.replace("-", "").encode("ascii")
    raise FieldProblem("cannot be written")


def _aligned(text: str | None, charset: str, pad: str = " ") -> str:
    """``text`` without its padding; refused when it was not in ``charset`` or not left-aligned."""
    if text is None:
        raise FieldProblem(f"is not {charset}", ProblemKind.CHARSET)
    value = text.rstrip(pad)
    if value.startswith(pad):
        raise FieldProblem("is not left-aligned")
    return value


def _single(raw: bytes) -> str:
    return _aligned(decode_jis_single(raw), "JIS X 0201")


def _utf8(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _text(raw: bytes) -> str:
    text = _utf8(raw)
    if text is not None and CONTROL.search(text):
        raise FieldProblem("holds a control character", ProblemKind.CHARSET)
    return _aligned(text, "valid UTF-8")


def _month(raw: bytes) -> str:
    if len(raw) != 6 or not raw.isascii() or not raw.isdigit() or not 1 <= int(raw[4:]) <= 12:
        raise FieldProblem("is not a month YYYYMM")
    return f"{raw[:4].decode()}-{raw[4:].decode()}"


def decoder(f: Field) -> Callable[[bytes], Any]:
    """The function that reads ``f`` from its (non-blank) bytes, raising :class:`FieldProblem`."""
    plain = plain_decoder(f, padded=True)
    if plain is not None:
        return lambda raw: plain(raw.decode("latin-1"))  # never fails: the reader checks for ASCII
    t = f.type
    if t is FieldType.ASCII:
        rule = re.compile(f.pattern) if f.pattern else None

        def ascii_(raw: bytes) -> str:
            value = _single(raw)
            if not value.isascii() or (rule is not None and not rule.fullmatch(value)):
                raise FieldProblem("does not match its pattern")
            return value

        return ascii_
    if t is FieldType.KANA:
        return lambda raw: to_fullwidth_kana(_single(raw))
    if t is FieldType.KANJI:
        return lambda raw: _aligned(decode_jis0208(raw), "JIS X 0208", "\u3000")
    if t is FieldType.CODE:
        table = {code.encode("ascii").ljust(f.length): value for code, value in f.codes}

        def code(raw: bytes) -> Any:
            value = table.get(raw, _UNKNOWN)
            return value if value is not _UNKNOWN else fail("is not a known code")

        return code
    if t is FieldType.TEXT:
        return _text
    if t is FieldType.MONTH:
        return _month
    raise ValueError(f"no decoder for {t}")


class FixedCodec:
    """Reads and writes the records of one :class:`FixedLayout`.

    Args:
        layout: the record's layout.
        reading: makes the adapter's error for a record that breaks the layout.
        writing: makes the adapter's error for a value the layout refuses (``reading`` when not given).

    Attributes:
        value_names: the names of the fields that carry values (no literal, shift or filler), in order:
            :meth:`encode_values` takes values in this order.
    """

    def __init__(
        self, layout: FixedLayout, *, reading: ErrorFactory, writing: ErrorFactory | None = None
    ) -> None:
        self.layout = layout
        self._reading = reading
        self._writing = writing or reading
        self.value_names = tuple(f.name for f in layout.fields if f.type not in CONSTANT_TYPES)
        self._fields = tuple(
            (f, _constant(f), None) if f.type in CONSTANT_TYPES else (f, (), decoder(f))
            for f in layout.fields
        )

    def problems(self, buffer: bytes, offset: int) -> tuple[dict[str, Any], list[Problem]]:
        """Read the record at ``offset``, collecting every problem: ``(values read, problems)``."""
        values: dict[str, Any] = {}
        found: list[Problem] = []
        if len(buffer) < offset + self.layout.length:
            return values, [Problem(None, "the record is truncated", ProblemKind.STRUCTURE)]
        for f, constants, read in self._fields:
            raw = buffer[offset + f.offset : offset + f.offset + f.length]
            if read is None:
                if raw not in constants:
                    found.append(Problem(f, "is not the expected constant", ProblemKind.STRUCTURE))
                continue
            if raw == _blank(f):
                if f.required:
                    found.append(Problem(f, "is required", ProblemKind.REQUIRED))
                values[f.name] = None
                continue
            value = read_field(f, read, raw)
            if isinstance(value, Problem):
                found.append(value)
            else:
                values[f.name] = value
        return values, found

    def decode(self, buffer: bytes, offset: int, record_no: int) -> dict[str, Any]:
        """Read the record at ``offset`` into ``{field name: value}`` (no literal, shift or filler).

        Raises:
            Exception: what ``reading`` makes of the first problem, naming record ``record_no``.
        """
        values, found = self.problems(buffer, offset)
        if found:
            raise self._reading(found[0], record_no)
        return values

    def encode(self, values: Mapping[str, Any], record_no: int) -> bytes:
        """Write one record from ``{field name: value}`` (absent names are ``None``).

        Raises:
            Exception: what ``writing`` makes of a value the layout refuses, naming the record and field.
        """
        return self.encode_values([values.get(name) for name in self.value_names], record_no)

    def encode_values(self, values: Sequence[Any], record_no: int) -> bytes:
        """Write one record from its values in the order of :attr:`value_names`.

        Raises:
            Exception: what ``writing`` makes of a value the layout refuses, naming the record and field.
        """
        parts = []
        index = 0
        for f, constants, read in self._fields:
            if read is None:
                parts.append(constants[0])
                continue
            part = write_field(f, values[index], encode_value, _blank(f))
            index += 1
            if isinstance(part, Problem):
                raise self._writing(part, record_no)
            parts.append(part)
        return b"".join(parts)
