"""The receipt (受信通知) the Agency returns for a submitted file, as data: a CSV in CP932.

**Entirely renkei's own (``I``)**: e-Tax acknowledges a submission in its message box, and no public file
format for that acknowledgement exists. This one says what the simulator (and, until the Agency's form is
in hand, renkei) needs: which file was received, on which day, for which tax year, whether the file was
taken or refused as a whole, how many slips it held, and each error found, naming the slip's line (none
for the file as a whole), the item at fault and a code (never a value).

Lines (CR LF after each): one control line ``H``, then one ``E`` line per error; an accepted file has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from adapters.nta.errors import NtaFieldRefused, NtaWireError
from adapters.records.csv import SEPARATOR, CsvCodec, csv_layout
from adapters.records.fields import FieldType as T
from adapters.records.fields import field as f
from contracts.messages.eltax import MAX_RECORDS, ReceiptStatus

__all__ = [
    "CONTROL_ROW",
    "ERROR_ROW",
    "FILE_KIND",
    "MAX_ERRORS",
    "ErrorEntry",
    "ReceiptFile",
    "parse_receipt",
    "write_receipt",
]

FILE_KIND: Final = "receipt"
LINE_END: Final = b"\r\n"
MAX_ERRORS: Final = MAX_RECORDS
"""The most errors a receipt lists (the contract's bound)."""
_STATUSES: Final = (("0", ReceiptStatus.ACCEPTED), ("1", ReceiptStatus.REJECTED))

CONTROL_ROW: Final = csv_layout(
    "receipt control",
    f("row_kind", "行区分", 1, T.LITERAL, literal="H", source="I"),
    f("submission", "提出ファイル名", 120, T.ASCII, pattern=r"[A-Za-z0-9_.-]+", source="I"),
    f("tax_year", "年分（西暦）", 4, T.DIGITS, padded=True, source="I"),
    f("received_on", "受信年月日", 8, T.DATE, source="I"),
    f("status", "受付結果", 1, T.CODE, codes=_STATUSES, source="I"),
    f("slips", "件数", 7, T.DIGITS, source="I"),
    f("error_count", "エラー件数", 7, T.DIGITS, source="I"),
)
ERROR_ROW: Final = csv_layout(
    "receipt error",
    f("row_kind", "行区分", 1, T.LITERAL, literal="E", source="I"),
    f("line", "行番号", 7, T.DIGITS, required=False, source="I"),
    f("field", "項目", 64, T.ASCII, required=False, pattern=r"[a-z][a-z0-9_]{0,63}", source="I"),
    f("code", "エラーコード", 4, T.ASCII, pattern=r"E[0-9]{3}", source="I"),
)
_CODECS: Final = {
    layout.fields[0].literal.encode(): CsvCodec(
        layout,
        reading=lambda p, n: NtaWireError.of(p, FILE_KIND, n),
        writing=lambda p, n: NtaFieldRefused.of(p, FILE_KIND, n),
    )
    for layout in (CONTROL_ROW, ERROR_ROW)
}

ErrorEntry = tuple[int | None, str | None, str]
"""``(slip line or None, item or None, error code)``."""


@dataclass(frozen=True, slots=True)
class ReceiptFile:
    """A whole receipt."""

    submission: str
    tax_year: int
    received_on: date
    status: ReceiptStatus
    slips: int
    errors: tuple[ErrorEntry, ...] = ()


def write_receipt(receipt: ReceiptFile) -> bytes:
    """The bytes of a receipt.

    Raises:
        NtaFieldRefused: a value the layout forbids, or a status its errors contradict.
    """
    if (receipt.status is ReceiptStatus.REJECTED) != bool(receipt.errors):
        raise NtaFieldRefused(
            "a rejected file names its errors, an accepted one none", file_kind=FILE_KIND, field="status"
        )
    if len(receipt.errors) > MAX_ERRORS:
        raise NtaFieldRefused("lists more errors than a receipt holds", file_kind=FILE_KIND)
    head = {
        "submission": receipt.submission,
        "tax_year": receipt.tax_year,
        "received_on": receipt.received_on,
        "status": receipt.status,
        "slips": receipt.slips,
        "error_count": len(receipt.errors),
    }
    rows = [_CODECS[b"H"].encode_row(head, 1)]
    for line, item, code in receipt.errors:
        values = {"line": line, "field": item, "code": code}
        rows.append(_CODECS[b"E"].encode_row(values, len(rows) + 1))
    return b"".join(row + LINE_END for row in rows)


def parse_receipt(content: bytes) -> ReceiptFile:
    """Parse a receipt strictly.

    Raises:
        NtaWireError: the receipt breaks its layout (the line and the item are named, never a value).
    """
    if not content or not content.endswith(LINE_END):
        raise NtaWireError("is empty or does not end with CR LF", file_kind=FILE_KIND)
    rows = content[: -len(LINE_END)].split(LINE_END)
    if len(rows) > MAX_ERRORS + 1:
        raise NtaWireError("has more lines than a receipt holds", file_kind=FILE_KIND)
    decoded: list[dict[str, Any]] = []
    for row_no, raw in enumerate(rows, start=1):
        kind = raw.split(SEPARATOR, 1)[0]
        if kind != (b"H" if row_no == 1 else b"E"):
            raise NtaWireError("is not the expected line kind", file_kind=FILE_KIND, record_no=row_no)
        decoded.append(_CODECS[kind].decode_row(raw, row_no))
    head, errors = decoded[0], decoded[1:]
    if head["error_count"] != len(errors):
        raise NtaWireError(
            "does not match the error lines", file_kind=FILE_KIND, record_no=1, field="error_count"
        )
    if (head["status"] is ReceiptStatus.REJECTED) != bool(errors):
        raise NtaWireError("and the error lines disagree", file_kind=FILE_KIND, record_no=1, field="status")
    for row_no, error in enumerate(errors, start=2):
        if error["line"] is not None and not 1 <= error["line"] <= head["slips"]:
            raise NtaWireError(
                "names a slip the file does not hold", file_kind=FILE_KIND, record_no=row_no, field="line"
            )
    return ReceiptFile(
        submission=head["submission"],
        tax_year=head["tax_year"],
        received_on=head["received_on"],
        status=head["status"],
        slips=head["slips"],
        errors=tuple((e["line"], e["field"], e["code"]) for e in errors),
    )
