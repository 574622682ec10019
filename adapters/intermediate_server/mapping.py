"""Contracts <-> intermediate server file rows.

The only place where an Individual Number changes form in this adapter: the sealed numbers of a code
acquisition request are opened into the request rows, bound to the request's message id and field. The
plain values live in local variables and in the wire rows only; nothing here logs, and errors name fields.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Final, TypeVar

from adapters.intermediate_server.errors import IsMappingError
from adapters.intermediate_server.wire import (
    ACCEPTED,
    DETAIL_NORMAL_END,
    REGISTERED,
    SPI_NO_DATA,
    SPI_NORMAL,
    AcceptanceRow,
    AnswerRow,
    CodeRequestRow,
    CodeResultRow,
    DuplicateRequestRow,
    DuplicateResultRow,
    NoticeRow,
    QueryRow,
)
from contracts.envelope import LegalBasis, Purpose
from contracts.ids import stable_id
from contracts.messages.intermediate_server import (
    DuplicateStatus,
    IsCodeAcquisitionRequest,
    IsCodeAcquisitionResult,
    IsCodeResultRecord,
    IsDuplicateRegister,
    IsDuplicateResult,
    IsDuplicateResultRecord,
    IsError,
    IsInfoQueryRequest,
    IsInfoQueryResult,
    IsInfoQueryResultRecord,
    IsProvisionNotice,
    IsProvisionNoticeRecord,
    LocalTaxInfo,
    PensionDuplicateData,
    QueryStatus,
    ResidentRecordInfo,
    TableBasis,
)
from contracts.purposes import IS_CODE_ACQUISITION, IS_DUPLICATE_DATA, IS_INFO_QUERY, IS_PROVISION
from contracts.redaction import redact_text
from contracts.sealing import Unsealer
from contracts.validation import validated

__all__ = [
    "INBOUND_PURPOSES",
    "NUMBER_ACT",
    "acceptance_records",
    "answer_records",
    "code_request_rows",
    "code_result_payload",
    "duplicate_data",
    "duplicate_request_rows",
    "duplicate_result_payload",
    "inbound_message_id",
    "notice_payload",
    "number_field",
    "query_result_payload",
    "query_rows_by_provider",
]

NUMBER_ACT: Final = "行政手続における特定の個人を識別するための番号の利用等に関する法律"
_NAMESPACE: Final = uuid.UUID("8d3f1e0a-2b4c-5d6e-8f70-696e7465726d")
INBOUND_PURPOSES: Final = {
    "FGR1": Purpose(
        code=IS_CODE_ACQUISITION,
        legal_basis=(LegalBasis(law=NUMBER_ACT, article="第21条の2", item="情報提供用個人識別符号の取得"),),
    ),
    "SKA1": Purpose(
        code=IS_INFO_QUERY,
        legal_basis=(LegalBasis(law=NUMBER_ACT, article="第19条第8号"),),
    ),
    "DBR1": Purpose(
        code=IS_DUPLICATE_DATA,
        legal_basis=(LegalBasis(law=NUMBER_ACT, article="第19条第8号", item="副本 (情報提供データベース)"),),
    ),
    "TKN1": Purpose(
        code=IS_PROVISION,
        legal_basis=(LegalBasis(law=NUMBER_ACT, article="第19条第8号", item="情報提供"),),
    ),
}
INBOUND_PURPOSES["SKR1"] = INBOUND_PURPOSES["SKA1"]
T = TypeVar("T")


def number_field(record_seq: int) -> str:
    """The field a number of a code acquisition request is sealed under."""
    return f"records.{record_seq}.individual_number"


MESSAGE_LIMIT: Final = 200
"""The contracts' limit on a counterpart's message (``message_ja``)."""


def _counterpart_text(text: str | None) -> str | None:
    # A municipality's message may quote a number (the contract would refuse the whole answer for it):
    # masked here, at the edge, so that the answer goes on and the number does not. The marker is longer
    # than a number: cut back to the contract's limit what only the marker made too long.
    if text is None:
        return None
    masked = redact_text(text)
    return masked[:MESSAGE_LIMIT] if len(text) <= MESSAGE_LIMIT < len(masked) else masked


def inbound_message_id(file_name: str) -> uuid.UUID:
    """The deterministic id of the message made from the file ``file_name`` (redelivery gives the same)."""
    return stable_id(_NAMESPACE, file_name)


def _validated(build: Callable[[], T], what: str) -> T:
    """Run ``build``; a pydantic error becomes :class:`IsMappingError` naming locations only."""
    return validated(build, what, IsMappingError)


def code_request_rows(
    message_id: uuid.UUID, request: IsCodeAcquisitionRequest, unsealer: Unsealer
) -> list[CodeRequestRow]:
    """Open the request's sealed numbers into the rows of a 符号取得要求 file.

    Raises:
        IsMappingError: two records share a record_seq.
        SealError: a number was tampered with, moved, or not sealed for this adapter.
    """
    if len({r.record_seq for r in request.records}) != len(request.records):
        raise IsMappingError("the request repeats a record_seq")
    return [
        CodeRequestRow(
            record_seq=r.record_seq,
            atena_no=r.atena_no,
            individual_number=unsealer.unseal(
                r.individual_number, message_id=message_id, field=number_field(r.record_seq)
            ),
        )
        for r in request.records
    ]


def code_result_payload(batch_id: str, rows: Sequence[CodeResultRow]) -> IsCodeAcquisitionResult:
    """The 符号取得結果 as a message."""
    return _validated(
        lambda: IsCodeAcquisitionResult(
            batch_id=batch_id,
            records=tuple(
                IsCodeResultRecord(
                    record_seq=r.record_seq,
                    atena_no=r.atena_no,
                    acquired=r.acquired,
                    code=r.code,
                    message_ja=_counterpart_text(r.message),
                )
                for r in rows
            ),
        ),
        "the code acquisition result",
    )


def query_rows_by_provider(request: IsInfoQueryRequest) -> dict[str, list[QueryRow]]:
    """The rows of the 情報照会要求 files, one file per provider asked."""
    files: dict[str, list[QueryRow]] = {}
    for r in request.records:
        files.setdefault(r.provider_org_code, []).append(
            QueryRow(
                record_seq=r.record_seq,
                record_id=r.record_id,
                atena_no=r.atena_no,
                code=r.code,
                spi_code=r.spi_code,
                jimu_code=r.jimu_code,
                current_item=r.basis.current_item,
                current_article=r.basis.current_article,
                legacy_item=r.basis.legacy_item,
                provider_org_code=r.provider_org_code,
                tax_year=r.tax_year,
            )
        )
    return files


def acceptance_records(provider: str, rows: Sequence[AcceptanceRow]) -> list[IsInfoQueryResultRecord]:
    """The errors of a 受付結果 file as result records (accepted queries are answered later)."""
    return _validated(
        lambda: [
            IsInfoQueryResultRecord(
                record_id=r.record_id,
                provider_org_code=provider,
                status=QueryStatus.ERROR,
                error=IsError(r.status),
                message_ja=_counterpart_text(r.message),
            )
            for r in rows
            if r.status != ACCEPTED
        ],
        "the acceptance file",
    )


def _answer(r: AnswerRow) -> IsInfoQueryResultRecord:
    if r.detail_status != DETAIL_NORMAL_END or r.spi_status not in (SPI_NORMAL, SPI_NO_DATA):
        raise IsMappingError("an answer carries a status the adapter does not know")
    local_tax = resident = None
    if r.spi_status == SPI_NORMAL and r.tax_year is not None:
        local_tax = LocalTaxInfo(
            tax_year=r.tax_year,
            taxable=bool(r.taxable),
            per_capita_levy=r.per_capita_levy or 0,
            income_levy=r.income_levy or 0,
        )
    elif r.spi_status == SPI_NORMAL:
        resident = ResidentRecordInfo(
            household_head=bool(r.household_head),
            relationship=r.relationship or "",
            household_size=r.household_size or 0,
        )
    return IsInfoQueryResultRecord(
        record_id=r.record_id,
        provider_org_code=r.provider_org_code,
        provider_name=r.provider_name,
        status=QueryStatus.ANSWERED if r.spi_status == SPI_NORMAL else QueryStatus.NO_DATA,
        message_ja=_counterpart_text(r.message),
        provided_at=r.provided_at,
        non_disclosure=r.non_disclosure,
        local_tax=local_tax,
        resident_record=resident,
    )


def answer_records(rows: Sequence[AnswerRow]) -> list[IsInfoQueryResultRecord]:
    """The answers of a 情報照会結果 file as result records."""
    return _validated(lambda: [_answer(r) for r in rows], "the answer file")


def query_result_payload(records: Sequence[IsInfoQueryResultRecord]) -> IsInfoQueryResult:
    """Result records as a message."""
    return IsInfoQueryResult(records=tuple(records))


def duplicate_request_rows(request: IsDuplicateRegister) -> list[DuplicateRequestRow]:
    """The rows of a 副本登録要求 file."""
    rows = []
    for r in request.records:
        data = r.data
        rows.append(
            DuplicateRequestRow(
                record_seq=r.record_seq,
                operation=r.operation,
                record_id=r.record_id,
                atena_no=r.atena_no,
                spi_code=r.spi_code,
                dataset_item_code=r.dataset_item_code,
                spi_version=r.spi_version,
                publication_start=r.publication_start,
                publication_end=r.publication_end,
                pension_kind=data.pension_kind if data else None,
                annual_amount=data.annual_amount if data else None,
                suspended=data.suspended if data else None,
                entitled_from=data.entitled_from if data else None,
                entitlement_ended_on=data.entitlement_ended_on if data else None,
            )
        )
    return rows


def duplicate_data(row: DuplicateRequestRow) -> PensionDuplicateData | None:
    """The 副本データ of a request row (``None`` for a delete)."""
    if row.pension_kind is None or row.annual_amount is None or row.entitled_from is None:
        return None
    return PensionDuplicateData(
        pension_kind=row.pension_kind,
        annual_amount=row.annual_amount,
        suspended=bool(row.suspended),
        entitled_from=row.entitled_from,
        entitlement_ended_on=row.entitlement_ended_on,
    )


def duplicate_result_payload(batch_id: str, rows: Sequence[DuplicateResultRow]) -> IsDuplicateResult:
    """The 副本登録結果 as a message."""
    return _validated(
        lambda: IsDuplicateResult(
            batch_id=batch_id,
            records=tuple(
                IsDuplicateResultRecord(
                    record_seq=r.record_seq,
                    record_id=r.record_id,
                    atena_no=r.atena_no,
                    operation=r.operation,
                    status=DuplicateStatus.REGISTERED if r.status == REGISTERED else DuplicateStatus.ERROR,
                    error=None if r.status == REGISTERED else IsError(r.status),
                    message_ja=_counterpart_text(r.message),
                )
                for r in rows
            ),
        ),
        "the duplicate result",
    )


def notice_payload(rows: Sequence[NoticeRow]) -> IsProvisionNotice:
    """The 情報提供通知 as a message."""
    return _validated(
        lambda: IsProvisionNotice(
            records=tuple(
                IsProvisionNoticeRecord(
                    provision_id=r.provision_id,
                    record_id=r.record_id,
                    atena_no=r.atena_no,
                    requester_org_code=r.requester_org_code,
                    requester_name=r.requester_name,
                    spi_code=r.spi_code,
                    jimu_name=r.jimu_name,
                    basis=TableBasis(
                        current_item=r.current_item,
                        current_article=r.current_article,
                        legacy_item=r.legacy_item,
                    ),
                    requested_at=r.requested_at,
                    provided_at=r.provided_at,
                    non_disclosure=r.non_disclosure,
                )
                for r in rows
            )
        ),
        "the provision notice",
    )
