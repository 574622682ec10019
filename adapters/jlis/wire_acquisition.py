"""The J-LIS batch files of number acquisition by 基本4情報 (個人番号の取得照会): query and result.

**Modelled on public facts, pending the official J-LIS specification**, like :mod:`adapters.jlis.wire`,
whose frame (header, data records, trailer with count and SHA-256, CR LF after each record, UTF-8) and
field types it shares (:mod:`adapters.jlis.wire`, :mod:`adapters.records`). Documented in
``docs/formats/jlis.md``.

* A query record carries the 4情報 of one person: 氏名, 生年月日 and 住所 are required fields, 性別 is
  optional (J-LIS answers four items, or three without 性別: domain.md §1.3), 氏名カナ a hint.
* A result holds **one data record per candidate**: a unique match is one record (``candidate_no`` 1), ``k``
  candidates are ``k`` consecutive records (``candidate_no`` 1..k, each with ``candidate_count`` k), no match
  is one record (``candidate_no`` 0) with its reason. So the pair ``(record_seq, candidate_no)`` is unique in
  a file, and the records of one ``record_seq`` are consecutive.

Parsing is strict and its errors name the record and the field, never the value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Final

from adapters.jlis.errors import JlisWireError
from adapters.jlis.wire import (
    FileHeader,
    check_records,
    codecs,
    data_layout,
    header_checker,
    header_layout,
    header_values,
    parse_frame,
    refuse,
    trailer_layout,
    write_frame,
)
from adapters.records.fields import FieldType as T
from adapters.records.fields import field
from contracts.individual_number import IndividualNumber
from contracts.messages.jlis_acquisition import MAX_CANDIDATES, MatchStatus, NoMatchReason, Sex
from contracts.purposes import JLIS_NUMBER_ACQUISITION

__all__ = [
    "QUERY_LAYOUTS",
    "RESULT_LAYOUTS",
    "AcquisitionHeader",
    "AcquisitionPurpose",
    "MatchRow",
    "QueryFile",
    "QueryRecord",
    "ResultFile",
    "group_rows",
    "parse_query",
    "parse_result",
    "row_problem",
    "write_query",
    "write_result",
]

QUERY_RECORD_LENGTH: Final = 900
RESULT_RECORD_LENGTH: Final = 1000


class AcquisitionPurpose(StrEnum):
    """The purposes a number acquisition file may serve (the hub's purpose codes)."""

    NUMBER_ACQUISITION = JLIS_NUMBER_ACQUISITION


PURPOSE_CODES: Final = (("NA01", AcquisitionPurpose.NUMBER_ACQUISITION),)
SEX_CODES: Final = (("1", Sex.MALE), ("2", Sex.FEMALE))
STATUS_CODES: Final = (
    ("1", MatchStatus.UNIQUE),
    ("2", MatchStatus.MULTIPLE_CANDIDATES),
    ("0", MatchStatus.NONE),
)
NO_MATCH_CODES: Final = (("1", NoMatchReason.NO_RECORD), ("2", NoMatchReason.NO_RESIDENT_CODE))


def _four_items(*, required: bool) -> tuple[Any, ...]:
    return (
        field("name", "", 150, T.TEXT, required=required),
        field("name_kana", "", 150, T.TEXT, required=False),
        field("birth_date", "", 8, T.DATE, required=required),
        field("sex", "", 1, T.CODE, required=False, codes=SEX_CODES),
        field("address", "", 480, T.TEXT, required=required),
    )


QUERY_HEADER: Final = header_layout(
    "acquisition query header", QUERY_RECORD_LENGTH, "NAQ1", PURPOSE_CODES, cycle=False
)
QUERY_DATA: Final = data_layout(
    "acquisition query data",
    QUERY_RECORD_LENGTH,
    *_four_items(required=True),
)
QUERY_TRAILER: Final = trailer_layout("acquisition query trailer", QUERY_RECORD_LENGTH)
RESULT_HEADER: Final = header_layout(
    "acquisition result header",
    RESULT_RECORD_LENGTH,
    "NAR1",
    PURPOSE_CODES,
    field("fee_units", "", 9, T.DIGITS),
    cycle=False,
)
RESULT_DATA: Final = data_layout(
    "acquisition result data",
    RESULT_RECORD_LENGTH,
    field("match_status", "", 1, T.CODE, codes=STATUS_CODES),
    field("candidate_count", "", 1, T.DIGITS),
    field("candidate_no", "", 1, T.DIGITS),
    field("no_match_reason", "", 1, T.CODE, required=False, codes=NO_MATCH_CODES),
    field("address_normalised", "", 1, T.FLAG),
    field("individual_number", "", 12, T.INDIVIDUAL_NUMBER, required=False),
    *_four_items(required=False),
)
RESULT_TRAILER: Final = trailer_layout("acquisition result trailer", RESULT_RECORD_LENGTH)
QUERY_LAYOUTS: Final = (QUERY_HEADER, QUERY_DATA, QUERY_TRAILER)
RESULT_LAYOUTS: Final = (RESULT_HEADER, RESULT_DATA, RESULT_TRAILER)
_MATCHED: Final = ("individual_number", "name", "birth_date", "address")


@dataclass(frozen=True, slots=True)
class AcquisitionHeader(FileHeader):
    """The header of both files: which query chunk the file belongs to.

    ``request_id`` is the message id of the query the file was written from.

    Attributes:
        as_of: the query's reference date.
        purpose: what the query is for.
    """

    as_of: date
    purpose: AcquisitionPurpose = AcquisitionPurpose.NUMBER_ACQUISITION


@dataclass(frozen=True, slots=True)
class QueryRecord:
    """One person to find by 4情報 (``sex`` ``None``: a three-item query)."""

    record_seq: int
    ref: str
    name: str
    birth_date: date
    address: str
    sex: Sex | None = None
    name_kana: str | None = None


@dataclass(frozen=True, slots=True)
class MatchRow:
    """One data record of a result: one candidate of one query record (or its absence).

    The 4情報 fields are J-LIS's record of the candidate (blank when there is no match).
    """

    record_seq: int
    ref: str
    match_status: MatchStatus
    candidate_count: int
    candidate_no: int
    address_normalised: bool = False
    no_match_reason: NoMatchReason | None = None
    individual_number: IndividualNumber | None = None
    name: str | None = None
    name_kana: str | None = None
    birth_date: date | None = None
    sex: Sex | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class QueryFile:
    """A query file: header and records."""

    header: AcquisitionHeader
    records: tuple[QueryRecord, ...]


@dataclass(frozen=True, slots=True)
class ResultFile:
    """A result file: header, the fee J-LIS charges for the file, and one row per candidate."""

    header: AcquisitionHeader
    fee_units: int
    rows: tuple[MatchRow, ...]


def row_problem(row: MatchRow) -> tuple[str, str] | None:
    """The first ``(field, problem)`` of one result row's status rules, or ``None``."""
    status = row.match_status
    if status is MatchStatus.NONE:
        if row.candidate_count != 0 or row.candidate_no != 0:
            return "candidate_count", "is 0 (and candidate_no 0) when nobody matched"
        if row.no_match_reason is None:
            return "no_match_reason", "is required when nobody matched"
        for name in (*_MATCHED, "name_kana", "sex"):
            if getattr(row, name) is not None:
                return name, "is only allowed with a match"
        if row.address_normalised:
            return "address_normalised", "is only allowed with a match"
        return None
    if row.no_match_reason is not None:
        return "no_match_reason", "is only allowed when nobody matched"
    wanted = 1 if status is MatchStatus.UNIQUE else None
    if (wanted is not None and row.candidate_count != wanted) or (
        wanted is None and not 2 <= row.candidate_count <= MAX_CANDIDATES
    ):
        return "candidate_count", f"does not fit match status {status.value}"
    if not 1 <= row.candidate_no <= row.candidate_count:
        return "candidate_no", "is not between 1 and candidate_count"
    for name in _MATCHED:
        if getattr(row, name) is None:
            return name, f"is required for match status {status.value}"
    return None


def group_rows(rows: Sequence[MatchRow]) -> list[tuple[MatchRow, ...]]:
    """The rows grouped by query record, checking that each group is whole and consistent.

    Raises:
        JlisWireError: a group is split, out of order, short, or its rows disagree (record named).
    """
    groups: list[tuple[MatchRow, ...]] = []
    seen: set[int] = set()
    current: list[MatchRow] = []
    for record_no, row in enumerate(rows, start=2):
        if current and row.record_seq != current[0].record_seq:
            groups.append(_close(current, record_no - 1))
            current = []
        if not current:
            if row.record_seq in seen:
                raise JlisWireError("candidates of one record are not consecutive", record_no=record_no,
                                    field="record_seq")  # fmt: skip
            seen.add(row.record_seq)
        else:
            first = current[0]
            if (row.ref, row.match_status, row.candidate_count) != (
                first.ref,
                first.match_status,
                first.candidate_count,
            ):
                raise JlisWireError("differs from the record's first candidate", record_no=record_no,
                                    field="candidate_count")  # fmt: skip
        if row.match_status is not MatchStatus.NONE and row.candidate_no != len(current) + 1:
            raise JlisWireError("candidates are not numbered 1, 2, ... in order", record_no=record_no,
                                field="candidate_no")  # fmt: skip
        current.append(row)
    if current:
        groups.append(_close(current, len(rows) + 1))
    return groups


def _close(group: list[MatchRow], record_no: int) -> tuple[MatchRow, ...]:
    expected = max(1, group[0].candidate_count)
    if len(group) != expected:
        raise JlisWireError("the record lacks candidates or has too many", record_no=record_no,
                            field="candidate_count")  # fmt: skip
    return tuple(group)


_CHECK_HEADER: Final = header_checker(AcquisitionHeader)
_QUERY: Final = codecs(QUERY_LAYOUTS)
_RESULT: Final = codecs(RESULT_LAYOUTS)


def write_query(file: QueryFile) -> bytes:
    """The bytes of a query file.

    Raises:
        JlisWireError: a value does not fit the layout (the record and field are named).
    """
    return write_frame(_QUERY, header_values(file.header, len(file.records)), file.records)


def write_result(file: ResultFile) -> bytes:
    """The bytes of a result file.

    Raises:
        JlisWireError: a value does not fit the layout, or a row breaks the status rules.
    """
    check_records(file.rows, row_problem)
    group_rows(file.rows)
    values = header_values(file.header, len(file.rows)) | {"fee_units": file.fee_units}
    return write_frame(_RESULT, values, file.rows)


def _query_record(values: dict[str, Any], record_no: int) -> QueryRecord:
    return QueryRecord(**values)


def _match_row(values: dict[str, Any], record_no: int) -> MatchRow:
    row = MatchRow(**values)
    refuse(row_problem(row), record_no)
    return row


def parse_query(content: bytes) -> QueryFile:
    """Parse a query file strictly.

    Raises:
        JlisWireError: the file breaks the layout (the record and field are named, never the value).
    """
    header, _, records = parse_frame(content, _QUERY, check_header=_CHECK_HEADER, build=_query_record)
    return QueryFile(header, tuple(records))


def parse_result(content: bytes) -> ResultFile:
    """Parse a result file strictly, including the grouping of candidates by query record.

    Raises:
        JlisWireError: the file breaks the layout (the record and field are named, never the value).
    """
    header, values, rows = parse_frame(
        content,
        _RESULT,
        check_header=_CHECK_HEADER,
        build=_match_row,
        key=lambda v: (v["record_seq"], v["candidate_no"]),
    )
    group_rows(rows)
    return ResultFile(header, values["fee_units"], tuple(rows))
