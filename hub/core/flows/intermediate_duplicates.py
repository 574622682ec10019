"""副本登録 and 情報提供: the federation's duplicate data on the intermediate server, and its provision.

Changes of pension data register, update or delete the federation's 副本 on the intermediate server, by
宛名番号; a person without a code is answered at once with ``code_not_acquired``. The network's result
(including its own ``duplicate_record_id`` and ``record_not_found``) goes back to the pension system by
usage number.

When the network serves another institution from the 副本, it notices the federation; the hub records a
情報提供等の記録 (role provider, both numberings: the legacy one from the notice or, failing that, from the
legal-basis table) and tells the pension system. A notice naming a 宛名番号 the hub does not know is still
recorded (the record is owed whatever the hub knows), and not forwarded.
"""

from __future__ import annotations

from contracts.envelope import Envelope
from contracts.messages.intermediate_server import (
    DuplicateChangeRecord,
    DuplicateDataChanged,
    DuplicateDataRegistered,
    DuplicateOutcome,
    DuplicateStatus,
    IsDuplicateRecord,
    IsDuplicateRegister,
    IsDuplicateResult,
    IsError,
    IsProvisionNotice,
    IsProvisionNoticeRecord,
    ProvisionNoticed,
    ProvisionOutcome,
)
from contracts.purposes import IS_DUPLICATE, PENSION_DUPLICATE_DATA, PENSION_PROVISION
from contracts.registry import Decoded
from hub.core.flows.access import access_record
from hub.core.flows.context import HandlerContext, answer_pension, reply
from hub.core.flows.intermediate_common import (
    DUPLICATE_PURPOSE,
    IS,
    actor_label,
    error_text,
    people_with_codes,
    send_to_is,
)
from hub.core.flows.purpose import not_permitted_reply, refusal_records, screen
from hub.core.rules.legal_basis import current_text, legacy_text
from hub.ports.audit import AccessRecord, AuditAction, ProvisionRecord, ProvisionRole
from hub.ports.vault import AUDIT_SCOPE, SubjectId

__all__ = ["handle_duplicate_change", "handle_duplicate_result", "handle_provision_notice"]


def _unaskable(r: DuplicateChangeRecord) -> DuplicateOutcome:
    return DuplicateOutcome(
        record_seq=r.record_seq,
        usage_number=r.usage_number,
        record_id=r.record_id,
        operation=r.operation,
        status=DuplicateStatus.ERROR,
        error=IsError.CODE_NOT_ACQUIRED,
        message_ja=error_text(IsError.CODE_NOT_ACQUIRED),
    )


def handle_duplicate_change(message: Decoded[DuplicateDataChanged], ctx: HandlerContext) -> list[Envelope]:
    """Send 副本 changes of people with a code to the adapter; answer the others at once."""
    env, change = message.envelope, message.payload
    subjects, tokens, held, atena = people_with_codes(ctx, [r.usage_number for r in change.records])
    records = [
        access_record(ctx, AuditAction.RECEIVED, env, tokens.values(), records=str(len(change.records)))
    ]
    with_code = [
        (r, subjects[r.usage_number]) for r in change.records if subjects.get(r.usage_number) in held
    ]
    # The purpose check: a 副本 is registered only for people whose role and basis the provision serves.
    screening = screen(ctx, env, use=IS_DUPLICATE, subjects=[s for _, s in with_code])
    if screening.refused:
        records.extend(refusal_records(ctx, env, screening.refused, tokens))
    send = [(r, s) for r, s in with_code if screening.allowed(s)]
    refused = [
        (r.record_seq, r.usage_number, screening.refused[s]) for r, s in with_code if not screening.allowed(s)
    ]
    answers = [_unaskable(r) for r in change.records if subjects.get(r.usage_number) not in held]
    out: list[Envelope] = []
    if send:
        payload = IsDuplicateRegister(
            batch_id=change.batch_id,
            records=tuple(
                IsDuplicateRecord(
                    record_seq=r.record_seq,
                    operation=r.operation,
                    record_id=r.record_id,
                    atena_no=atena[s],
                    spi_code=r.spi_code,
                    dataset_item_code=r.dataset_item_code,
                    spi_version=r.spi_version,
                    publication_start=r.publication_start,
                    publication_end=r.publication_end,
                    data=r.data,
                )
                for r, s in send
            ),
        )
        register = send_to_is(
            ctx,
            env,
            message_type="intermediate_server.duplicate.register",
            payload=payload,
            purpose=DUPLICATE_PURPOSE,
            tokens=[tokens[s] for _, s in send],
            records=records,
        )
        out.append(register)
    if answers:
        answer = reply(
            env,
            message_type="pension.duplicate_data.registered",
            payload=DuplicateDataRegistered(
                batch_id=change.batch_id, answered_by="hub", records=tuple(answers)
            ),
            label="hub-answers",
            purpose=env.purpose,
        )
        records.append(access_record(ctx, AuditAction.ROUTED, answer, records=str(len(answers))))
        out.append(answer)
    if refused:
        out.append(not_permitted_reply(ctx, env, batch_id=change.batch_id, refused=refused, records=records))
    ctx.uow.audit.append(records)
    return out


def handle_duplicate_result(message: Decoded[IsDuplicateResult], ctx: HandlerContext) -> list[Envelope]:
    """Tell the pension system how each 副本 change ended, by usage number."""
    env, result = message.envelope, message.payload
    by_atena = ctx.uow.codes.subjects_by_atena([r.atena_no for r in result.records])
    subjects = list(dict.fromkeys(by_atena.values()))
    usage = ctx.uow.vault.usage_of(subjects)
    tokens = ctx.uow.vault.tokens(AUDIT_SCOPE, subjects)
    records = [
        access_record(ctx, AuditAction.RECEIVED, env, tokens.values(), records=str(len(result.records)))
    ]
    outcomes = tuple(
        DuplicateOutcome(
            record_seq=r.record_seq,
            usage_number=usage[by_atena[r.atena_no]],
            record_id=r.record_id,
            operation=r.operation,
            status=r.status,
            error=r.error,
            message_ja=error_text(r.error),
        )
        for r in result.records
        if by_atena.get(r.atena_no) in usage
    )
    out: list[Envelope] = []
    if outcomes:
        answer = reply(
            env,
            message_type="pension.duplicate_data.registered",
            payload=DuplicateDataRegistered(batch_id=result.batch_id, answered_by=IS, records=outcomes),
            label="pension",
            purpose=DUPLICATE_PURPOSE.model_copy(update={"code": PENSION_DUPLICATE_DATA}),
        )
        records.append(access_record(ctx, AuditAction.ROUTED, answer, records=str(len(outcomes))))
        out.append(answer)
    ctx.uow.audit.append(records)
    return out


def _provided(
    ctx: HandlerContext, env: Envelope, r: IsProvisionNoticeRecord, token: str | None
) -> tuple[ProvisionRecord, AccessRecord]:
    spi = ctx.legal_basis.spi(r.spi_code)
    legacy = r.basis.legacy_item
    if (
        legacy is None
        and (rule := ctx.legal_basis.provide_rule(r.basis.current_item, r.spi_code)) is not None
    ):
        legacy = rule.legacy_item
    record = ProvisionRecord(
        record_id=f"TKY-{r.provision_id}",
        role=ProvisionRole.PROVIDER,
        requester=f"{r.requester_name}（{r.requester_org_code}）",
        provider=actor_label(env.actor),
        requested_at=r.requested_at,
        items=(spi.text if spi else r.spi_code,),
        jimu=r.jimu_name,
        legal_basis_current=current_text(r.basis.current_item, r.basis.current_article),
        provided_at=r.provided_at,
        legal_basis_legacy=legacy_text(legacy),
        non_disclosure=r.non_disclosure,
        subject=token,
    )
    detail = {
        "provision_id": r.provision_id,
        "record_id": r.record_id,
        "known_subject": str(token is not None),
    }
    return record, access_record(ctx, AuditAction.RECEIVED, env, [token] if token else [], details=detail)


def handle_provision_notice(message: Decoded[IsProvisionNotice], ctx: HandlerContext) -> list[Envelope]:
    """Record every provision of the federation's 副本 (番号法 第23条) and tell the pension system."""
    env, notice = message.envelope, message.payload
    by_atena = ctx.uow.codes.subjects_by_atena([r.atena_no for r in notice.records])
    subjects: list[SubjectId] = list(dict.fromkeys(by_atena.values()))
    tokens = ctx.uow.vault.tokens(AUDIT_SCOPE, subjects)
    usage = ctx.uow.vault.usage_of(subjects)

    def token_of(r: IsProvisionNoticeRecord) -> str | None:
        subject = by_atena.get(r.atena_no)
        return None if subject is None else tokens.get(subject)

    ctx.uow.provisions.record([_provided(ctx, env, r, token_of(r)) for r in notice.records])
    outcomes = tuple(
        ProvisionOutcome(
            usage_number=usage[by_atena[r.atena_no]],
            provision_id=r.provision_id,
            record_id=r.record_id,
            requester_name=r.requester_name,
            spi_code=r.spi_code,
            provided_at=r.provided_at,
            non_disclosure=r.non_disclosure,
        )
        for r in notice.records
        if by_atena.get(r.atena_no) in usage
    )
    if not outcomes:
        return []
    answer = answer_pension(
        env,
        message_type="pension.provision.noticed",
        payload=ProvisionNoticed(records=outcomes),
        code=PENSION_PROVISION,
    )
    ctx.uow.audit.append([access_record(ctx, AuditAction.ROUTED, answer, records=str(len(outcomes)))])
    return [answer]
