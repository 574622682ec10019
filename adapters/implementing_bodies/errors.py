"""Errors of the adapter of the other implementing bodies, each a subclass of :mod:`contracts.errors`.

Every message names a file kind, a line and an item, never a value: a forwarding file holds Individual
Numbers in the clear, and the value at fault may be one.

::

    WireFormatError
    ├── IbWireError           a file breaks its layout (file kind, line and item named)
    │   └── IbFieldRefused    a value the layout forbids, caught *before* the file is written and sent
    └── IbFileError           a file that is not ours: bad name, unpaired receipt, wrong direction
    ValidationFailed
    └── IbMappingError        a well-formed file or message that the contract still refuses
    PolicyRefused
    └── IbPurposeRefused      a forwarding under another purpose than the claim forwarding's

All are permanent (the message or file is dead-lettered with its reason); a line that is down is
:class:`contracts.errors.CounterpartUnavailable` (transient: retried), raised by the host, not here.
"""

from __future__ import annotations

from adapters.records.errors import LayoutError
from contracts.errors import PolicyRefused, ValidationFailed, WireFormatError

__all__ = ["IbFieldRefused", "IbFileError", "IbMappingError", "IbPurposeRefused", "IbWireError"]


class IbWireError(LayoutError):
    """A forwarding file or a receipt breaks its layout: ``implementing body <kind> line #n, item i: <rule>``.

    ``file_kind`` is ``forwarding`` or ``receipt``.
    """

    code = "implementing_bodies_wire_format"
    counterpart = "implementing body"
    record_word = "line"
    field_word = "item"


class IbFieldRefused(IbWireError):
    """A value the layout forbids, found while writing: nothing was written, nothing leaves."""

    code = "implementing_bodies_field_refused"


class IbFileError(WireFormatError):
    """A file not of the exchange with the implementing bodies: its name, pairing or direction."""

    code = "implementing_bodies_unexpected_file"


class IbMappingError(ValidationFailed):
    """A message or file that parses but does not fit the contract."""

    code = "implementing_bodies_mapping"


class IbPurposeRefused(PolicyRefused):
    """A forwarding whose purpose is not the claim forwarding's: no file may be written for it."""

    code = "implementing_bodies_purpose_refused"
