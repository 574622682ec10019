"""The National Tax Agency adapter (国税庁, e-Tax) and its simulator: the withholding slips of pensions.

:class:`NtaAdapter` turns the hub's submissions of withholding slips (公的年金等の源泉徴収票, 所得税法
第226条第3項) into one file per message in the Agency's standard CSV layout (法定資料の種類 377), checking
every item before anything leaves, and turns the Agency's receipts (受信通知) into ``nta.receipt``
messages. :class:`NtaSimulator` plays the Agency. The slip layout is the Agency's published standard; the
receipt is renkei's own, no public format existing; see ``docs/formats/nta.md``.
"""

from adapters.nta.errors import (
    NtaFieldRefused,
    NtaFileError,
    NtaMappingError,
    NtaPurposeRefused,
    NtaWireError,
)
from adapters.nta.mapping import message_id_of, receipt_payload, slip_file
from adapters.nta.names import (
    COUNTERPART,
    INBOUND,
    FileName,
    check_pairing,
    parse_name,
    receipt_file_name,
    submission_file_name,
)
from adapters.nta.service import NtaAdapter
from adapters.nta.simulator import DEFAULT_REJECT_EVERY, NUMBER_MISSING, PAYER_UNKNOWN, NtaSimulator
from adapters.nta.wire import (
    ReceiptFile,
    SlipFile,
    SlipMinor,
    SlipPayer,
    SlipPerson,
    SlipRecord,
    layout_tables,
    parse_receipt,
    parse_slips,
    read_slips,
    write_receipt,
    write_slips,
)

__all__ = [
    "COUNTERPART",
    "DEFAULT_REJECT_EVERY",
    "INBOUND",
    "NUMBER_MISSING",
    "PAYER_UNKNOWN",
    "FileName",
    "NtaAdapter",
    "NtaFieldRefused",
    "NtaFileError",
    "NtaMappingError",
    "NtaPurposeRefused",
    "NtaSimulator",
    "NtaWireError",
    "ReceiptFile",
    "SlipFile",
    "SlipMinor",
    "SlipPayer",
    "SlipPerson",
    "SlipRecord",
    "check_pairing",
    "layout_tables",
    "message_id_of",
    "parse_name",
    "parse_receipt",
    "parse_slips",
    "read_slips",
    "receipt_file_name",
    "receipt_payload",
    "slip_file",
    "submission_file_name",
    "write_receipt",
    "write_slips",
]
