"""Errors of the intermediate server adapter, each a subclass of the one hierarchy in :mod:`contracts.errors`.

Every message names a file kind, a line and a column, never a value: a code acquisition file holds
Individual Numbers in the clear, and the value at fault may be one.

::

    WireFormatError
    ├── IsWireError            a file breaks its CSV layout (line and column named)
    └── IsFileError            a file that is not ours: bad name, unpaired answer, wrong correlation
    ValidationFailed
    └── IsMappingError         a well-formed record that the contract still refuses
    CounterpartUnavailable
    └── ProviderUnavailable    the network cannot reach the provider: the file is retried later
"""

from __future__ import annotations

from contracts.errors import CounterpartUnavailable, ValidationFailed, WireFormatError

__all__ = ["IsFileError", "IsMappingError", "IsWireError", "ProviderUnavailable"]


class IsWireError(WireFormatError):
    """An intermediate server file breaks its layout.

    Attributes:
        line_no: 1-based line of the file, or ``None`` for the file as a whole.
        column: the column at fault, or ``None`` when the line as a whole is at fault.
    """

    code = "is_wire_format"

    def __init__(self, problem: str, *, line_no: int | None = None, column: str | None = None) -> None:
        where = "file" if line_no is None else f"line {line_no}"
        if column is not None:
            where += f", column {column}"
        super().__init__(f"intermediate server file {where}: {problem}")
        self.line_no = line_no
        self.column = column


class IsFileError(WireFormatError):
    """A file that does not belong to the intermediate server exchange (name, pairing or correlation)."""

    code = "is_unexpected_file"


class IsMappingError(ValidationFailed):
    """A record that parses but does not fit the message contract."""

    code = "is_mapping"


class ProviderUnavailable(CounterpartUnavailable):
    """情報提供者の中間サーバーに接続できない: the provider is down; the query file is retried later.

    The network refuses the whole query file of that provider, so the link's retry tiers carry it back
    after a delay, as for any other transient failure of a counterpart.
    """

    code = "provider_unavailable"
