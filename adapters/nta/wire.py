"""The NTA wire formats in one place: every layout, its writer and its parser.

* :mod:`adapters.nta.slip`: the withholding slip (公的年金等の源泉徴収票, 法定資料の種類 377), CP932 CSV, a
  line per slip: the Agency's published standard.
* :mod:`adapters.nta.receipt`: the receipt (受信通知) the Agency returns for each file (renkei's own: no
  public format exists).

Each layout is declared once, as data (item, length, type, required, source), and drives both writing and
parsing. :func:`layout_tables` prints them all as Markdown; ``docs/formats/nta.md`` holds that output, and
a unit test keeps the page and the code equal.
"""

from __future__ import annotations

from adapters.nta.receipt import CONTROL_ROW, ERROR_ROW, ErrorEntry, ReceiptFile, parse_receipt, write_receipt
from adapters.nta.slip import (
    ROW,
    SlipFile,
    SlipMinor,
    SlipPayer,
    SlipPerson,
    SlipReading,
    SlipRecord,
    parse_slips,
    read_slips,
    write_slips,
)
from adapters.records.fields import markdown_table

__all__ = [
    "ErrorEntry",
    "ReceiptFile",
    "SlipFile",
    "SlipMinor",
    "SlipPayer",
    "SlipPerson",
    "SlipReading",
    "SlipRecord",
    "layout_tables",
    "parse_receipt",
    "parse_slips",
    "read_slips",
    "write_receipt",
    "write_slips",
]


def layout_tables() -> dict[str, str]:
    """Every layout as a Markdown table, by a short key (the documentation embeds them)."""
    return {
        layout.name: markdown_table(layout.name, layout.fields, by_bytes=False)
        for layout in (ROW, CONTROL_ROW, ERROR_ROW)
    }
