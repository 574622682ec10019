"""Code acquisition and information query request files: the pension system's side of 情報照会.

Documented in ``docs/formats/pension.md`` §16, whose column table is generated from :data:`ROW` by
:func:`adapters.pension.wire.columns_table` and kept equal by a test:

* ``code_acquisition`` (符号取得, 事務(10)) → ``pension.code_acquisition.requested``: the people whose code
  (情報提供用個人識別符号) the federation needs before it can query or provide for them. The rows are the
  survival inquiry's (``record_seq``, ``usage_number_kind``, ``usage_number``): the hub looks the number up.
* ``info_query`` (情報照会, 事務(9), a 構成組合's alone) → ``pension.info_query.requested``: one query per
  row, naming the information asked for, the 事務 and the row of the legal-basis table it rests on, and
  the institution asked. The hub refuses a query whose legal basis does not permit it, and answers a query
  for a person without a code ``code_not_acquired``.

Neither file ever carries an Individual Number (§5). The answers come back as JSON message files
(``pension.code_acquisition.completed``, ``pension.info_query.answered``), as §13 says.
"""

from __future__ import annotations

from typing import Final

from adapters.pension._manifest import CodeAcquisitionManifest, InfoQueryManifest
from adapters.pension.wire import ContractRows, Group, InquiryRow, usage_number_fields
from adapters.records.csv import csv_layout
from adapters.records.fields import FieldType as T
from adapters.records.fields import field as f
from contracts.messages.common import ChunkInfo
from contracts.messages.intermediate_server import (
    CodeAcquisitionRecord,
    CodeAcquisitionRequested,
    InfoKind,
    InfoQueryRecord,
    InfoQueryRequested,
    TableBasis,
)
from contracts.purpose_table import default_table

__all__ = [
    "CODE_KIND",
    "CODE_MESSAGE_TYPE",
    "CODE_PURPOSE",
    "COLUMNS",
    "QUERY_KIND",
    "QUERY_MESSAGE_TYPE",
    "QUERY_PURPOSE",
    "ROW",
    "code_payload",
    "format_query_row",
    "parse_query_row",
    "query_payload",
]

CODE_KIND: Final = "code_acquisition"
QUERY_KIND: Final = "info_query"
CODE_MESSAGE_TYPE: Final = "pension.code_acquisition.requested"
QUERY_MESSAGE_TYPE: Final = "pension.info_query.requested"
CODE_PURPOSE: Final = default_table().request_purpose(CODE_MESSAGE_TYPE)
# 番号法 第21条の2 (contracts/purpose_table.toml, 事務(10)).
QUERY_PURPOSE: Final = default_table().request_purpose(QUERY_MESSAGE_TYPE)
# 番号法 第19条第8号 and 命令 第2条の表 84の項 (contracts/purpose_table.toml, 事務(9)).

ROW: Final = csv_layout(
    "information query row",
    f("record_seq", "連番", 15, T.DIGITS),
    f(
        "query_ref",
        "照会の参照番号 (年金給付システムの照会ID; 回答に返る)",
        64,
        T.ASCII,
        pattern=r"[A-Za-z0-9_.-]{1,64}",
    ),
    *usage_number_fields("利用番号の種類", "利用番号"),
    f("info_kind", "照会する情報", 15, T.CODE, codes=tuple((kind.value, kind) for kind in InfoKind)),
    f("spi_code", "特定個人情報名コード", 16, T.ASCII, pattern=r"TM[0-9]{14}"),
    f("jimu_code", "事務コード", 16, T.ASCII, pattern=r"[A-Z][A-Z0-9]{2,15}"),
    f("basis_current_item", "根拠 命令第2条の表の項番", 3, T.DIGITS),
    f("basis_current_article", "根拠 命令の条 (例: 第86条)", 6, T.TEXT),
    f("basis_legacy_item", "根拠 旧番号法別表第二の項番", 3, T.DIGITS, required=False),
    f("provider_org_code", "情報提供者機関コード", 6, T.ASCII, pattern=r"[0-9A-Z]{6}"),
    f("tax_year", "課税年度 (地方税関係情報)", 4, T.DIGITS, required=False),
)
"""One query's row, in the order of the header (every name is a column, every label the query's item)."""
COLUMNS: Final = tuple(item.name for item in ROW.fields)
"""The header row, exactly."""


_ROWS: Final = ContractRows(
    ROW, InfoQueryRecord, groups=(Group("basis", tuple(TableBasis.model_fields), prefix="basis_"),)
)
parse_query_row: Final = _ROWS.parse
"""Validate one row of an information query file into the contract's record (:meth:`ContractRows.parse`)."""
format_query_row: Final = _ROWS.format
"""The cells of one query, in :data:`COLUMNS` order (:meth:`ContractRows.format`)."""


def code_payload(
    manifest: CodeAcquisitionManifest, chunk: ChunkInfo, batch: list[InquiryRow]
) -> CodeAcquisitionRequested:
    """The ``pension.code_acquisition.requested`` payload of one chunk (no number)."""
    del chunk  # one batch, whatever its chunks
    return CodeAcquisitionRequested(
        batch_id=manifest.batch_id,
        records=tuple(
            CodeAcquisitionRecord(record_seq=r.record_seq, usage_number=r.usage_number) for r in batch
        ),
    )


def query_payload(
    manifest: InfoQueryManifest, chunk: ChunkInfo, batch: list[InfoQueryRecord]
) -> InfoQueryRequested:
    """The ``pension.info_query.requested`` payload of one chunk (no number)."""
    del chunk  # one batch, whatever its chunks
    return InfoQueryRequested(batch_id=manifest.batch_id, records=tuple(batch))
