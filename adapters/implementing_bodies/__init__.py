"""The adapter of the other implementing bodies (他の実施機関) and its simulator: one-stop claim forwarding.

:class:`ImplementingBodiesAdapter` turns the hub's forwardings of claims a 構成組合 received (年金請求書等,
事務 (6)) into one file per destination and batch, checking every item before anything leaves, and turns the
receiving bodies' receipts into ``implementing_bodies.receipt`` messages. :class:`ImplementingBodiesSimulator`
plays the receiving bodies. Every layout is renkei's own, no public format existing for the
情報連携システム's forwarding: see ``docs/formats/implementing_bodies.md``.
"""

from adapters.implementing_bodies.errors import (
    IbFieldRefused,
    IbFileError,
    IbMappingError,
    IbPurposeRefused,
    IbWireError,
)
from adapters.implementing_bodies.mapping import forwarding_file, message_id_of, receipt_payload
from adapters.implementing_bodies.names import (
    COUNTERPART,
    INBOUND,
    FileName,
    check_pairing,
    forwarding_file_name,
    parse_name,
    receipt_file_name,
)
from adapters.implementing_bodies.service import ImplementingBodiesAdapter
from adapters.implementing_bodies.simulator import (
    DEFAULT_RETURN_EVERY,
    PAGES_MISSING,
    ImplementingBodiesSimulator,
)
from adapters.implementing_bodies.wire import (
    ForwardingFile,
    ReceiptFile,
    WireClaim,
    layout_tables,
    parse_forwarding,
    parse_receipt,
    read_forwarding,
    write_forwarding,
    write_receipt,
)

__all__ = [
    "COUNTERPART",
    "DEFAULT_RETURN_EVERY",
    "INBOUND",
    "PAGES_MISSING",
    "FileName",
    "ForwardingFile",
    "IbFieldRefused",
    "IbFileError",
    "IbMappingError",
    "IbPurposeRefused",
    "IbWireError",
    "ImplementingBodiesAdapter",
    "ImplementingBodiesSimulator",
    "ReceiptFile",
    "WireClaim",
    "check_pairing",
    "forwarding_file",
    "forwarding_file_name",
    "layout_tables",
    "message_id_of",
    "parse_forwarding",
    "parse_name",
    "parse_receipt",
    "read_forwarding",
    "receipt_file_name",
    "receipt_payload",
    "write_forwarding",
    "write_receipt",
]
