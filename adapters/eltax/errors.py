"""Errors of the eLTAX adapter, each a subclass of the one hierarchy in :mod:`contracts.errors`.

Every message names a file kind, a record (line) and a field, never a value: an eLTAX file holds
Individual Numbers in the clear, and the value at fault may be one.

::

    WireFormatError
    ├── EltaxWireError          a file or record breaks its layout (file kind, record and field named)
    │   └── EltaxFieldRefused   a value the layout forbids, caught *before* the file is written and sent
    └── EltaxFileError          a file that is not ours: bad name, unpaired receipt, wrong direction
    ValidationFailed
    └── EltaxMappingError       a well-formed record that the contract still refuses
"""

from __future__ import annotations

from adapters.records.errors import LayoutError
from contracts.errors import ValidationFailed, WireFormatError

__all__ = ["EltaxFieldRefused", "EltaxFileError", "EltaxMappingError", "EltaxWireError"]


class EltaxWireError(LayoutError):
    """An eLTAX file breaks its layout: ``eLTAX <file kind> record #n, field f: <rule>``.

    ``file_kind`` is ``payment report``, ``special collection notice`` or ``receipt``.
    """

    code = "eltax_wire_format"
    counterpart = "eLTAX"


class EltaxFieldRefused(EltaxWireError):
    """A value the layout forbids, found while writing: nothing was written, nothing leaves.

    Raised by the writers, so the adapter dead-letters the message before any file goes to eLTAX.
    """

    code = "eltax_field_refused"


class EltaxFileError(WireFormatError):
    """A file that does not belong to the eLTAX exchange: its name, pairing or direction is wrong."""

    code = "eltax_unexpected_file"


class EltaxMappingError(ValidationFailed):
    """A record that parses but does not fit the message contract."""

    code = "eltax_mapping"
