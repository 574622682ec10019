"""The hub's part in the eLTAX exchanges: payment reports and the special collection of resident tax.

Outbound (個人番号付加): the pension system's usage numbers become subjects, and subjects become numbers
sealed for the eLTAX adapter, under the number policy: a payment report carries the recipient's, the
spouse's and the dependants' numbers; of the special collection notices, only the target notice (00)
carries numbers. A person the vault holds no number for is reported without one.

Inbound: eLTAX's receipts and the municipalities' notices reach the pension system by usage number. A
number a municipality sent is compared with the vault's and never linked: a mismatch is held for a person
to resolve (the 2023 紐付け誤り).
"""

from __future__ import annotations

from collections import Counter
from typing import Final

from contracts.envelope import Envelope, Party
from contracts.messages.eltax import (
    PAYMENT_REPORT_PURPOSE,
    EltaxOutcomeRecord,
    EltaxOutcomes,
    EltaxPaymentReportSubmission,
    EltaxReceipt,
    EltaxTokuchoInbound,
    EltaxTokuchoNotice,
    EltaxTokuchoRecord,
    InstructionKind,
    NumberCheck,
    PaymentReportRequested,
    TokuchoInstruction,
    TokuchoInstructions,
    TokuchoNoticeCode,
    TokuchoNoticeRequested,
    notice_number_field,
    purpose_of_notice,
)
from contracts.purpose_table import Refusal
from contracts.purposes import (
    ELTAX_PAYMENT_REPORT,
    ELTAX_TOKUCHO_TARGET_NOTICE,
    PENSION_ELTAX,
    PENSION_TOKUCHO,
)
from contracts.registry import Decoded
from contracts.usage_number import UsageNumber
from hub.core.flows.access import record_of
from hub.core.flows.context import HandlerContext, answer_pension, derived_id, reply
from hub.core.flows.purpose import not_permitted_reply, refusal_records, screen
from hub.core.flows.tax_reports import Enrichment, People, ReportKind, handle_report_request
from hub.ports.audit import AuditAction

__all__ = [
    "SUBMISSION_TYPE",
    "handle_eltax_receipt",
    "handle_payment_report_request",
    "handle_tokucho_inbound",
    "handle_tokucho_notice_request",
]

SUBMISSION_TYPE = "eltax.payment_report.submission"
NOTICE_TYPE = "eltax.tokucho.notice"
RECIPIENT: Final[Party] = "eltax"


PAYMENT_REPORT: Final = ReportKind(
    use=ELTAX_PAYMENT_REPORT,
    recipient=RECIPIENT,
    submission_type=SUBMISSION_TYPE,
    purpose=PAYMENT_REPORT_PURPOSE,
    submission=lambda request, records: EltaxPaymentReportSubmission(
        chunk=request.chunk, tax_year=request.tax_year, payer=request.payer, records=records
    ),
    minors_numbered=True,
)
"""The payment report: recipient, spouse and every dependant numbered (under 16 too), one file per
municipality (the adapter splits the chunk)."""


def handle_payment_report_request(
    message: Decoded[PaymentReportRequested], ctx: HandlerContext
) -> list[Envelope]:
    """Add the numbers of recipients, spouses and dependants, sealed for eLTAX, and route the reports.

    Before anything is sealed, every number of a record is checked against the purpose table
    (:mod:`hub.core.flows.purpose`): a record with a number the payment report may not carry (a person held
    only as 同一住所の者, say) is not sent, and the pension system is told ``not_permitted``.
    """
    return handle_report_request(PAYMENT_REPORT, message, ctx)


def handle_eltax_receipt(message: Decoded[EltaxReceipt], ctx: HandlerContext) -> list[Envelope]:
    """Tell the pension system what eLTAX said about each record of a file, by usage number."""
    env, receipt = message.envelope, message.payload
    usage = [r.usage_number for r in receipt.records if r.usage_number is not None]
    people = People(ctx, usage, numbers=False)
    outcomes = EltaxOutcomes(
        submission=receipt.submission,
        document=receipt.document,
        notice_code=receipt.notice_code,
        municipality_code=receipt.municipality_code,
        received_on=receipt.received_on,
        file_status=receipt.file_status,
        file_errors=receipt.file_errors,
        records=tuple(
            EltaxOutcomeRecord(line=r.line, usage_number=r.usage_number, status=r.status, errors=r.errors)
            for r in receipt.records
            if r.usage_number is not None
        ),
        unmatched_lines=tuple(r.line for r in receipt.records if r.usage_number is None),
    )
    out = answer_pension(env, message_type="pension.eltax.outcomes", payload=outcomes, code=PENSION_ELTAX)
    statuses = Counter(r.status.value for r in receipt.records)
    ctx.uow.audit.append(
        [
            record_of(
                ctx,
                AuditAction.RECEIVED,
                env,
                people.audit(usage),
                file_status=receipt.file_status.value,
                **{k: str(v) for k, v in statuses.items()},
            ),
            record_of(ctx, AuditAction.ROUTED, out, []),
        ]
    )
    return [out]


def handle_tokucho_notice_request(
    message: Decoded[TokuchoNoticeRequested], ctx: HandlerContext
) -> list[Envelope]:
    """Route a notice to the municipalities; a target notice (00) gets the numbers, sealed for eLTAX.

    A target notice's numbers are checked against the purpose table first: a record whose number the notice
    may not carry (the person is not held as a 年金受給権者) is not sent and is answered ``not_permitted``.
    """
    env, request = message.envelope, message.payload
    targets = request.notice_code is TokuchoNoticeCode.TARGET
    purpose = purpose_of_notice(request.notice_code)
    usage = [r.usage_number for r in request.records]
    people = People(ctx, usage, numbers=targets)
    audit = [record_of(ctx, AuditAction.RECEIVED, env, people.audit(usage), notice=request.notice_code.value)]
    refused: list[tuple[int, UsageNumber, Refusal]] = []
    sendable = list(request.records)
    if targets:
        with_numbers = [s for u in usage if (s := people.subject(u)) is not None and s in people.numbers]
        screening = screen(ctx, env, use=ELTAX_TOKUCHO_TARGET_NOTICE, subjects=with_numbers)
        if screening.refused:
            audit.extend(refusal_records(ctx, env, screening.refused, people.tokens))
            sendable = []
            for r in request.records:
                subject = people.subject(r.usage_number)
                if subject is not None and subject in screening.refused:
                    refused.append((r.record_seq, r.usage_number, screening.refused[subject]))
                else:
                    sendable.append(r)
        if sendable:
            ctx.policy.check(destination=RECIPIENT, message_type=NOTICE_TYPE, purpose=purpose)
    enrichment = Enrichment(ctx, people, RECIPIENT, derived_id(env.message_id, RECIPIENT))
    records = []
    for r in sendable:
        sealed = enrichment.sealed(r.usage_number, notice_number_field(r.record_seq))
        records.append(EltaxTokuchoRecord.model_validate({**r.model_dump(), "individual_number": sealed}))
    out: list[Envelope] = []
    if records:
        notice = EltaxTokuchoNotice(
            chunk=request.chunk,
            notice_code=request.notice_code,
            fiscal_year=request.fiscal_year,
            created_on=request.created_on,
            records=tuple(records),
        )
        sent = reply(
            env,
            message_type=NOTICE_TYPE,
            destination=RECIPIENT,
            purpose=purpose,
            payload=notice,
            label=RECIPIENT,
        )
        added = enrichment.added
        if added:
            audit.append(
                record_of(ctx, AuditAction.ENRICHED, sent, people.audit(added), numbers=str(len(added)))
            )
        audit.append(record_of(ctx, AuditAction.ROUTED, sent, [], records=str(len(records))))
        out.append(sent)
    if refused:
        out.append(
            not_permitted_reply(ctx, env, batch_id=request.chunk.batch_id, refused=refused, records=audit)
        )
    ctx.uow.audit.append(audit)
    return out


def _instruction(code: TokuchoNoticeCode, category: str | None) -> InstructionKind:
    if code is TokuchoNoticeCode.LOSS:
        return InstructionKind.STOP_DEDUCTION
    if code is TokuchoNoticeCode.PROVISIONAL_CHANGE:
        return InstructionKind.CHANGE_PROVISIONAL
    return InstructionKind.NO_DEDUCTION if category == "03" else InstructionKind.START_DEDUCTION


def handle_tokucho_inbound(message: Decoded[EltaxTokuchoInbound], ctx: HandlerContext) -> list[Envelope]:
    """Turn a municipality's notice into instructions for the pension system; check any number it carried."""
    env, notice = message.envelope, message.payload
    usage = [r.usage_number for r in notice.records]
    carries = any(r.individual_number is not None for r in notice.records)
    people = People(ctx, usage, numbers=carries)
    checks: dict[int, NumberCheck] = {}
    for r in notice.records:
        subject = people.subject(r.usage_number)
        if subject is None:
            checks[r.record_seq] = NumberCheck.UNKNOWN_PERSON
        elif r.individual_number is None:
            checks[r.record_seq] = NumberCheck.ABSENT
        else:
            sent = ctx.unsealer.unseal(
                r.individual_number, message_id=env.message_id, field=notice_number_field(r.record_seq)
            )
            checks[r.record_seq] = (
                NumberCheck.MATCH if people.numbers.get(subject) == sent else NumberCheck.MISMATCH
            )
    instructions = TokuchoInstructions(
        source_file=notice.source_file,
        notice_code=notice.notice_code,
        municipality_code=notice.municipality_code,
        created_on=notice.created_on,
        records=tuple(
            TokuchoInstruction(
                record_seq=r.record_seq,
                usage_number=r.usage_number,
                basic_pension_number=r.basic_pension_number,
                pension_code=r.pension_code,
                instruction=_instruction(notice.notice_code, r.category),
                category=r.category,
                event_date=r.event_date,
                amounts=r.amounts,
                number_check=checks[r.record_seq],
            )
            for r in notice.records
        ),
    )
    out = answer_pension(
        env, message_type="pension.tokucho.instructions", payload=instructions, code=PENSION_TOKUCHO
    )
    tally = Counter(c.value for c in checks.values())
    audit = [
        record_of(
            ctx,
            AuditAction.RECEIVED,
            env,
            people.audit(usage),
            notice=notice.notice_code.value,
            **{f"number_{k}": str(v) for k, v in tally.items()},
        )
    ]
    held = [r.usage_number for r in notice.records if checks[r.record_seq] is NumberCheck.MISMATCH]
    if held:
        audit.append(record_of(ctx, AuditAction.HELD, env, people.audit(held), reason="number_mismatch"))
    audit.append(record_of(ctx, AuditAction.ROUTED, out, [], records=str(len(notice.records))))
    ctx.uow.audit.append(audit)
    return [out]
