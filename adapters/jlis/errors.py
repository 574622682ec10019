"""Errors of the J-LIS adapter, each a subclass of the one hierarchy in :mod:`contracts.errors`.

Every message names a file kind, a record number and a field, never a value: a J-LIS file holds
Individual Numbers in the clear, and the value at fault may be one.

::

    WireFormatError
    ├── JlisWireError         a file breaks the fixed-width layout (record number and field named)
    └── JlisFileError         a file that is not ours: bad name, unpaired result, wrong correlation
    ValidationFailed
    └── JlisMappingError      a well-formed record that the contract still refuses (e.g. text too long)
    PolicyRefused
    └── JlisPurposeRefused    an inquiry whose purpose has no J-LIS purpose code
"""

from __future__ import annotations

from contracts.errors import PolicyRefused, ValidationFailed, WireFormatError

__all__ = ["JlisFileError", "JlisMappingError", "JlisPurposeRefused", "JlisWireError"]


class JlisWireError(WireFormatError):
    """A J-LIS file breaks its layout.

    Attributes:
        record_no: 1-based position of the record in the file, or ``None`` for the file as a whole.
        field: the layout field at fault, or ``None`` when the record as a whole is at fault.
    """

    code = "jlis_wire_format"

    def __init__(self, problem: str, *, record_no: int | None = None, field: str | None = None) -> None:
        where = "file" if record_no is None else f"record #{record_no}"
        if field is not None:
            where += f", field {field}"
        super().__init__(f"J-LIS file {where}: {problem}")
        self.record_no = record_no
        self.field = field


class JlisFileError(WireFormatError):
    """A file that does not belong to the J-LIS exchange: its name, pairing or correlation is wrong."""

    code = "jlis_unexpected_file"


class JlisMappingError(ValidationFailed):
    """A record that parses but does not fit the message contract."""

    code = "jlis_mapping"


class JlisPurposeRefused(PolicyRefused):
    """The inquiry's purpose has no J-LIS purpose code, so no file may be written for it."""

    code = "jlis_purpose_refused"
