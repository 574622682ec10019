"""The eLTAX wire formats in one place: every layout, its writer and its parser.

* :mod:`adapters.eltax.report`: the payment report (公的年金等支払報告書), CP932 CSV, a row per recipient.
* :mod:`adapters.eltax.tokucho`: the special collection notice (年金特徴), fixed length in JIS8.
* :mod:`adapters.eltax.receipt`: the receipt eLTAX returns for each file (renkei's own, pending the
  specification).

Each layout is declared once, as data (field, offset, length, type, required, source), and drives both
writing and parsing. :func:`layout_tables` prints them all as Markdown; ``docs/formats/eltax.md`` holds
that output, and a unit test keeps the page and the code equal.
"""

from __future__ import annotations

from adapters.eltax.receipt import (
    DATA_ROW,
    FILE_ERROR_ROW,
    HEADER_ROW,
    ReceiptEntry,
    ReceiptFile,
    parse_receipt,
    write_receipt,
)
from adapters.eltax.report import (
    ROW,
    ReportDependantEntry,
    ReportFile,
    ReportMinorEntry,
    ReportPayer,
    ReportRecord,
    ReportSpouseEntry,
    parse_report,
    read_report,
    write_report,
)
from adapters.eltax.tokucho import (
    AMOUNT_SLOTS,
    DATA,
    HEADER,
    LABEL,
    TRAILER,
    NoticeFile,
    NoticeHeader,
    NoticeRecord,
    parse_notice,
    read_notice,
    write_notice,
)
from adapters.records.fields import markdown_table

__all__ = [
    "AMOUNT_SLOTS",
    "NoticeFile",
    "NoticeHeader",
    "NoticeRecord",
    "ReceiptEntry",
    "ReceiptFile",
    "ReportDependantEntry",
    "ReportFile",
    "ReportMinorEntry",
    "ReportPayer",
    "ReportRecord",
    "ReportSpouseEntry",
    "layout_tables",
    "parse_notice",
    "parse_receipt",
    "parse_report",
    "read_notice",
    "read_report",
    "write_notice",
    "write_receipt",
    "write_report",
]


def layout_tables() -> dict[str, str]:
    """Every layout as a Markdown table, by a short key (the documentation embeds them)."""
    tables = {"report row": markdown_table(ROW.name, ROW.fields, by_bytes=False)}
    for layout in (LABEL, HEADER, DATA, TRAILER):
        tables[f"tokucho {layout.name}"] = markdown_table(layout.name, layout.fields, by_bytes=True)
    for row in (HEADER_ROW, FILE_ERROR_ROW, DATA_ROW):
        tables[row.name] = markdown_table(row.name, row.fields, by_bytes=False)
    return tables
