"""A small engine for fixed-width records whose layout is declared as data.

A :class:`Layout` is a tuple of :class:`Field` (name, offset, length in bytes, type, required); one
:class:`RecordCodec` per layout turns a record's bytes into a dict of typed values and back. Both
directions are driven by the same table, so the written and the parsed format cannot drift apart, and the
documentation table can be generated from it (:func:`markdown_table`).

Strictness is the point: a field that breaks its type is an error naming the record and the field, never
the value (a field may hold an Individual Number). The field types themselves live in
:mod:`adapters.jlis._fields`.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from adapters.jlis._fields import Field, FieldProblem, FieldType, decoder, encode_value
from adapters.jlis.errors import JlisWireError

__all__ = ["Field", "FieldType", "Layout", "RecordCodec", "field", "layout", "markdown_table"]


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
        # Literals and fillers: (position, expected bytes, name, problem), checked first.
        self._constants = tuple(
            (i, f.literal.encode("ascii"), f.name, "is not the expected literal")
            if f.type is FieldType.LITERAL
            else (i, b" " * f.length, f.name, "is not blank")
            for i, f in enumerate(lay.fields)
            if f.type in (FieldType.LITERAL, FieldType.FILLER)
        )
        # Value fields: (position, name, blank bytes, required, decoder).
        self._values = tuple(
            (i, f.name, b" " * f.length, f.required, decoder(f))
            for i, f in enumerate(lay.fields)
            if f.type not in (FieldType.LITERAL, FieldType.FILLER)
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
        parts = self._struct.unpack_from(buffer, offset)
        for position, expected, name, rule in self._constants:
            if parts[position] != expected:
                raise JlisWireError(rule, record_no=record_no, field=name)
        values: dict[str, Any] = {}
        for position, name, blank, required, decode in self._values:
            raw = parts[position]
            if raw == blank:
                if required:
                    raise JlisWireError("is required", record_no=record_no, field=name)
                values[name] = None
                continue
            problem: str | None = None
            try:
                values[name] = decode(raw)
            except FieldProblem as exc:
                problem = str(exc)  # names the rule broken, never the value
            if problem is not None:  # raised here, outside the handler, so that nothing is chained
                raise JlisWireError(problem, record_no=record_no, field=name)
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
            problem: str | None = None
            try:
                parts.append(encode_value(f, value))
            except FieldProblem as exc:
                problem = str(exc)
            if problem is not None:
                raise JlisWireError(problem, record_no=record_no, field=f.name)
        return b"".join(parts)

    def encode_mapping(self, values: Mapping[str, Any], record_no: int) -> bytes:
        """Write one record from ``{field name: value}`` (absent names are ``None``)."""
        return self.encode([values.get(name) for name in self.value_names], record_no)
