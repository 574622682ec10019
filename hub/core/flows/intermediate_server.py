"""The hub's part in the intermediate server exchanges (中間サーバー / 情報提供ネットワークシステム).

Institutions never exchange the Individual Number on the network: each holds its own code (符号). The hub
asks once per subject for the federation's code (符号取得: the number leaves sealed for the adapter, the
only time it does on this network), keeps it encrypted in its code store and never shows it outside the
hub and the adapter. Queries (情報照会, :mod:`hub.core.flows.intermediate_queries`) are checked against the
legal-basis table before they leave; 副本 changes and provision notices are in
:mod:`hub.core.flows.intermediate_duplicates`. Every query and every provision is recorded as 情報提供等の記録
(番号法 第23条) through the unit of work.

This module holds the code acquisition and re-exports every handler the routing table names.
"""

from __future__ import annotations

from contracts.envelope import Envelope
from contracts.errors import ValidationFailed
from contracts.messages.intermediate_server import (
    CodeAcquisitionCompleted,
    CodeAcquisitionOutcome,
    CodeAcquisitionRecord,
    CodeAcquisitionRequested,
    CodeStatus,
    IsCodeAcquisitionRecord,
    IsCodeAcquisitionRequest,
    IsCodeAcquisitionResult,
)
from contracts.purposes import IS_CODE_ACQUISITION, PENSION_CODE_ACQUISITION
from contracts.registry import Decoded
from hub.core.flows.access import access_record
from hub.core.flows.context import HandlerContext, derived_id, reply
from hub.core.flows.intermediate_common import CODE_PURPOSE, IS
from hub.core.flows.intermediate_duplicates import (
    handle_duplicate_change,
    handle_duplicate_result,
    handle_provision_notice,
)
from hub.core.flows.intermediate_queries import (
    handle_info_query,
    handle_info_query_result,
    handle_refused_queries,
)
from hub.core.flows.purpose import refusal_records, screen
from hub.ports.audit import AuditAction
from hub.ports.vault import AUDIT_SCOPE, SubjectId

__all__ = [
    "handle_code_acquisition",
    "handle_code_acquisition_result",
    "handle_duplicate_change",
    "handle_duplicate_result",
    "handle_info_query",
    "handle_info_query_result",
    "handle_provision_notice",
    "handle_refused_queries",
]

REQUEST_TYPE = "intermediate_server.code_acquisition.request"


def _outcomes(
    request: CodeAcquisitionRequested, records: list[tuple[CodeAcquisitionRecord, CodeStatus]]
) -> CodeAcquisitionCompleted:
    return CodeAcquisitionCompleted(
        batch_id=request.batch_id,
        answered_by="hub",
        records=tuple(
            CodeAcquisitionOutcome(record_seq=r.record_seq, usage_number=r.usage_number, status=status)
            for r, status in records
        ),
    )


def handle_code_acquisition(
    message: Decoded[CodeAcquisitionRequested], ctx: HandlerContext
) -> list[Envelope]:
    """Ask the network for the code of every person the hub holds a number but no code for.

    People with a code already, without a number, or unknown are answered at once by the hub.
    """
    env, request = message.envelope, message.payload
    vault, codes = ctx.uow.vault, ctx.uow.codes
    subjects = vault.subjects_by_usage([r.usage_number for r in request.records])
    known = list(dict.fromkeys(subjects.values()))
    held = codes.codes_of(known)
    numbers = vault.numbers_of([s for s in known if s not in held])
    tokens = vault.tokens(AUDIT_SCOPE, known)
    records = [
        access_record(ctx, AuditAction.RECEIVED, env, tokens.values(), records=str(len(request.records)))
    ]

    answered: list[tuple[CodeAcquisitionRecord, CodeStatus]] = []
    ask: list[tuple[CodeAcquisitionRecord, SubjectId]] = []
    # The purpose check, before the number is sealed: a code is obtained only for people the network serves.
    screening = screen(
        ctx, env, use=IS_CODE_ACQUISITION, subjects=[s for s in known if s not in held and s in numbers]
    )
    if screening.refused:
        records.extend(refusal_records(ctx, env, screening.refused, tokens))
    for r in request.records:
        subject = subjects.get(r.usage_number)
        if subject is None:
            answered.append((r, CodeStatus.UNKNOWN_PERSON))
        elif subject in held:
            answered.append((r, CodeStatus.ALREADY_HELD))
        elif subject not in numbers:
            answered.append((r, CodeStatus.NO_NUMBER))
        elif not screening.allowed(subject):
            answered.append((r, CodeStatus.NOT_PERMITTED))
        else:
            ask.append((r, subject))

    out: list[Envelope] = []
    if ask:
        ctx.policy.check(destination=IS, message_type=REQUEST_TYPE, purpose=CODE_PURPOSE)
        atena = codes.atena_numbers([s for _, s in ask], allocate=True)
        outgoing_id = derived_id(env.message_id, IS)
        payload = IsCodeAcquisitionRequest(
            batch_id=request.batch_id,
            records=tuple(
                IsCodeAcquisitionRecord(
                    record_seq=r.record_seq,
                    atena_no=atena[s],
                    individual_number=ctx.sealer.seal(
                        numbers[s],
                        recipient=IS,
                        message_id=outgoing_id,
                        field=f"records.{r.record_seq}.individual_number",
                    ),
                )
                for r, s in ask
            ),
        )
        request_env = reply(
            env, message_type=REQUEST_TYPE, payload=payload, label=IS, purpose=CODE_PURPOSE, destination=IS
        )
        touched = [tokens[s] for _, s in ask]
        records.append(access_record(ctx, AuditAction.ENRICHED, request_env, touched, records=str(len(ask))))
        records.append(access_record(ctx, AuditAction.ROUTED, request_env))
        out.append(request_env)
    if answered:
        answer = reply(
            env,
            message_type="pension.code_acquisition.completed",
            payload=_outcomes(request, answered),
            label="hub-answers",
            purpose=env.purpose,
        )
        records.append(access_record(ctx, AuditAction.ROUTED, answer, records=str(len(answered))))
        out.append(answer)
    ctx.uow.audit.append(records)
    return out


def handle_code_acquisition_result(
    message: Decoded[IsCodeAcquisitionResult], ctx: HandlerContext
) -> list[Envelope]:
    """Keep the codes the network issued and tell the pension system who has one now."""
    env, result = message.envelope, message.payload
    vault, codes = ctx.uow.vault, ctx.uow.codes
    by_atena = codes.subjects_by_atena([r.atena_no for r in result.records])
    unknown = [r.record_seq for r in result.records if r.atena_no not in by_atena]
    if unknown:
        raise ValidationFailed(
            f"{len(unknown)} code result(s) name a 宛名番号 the hub never gave "
            f"(first record_seq {unknown[0]})"
        )
    subjects = list(dict.fromkeys(by_atena[r.atena_no] for r in result.records))
    tokens = vault.tokens(AUDIT_SCOPE, subjects)
    usage = vault.usage_of(subjects)
    acquired = [(by_atena[r.atena_no], r.code) for r in result.records if r.acquired and r.code]
    codes.store_codes(acquired)
    records = [
        access_record(ctx, AuditAction.RECEIVED, env, tokens.values(), records=str(len(result.records)))
    ]
    if acquired:
        records.append(
            access_record(
                ctx,
                AuditAction.LINKED,
                env,
                [tokens[s] for s, _ in acquired],
                reason="符号取得 (番号法 第21条の2)",
            )
        )
    outcomes = tuple(
        CodeAcquisitionOutcome(
            record_seq=r.record_seq,
            usage_number=usage[by_atena[r.atena_no]],
            status=CodeStatus.ACQUIRED if r.acquired else CodeStatus.FAILED,
        )
        for r in result.records
        if by_atena[r.atena_no] in usage
    )
    if not outcomes:
        ctx.uow.audit.append(records)
        return []
    answer = reply(
        env,
        message_type="pension.code_acquisition.completed",
        payload=CodeAcquisitionCompleted(batch_id=result.batch_id, answered_by=IS, records=outcomes),
        label="pension",
        purpose=CODE_PURPOSE.model_copy(update={"code": PENSION_CODE_ACQUISITION}),
    )
    records.append(access_record(ctx, AuditAction.ROUTED, answer, records=str(len(outcomes))))
    ctx.uow.audit.append(records)
    return [answer]
