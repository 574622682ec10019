"""The simulated J-LIS's answer to number acquisition queries (基本4情報照会), from a register.

:func:`answer_query` reads each query record's 4情報, asks :class:`~adapters.jlis.register.
NewEntitlementRegister` whom it finds, and writes one result row per candidate. A query that breaks the
four-or-three rule cannot reach here: the layout makes 氏名, 生年月日 and 住所 required, so the parser
refuses such a file whole. Without a register, J-LIS finds nobody (``none``, ``no_record``).
"""

from __future__ import annotations

from adapters.jlis.register import Answer, NewEntitlementRegister
from adapters.jlis.wire_acquisition import MatchRow, QueryFile, QueryRecord, ResultFile
from contracts.messages.jlis_acquisition import MatchStatus, NoMatchReason

__all__ = ["answer_query", "match_rows"]

_NOBODY = Answer(MatchStatus.NONE, no_match_reason=NoMatchReason.NO_RECORD)


def match_rows(record: QueryRecord, answer: Answer) -> list[MatchRow]:
    """The result rows of one query record: one per candidate, or one saying nobody was found."""
    if answer.status is MatchStatus.NONE:
        return [
            MatchRow(
                record_seq=record.record_seq,
                ref=record.ref,
                match_status=MatchStatus.NONE,
                candidate_count=0,
                candidate_no=0,
                no_match_reason=answer.no_match_reason,
            )
        ]
    return [
        MatchRow(
            record_seq=record.record_seq,
            ref=record.ref,
            match_status=answer.status,
            candidate_count=len(answer.candidates),
            candidate_no=number,
            address_normalised=answer.address_normalised,
            individual_number=person.individual_number,
            name=person.name,
            birth_date=person.birth_date,
            sex=person.sex,
            address=person.address,
        )
        for number, person in enumerate(answer.candidates, start=1)
    ]


def answer_query(register: NewEntitlementRegister | None, query: QueryFile, fee_units: int) -> ResultFile:
    """The result file of a query file, charging ``fee_units`` for it."""
    rows: list[MatchRow] = []
    for record in query.records:
        answer = (
            register.find(
                name=record.name, birth_date=record.birth_date, address=record.address, sex=record.sex
            )
            if register is not None
            else _NOBODY
        )
        rows.extend(match_rows(record, answer))
    return ResultFile(query.header, fee_units, tuple(rows))
