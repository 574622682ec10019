"""The receipt (受付結果) eLTAX returns for every submitted file, as data: a CSV in CP932.

**Entirely renkei's own (``I``)**, pending the eLTAX specification: the real receipt's form is not among
the public facts. It says what the simulator (and, until the specification is in hand, renkei) needs: the
file's status with file-level errors, and each record's status with its errors, each error naming the
layout field at fault and a code (never the value). Records are identified by their position among the
file's data records (``line``, from 1) and by the key the file gave them (受給者番号 in a payment report,
共済年金証書記号番号 in a special collection notice), which the hub reports by usage number.

Rows (CR LF after each): one header ``H``, then ``F`` rows (file errors), then ``D`` rows: one per
accepted record, one per error of a rejected record.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from adapters.eltax.errors import EltaxFieldRefused, EltaxWireError
from adapters.eltax.tokucho import NOTICE_CODES
from adapters.records.csv import SEPARATOR, CsvCodec, CsvLayout, csv_layout
from adapters.records.fields import FieldType as T
from adapters.records.fields import field as f
from contracts.messages.eltax import EltaxDocument, ReceiptStatus, TokuchoNoticeCode

__all__ = [
    "DATA_ROW",
    "FILE_ERROR_ROW",
    "FILE_KIND",
    "HEADER_ROW",
    "ReceiptEntry",
    "ReceiptFile",
    "parse_receipt",
    "write_receipt",
]

FILE_KIND: Final = "receipt"
LINE_END: Final = b"\r\n"
_FIELD = r"[a-z][a-z0-9_]{0,63}"
_CODE = r"E[0-9]{3}"
_DOCUMENTS: Final = (("331", EltaxDocument.PAYMENT_REPORT), ("TK", EltaxDocument.TOKUCHO_NOTICE))
_STATUSES: Final = (("0", ReceiptStatus.ACCEPTED), ("1", ReceiptStatus.REJECTED))

HEADER_ROW: Final = csv_layout(
    "receipt header",
    f("row_kind", "行区分", 1, T.LITERAL, literal="H", source="I"),
    f("submission", "提出ファイル名", 120, T.ASCII, pattern=r"[A-Za-z0-9_.-]+", source="I"),
    f("document", "書類区分", 3, T.CODE, codes=_DOCUMENTS, source="I"),
    f(
        "notice_code",
        "通知内容コード",
        2,
        T.CODE,
        required=False,
        codes=NOTICE_CODES,
        source="I",
    ),
    f("municipality_code", "市町村コード", 6, T.ASCII, pattern=r"[0-9]{5,6}", source="I"),
    f("received_on", "受付年月日", 8, T.DATE, source="I"),
    f("file_status", "受付結果", 1, T.CODE, codes=_STATUSES, source="I"),
    f("record_count", "件数", 7, T.DIGITS, source="I"),
    f("rejected_count", "エラー件数", 7, T.DIGITS, source="I"),
)
FILE_ERROR_ROW: Final = csv_layout(
    "receipt file error",
    f("row_kind", "行区分", 1, T.LITERAL, literal="F", source="I"),
    f("field", "項目", 64, T.ASCII, required=False, pattern=_FIELD, source="I"),
    f("code", "エラーコード", 4, T.ASCII, pattern=_CODE, source="I"),
)
DATA_ROW: Final = csv_layout(
    "receipt record",
    f("row_kind", "行区分", 1, T.LITERAL, literal="D", source="I"),
    f("line", "レコード番号", 7, T.DIGITS, source="I"),
    f(
        "key",
        "受給者番号又は共済年金証書記号番号",
        25,
        T.ASCII,
        required=False,
        pattern=r"[0-9A-Za-z-]{1,25}",
        source="I",
    ),
    f("status", "受付結果", 1, T.CODE, codes=_STATUSES, source="I"),
    f("field", "項目", 64, T.ASCII, required=False, pattern=_FIELD, source="I"),
    f("code", "エラーコード", 4, T.ASCII, required=False, pattern=_CODE, source="I"),
)
_CODECS: Final[dict[bytes, CsvCodec]] = {
    layout.fields[0].literal.encode(): CsvCodec(
        layout,
        reading=lambda p, n: EltaxWireError.of(p, FILE_KIND, n),
        writing=lambda p, n: EltaxFieldRefused.of(p, FILE_KIND, n),
    )
    for layout in (HEADER_ROW, FILE_ERROR_ROW, DATA_ROW)
}

ErrorEntry = tuple[str | None, str]
"""``(field or None, error code)``."""


@dataclass(frozen=True, slots=True)
class ReceiptEntry:
    """What the receipt says about one record."""

    line: int
    key: str | None
    status: ReceiptStatus
    errors: tuple[ErrorEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class ReceiptFile:
    """A whole receipt."""

    submission: str
    document: EltaxDocument
    notice_code: TokuchoNoticeCode | None
    municipality_code: str
    received_on: date
    file_status: ReceiptStatus
    file_errors: tuple[ErrorEntry, ...] = ()
    records: tuple[ReceiptEntry, ...] = ()


def _codec(layout: CsvLayout) -> CsvCodec:
    return _CODECS[layout.fields[0].literal.encode()]


def write_receipt(receipt: ReceiptFile) -> bytes:
    """The bytes of a receipt.

    Raises:
        EltaxFieldRefused: a value the layout forbids, or a record whose status and errors disagree.
    """
    rejected = sum(r.status is ReceiptStatus.REJECTED for r in receipt.records)
    head = {
        "submission": receipt.submission,
        "document": receipt.document,
        "notice_code": receipt.notice_code,
        "municipality_code": receipt.municipality_code,
        "received_on": receipt.received_on,
        "file_status": receipt.file_status,
        "record_count": len(receipt.records),
        "rejected_count": rejected,
    }
    rows = [_codec(HEADER_ROW).encode_row(head, 1)]
    for field_name, code in receipt.file_errors:
        rows.append(_codec(FILE_ERROR_ROW).encode_row({"field": field_name, "code": code}, len(rows) + 1))
    for entry in receipt.records:
        if (entry.status is ReceiptStatus.REJECTED) != bool(entry.errors):
            raise EltaxFieldRefused(
                "a rejected record has errors, an accepted one none", file_kind=FILE_KIND, field="status"
            )
        base = {"line": entry.line, "key": entry.key, "status": entry.status}
        details: tuple[tuple[str | None, str | None], ...] = entry.errors or ((None, None),)
        for name, error in details:
            rows.append(_codec(DATA_ROW).encode_row({**base, "field": name, "code": error}, len(rows) + 1))
    return b"".join(row + LINE_END for row in rows)


def parse_receipt(content: bytes) -> ReceiptFile:
    """Parse a receipt strictly.

    Raises:
        EltaxWireError: the receipt breaks its layout (the row and the item are named).
    """
    if not content or not content.endswith(LINE_END):
        raise EltaxWireError("is empty or does not end with CR LF", file_kind=FILE_KIND)
    rows = content[: -len(LINE_END)].split(LINE_END)
    decoded: list[dict[str, Any]] = []
    for row_no, raw in enumerate(rows, start=1):
        kind = raw.split(SEPARATOR, 1)[0]
        expected = b"H" if row_no == 1 else None
        codec = _CODECS.get(kind)
        if codec is None or (expected is not None and kind != expected) or (row_no > 1 and kind == b"H"):
            raise EltaxWireError("is not the expected row kind", file_kind=FILE_KIND, record_no=row_no)
        decoded.append({"kind": kind, **codec.decode_row(raw, row_no)})
    head, file_errors = decoded[0], []
    entries: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row_no, row in enumerate(decoded[1:], start=2):
        if row["kind"] == b"F":
            if entries:
                raise EltaxWireError("file errors come before records", file_kind=FILE_KIND, record_no=row_no)
            file_errors.append((row["field"], row["code"]))
        else:
            entries[row["line"]].append(row)
    records = []
    for line, group in entries.items():
        status, key = group[0]["status"], group[0]["key"]
        if any(r["status"] is not status or r["key"] != key for r in group):
            raise EltaxWireError("the rows of one record disagree", file_kind=FILE_KIND, field="status")
        errors = tuple((r["field"], r["code"]) for r in group if r["code"] is not None)
        if (status is ReceiptStatus.REJECTED) != bool(errors) or len(errors) not in (0, len(group)):
            raise EltaxWireError("status and errors disagree", file_kind=FILE_KIND, field="code")
        records.append(ReceiptEntry(line, key, status, errors))
    if head["record_count"] != len(records):
        raise EltaxWireError(
            "does not match the records", file_kind=FILE_KIND, record_no=1, field="record_count"
        )
    if head["rejected_count"] != sum(r.status is ReceiptStatus.REJECTED for r in records):
        raise EltaxWireError(
            "does not match the records", file_kind=FILE_KIND, record_no=1, field="rejected_count"
        )
    return ReceiptFile(
        submission=head["submission"],
        document=head["document"],
        notice_code=head["notice_code"],
        municipality_code=head["municipality_code"],
        received_on=head["received_on"],
        file_status=head["file_status"],
        file_errors=tuple(file_errors),
        records=tuple(records),
    )
