"""The eLTAX adapter (地方税ポータルシステム) and its simulator.

Payment reports (公的年金等支払報告書) and the special collection of resident tax from pensions (年金特徴):
:class:`EltaxAdapter` turns the hub's submissions and notices into files, one per municipality, checking
every field against its layout before anything leaves, and turns receipts and municipalities' notices into
messages, sealing any number for the hub at once. :class:`EltaxSimulator` plays the 地方税共同機構 and the
municipalities. The layouts (:mod:`adapters.eltax.wire`) follow public facts where there are any and are
renkei's inference elsewhere, pending the eLTAX specifications; see ``docs/formats/eltax.md``.
"""

from adapters.eltax.calendar import (
    CALENDAR,
    MAIN_MONTHS,
    PAYMENT_MONTHS,
    PROVISIONAL_MONTHS,
    change_applies_to,
    fiscal_year_of,
    is_allowed,
    payment_day,
    reply_on,
)
from adapters.eltax.errors import EltaxFieldRefused, EltaxFileError, EltaxMappingError, EltaxWireError
from adapters.eltax.mapping import amounts_of, message_id_of, slots_of
from adapters.eltax.municipalities import MunicipalRegister, Rates
from adapters.eltax.names import (
    COUNTERPART,
    FileName,
    check_pairing,
    notice_file_name,
    parse_name,
    receipt_file_name,
    report_file_name,
)
from adapters.eltax.service import EltaxAdapter
from adapters.eltax.simulator import CALENDAR_ERROR, NOT_RESIDENT, WRONG_PARTY, EltaxSimulator
from adapters.eltax.wire import (
    NoticeFile,
    NoticeHeader,
    NoticeRecord,
    ReceiptEntry,
    ReceiptFile,
    ReportFile,
    ReportPayer,
    ReportRecord,
    layout_tables,
    parse_notice,
    parse_receipt,
    parse_report,
    read_notice,
    read_report,
    write_notice,
    write_receipt,
    write_report,
)

__all__ = [
    "CALENDAR",
    "CALENDAR_ERROR",
    "COUNTERPART",
    "MAIN_MONTHS",
    "NOT_RESIDENT",
    "PAYMENT_MONTHS",
    "PROVISIONAL_MONTHS",
    "WRONG_PARTY",
    "EltaxAdapter",
    "EltaxFieldRefused",
    "EltaxFileError",
    "EltaxMappingError",
    "EltaxSimulator",
    "EltaxWireError",
    "FileName",
    "MunicipalRegister",
    "NoticeFile",
    "NoticeHeader",
    "NoticeRecord",
    "Rates",
    "ReceiptEntry",
    "ReceiptFile",
    "ReportFile",
    "ReportPayer",
    "ReportRecord",
    "amounts_of",
    "change_applies_to",
    "check_pairing",
    "fiscal_year_of",
    "is_allowed",
    "layout_tables",
    "message_id_of",
    "notice_file_name",
    "parse_name",
    "parse_notice",
    "parse_receipt",
    "parse_report",
    "payment_day",
    "read_notice",
    "read_report",
    "receipt_file_name",
    "reply_on",
    "report_file_name",
    "slots_of",
    "write_notice",
    "write_receipt",
    "write_report",
]
