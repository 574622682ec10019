"""Number acquisition files of the pension exchange: new entitlements in, outcomes back.

Documented in ``docs/formats/pension.md``:

* request (新規裁定者の個人番号取得依頼), pension system -> renkei: ``number_acquisition.<batch>.csv`` with
  columns :data:`ACQUISITION_COLUMNS`: a usage number and the person's 基本4情報;
* outcome, renkei -> pension system: ``number_acquisition_outcomes.<batch>.<chunk:06d>.<answered_by>.csv``
  (and ``....operator.<hold id>.csv`` for a hold an operator resolved), columns :data:`OUTCOME_COLUMNS`.

Neither carries an Individual Number. A row whose 4情報 break J-LIS's rule (all four, or three without 性別)
refuses the file whole, with reason ``basic_info_incomplete``: such a query never leaves renkei.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from adapters.pension._manifest import AcquisitionManifest, AcquisitionOutcomeManifest
from adapters.pension.errors import MalformedPensionFile, Reason
from adapters.pension.mapping import answer_file
from adapters.pension.wire import (
    _check_shape,
    _date,
    _enum,
    _record_seq,
    _usage_number,
    field_refusal,
    refuse_individual_numbers,
)
from contracts.messages.common import ChunkInfo
from contracts.messages.jlis_acquisition import (
    AcquisitionRequestRecord,
    AcquisitionStatus,
    BasicInfo,
    HoldReason,
    NoMatchReason,
    NumberAcquisitionOutcomes,
    NumberAcquisitionRequested,
    Sex,
    basic_info_problem,
)
from contracts.purpose_table import default_table
from contracts.usage_number import UsageNumber

__all__ = [
    "ACQUISITION_COLUMNS",
    "ACQUISITION_KIND",
    "NUMBER_ACQUISITION_PURPOSE",
    "OUTCOME_COLUMNS",
    "OUTCOME_KIND",
    "OUTCOME_MESSAGE_TYPE",
    "REQUEST_MESSAGE_TYPE",
    "AcquisitionOutcomeRow",
    "AcquisitionRow",
    "acquisition_payload",
    "format_acquisition_row",
    "outcome_file",
    "parse_acquisition_row",
    "parse_outcome_row",
]

ACQUISITION_KIND: Final = "number_acquisition"
OUTCOME_KIND: Final = "number_acquisition_outcomes"
REQUEST_MESSAGE_TYPE: Final = "pension.number_acquisition.requested"
OUTCOME_MESSAGE_TYPE: Final = "pension.number_acquisition.outcome"
ACQUISITION_COLUMNS: Final = (
    "record_seq",
    "usage_number_kind",
    "usage_number",
    "name",
    "name_kana",
    "birth_date",
    "sex",
    "address",
)
OUTCOME_COLUMNS: Final = (
    "record_seq",
    "usage_number_kind",
    "usage_number",
    "status",
    "hold_id",
    "hold_reason",
    "candidate_count",
    "no_match_reason",
    "note",
)
NUMBER_ACQUISITION_PURPOSE: Final = default_table().request_purpose(REQUEST_MESSAGE_TYPE)
# 番号法 第14条第2項 and 住民基本台帳法 第30条の9 別表第一 19の項 (contracts/purpose_table.toml).
"""Purpose of a number acquisition the pension system requests (個人番号の取得照会)."""
_TEXT_LIMITS: Final = {"name": 50, "name_kana": 50, "address": 160}


@dataclass(frozen=True, slots=True)
class AcquisitionRow:
    """One new entitlement (a row of the request file); ``sex`` ``None`` is a three-item query."""

    record_seq: int
    usage_number: UsageNumber
    name: str
    birth_date: date | None
    address: str
    sex: Sex | None = None
    name_kana: str | None = None


@dataclass(frozen=True, slots=True)
class AcquisitionOutcomeRow:
    """One outcome (a row of an outcome file); empty cells are ``None``."""

    record_seq: int
    usage_number: UsageNumber
    status: AcquisitionStatus
    hold_id: str | None = None
    hold_reason: HoldReason | None = None
    candidate_count: int | None = None
    no_match_reason: NoMatchReason | None = None
    note: str | None = None


_MISSING_COLUMN: Final = {"氏名 name": "name", "生年月日 birth_date": "birth_date", "住所 address": "address"}


def parse_acquisition_row(fields: Sequence[str], line: int) -> AcquisitionRow:
    """Validate one request row, including J-LIS's rule of four items or three without 性別.

    Raises:
        MalformedPensionFile: a field breaks its format, or the 4情報 are incomplete.
        IndividualNumberInFile: a field holds a value with the form of an Individual Number.
    """
    _check_shape(fields, ACQUISITION_COLUMNS, line)
    seq, kind, value, name, kana, born, sex_text, address = fields
    usage = _usage_number(kind, value, line)
    for column, text in (("name", name), ("name_kana", kana), ("address", address)):
        if len(text) > _TEXT_LIMITS[column]:
            raise field_refusal(line, column, f"is longer than {_TEXT_LIMITS[column]} characters")
    birth_date = _date(born, line, "birth_date")
    sex = _enum(Sex, sex_text, line, "sex") if sex_text else None
    problem = basic_info_problem(name=name or None, birth_date=birth_date, sex=sex, address=address or None)
    if problem is not None:
        first = problem.split("missing: ")[1].split(", ")[0]
        raise MalformedPensionFile(
            problem, reason=Reason.BASIC_INFO_INCOMPLETE, line=line, column=_MISSING_COLUMN[first]
        )
    return AcquisitionRow(_record_seq(seq, line), usage, name, birth_date, address, sex, kana or None)


def format_acquisition_row(row: AcquisitionRow) -> list[str]:
    """The cells of one request row, in :data:`ACQUISITION_COLUMNS` order."""
    cells = [
        str(row.record_seq),
        row.usage_number.kind.value,
        row.usage_number.value,
        row.name,
        row.name_kana or "",
        row.birth_date.isoformat() if row.birth_date else "",
        row.sex.value if row.sex else "",
        row.address,
    ]
    refuse_individual_numbers(cells, ACQUISITION_COLUMNS, None)
    return cells


def acquisition_payload(
    manifest: AcquisitionManifest, chunk: ChunkInfo, batch: list[AcquisitionRow]
) -> NumberAcquisitionRequested:
    """The ``pension.number_acquisition.requested`` payload of one chunk of a request (no number)."""
    records = tuple(
        AcquisitionRequestRecord(
            record_seq=r.record_seq,
            usage_number=r.usage_number,
            basic_info=BasicInfo(
                name=r.name, name_kana=r.name_kana, birth_date=r.birth_date, sex=r.sex, address=r.address
            ),
        )
        for r in batch
    )
    return NumberAcquisitionRequested(chunk=chunk, as_of=manifest.as_of, records=records)


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def outcome_file(
    outcomes: NumberAcquisitionOutcomes, actor: str | None = None
) -> tuple[str, bytes, AcquisitionOutcomeManifest]:
    """The outcome file of one outcome message: its name, content and manifest.

    The name is a function of the message's chunk and answerer (and, for an operator's resolution, of the
    hold), so rewriting it is idempotent.

    Raises:
        IndividualNumberInFile: a cell would carry a value with the form of an Individual Number.
    """
    parts: list[str] = [outcomes.answered_by]
    if outcomes.answered_by == "operator":
        parts.append(outcomes.records[0].hold_id or "unheld")
    rows = (
        [
            str(r.record_seq),
            r.usage_number.kind.value,
            r.usage_number.value,
            r.status.value,
            _cell(r.hold_id),
            _cell(r.hold_reason.value if r.hold_reason else None),
            _cell(r.candidate_count),
            _cell(r.no_match_reason.value if r.no_match_reason else None),
            _cell(r.note),
        ]
        for r in outcomes.records
    )
    return answer_file(
        OUTCOME_KIND,
        outcomes.chunk,
        OUTCOME_COLUMNS,
        rows,
        manifest_type=AcquisitionOutcomeManifest,
        actor=actor,
        name_parts=parts,
        answered_by=outcomes.answered_by,
    )


def parse_outcome_row(fields: Sequence[str], line: int) -> AcquisitionOutcomeRow:
    """Validate one outcome row (the pension system's side).

    Raises:
        MalformedPensionFile: a field breaks its format.
        IndividualNumberInFile: a field holds a value with the form of an Individual Number.
    """
    _check_shape(fields, OUTCOME_COLUMNS, line)
    seq, kind, value, status, hold_id, hold_reason, count, reason, note = fields
    if count and not count.isdigit():
        raise field_refusal(line, "candidate_count", "must be a small non-negative integer, or empty")
    return AcquisitionOutcomeRow(
        record_seq=_record_seq(seq, line),
        usage_number=_usage_number(kind, value, line),
        status=_enum(AcquisitionStatus, status, line, "status"),
        hold_id=hold_id or None,
        hold_reason=_enum(HoldReason, hold_reason, line, "hold_reason") if hold_reason else None,
        candidate_count=int(count) if count else None,
        no_match_reason=_enum(NoMatchReason, reason, line, "no_match_reason") if reason else None,
        note=note or None,
    )
