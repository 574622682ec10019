"""Payment report and withholding slip request files: one row layout for the two tax kinds.

Documented in ``docs/formats/pension.md`` §14, whose column table is generated from :data:`ROW`
(:func:`adapters.pension.wire.columns_table`) and kept equal by a test:

* ``payment_report`` (公的年金等支払報告書, 事務(5), to eLTAX) → ``pension.payment_report.requested``;
* ``withholding_slip`` (公的年金等の源泉徴収票, 事務(4), to the National Tax Agency) →
  ``pension.withholding_slip.requested``.

Both messages carry the same records (:class:`~contracts.messages.eltax.PaymentReportRecord`), so both files
have the same rows: one per recipient, with the three sections' amounts, the deductions, the spouse and up
to eight dependants, every person by usage number (the hub adds the numbers). What is per file (the tax
year and the payer, 提出義務者) is in the manifest (``PaymentReportManifest``, ``WithholdingSlipManifest``
in :mod:`adapters.pension._manifest`; a slip's requires the payer's 法人番号).

A row is read in two steps, each refusing the whole file with the physical line and the column, never the
value: the layout (:data:`ROW`, against the shared field engine :mod:`adapters.records`), then the contract
(the record's own rules: katakana, lengths, at most four deductible dependants and four under 16).
Neither file ever carries an Individual Number: any number-like value refuses the file (§5).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

from adapters.pension._manifest import PaymentReportManifest, WithholdingSlipManifest
from adapters.pension.wire import (
    USAGE_NUMBER_PATTERN,
    ContractRows,
    Location,
    field_refusal,
    usage_number_cells,
    usage_number_column,
    usage_number_data,
    usage_number_fields,
)
from adapters.records.csv import csv_layout
from adapters.records.fields import Field
from adapters.records.fields import FieldType as T
from adapters.records.fields import field as f
from contracts.messages.common import ChunkInfo
from contracts.messages.eltax import (
    DependantKind,
    PaymentReportRecord,
    PaymentReportRequested,
)
from contracts.messages.nta import WithholdingSlipRequested
from contracts.purpose_table import default_table
from contracts.usage_number import UsageNumberKind

__all__ = [
    "COLUMNS",
    "MAX_DEPENDANTS",
    "PAYMENT_REPORT_KIND",
    "PAYMENT_REPORT_MESSAGE_TYPE",
    "PAYMENT_REPORT_PURPOSE",
    "ROW",
    "WITHHOLDING_SLIP_KIND",
    "WITHHOLDING_SLIP_MESSAGE_TYPE",
    "WITHHOLDING_SLIP_PURPOSE",
    "format_report_row",
    "parse_report_row",
    "payment_report_payload",
    "withholding_slip_payload",
]

PAYMENT_REPORT_KIND: Final = "payment_report"
WITHHOLDING_SLIP_KIND: Final = "withholding_slip"
PAYMENT_REPORT_MESSAGE_TYPE: Final = "pension.payment_report.requested"
WITHHOLDING_SLIP_MESSAGE_TYPE: Final = "pension.withholding_slip.requested"
PAYMENT_REPORT_PURPOSE: Final = default_table().request_purpose(PAYMENT_REPORT_MESSAGE_TYPE)
# 地方税法 第317条の6 and 番号法 第9条第4項 (contracts/purpose_table.toml, 事務(5)).
WITHHOLDING_SLIP_PURPOSE: Final = default_table().request_purpose(WITHHOLDING_SLIP_MESSAGE_TYPE)
# 所得税法 第226条第3項 and 番号法 第9条第4項 (contracts/purpose_table.toml, 事務(4)).
MAX_DEPENDANTS: Final = 8
"""Dependant groups in a row: four deductible and four under 16 at most (the contract's rule)."""

_BOOL: Final = (("true", True), ("false", False))
_SECTIONS: Final = ("第1号", "第2号", "第3号")
_AMOUNTS: Final = (
    ("paid", "支払金額"),
    ("unpaid", "未払金額"),
    ("withheld", "源泉徴収税額"),
    ("unwithheld", "未徴収税額"),
)
_DEPENDANT_PART: Final = ("usage_number", "name", "kana_name", "kind")
_FLAGS: Final = ("special_disabled", "other_disabled", "widow", "special_widow")


def _sections() -> Iterator[Field]:
    for n, section in enumerate(_SECTIONS, start=1):
        for name, label in _AMOUNTS:
            yield f(
                f"s{n}_{name}", f"所得税法第203条の3{section}適用分 {label}", 10, T.DIGITS, required=False
            )


def _dependants() -> Iterator[Field]:
    for k in range(1, MAX_DEPENDANTS + 1):
        yield f(
            f"dependant_{k}_usage_number",
            f"扶養親族{k} 利用番号 (扶養親族キー)",
            32,
            T.ASCII,
            required=False,
            pattern=USAGE_NUMBER_PATTERN,
        )
        yield f(f"dependant_{k}_name", f"扶養親族{k} 氏名", 30, T.TEXT, required=False)
        yield f(
            f"dependant_{k}_kana_name", f"扶養親族{k} フリガナ (全角カタカナ)", 30, T.TEXT, required=False
        )
        yield f(
            f"dependant_{k}_kind",
            f"扶養親族{k} 区分",
            8,
            T.CODE,
            required=False,
            codes=tuple((kind.value, kind) for kind in DependantKind),
        )


ROW: Final = csv_layout(
    "payment report / withholding slip row",
    f("record_seq", "連番", 15, T.DIGITS),
    *usage_number_fields(
        "受給者 利用番号の種類", "受給者番号 (年金証書記号番号)", kinds=(UsageNumberKind.PENSION_CERTIFICATE,)
    ),
    f(
        "destination_municipality_code",
        "提出先 市区町村コード (1月1日 住所地)",
        6,
        T.ASCII,
        pattern=r"[0-9]{5,6}",
    ),
    f("correction", "訂正表示", 1, T.CODE, required=False, codes=tuple((str(n), n) for n in range(4))),
    f("name", "支払を受ける者 氏名", 30, T.TEXT),
    f("kana_name", "支払を受ける者 フリガナ (全角カタカナ)", 60, T.TEXT),
    f("address", "支払を受ける者 住所又は居所", 60, T.TEXT),
    f("abroad", "国外住所表示", 5, T.CODE, required=False, codes=_BOOL),
    f("birth_date", "生年月日", 10, T.ISO_DATE),
    *_sections(),
    f("special_disabled", "本人 特別障害者", 5, T.CODE, required=False, codes=_BOOL),
    f("other_disabled", "本人 その他の障害者", 5, T.CODE, required=False, codes=_BOOL),
    f(
        "spouse_status",
        "控除対象配偶者の有無等",
        1,
        T.CODE,
        required=False,
        codes=tuple((str(n), n) for n in (1, 2, 3)),
    ),
    f("disabled_special_count", "障害者の数 特別障害者", 2, T.DIGITS, required=False),
    f("disabled_special_cohabiting", "障害者の数 うち同居", 2, T.DIGITS, required=False),
    f("disabled_other_count", "障害者の数 その他", 2, T.DIGITS, required=False),
    f("social_insurance", "社会保険料の金額", 10, T.DIGITS, required=False),
    f("widow", "寡婦", 5, T.CODE, required=False, codes=_BOOL),
    f("special_widow", "ひとり親", 5, T.CODE, required=False, codes=_BOOL),
    f("remarks", "摘要", 100, T.TEXT, required=False),
    *usage_number_fields(
        "控除対象配偶者 利用番号の種類", "控除対象配偶者 利用番号", prefix="spouse_", required=False
    ),
    f("spouse_name", "控除対象配偶者 氏名", 30, T.TEXT, required=False),
    *_dependants(),
)
"""One recipient's row, in the order of the header (every name is a column, every label the form's item)."""
COLUMNS: Final = tuple(item.name for item in ROW.fields)
"""The header row, exactly."""
_SPOUSE: Final = ("spouse_usage_number_kind", "spouse_usage_number", "spouse_name")


def _column(loc: Location) -> str | None:
    """The column of a contract error in a group (``sections.0.paid`` → ``s1_paid``)."""
    head = loc[0]
    if head == "sections" and len(loc) >= 3:
        return f"s{int(loc[1]) + 1}_{loc[2]}"
    if head == "deductions" and len(loc) >= 2:
        return str(loc[1])
    if head == "spouse":
        return "spouse_name" if loc[-1] == "name" else usage_number_column(loc, "spouse_")
    if head == "dependants" and len(loc) >= 2:
        part = str(loc[2]) if len(loc) >= 3 else "usage_number"
        return f"dependant_{int(loc[1]) + 1}_{part}"
    return None


def _group(values: Mapping[str, Any], names: Sequence[str], line: int) -> dict[str, Any] | None:
    """A group of columns filled all or none: its values, ``None`` when empty; refused when partly filled."""
    cells = {name: values[name] for name in names}
    if all(v is None for v in cells.values()):
        return None
    missing = next((name for name, v in cells.items() if v is None), None)
    if missing is not None:
        raise field_refusal(line, missing, "is required when the group's other cells are filled")
    return cells


def _dependant_entries(values: Mapping[str, Any], line: int) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    ended = False
    counted = {True: 0, False: 0}
    for k in range(1, MAX_DEPENDANTS + 1):
        names = [f"dependant_{k}_{part}" for part in _DEPENDANT_PART]
        cells = _group(values, names, line)
        if cells is None:
            ended = True
            continue
        if ended:
            raise field_refusal(line, names[0], "follows an empty dependant; fill the groups from 1")
        usage, name, kana, kind = cells.values()
        minor = kind is DependantKind.UNDER_16
        counted[minor] += 1
        if counted[minor] > 4:
            raise field_refusal(
                line, names[3], "a report names at most four deductible dependants and four under 16"
            )
        entries.append(
            {
                "usage_number": {"kind": UsageNumberKind.DEPENDANT, "value": usage},
                "name": name,
                "kana_name": kana,
                "kind": kind,
            }
        )
    return entries


def _nest(values: Mapping[str, Any], line: int) -> dict[str, Any]:
    """The record's data; a spouse or dependant group filled in part, or out of order, refuses the row."""
    spouse = _group(values, _SPOUSE, line)
    return {
        "record_seq": values["record_seq"],
        "usage_number": usage_number_data(values),
        "destination_municipality_code": values["destination_municipality_code"],
        "correction": values["correction"] or 0,
        "name": values["name"],
        "kana_name": values["kana_name"],
        "address": values["address"],
        "abroad": bool(values["abroad"]),
        "birth_date": values["birth_date"],
        "sections": tuple(_section(values, n) for n in (1, 2, 3)),
        "deductions": {
            name: values[name]
            for name in (
                *_FLAGS,
                "spouse_status",
                "disabled_special_count",
                "disabled_special_cohabiting",
                "disabled_other_count",
                "social_insurance",
            )
            if values[name] is not None
        },
        "remarks": values["remarks"],
        "spouse": None
        if spouse is None
        else {"usage_number": usage_number_data(spouse, "spouse_"), "name": spouse["spouse_name"]},
        "dependants": _dependant_entries(values, line),
    }


def _section(values: Mapping[str, Any], n: int) -> dict[str, int] | None:
    amounts = {name: values[f"s{n}_{name}"] for name, _ in _AMOUNTS}
    return None if all(v is None for v in amounts.values()) else amounts


def _flatten(record: PaymentReportRecord) -> dict[str, Any]:
    values: dict[str, Any] = {
        "record_seq": record.record_seq,
        **usage_number_cells(record.usage_number),
        "destination_municipality_code": record.destination_municipality_code,
        "correction": record.correction,
        "name": record.name,
        "kana_name": record.kana_name,
        "address": record.address,
        "abroad": record.abroad,
        "birth_date": record.birth_date,
        "remarks": record.remarks,
        **record.deductions.model_dump(),
    }
    for n, section in enumerate(record.sections, start=1):
        for name, _ in _AMOUNTS:
            values[f"s{n}_{name}"] = None if section is None else getattr(section, name)
    if record.spouse is not None:
        values.update(
            usage_number_cells(record.spouse.usage_number, "spouse_"), spouse_name=record.spouse.name
        )
    for k, dependant in enumerate(record.dependants, start=1):
        values[f"dependant_{k}_usage_number"] = dependant.usage_number.value
        values[f"dependant_{k}_name"] = dependant.name
        values[f"dependant_{k}_kana_name"] = dependant.kana_name
        values[f"dependant_{k}_kind"] = dependant.kind
    return values


_ROWS: Final = ContractRows(ROW, PaymentReportRecord, nest=_nest, flatten=_flatten, column=_column)
parse_report_row: Final = _ROWS.parse
"""Validate one row of a payment report or withholding slip file into the contract's record
(:meth:`ContractRows.parse`)."""
format_report_row: Final = _ROWS.format
"""The cells of one record, in :data:`COLUMNS` order (:meth:`ContractRows.format`)."""


def payment_report_payload(
    manifest: PaymentReportManifest, chunk: ChunkInfo, batch: list[PaymentReportRecord]
) -> PaymentReportRequested:
    """The ``pension.payment_report.requested`` payload of one chunk (no number)."""
    return PaymentReportRequested(
        chunk=chunk, tax_year=manifest.tax_year, payer=manifest.payer, records=tuple(batch)
    )


def withholding_slip_payload(
    manifest: WithholdingSlipManifest, chunk: ChunkInfo, batch: list[PaymentReportRecord]
) -> WithholdingSlipRequested:
    """The ``pension.withholding_slip.requested`` payload of one chunk (no number)."""
    return WithholdingSlipRequested(
        chunk=chunk, tax_year=manifest.tax_year, payer=manifest.payer, records=tuple(batch)
    )
