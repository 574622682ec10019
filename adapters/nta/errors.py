"""Errors of the NTA adapter, each a subclass of the one hierarchy in :mod:`contracts.errors`.

Every message names a file kind, a slip (line) and an item, never a value: a withholding-slip file holds
Individual Numbers in the clear, and the value at fault may be one.

::

    WireFormatError
    ├── NtaWireError          a file or slip breaks its layout (file kind, line and item named)
    │   └── NtaFieldRefused   a value the layout forbids, caught *before* the file is written and sent
    └── NtaFileError          a file that is not ours: bad name, unpaired receipt, wrong direction
    ValidationFailed
    └── NtaMappingError       a well-formed file or message that the contract still refuses
    PolicyRefused
    └── NtaPurposeRefused     a submission under another purpose than the withholding slip's

All are permanent (the message or file is dead-lettered with its reason); a line that is down is
:class:`contracts.errors.CounterpartUnavailable` (transient: retried), raised by the host, not here.
"""

from __future__ import annotations

from adapters.records.errors import LayoutError
from contracts.errors import PolicyRefused, ValidationFailed, WireFormatError

__all__ = ["NtaFieldRefused", "NtaFileError", "NtaMappingError", "NtaPurposeRefused", "NtaWireError"]


class NtaWireError(LayoutError):
    """A withholding-slip file or a receipt breaks its layout: ``NTA <file kind> line #n, item i: <rule>``.

    ``file_kind`` is ``withholding slip`` or ``receipt``.
    """

    code = "nta_wire_format"
    counterpart = "NTA"
    record_word = "line"
    field_word = "item"


class NtaFieldRefused(NtaWireError):
    """A value the layout forbids, found while writing: nothing was written, nothing leaves."""

    code = "nta_field_refused"


class NtaFileError(WireFormatError):
    """A file that does not belong to the NTA exchange: its name, pairing or direction is wrong."""

    code = "nta_unexpected_file"


class NtaMappingError(ValidationFailed):
    """A message or file that parses but does not fit the contract (a repeated record_seq, a bad receipt)."""

    code = "nta_mapping"


class NtaPurposeRefused(PolicyRefused):
    """A submission whose purpose is not the withholding slip's: no file may be written for it."""

    code = "nta_purpose_refused"
