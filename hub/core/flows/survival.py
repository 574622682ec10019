"""The hub's part in the survival/change inquiry (生存異動照会).

Outbound: usage numbers from the pension system become subjects, subjects become numbers sealed for the J-LIS
adapter (個人番号付加), each person travelling with a J-LIS-scope reference token instead of any identifier
the pension system knows. Before anything is sealed, the purpose check (:mod:`hub.core.flows.purpose`) keeps
back everyone J-LIS may not be asked about: only 年金受給権者 and 加給年金額対象配偶者 whose numbers came from
J-LIS or a claim form (seed Ⅲ(1) リスク1); a 扶養控除対象者 known only from a 扶養親族等申告書 is answered
``not_permitted`` by the hub and never reaches J-LIS. Pensioners and their spouses alike: a spouse
(加給年金額の対象) is asked about by the federation's dependant key (扶養親族キー), like any usage number
linked in the vault. Inbound: J-LIS's answers are matched back by token, number changes are relinked in the
vault (a new number that already belongs to another subject is held for an operator instead, and the rest of
the chunk goes on), and the pension system receives each outcome by usage number with its actions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from contracts.envelope import Envelope
from contracts.errors import ValidationFailed
from contracts.individual_number import IndividualNumber
from contracts.messages.common import ChunkInfo
from contracts.messages.jlis_acquisition import HoldReason
from contracts.messages.survival import (
    JlisInquiryRecord,
    JlisSurvivalChangeInquiry,
    JlisSurvivalChangeResult,
    SurvivalCheckOutcomes,
    SurvivalInquiryRecord,
    SurvivalInquiryRequested,
    SurvivalOutcome,
    SurvivalOutcomeRecord,
)
from contracts.purpose_table import Refusal, default_table
from contracts.purposes import JLIS_SURVIVAL_CHANGE, PENSION_SURVIVAL_CHECK
from contracts.registry import Decoded
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.core.flows.access import record_of
from hub.core.flows.context import HandlerContext, answer_pension, derived_id, reply
from hub.core.flows.purpose import Screening, refusal_records, screen
from hub.core.flows.survival_actions import actions_for
from hub.core.operator.holds import ENTITLEMENT_RETENTION, hold_id_for, link_what_can_be_linked, seal_for_hold
from hub.ports.audit import AccessRecord, AuditAction
from hub.ports.holds import HeldCandidate, Hold, HoldFlow
from hub.ports.vault import AUDIT_SCOPE, SubjectId, TokenScope, Vault

__all__ = [
    "JLIS_DEPENDANT_REF_SCOPE",
    "JLIS_PURPOSE",
    "JLIS_REF_SCOPE",
    "JlisAnswer",
    "handle_jlis_result",
    "handle_survival_request",
    "prefetch_jlis_results",
    "prefetch_survival_requests",
    "subjects_of_answers",
]

JLIS_REF_SCOPE = TokenScope("jlis.ref")
JLIS_DEPENDANT_REF_SCOPE = TokenScope("jlis.ref.dependant")
"""References of people asked about by a dependant key (a spouse): the answer goes back under that key."""
JLIS_PURPOSE = default_table().use(JLIS_SURVIVAL_CHANGE).purpose
"""The purpose table's use: J-LIS 生存異動照会 (住基法 第30条の9, 別表第一 19・74・77の9)."""


class JlisAnswer(Protocol):
    """A record of a J-LIS result, as far as matching it to a person needs."""

    @property
    def record_seq(self) -> int:
        """Its position in the result."""
        ...

    @property
    def ref(self) -> str:
        """The reference the hub sent the question with (a token of the person)."""
        ...


def subjects_of_answers(records: Sequence[JlisAnswer], by_ref: Mapping[str, SubjectId]) -> list[SubjectId]:
    """The person of each J-LIS answer, by its reference (``by_ref``: the vault's subjects of references).

    Raises:
        ValidationFailed: an answer carries a reference the vault does not know; it matches nobody.
    """
    unknown = [r.record_seq for r in records if r.ref not in by_ref]
    if unknown:
        raise ValidationFailed(
            f"{len(unknown)} result record(s) carry a reference the vault does not know (first record_seq "
            f"{unknown[0]}); they cannot be matched to anyone"
        )
    return [by_ref[r.ref] for r in records]


def prefetch_survival_requests(
    messages: Sequence[Decoded[SurvivalInquiryRequested]], ctx: HandlerContext
) -> None:
    """Look up every person of a batch of requests at once: subjects, numbers, audit tokens, references.

    The handlers ask again, message by message, and are answered from the unit of work's memory.
    """
    records = [r for m in messages for r in m.payload.records]
    vault = ctx.uow.vault
    subjects = vault.subjects_by_usage([r.usage_number for r in records])
    known = list(set(subjects.values()))
    numbers = vault.numbers_of(known)
    vault.tokens(AUDIT_SCOPE, known)
    vault.grounds_of([s for s in known if s in numbers])
    # The references of the people the requests will ask J-LIS about, in one look-up per scope: the
    # handler makes them one message at a time otherwise (and records each new one), which cost about
    # half of the hub's time per single-person request (py-spy, `renkei bench --phase hub`).
    askable = [r for m in messages for r in _screened(ctx, m.envelope, m.payload, subjects, numbers)[2]]
    if askable:
        _check_jlis_policy(ctx)
        _refs(vault, askable, subjects)


def _screened(
    ctx: HandlerContext,
    env: Envelope,
    request: SurvivalInquiryRequested,
    subjects: Mapping[UsageNumber, SubjectId],
    numbers: Mapping[SubjectId, IndividualNumber],
) -> tuple[list[SurvivalInquiryRecord], Screening, list[SurvivalInquiryRecord]]:
    """Who of ``request`` has a number, the purpose check of their use, and who J-LIS may be asked about."""
    with_number = [r for r in request.records if subjects.get(r.usage_number) in numbers]
    # The purpose check, before anything is sealed: only people J-LIS may be asked about go on.
    screening = screen(
        ctx, env, use=JLIS_SURVIVAL_CHANGE, subjects=[subjects[r.usage_number] for r in with_number]
    )
    askable = [r for r in with_number if screening.allowed(subjects[r.usage_number])]
    return with_number, screening, askable


def _check_jlis_policy(ctx: HandlerContext) -> None:
    ctx.policy.check(destination="jlis", message_type="jlis.survival_change.inquiry", purpose=JLIS_PURPOSE)


def handle_survival_request(
    message: Decoded[SurvivalInquiryRequested], ctx: HandlerContext
) -> list[Envelope]:
    """Enrich a chunk of the inquiry with numbers and route it to the J-LIS adapter."""
    env, request = message.envelope, message.payload
    vault = ctx.uow.vault
    usage = [r.usage_number for r in request.records]
    subjects = vault.subjects_by_usage(usage)
    numbers = vault.numbers_of(list(set(subjects.values())))

    unaskable = [r for r in request.records if subjects.get(r.usage_number) not in numbers]
    known = list({subjects[r.usage_number] for r in request.records if r.usage_number in subjects})
    audit_tokens = vault.tokens(AUDIT_SCOPE, known)
    records = [record_of(ctx, AuditAction.RECEIVED, env, [audit_tokens[s] for s in known])]
    out: list[Envelope] = []
    with_number, screening, askable = _screened(ctx, env, request, subjects, numbers)
    refused = {
        r.record_seq: screening.refused[subjects[r.usage_number]]
        for r in with_number
        if not screening.allowed(subjects[r.usage_number])
    }
    if screening.refused:
        records.extend(refusal_records(ctx, env, screening.refused, audit_tokens))

    if askable:
        _check_jlis_policy(ctx)
        asked = [subjects[r.usage_number] for r in askable]
        refs = _refs(vault, askable, subjects)
        outgoing_id = derived_id(env.message_id, "jlis")
        inquiry = JlisSurvivalChangeInquiry(
            chunk=request.chunk,
            cycle=request.cycle,
            as_of=request.as_of,
            records=tuple(
                JlisInquiryRecord(
                    record_seq=r.record_seq,
                    ref=refs[r.usage_number],
                    individual_number=ctx.sealer.seal(
                        numbers[subjects[r.usage_number]],
                        recipient="jlis",
                        message_id=outgoing_id,
                        field=f"records.{r.record_seq}.individual_number",
                    ),
                )
                for r in askable
            ),
        )
        jlis_env = reply(
            env,
            message_type="jlis.survival_change.inquiry",
            payload=inquiry,
            label="jlis",
            purpose=JLIS_PURPOSE,
            destination="jlis",
        )
        touched = [audit_tokens[s] for s in asked]
        records.append(record_of(ctx, AuditAction.ENRICHED, jlis_env, touched, records=str(len(askable))))
        records.append(record_of(ctx, AuditAction.ROUTED, jlis_env, []))
        out.append(jlis_env)

    if unaskable or refused:
        out.append(
            _hub_outcomes(
                env=env,
                request=request,
                unaskable=unaskable + [r for r in with_number if r.record_seq in refused],
                refused=refused,
                ctx=ctx,
                records=records,
                subjects=subjects,
                audit_tokens=audit_tokens,
            )
        )
    ctx.uow.audit.append(records)
    return out


def _hub_record(r: SurvivalInquiryRecord, refusal: Refusal | None) -> SurvivalOutcomeRecord:
    outcome = SurvivalOutcome.NO_NUMBER if refusal is None else SurvivalOutcome.NOT_PERMITTED
    return SurvivalOutcomeRecord(
        record_seq=r.record_seq,
        usage_number=r.usage_number,
        outcome=outcome,
        actions=actions_for(outcome),
        not_permitted_reason=None if refusal is None else refusal.reason,
    )


def _hub_outcomes(
    *,
    env: Envelope,
    request: SurvivalInquiryRequested,
    unaskable: list[SurvivalInquiryRecord],
    refused: Mapping[int, Refusal],
    ctx: HandlerContext,
    records: list[AccessRecord],
    subjects: dict[UsageNumber, SubjectId],
    audit_tokens: dict[SubjectId, str],
) -> Envelope:
    """The hub's own answers for the chunk: ``no_number`` and ``not_permitted`` (one message, one file)."""
    unaskable = sorted(unaskable, key=lambda r: r.record_seq)
    outcomes = SurvivalCheckOutcomes(
        chunk=request.chunk,
        cycle=request.cycle,
        answered_by="hub",
        records=tuple(_hub_record(r, refused.get(r.record_seq)) for r in unaskable),
    )
    answer = reply(
        env,
        message_type="pension.survival_check.outcomes",
        payload=outcomes,
        label="no-number",
        purpose=env.purpose,
    )
    touched = [audit_tokens[subjects[r.usage_number]] for r in unaskable if r.usage_number in subjects]
    detail = {"not_permitted": str(len(refused))} if refused else {}
    records.append(record_of(ctx, AuditAction.ROUTED, answer, touched, outcome="no_number", **detail))
    return answer


def prefetch_jlis_results(messages: Sequence[Decoded[JlisSurvivalChangeResult]], ctx: HandlerContext) -> None:
    """Look up every person of a batch of J-LIS results at once: references, usage numbers, audit tokens."""
    refs = [r.ref for m in messages for r in m.payload.records]
    vault = ctx.uow.vault
    by_ref = {
        **vault.subjects_of_tokens(JLIS_REF_SCOPE, refs),
        **vault.subjects_of_tokens(JLIS_DEPENDANT_REF_SCOPE, refs),
    }
    subjects = list(set(by_ref.values()))
    vault.usage_of(subjects)
    vault.tokens(AUDIT_SCOPE, subjects)


def handle_jlis_result(message: Decoded[JlisSurvivalChangeResult], ctx: HandlerContext) -> list[Envelope]:
    """Match J-LIS's answers back to people, relink changed numbers, and tell the pension system."""
    env, result = message.envelope, message.payload
    vault = ctx.uow.vault
    refs = [r.ref for r in result.records]
    by_ref = {**vault.subjects_of_tokens(JLIS_REF_SCOPE, refs)}
    as_dependant = vault.subjects_of_tokens(JLIS_DEPENDANT_REF_SCOPE, refs)
    by_ref.update(as_dependant)
    subjects = subjects_of_answers(result.records, by_ref)
    usage = _usage_by_ref(vault, by_ref, set(as_dependant))
    audit_tokens = vault.tokens(AUDIT_SCOPE, subjects)
    records = [record_of(ctx, AuditAction.RECEIVED, env, [audit_tokens[s] for s in subjects])]

    changes: dict[SubjectId, tuple[int, str, IndividualNumber]] = {}
    for r in result.records:
        if r.outcome is SurvivalOutcome.NUMBER_CHANGED and r.new_individual_number is not None:
            changes[by_ref[r.ref]] = (
                r.record_seq,
                r.ref,
                ctx.unsealer.unseal(
                    r.new_individual_number,
                    message_id=env.message_id,
                    field=f"records.{r.record_seq}.new_individual_number",
                ),
            )
    # A new number that already belongs to another subject is held for an operator, never forced: the
    # rest of the chunk is relinked and answered as usual (the pension system sees no number either way).
    conflicted = link_what_can_be_linked(
        vault,
        [(subject, number) for subject, (_, _, number) in changes.items()],
        retention=ENTITLEMENT_RETENTION,
        source=f"jlis:{result.chunk.batch_id}",
    )
    relinked = [audit_tokens[s] for s in changes if s not in conflicted]
    if relinked:
        records.append(record_of(ctx, AuditAction.RELINKED, env, relinked, reason="番号法 第7条第2項"))
    if conflicted:
        holds = [
            _conflict_hold(
                ctx,
                env,
                result,
                subject,
                usage[changes[subject][1]],
                record_seq=changes[subject][0],
                number=changes[subject][2],
            )
            for subject in sorted(conflicted)
        ]
        ctx.uow.holds.add(holds)
        records.extend(
            record_of(
                ctx,
                AuditAction.HELD,
                env,
                [audit_tokens[h.subject]],
                hold_id=h.hold_id,
                hold_reason=h.reason.value,
            )
            for h in holds
        )

    outcomes = SurvivalCheckOutcomes(
        chunk=ChunkInfo(
            batch_id=result.chunk.batch_id,
            chunk_index=result.chunk.chunk_index,
            chunk_count=result.chunk.chunk_count,
            total_records=result.chunk.total_records,
        ),
        cycle=result.cycle,
        answered_by="jlis",
        records=tuple(
            SurvivalOutcomeRecord(
                record_seq=r.record_seq,
                usage_number=usage[r.ref],
                outcome=r.outcome,
                actions=actions_for(r.outcome, r.move_kind),
                death_date=r.death_date,
                move_kind=r.move_kind,
                moved_on=r.moved_on,
                new_address=r.new_address,
                new_name=r.new_name,
                needs_document=r.outcome is SurvivalOutcome.NAME_CHANGED,
                unmatched_reason=r.unmatched_reason,
            )
            for r in result.records
        ),
    )
    answer = answer_pension(
        env, message_type="pension.survival_check.outcomes", payload=outcomes, code=PENSION_SURVIVAL_CHECK
    )
    records.append(record_of(ctx, AuditAction.ROUTED, answer, [], records=str(len(result.records))))
    ctx.uow.audit.append(records)
    return [answer]


def _conflict_hold(
    ctx: HandlerContext,
    env: Envelope,
    result: JlisSurvivalChangeResult,
    subject: SubjectId,
    usage: UsageNumber,
    *,
    record_seq: int,
    number: IndividualNumber,
) -> Hold:
    """The hold of a new number (番号法 第7条第2項) that already belongs to another subject."""
    hold_id = hold_id_for(env.message_id, record_seq)
    return Hold(
        hold_id=hold_id,
        flow=HoldFlow.SURVIVAL_CHANGE,
        reason=HoldReason.NUMBER_CONFLICT,
        subject=subject,
        usage_number=usage,
        batch_id=result.chunk.batch_id,
        chunk_index=result.chunk.chunk_index,
        chunk_count=result.chunk.chunk_count,
        total_records=result.chunk.total_records,
        record_seq=record_seq,
        correlation_id=str(env.correlation_id),
        source_message_id=str(env.message_id),
        created_at=env.created_at,
        candidates=(HeldCandidate(1, seal_for_hold(ctx.sealer, number, hold_id, 1)),),
    )


def _refs(
    vault: Vault, askable: list[SurvivalInquiryRecord], subjects: dict[UsageNumber, SubjectId]
) -> dict[UsageNumber, str]:
    """The J-LIS reference of each usage number asked with: a dependant key (a spouse) in its own scope.

    The scope of the reference says, when J-LIS answers, which of the subject's usage numbers the pension
    system asked with, so that the answer goes back under that very key.
    """
    by_scope: dict[TokenScope, list[UsageNumber]] = {}
    for r in askable:
        scope = (
            JLIS_DEPENDANT_REF_SCOPE if r.usage_number.kind is UsageNumberKind.DEPENDANT else JLIS_REF_SCOPE
        )
        by_scope.setdefault(scope, []).append(r.usage_number)
    refs: dict[UsageNumber, str] = {}
    for scope, usage in by_scope.items():
        tokens = vault.tokens(scope, [subjects[u] for u in usage])
        refs.update((u, tokens[subjects[u]]) for u in usage)
    return refs


def _usage_by_ref(
    vault: Vault, by_ref: Mapping[str, SubjectId], dependant_refs: set[str]
) -> dict[str, UsageNumber]:
    """The usage number each answer goes back under: the subject's dependant key for a dependant ref."""
    subjects = list(set(by_ref.values()))
    primary = vault.usage_of(subjects)
    keys: dict[SubjectId, UsageNumber] = {}
    wanted = list({by_ref[ref] for ref in dependant_refs})
    for subject, history in vault.usage_history(wanted).items():
        in_force = [
            h.usage for h in history if h.valid_to is None and h.usage.kind is UsageNumberKind.DEPENDANT
        ]
        if in_force:
            keys[subject] = in_force[0]
    return {
        ref: keys.get(subject, primary[subject]) if ref in dependant_refs else primary[subject]
        for ref, subject in by_ref.items()
    }
