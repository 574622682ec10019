"""Contracts <-> eLTAX wire records: the only place where Individual Numbers change form in the adapter.

Numbers sealed for ``eltax`` are opened into the wire records of a submission or a target notice; numbers
in municipalities' notices are sealed for the hub at once. Plain values live in local variables and in the
wire records only; nothing here logs, and errors name fields, never values.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Final, TypeVar

from pydantic import ValidationError

from adapters.eltax.errors import EltaxFieldRefused, EltaxMappingError
from adapters.eltax.receipt import ReceiptFile
from adapters.eltax.report import (
    ReportDependantEntry,
    ReportFile,
    ReportMinorEntry,
    ReportPayer,
    ReportRecord,
    ReportSpouseEntry,
)
from adapters.eltax.tokucho import AMOUNT_SLOTS, NoticeFile, NoticeHeader, NoticeRecord
from adapters.statutory import recipient_fields, section_amounts
from contracts.ids import stable_id
from contracts.individual_number import IndividualNumber
from contracts.messages.eltax import (
    DependantKind,
    EltaxPaymentReportSubmission,
    EltaxReceipt,
    EltaxTokuchoInbound,
    EltaxTokuchoNotice,
    EltaxTokuchoRecord,
    ReceiptError,
    ReceiptRecord,
    SubmissionRecord,
    TokuchoAmounts,
    TokuchoNoticeCode,
    notice_number_field,
    recipient_number_field,
    report_dependant_number_field,
    spouse_number_field,
)
from contracts.sealing import Sealer, Unsealer
from contracts.usage_number import UsageNumber, UsageNumberKind
from contracts.validation import validated

__all__ = [
    "HUB_RECIPIENT",
    "amounts_of",
    "inbound_payload",
    "message_id_of",
    "notice_files",
    "receipt_payload",
    "report_files",
    "slots_of",
]

HUB_RECIPIENT: Final = "hub"
_NAMESPACE: Final = uuid.UUID("5e6c7461-7800-5d1b-8f0e-72656e6b6569")
_DEPENDANT_KINDS: Final = {
    DependantKind.ELDERLY: "elderly",
    DependantKind.SPECIFIC: "specific",
    DependantKind.OTHER: "other",
}
_KEY_PATTERN: Final = r"^[0-9A-Za-z-]+$"
T = TypeVar("T")


def message_id_of(file_name: str) -> uuid.UUID:
    """The deterministic message id of the envelope built from the file ``file_name`` (never number-like)."""
    return stable_id(_NAMESPACE, file_name)


def _validated(build: Callable[[], T], what: str) -> T:
    """Run ``build``; a pydantic error becomes :class:`EltaxMappingError` naming locations only."""
    return validated(build, what, EltaxMappingError)


def slots_of(code: TokuchoNoticeCode, amounts: TokuchoAmounts) -> tuple[int | None, ...]:
    """The six amount fields of a notice from the contract's amounts.

    Raises:
        EltaxFieldRefused: an amount the notice has no field for.
    """
    names = AMOUNT_SLOTS.get(code, ())
    for name, value in amounts:
        if value is not None and name not in names:
            raise EltaxFieldRefused(f"is not carried by notice {code.value}", field=f"amounts.{name}")
    values = [None if n is None else getattr(amounts, n) for n in names]
    return tuple(values + [None] * (6 - len(values)))


def amounts_of(code: TokuchoNoticeCode, slots: tuple[int | None, ...]) -> TokuchoAmounts:
    """The contract's amounts from the six amount fields of a notice."""
    names = AMOUNT_SLOTS.get(code, ())
    return TokuchoAmounts(**{n: v for n, v in zip(names, slots, strict=False) if n is not None})


def _report_record(r: SubmissionRecord, message_id: uuid.UUID, unsealer: Unsealer) -> ReportRecord:
    def opened(sealed: str | None, field: str) -> IndividualNumber | None:
        return None if sealed is None else unsealer.unseal(sealed, message_id=message_id, field=field)

    seq = r.record_seq
    dependants, minors = [], []
    for k, d in enumerate(r.dependants):
        number = opened(d.individual_number, report_dependant_number_field(seq, k))
        if d.kind is DependantKind.UNDER_16:
            minors.append(ReportMinorEntry(d.name, number))
        else:
            dependants.append(ReportDependantEntry(d.name, d.kana_name, _DEPENDANT_KINDS[d.kind], number))
    spouse = None
    if r.spouse is not None:
        spouse = ReportSpouseEntry(
            r.spouse.name, opened(r.spouse.individual_number, spouse_number_field(seq))
        )
    return ReportRecord(
        recipient_number=r.usage_number.value,
        sections=tuple(section_amounts(s) for s in r.sections),
        special_widow=r.deductions.special_widow,
        **recipient_fields(r),
        individual_number=opened(r.individual_number, recipient_number_field(seq)),
        spouse=spouse,
        dependants=tuple(dependants),
        minors=tuple(minors),
    )


def report_files(
    message_id: uuid.UUID, submission: EltaxPaymentReportSubmission, unsealer: Unsealer
) -> list[tuple[str, ReportFile]]:
    """One payment report per destination municipality, in municipality order, numbers opened.

    Raises:
        EltaxMappingError: two records share a record_seq.
        SealError: a number was tampered with, moved, or not sealed for this adapter.
    """
    if len({r.record_seq for r in submission.records}) != len(submission.records):
        raise EltaxMappingError("the submission repeats a record_seq")
    payer = submission.payer
    wire_payer = ReportPayer(
        payer.name, payer.address, payer.phone, payer.corporate_number, payer.reference_number
    )
    by_municipality: dict[str, list[ReportRecord]] = defaultdict(list)
    for r in submission.records:
        by_municipality[r.destination_municipality_code].append(_report_record(r, message_id, unsealer))
    return [
        (code, ReportFile(wire_payer, submission.tax_year, code, tuple(records)))
        for code, records in sorted(by_municipality.items())
    ]


def _notice_record(
    r: EltaxTokuchoRecord, code: TokuchoNoticeCode, message_id: uuid.UUID, unsealer: Unsealer
) -> NoticeRecord:
    number = None
    if r.individual_number is not None:
        number = unsealer.unseal(
            r.individual_number, message_id=message_id, field=notice_number_field(r.record_seq)
        )
    return NoticeRecord(
        certificate_number=r.usage_number.value,
        basic_pension_number=r.basic_pension_number,
        pension_code=r.pension_code,
        birth_date=r.birth_date,
        sex=r.sex,
        kana_name=r.kana_name,
        kanji_name=r.name,
        postal_code=r.postal_code,
        kana_address=r.kana_address,
        kanji_address=r.address,
        category=r.category,
        result=r.result,
        event_date=r.event_date,
        amounts=slots_of(code, r.amounts),
        individual_number=number,
    )


def notice_files(
    message_id: uuid.UUID, notice: EltaxTokuchoNotice, unsealer: Unsealer, *, medium_seq: int = 1
) -> list[tuple[str, NoticeFile]]:
    """One notice file per municipality, in municipality order, numbers opened.

    Raises:
        EltaxMappingError: two records share a record_seq.
        EltaxFieldRefused: an amount the notice has no field for.
        SealError: a number was tampered with, moved, or not sealed for this adapter.
    """
    if len({r.record_seq for r in notice.records}) != len(notice.records):
        raise EltaxMappingError("the notice repeats a record_seq")
    by_municipality: dict[str, list[NoticeRecord]] = defaultdict(list)
    for r in notice.records:
        by_municipality[r.municipality_code].append(
            _notice_record(r, notice.notice_code, message_id, unsealer)
        )
    return [
        (
            code,
            NoticeFile(
                NoticeHeader(code, notice.notice_code, notice.created_on, medium_seq=medium_seq),
                tuple(records),
            ),
        )
        for code, records in sorted(by_municipality.items())
    ]


def _usage(key: str | None) -> UsageNumber | None:
    if key is None:
        return None
    try:
        return UsageNumber(kind=UsageNumberKind.PENSION_CERTIFICATE, value=key)
    except ValidationError:
        return None


def receipt_payload(receipt: ReceiptFile) -> EltaxReceipt:
    """The receipt message of a receipt file.

    Raises:
        EltaxMappingError: the receipt parses but breaks the contract.
    """

    def errors(entries: tuple[tuple[str | None, str], ...]) -> tuple[ReceiptError, ...]:
        return tuple(ReceiptError(field=name, code=code) for name, code in entries)

    return _validated(
        lambda: EltaxReceipt(
            submission=receipt.submission,
            document=receipt.document,
            notice_code=receipt.notice_code,
            municipality_code=receipt.municipality_code,
            received_on=receipt.received_on,
            file_status=receipt.file_status,
            file_errors=errors(receipt.file_errors),
            records=tuple(
                ReceiptRecord(
                    line=e.line, usage_number=_usage(e.key), status=e.status, errors=errors(e.errors)
                )
                for e in receipt.records
            ),
        ),
        "the receipt",
    )


def inbound_payload(
    file_name: str, notice: NoticeFile, message_id: uuid.UUID, sealer: Sealer
) -> EltaxTokuchoInbound:
    """The message of a municipality's notice, every number sealed for the hub, bound to ``message_id``.

    Raises:
        EltaxMappingError: a record parses but breaks the contract.
    """
    code, header = notice.header.notice_code, notice.header

    def record(position: int, r: NoticeRecord) -> EltaxTokuchoRecord:
        sealed = None
        if r.individual_number is not None:
            sealed = sealer.seal(
                r.individual_number,
                recipient=HUB_RECIPIENT,
                message_id=message_id,
                field=notice_number_field(position),
            )
        return EltaxTokuchoRecord(
            record_seq=position,
            municipality_code=header.municipality_code,
            usage_number=UsageNumber(kind=UsageNumberKind.PENSION_CERTIFICATE, value=r.certificate_number),
            basic_pension_number=r.basic_pension_number,
            pension_code=r.pension_code,
            birth_date=r.birth_date,
            sex=r.sex,
            kana_name=r.kana_name,
            name=r.kanji_name,
            postal_code=r.postal_code,
            kana_address=r.kana_address,
            address=r.kanji_address,
            category=r.category,
            result=r.result,
            event_date=r.event_date,
            amounts=amounts_of(code, r.amounts),
            individual_number=sealed,
        )

    return _validated(
        lambda: EltaxTokuchoInbound(
            source_file=file_name,
            notice_code=code,
            municipality_code=header.municipality_code,
            created_on=header.created_on,
            records=tuple(record(p, r) for p, r in enumerate(notice.records, start=1)),
        ),
        f"notice {code.value}",
    )
