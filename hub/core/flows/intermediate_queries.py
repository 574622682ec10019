"""情報照会: the pension system's queries, checked against the legal-basis table, and their late answers.

Outbound, each query is checked against the legal-basis table before anything leaves. A query the table
refuses never reaches the network: the pension system is answered at once with ``query_not_permitted``,
an access record REFUSED is written, and the refused queries go to the hub itself as
``hub.info_query.refused``, whose handler always raises
:class:`~hub.core.rules.legal_basis.LegalBasisRefused`, so they end in the dead-letter queue with reason
``policy_refused``: the operator's trail of the refusal (replaying it is refused again; the pension system
re-submits a corrected query). A query for a person without a code is answered at once with the network's own
``code_not_acquired``.

Inbound, answers arrive asynchronously, sometimes hours later, sometimes with no data. Each is matched to
its query by the record identification number, recorded as 情報提供等の記録 with both numberings, and
delivered to the pension system by usage number. An answer to a query already settled is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from contracts.envelope import Envelope
from contracts.errors import ValidationFailed
from contracts.messages.intermediate_server import (
    InfoKind,
    InfoQueryAnswer,
    InfoQueryAnswered,
    InfoQueryRecord,
    InfoQueryRefused,
    InfoQueryRequested,
    IsError,
    IsInfoQueryRecord,
    IsInfoQueryRequest,
    IsInfoQueryResult,
    IsInfoQueryResultRecord,
    QueryStatus,
    RefusedQuery,
)
from contracts.purpose_table import Refusal
from contracts.purposes import PENSION_INFO_QUERY
from contracts.registry import Decoded
from hub.core.flows.access import access_record
from hub.core.flows.context import HandlerContext, answer_pension, reply
from hub.core.flows.intermediate_common import (
    IS,
    actor_label,
    error_text,
    people_with_codes,
    query_purpose,
    query_record_id,
    send_to_is,
)
from hub.core.flows.purpose import refusal_records, screen
from hub.core.rules.legal_basis import LegalBasisRefused, QueryPermission
from hub.ports.audit import AccessRecord, AuditAction, Outcome, ProvisionRecord, ProvisionRole
from hub.ports.codes import PendingQuery, PendingStatus
from hub.ports.vault import AUDIT_SCOPE, SubjectId

__all__ = ["handle_info_query", "handle_info_query_result", "handle_refused_queries"]

_STATUS = {
    QueryStatus.ANSWERED: PendingStatus.ANSWERED,
    QueryStatus.NO_DATA: PendingStatus.NO_DATA,
    QueryStatus.ERROR: PendingStatus.ERROR,
}


@dataclass(frozen=True, slots=True)
class _Asked:
    record: InfoQueryRecord
    subject: SubjectId
    permission: QueryPermission
    record_id: str


def _hub_answer(r: InfoQueryRecord, error: IsError) -> InfoQueryAnswer:
    return InfoQueryAnswer(
        query_ref=r.query_ref,
        usage_number=r.usage_number,
        info_kind=r.info_kind,
        spi_code=r.spi_code,
        provider_org_code=r.provider_org_code,
        status=QueryStatus.ERROR,
        error=error,
        message_ja=error_text(error),
    )


def _not_permitted(r: InfoQueryRecord, refusal: Refusal) -> InfoQueryAnswer:
    answer = _hub_answer(r, IsError.QUERY_NOT_PERMITTED)
    text = f"目的外のため照会しません（{refusal.reason.value}: {refusal.rule}）。{refusal.message}"
    return answer.model_copy(update={"message_ja": text[:200]})


def _check(ctx: HandlerContext, r: InfoQueryRecord) -> QueryPermission:
    permission = ctx.legal_basis.check_query(
        jimu_code=r.jimu_code, basis=r.basis, provider_org_code=r.provider_org_code, spi_code=r.spi_code
    )
    if permission.spi.kind != r.info_kind.value:
        raise LegalBasisRefused(
            f"{r.spi_code} ({permission.spi.name}) is not {r.info_kind.value} information"
        )
    return permission


def handle_info_query(message: Decoded[InfoQueryRequested], ctx: HandlerContext) -> list[Envelope]:
    """Send the allowed queries of people with a code; answer the rest at once; dead-letter the refused."""
    env, request = message.envelope, message.payload
    subjects, tokens, held, atena = people_with_codes(ctx, [r.usage_number for r in request.records])
    records = [
        access_record(ctx, AuditAction.RECEIVED, env, tokens.values(), records=str(len(request.records)))
    ]

    asked: list[_Asked] = []
    refused: list[tuple[InfoQueryRecord, str]] = []
    answers: list[InfoQueryAnswer] = []
    candidates: list[tuple[InfoQueryRecord, SubjectId, QueryPermission]] = []
    for r in request.records:
        subject = subjects.get(r.usage_number)
        try:
            permission = _check(ctx, r)
        except LegalBasisRefused as exc:
            refused.append((r, str(exc)))
            answers.append(_hub_answer(r, IsError.QUERY_NOT_PERMITTED))
            records.append(
                access_record(
                    ctx,
                    AuditAction.REFUSED,
                    env,
                    [tokens[subject]] if subject else [],
                    outcome=Outcome.REFUSED,
                    reason="policy_refused",
                    query_ref=r.query_ref,
                    refusal=str(exc),
                )
            )
            continue
        if subject is None or subject not in held:
            answers.append(_hub_answer(r, IsError.CODE_NOT_ACQUIRED))
            continue
        candidates.append((r, subject, permission))
    # The purpose check: the person's role and basis must permit the row's use, and the actor must be a
    # 構成組合 (事務(9)); a query that fails is never sent.
    for use in sorted({p.rule.use for _, _, p in candidates}):
        screening = screen(ctx, env, use=use, subjects=[s for _, s, p in candidates if p.rule.use == use])
        if screening.refused:
            records.extend(refusal_records(ctx, env, screening.refused, tokens))
        for r, subject, permission in candidates:
            if permission.rule.use != use:
                continue
            if screening.allowed(subject):
                asked.append(_Asked(r, subject, permission, query_record_id(env.message_id, r.record_seq)))
            else:
                answers.append(_not_permitted(r, screening.refused[subject]))

    out: list[Envelope] = []
    if asked:
        out.append(_send(ctx, env, request, asked, held, atena, tokens, records))
    if answers:
        answer = reply(
            env,
            message_type="pension.info_query.answered",
            payload=InfoQueryAnswered(answered_by="hub", records=tuple(answers)),
            label="hub-answers",
            purpose=env.purpose,
        )
        records.append(access_record(ctx, AuditAction.ROUTED, answer, records=str(len(answers))))
        out.append(answer)
    if refused:
        trail = InfoQueryRefused(
            batch_id=request.batch_id,
            records=tuple(
                RefusedQuery(
                    query_ref=r.query_ref,
                    subject_token=tokens.get(subjects[r.usage_number])
                    if r.usage_number in subjects
                    else None,
                    spi_code=r.spi_code,
                    jimu_code=r.jimu_code,
                    basis=r.basis,
                    provider_org_code=r.provider_org_code,
                    reason=reason[:300],
                )
                for r, reason in refused
            ),
        )
        out.append(
            reply(
                env,
                message_type="hub.info_query.refused",
                payload=trail,
                label="refused",
                purpose=env.purpose,
                destination="hub",
            )
        )
    ctx.uow.audit.append(records)
    return out


def _send(  # noqa: PLR0917 (one call site, private)
    ctx: HandlerContext,
    env: Envelope,
    request: InfoQueryRequested,
    asked: list[_Asked],
    held: dict[SubjectId, str],
    atena: dict[SubjectId, str],
    tokens: dict[SubjectId, str],
    records: list[AccessRecord],
) -> Envelope:
    now = datetime.now(UTC)
    ctx.uow.pending_queries.add(
        [
            PendingQuery(
                record_id=a.record_id,
                subject=a.subject,
                usage_number=a.record.usage_number,
                query_ref=a.record.query_ref,
                info_kind=a.record.info_kind.value,
                spi_code=a.record.spi_code,
                spi_text=a.permission.spi.text,
                jimu_text=a.permission.jimu_text,
                basis_current=a.permission.basis_current,
                basis_legacy=a.permission.basis_legacy,
                provider_org_code=a.record.provider_org_code,
                correlation_id=str(env.correlation_id),
                requested_at=now,
            )
            for a in asked
        ]
    )
    payload = IsInfoQueryRequest(
        batch_id=request.batch_id,
        records=tuple(
            IsInfoQueryRecord(
                record_seq=a.record.record_seq,
                record_id=a.record_id,
                atena_no=atena[a.subject],
                code=held[a.subject],
                spi_code=a.record.spi_code,
                jimu_code=a.record.jimu_code,
                basis=a.record.basis,
                provider_org_code=a.record.provider_org_code,
                tax_year=a.record.tax_year,
            )
            for a in asked
        ),
    )
    purpose = query_purpose((a.record.basis.current_item, a.record.basis.current_article) for a in asked)
    return send_to_is(
        ctx,
        env,
        message_type="intermediate_server.info_query.request",
        payload=payload,
        purpose=purpose,
        tokens=[tokens[a.subject] for a in asked],
        records=records,
    )


def handle_refused_queries(message: Decoded[InfoQueryRefused], ctx: HandlerContext) -> list[Envelope]:
    """Always refuse: the queries go to the dead-letter queue with reason ``policy_refused``.

    Raises:
        LegalBasisRefused: always.
    """
    refused = message.payload
    first = refused.records[0].reason
    raise LegalBasisRefused(
        f"{len(refused.records)} query(ies) refused by the legal-basis table; first: {first}"
    )


def _answer(p: PendingQuery, r: IsInfoQueryResultRecord) -> InfoQueryAnswer:
    return InfoQueryAnswer(
        query_ref=p.query_ref,
        usage_number=p.usage_number,
        info_kind=InfoKind(p.info_kind),
        spi_code=p.spi_code,
        provider_org_code=p.provider_org_code,
        status=r.status,
        error=r.error,
        message_ja=error_text(r.error or (IsError.NO_DATA if r.status is QueryStatus.NO_DATA else None)),
        record_id=r.record_id,
        provided_at=r.provided_at,
        non_disclosure=r.non_disclosure,
        local_tax=r.local_tax,
        resident_record=r.resident_record,
    )


def _provision(
    ctx: HandlerContext, env: Envelope, p: PendingQuery, r: IsInfoQueryResultRecord, token: str | None
) -> tuple[ProvisionRecord, AccessRecord]:
    provider = f"{r.provider_name}（{r.provider_org_code}）" if r.provider_name else r.provider_org_code
    provided = r.provided_at if r.status is QueryStatus.ANSWERED else None
    record = ProvisionRecord(
        record_id=f"SKI-{p.record_id}",
        role=ProvisionRole.REQUESTER,
        requester=actor_label(env.actor),
        provider=provider,
        requested_at=p.requested_at,
        items=(p.spi_text,),
        jimu=p.jimu_text,
        legal_basis_current=p.basis_current,
        provided_at=provided,
        legal_basis_legacy=p.basis_legacy,
        non_disclosure=r.non_disclosure,
        subject=token,
    )
    detail = {"record_id": p.record_id, "status": r.status.value}
    if r.error is not None:
        detail["error"] = r.error.value
    return record, access_record(ctx, AuditAction.RESOLVED, env, [token] if token else [], details=detail)


def handle_info_query_result(message: Decoded[IsInfoQueryResult], ctx: HandlerContext) -> list[Envelope]:
    """Match answers to their queries, record them (番号法 第23条) and deliver them by usage number."""
    env, result = message.envelope, message.payload
    pending = ctx.uow.pending_queries.get([r.record_id for r in result.records])
    unknown = [r.record_id for r in result.records if r.record_id not in pending]
    if unknown:
        raise ValidationFailed(f"{len(unknown)} answer(s) match no query the hub sent (first {unknown[0]})")
    fresh = [r for r in result.records if pending[r.record_id].status is PendingStatus.PENDING]
    fresh = list({r.record_id: r for r in fresh}.values())
    tokens = ctx.uow.vault.tokens(AUDIT_SCOPE, list({pending[r.record_id].subject for r in fresh}))
    records = [
        access_record(
            ctx,
            AuditAction.RECEIVED,
            env,
            tokens.values(),
            records=str(len(result.records)),
            already_settled=str(len(result.records) - len(fresh)),
        )
    ]
    if not fresh:
        ctx.uow.audit.append(records)
        return []
    now = datetime.now(UTC)
    for status in {r.status for r in fresh}:
        settled = [r.record_id for r in fresh if r.status is status]
        ctx.uow.pending_queries.settle(settled, status=_STATUS[status], at=now)
    ctx.uow.provisions.record(
        [
            _provision(ctx, env, pending[r.record_id], r, tokens.get(pending[r.record_id].subject))
            for r in fresh
        ]
    )
    answer = answer_pension(
        env,
        message_type="pension.info_query.answered",
        payload=InfoQueryAnswered(
            answered_by=IS, records=tuple(_answer(pending[r.record_id], r) for r in fresh)
        ),
        code=PENSION_INFO_QUERY,
    )
    records.append(access_record(ctx, AuditAction.ROUTED, answer, records=str(len(fresh))))
    ctx.uow.audit.append(records)
    return [answer]
