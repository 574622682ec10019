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

from adapters.records.errors import LayoutError
from contracts.errors import PolicyRefused, ValidationFailed, WireFormatError

__all__ = ["JlisFileError", "JlisMappingError", "JlisPurposeRefused", "JlisWireError"]


class JlisWireError(LayoutError):
    """A J-LIS file breaks its layout: ``J-LIS file record #n, field f: <rule>``."""

    code = "jlis_wire_format"
    counterpart = "J-LIS"


class JlisFileError(WireFormatError):
    """A file that does not belong to the J-LIS exchange: its name, pairing or correlation is wrong."""

    code = "jlis_unexpected_file"


class JlisMappingError(ValidationFailed):
    """A record that parses but does not fit the message contract."""

    code = "jlis_mapping"


class JlisPurposeRefused(PolicyRefused):
    """The inquiry's purpose has no J-LIS purpose code, so no file may be written for it."""

    code = "jlis_purpose_refused"
