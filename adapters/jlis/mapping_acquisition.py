"""Contracts <-> J-LIS wire records for number acquisition by 基本4情報 (個人番号の取得照会).

The query carries no number. The result carries the numbers J-LIS found: each is sealed for the hub at
once, bound to the result message's id and to its field (:func:`~contracts.messages.jlis_acquisition.
unique_number_field`, :func:`~contracts.messages.jlis_acquisition.candidate_number_field`), so the plain
digits live only in the wire records and local variables. Nothing here logs; errors name fields.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Final

from adapters.jlis.errors import JlisPurposeRefused
from adapters.jlis.mapping import HUB_RECIPIENT, _validated, check_unique_seqs, chunk_of, header_chunk
from adapters.jlis.wire_acquisition import (
    AcquisitionHeader,
    AcquisitionPurpose,
    MatchRow,
    QueryFile,
    QueryRecord,
    ResultFile,
    group_rows,
)
from contracts.envelope import Purpose
from contracts.messages.jlis_acquisition import (
    AcquisitionCandidate,
    BasicInfo,
    JlisAcquisitionResultRecord,
    JlisNumberAcquisitionQuery,
    JlisNumberAcquisitionResult,
    MatchStatus,
    candidate_number_field,
    unique_number_field,
)
from contracts.purpose_table import default_table
from contracts.sealing import Sealer

__all__ = [
    "ACQUISITION_PURPOSE",
    "QUERY_TYPE",
    "RESULT_TYPE",
    "acquisition_result_payload",
    "query_file_from_message",
]

QUERY_TYPE: Final = ("jlis.number_acquisition.query", 1)
RESULT_TYPE: Final = ("jlis.number_acquisition.result", 1)
ACQUISITION_PURPOSE: Final[Purpose] = default_table().use(AcquisitionPurpose.NUMBER_ACQUISITION.value).purpose
"""番号法 第14条第2項, 住基法 第30条の9 and 別表第一: the purpose table's row (contracts/purpose_table)."""


def query_file_from_message(
    message_id: uuid.UUID, purpose_code: str, query: JlisNumberAcquisitionQuery
) -> QueryFile:
    """The query file's header and records for a ``jlis.number_acquisition.query`` message.

    Raises:
        JlisPurposeRefused: the purpose is not number acquisition.
        JlisMappingError: two records share a record_seq.
    """
    if purpose_code != AcquisitionPurpose.NUMBER_ACQUISITION.value:
        raise JlisPurposeRefused("the query's purpose is not number acquisition")
    check_unique_seqs([r.record_seq for r in query.records], "the query")
    header = AcquisitionHeader(
        request_id=message_id,
        **header_chunk(query.chunk),
        as_of=query.as_of,
    )
    records = []
    for r in query.records:
        info = r.basic_info
        # BasicInfo guarantees the three required items; the asserts only narrow the types.
        assert info.name is not None
        assert info.birth_date is not None
        assert info.address is not None
        records.append(
            QueryRecord(
                record_seq=r.record_seq,
                ref=r.ref,
                name=info.name,
                birth_date=info.birth_date,
                address=info.address,
                sex=info.sex,
                name_kana=info.name_kana,
            )
        )
    return QueryFile(header, tuple(records))


def _matched(row: MatchRow) -> BasicInfo:
    return BasicInfo(
        name=row.name, name_kana=row.name_kana, birth_date=row.birth_date, sex=row.sex, address=row.address
    )


def _record(group: Sequence[MatchRow], message_id: uuid.UUID, sealer: Sealer) -> JlisAcquisitionResultRecord:
    first = group[0]
    seq = first.record_seq
    number = sealed = None
    matched = None
    candidates: tuple[AcquisitionCandidate, ...] = ()
    if first.match_status is MatchStatus.UNIQUE:
        number = first.individual_number
        assert number is not None  # the wire rules require it
        sealed = sealer.seal(
            number, recipient=HUB_RECIPIENT, message_id=message_id, field=unique_number_field(seq)
        )
        matched = _matched(first)
    elif first.match_status is MatchStatus.MULTIPLE_CANDIDATES:
        listed = []
        for row in group:
            assert row.individual_number is not None
            listed.append(
                AcquisitionCandidate(
                    candidate_no=row.candidate_no,
                    individual_number=sealer.seal(
                        row.individual_number,
                        recipient=HUB_RECIPIENT,
                        message_id=message_id,
                        field=candidate_number_field(seq, row.candidate_no),
                    ),
                    matched=_matched(row),
                )
            )
        candidates = tuple(listed)
    return JlisAcquisitionResultRecord(
        record_seq=seq,
        ref=first.ref,
        match_status=first.match_status,
        candidate_count=first.candidate_count,
        individual_number=sealed,
        matched=matched,
        candidates=candidates,
        no_match_reason=first.no_match_reason,
        address_normalised=first.address_normalised,
    )


def acquisition_result_payload(
    result: ResultFile, message_id: uuid.UUID, sealer: Sealer
) -> JlisNumberAcquisitionResult:
    """Build the result payload, sealing every number found for the hub, bound to ``message_id``.

    Raises:
        JlisWireError: the rows do not group into whole records.
        JlisMappingError: a record parses but breaks the contract (e.g. a name longer than 50 characters).
    """
    header = result.header
    groups = group_rows(result.rows)
    return _validated(
        lambda: JlisNumberAcquisitionResult(
            chunk=chunk_of(header),
            fee_units=result.fee_units,
            records=tuple(_record(group, message_id, sealer) for group in groups),
        ),
        "the acquisition result file",
    )
