"""Special collection request files (年金からの個人住民税特別徴収, 年金特徴): the federation's notices.

Documented in ``docs/formats/pension.md`` §15, whose column table is generated from :data:`ROW` by
:func:`adapters.pension.wire.columns_table` and kept equal by a test.

``special_collection`` (事務(7), to the municipalities through eLTAX) → ``pension.tokucho.notice_requested``.
One file is one notice of the yearly cycle: its manifest names the 通知内容コード (only those the federation
sends: 00, 02, 22, 30, 32, 42, 62), the 年度 and the 作成年月日; each row is one person, by pension
certificate number. The hub adds the Individual Number to a target notice (00) from its vault; no file
carries one (§5).

A row is read in two steps, each refusing the whole file with the physical line and the column, never the
value: the layout (:data:`ROW`, against the shared field engine :mod:`adapters.records`), then the contract
(the record's own rules: katakana, lengths). The notice's 各種区分 rule (which categories a notice allows,
:data:`contracts.messages.eltax.CATEGORIES`) needs the manifest's code, so it is checked by
:func:`check_category` for every row, before anything is sent.
"""

from __future__ import annotations

from typing import Final

from adapters.pension._manifest import SpecialCollectionManifest
from adapters.pension.wire import ContractRows, Group, field_refusal, usage_number_fields
from adapters.records.csv import csv_layout
from adapters.records.fields import FieldType as T
from adapters.records.fields import field as f
from contracts.messages.common import ChunkInfo
from contracts.messages.eltax import (
    CATEGORIES,
    Sex,
    TokuchoAmounts,
    TokuchoNoticeRequested,
    TokuchoRecord,
)
from contracts.purpose_table import default_table
from contracts.usage_number import UsageNumberKind

__all__ = [
    "COLUMNS",
    "KIND",
    "MESSAGE_TYPE",
    "PURPOSE",
    "ROW",
    "check_category",
    "format_notice_row",
    "notice_payload",
    "parse_notice_row",
]

KIND: Final = "special_collection"
MESSAGE_TYPE: Final = "pension.tokucho.notice_requested"
PURPOSE: Final = default_table().request_purpose(MESSAGE_TYPE)
# 地方税法 第321条の7の2 and 第321条の7の4 (contracts/purpose_table.toml, 事務(7)).

_AMOUNTS: Final = tuple(
    (name, str(spec.description).split(" (")[0]) for name, spec in TokuchoAmounts.model_fields.items()
)
_TWO_DIGITS: Final = r"[0-9]{2}"

ROW: Final = csv_layout(
    "special collection notice row",
    f("record_seq", "連番", 15, T.DIGITS),
    f("municipality_code", "市町村コード (府県2 + 市町村3)", 5, T.ASCII, pattern=r"[0-9]{5}"),
    *usage_number_fields(
        "利用番号の種類", "共済年金証書記号番号", kinds=(UsageNumberKind.PENSION_CERTIFICATE,)
    ),
    f("basic_pension_number", "基礎年金番号", 10, T.ASCII, pattern=r"[0-9]{10}"),
    f("pension_code", "年金コード", 4, T.ASCII, pattern=r"[0-9]{4}"),
    f("birth_date", "生年月日", 10, T.ISO_DATE),
    f("sex", "性別", 6, T.CODE, codes=tuple((s.value, s) for s in Sex)),
    f("kana_name", "カナ氏名 (全角カタカナ)", 25, T.TEXT),
    f("name", "漢字氏名", 25, T.TEXT),
    f("postal_code", "郵便番号", 7, T.ASCII, required=False, pattern=r"[0-9]{7}"),
    f("kana_address", "カナ住所", 80, T.TEXT, required=False),
    f("address", "漢字住所", 80, T.TEXT, required=False),
    f("category", "各種区分", 2, T.ASCII, required=False, pattern=_TWO_DIGITS),
    f("result", "処理結果", 2, T.ASCII, required=False, pattern=_TWO_DIGITS),
    f("event_date", "各種年月日", 10, T.ISO_DATE, required=False),
    *(f(name, label, 11, T.DIGITS, required=False) for name, label in _AMOUNTS),
)
"""One person's row, in the order of the header (every name is a column, every label the layout's item)."""
COLUMNS: Final = tuple(item.name for item in ROW.fields)
"""The header row, exactly."""


_ROWS: Final = ContractRows(
    ROW,
    TokuchoRecord,
    groups=(Group("amounts", tuple(TokuchoAmounts.model_fields)),),
    whole="usage_number_kind",  # the record's own rule: keyed by the pension certificate number
)
parse_notice_row: Final = _ROWS.parse
"""Validate one row of a special collection file into the contract's record (:meth:`ContractRows.parse`)."""
format_notice_row: Final = _ROWS.format
"""The cells of one record, in :data:`COLUMNS` order (:meth:`ContractRows.format`)."""


def check_category(manifest: SpecialCollectionManifest, record: TokuchoRecord, line: int) -> None:
    """Refuse a row whose 各種区分 its notice does not allow (the contract's rule, per notice code).

    Raises:
        MalformedPensionFile: naming the line and the column ``category``.
    """
    allowed = CATEGORIES.get(manifest.notice_code)
    if allowed is not None and record.category not in allowed:
        codes = ", ".join(sorted(allowed))
        raise field_refusal(
            line, "category", f"notice {manifest.notice_code.value} takes a category of {codes}"
        )


def notice_payload(
    manifest: SpecialCollectionManifest, chunk: ChunkInfo, batch: list[TokuchoRecord]
) -> TokuchoNoticeRequested:
    """The ``pension.tokucho.notice_requested`` payload of one chunk (no number)."""
    return TokuchoNoticeRequested(
        chunk=chunk,
        notice_code=manifest.notice_code,
        fiscal_year=manifest.fiscal_year,
        created_on=manifest.created_on,
        records=tuple(batch),
    )
