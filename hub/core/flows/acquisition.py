"""The hub's part in number acquisition by 基本4情報 (個人番号の取得照会) for new entitlements.

Outbound: each new entitlement's usage number gets a subject (without a number yet) and travels to J-LIS
as a J-LIS-scope reference token with the person's 4情報, never with a number; a usage number whose
subject already has a number is answered at once. Inbound: a unique match is linked in the vault; several
candidates, none, or a number that already belongs to another subject are **held** for an operator
(:mod:`hub.core.operator.holds`), never linked by guesswork. The pension system learns ``linked`` or ``held``
by usage number, never the number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from contracts.envelope import Envelope
from contracts.individual_number import IndividualNumber
from contracts.messages.common import ChunkInfo
from contracts.messages.jlis_acquisition import (
    AcquisitionOutcomeRecord,
    AcquisitionStatus,
    BasicInfo,
    HoldReason,
    JlisAcquisitionQueryRecord,
    JlisAcquisitionResultRecord,
    JlisNumberAcquisitionQuery,
    JlisNumberAcquisitionResult,
    MatchStatus,
    NumberAcquisitionOutcomes,
    NumberAcquisitionRequested,
    candidate_number_field,
    unique_number_field,
)
from contracts.purpose_table import default_table
from contracts.purposes import JLIS_NUMBER_ACQUISITION, PENSION_NUMBER_ACQUISITION
from contracts.registry import Decoded
from contracts.usage_number import UsageNumber
from hub.core.flows.access import record_of
from hub.core.flows.context import HandlerContext, answer_pension, reply
from hub.core.flows.purpose import refusal_records, screen_grounds
from hub.core.flows.survival import JLIS_REF_SCOPE, subjects_of_answers
from hub.core.operator.holds import (
    ENTITLEMENT_RETENTION,
    hold_id_for,
    jlis_grounds,
    link_what_can_be_linked,
    seal_for_hold,
)
from hub.ports.audit import AccessRecord, AuditAction
from hub.ports.holds import HeldCandidate, Hold, HoldFlow, QueriedInfo
from hub.ports.vault import AUDIT_SCOPE, SubjectId

__all__ = ["JLIS_ACQUISITION_PURPOSE", "handle_acquisition_request", "handle_acquisition_result"]

JLIS_ACQUISITION_PURPOSE: Final = default_table().use(JLIS_NUMBER_ACQUISITION).purpose
"""The purpose table's use: J-LIS 個人番号の取得 (番号法 第14条第2項, 住基法 第30条の9 別表第一)."""


def handle_acquisition_request(
    message: Decoded[NumberAcquisitionRequested], ctx: HandlerContext
) -> list[Envelope]:
    """Give each new entitlement a subject and ask J-LIS by 4情報 for those without a number.

    J-LIS is asked only about 年金受給権者 and 加給年金額対象配偶者 (the purpose table's
    ``jlis.number_acquisition``): a person the vault already holds in another role only, or a usage number of
    a kind that names another role (同一住所の者), is answered ``not_permitted`` and never asked about.
    """
    env, request = message.envelope, message.payload
    vault = ctx.uow.vault
    usage = list(dict.fromkeys(r.usage_number for r in request.records))
    existing = vault.subjects_by_usage(usage)
    held = vault.grounds_of(list(set(existing.values()))) if existing else {}
    claims: dict[UsageNumber, list[tuple[str, str | None]]] = {}
    for u in usage:
        grounds = held.get(existing[u], frozenset()) if u in existing else frozenset()
        # Known grounds decide; a person the vault knows nothing of is in the role the usage number names.
        claims[u] = [(g.role, g.held_under) for g in sorted(grounds)] or [
            (ctx.purposes.role_of_kind(u.kind), None)
        ]
    refused = screen_grounds(ctx, env, use=JLIS_NUMBER_ACQUISITION, grounds=claims)
    allowed = [u for u in usage if u not in refused]
    subjects = (
        vault.enrol(
            [(u, None) for u in allowed],
            retention=ENTITLEMENT_RETENTION,
            source=f"pension:{request.chunk.batch_id}",
        )
        if allowed
        else {}
    )
    numbers = vault.numbers_of(list(set(subjects.values())))
    permitted = [r for r in request.records if r.usage_number in subjects]
    ask = [r for r in permitted if subjects[r.usage_number] not in numbers]
    known = [r for r in permitted if subjects[r.usage_number] in numbers]
    everyone = {**existing, **subjects}
    audit_tokens = vault.tokens(AUDIT_SCOPE, list(set(everyone.values())))
    records = [record_of(ctx, AuditAction.RECEIVED, env, sorted(set(audit_tokens.values())))]
    if refused:
        tokens_by_usage = {u: audit_tokens[everyone[u]] for u in refused if u in everyone}
        records.extend(refusal_records(ctx, env, refused, tokens_by_usage))
    out: list[Envelope] = []
    if ask:
        refs = vault.tokens(JLIS_REF_SCOPE, [subjects[r.usage_number] for r in ask])
        query = JlisNumberAcquisitionQuery(
            chunk=request.chunk,
            as_of=request.as_of,
            records=tuple(
                JlisAcquisitionQueryRecord(
                    record_seq=r.record_seq, ref=refs[subjects[r.usage_number]], basic_info=r.basic_info
                )
                for r in ask
            ),
        )
        jlis_env = reply(
            env,
            message_type="jlis.number_acquisition.query",
            payload=query,
            label="jlis",
            purpose=JLIS_ACQUISITION_PURPOSE,
            destination="jlis",
        )
        asked = [audit_tokens[subjects[r.usage_number]] for r in ask]
        records.append(record_of(ctx, AuditAction.ROUTED, jlis_env, asked, records=str(len(ask))))
        out.append(jlis_env)
    known_seqs = {r.record_seq for r in known}
    hub_answers = [
        AcquisitionOutcomeRecord(
            record_seq=r.record_seq,
            usage_number=r.usage_number,
            status=AcquisitionStatus.NOT_PERMITTED if r.usage_number in refused else AcquisitionStatus.LINKED,
            note=refused[r.usage_number].reason.value if r.usage_number in refused else "already_linked",
        )
        for r in request.records
        if r.usage_number in refused or r.record_seq in known_seqs
    ]
    if hub_answers:
        outcomes = NumberAcquisitionOutcomes(
            chunk=request.chunk,
            answered_by="hub",
            records=tuple(sorted(hub_answers, key=lambda a: a.record_seq)),
        )
        answer = _to_pension(env, outcomes, "already-linked")
        records.append(record_of(ctx, AuditAction.ROUTED, answer, [], records=str(len(hub_answers))))
        out.append(answer)
    ctx.uow.audit.append(records)
    return out


def _to_pension(env: Envelope, outcomes: NumberAcquisitionOutcomes, label: str) -> Envelope:
    return answer_pension(
        env,
        message_type="pension.number_acquisition.outcome",
        payload=outcomes,
        code=PENSION_NUMBER_ACQUISITION,
        label=label,
    )


class _Answers:
    """What the result's records come to: links to make, holds to keep, outcome rows to send."""

    def __init__(
        self,
        env: Envelope,
        result: JlisNumberAcquisitionResult,
        ctx: HandlerContext,
        usage: Mapping[SubjectId, UsageNumber],
    ) -> None:
        self.env, self.result, self.ctx, self.usage = env, result, ctx, usage
        self.links: list[tuple[SubjectId, IndividualNumber]] = []
        self.link_records: dict[SubjectId, JlisAcquisitionResultRecord] = {}
        self.holds: list[Hold] = []
        self.already: set[int] = set()

    def hold(
        self,
        r: JlisAcquisitionResultRecord,
        subject: SubjectId,
        reason: HoldReason,
        candidates: Sequence[tuple[int, IndividualNumber, QueriedInfo]],
    ) -> None:
        hold_id = hold_id_for(self.env.message_id, r.record_seq)
        chunk = self.result.chunk
        self.holds.append(
            Hold(
                hold_id=hold_id,
                flow=HoldFlow.NUMBER_ACQUISITION,
                reason=reason,
                subject=subject,
                usage_number=self.usage[subject],
                batch_id=chunk.batch_id,
                chunk_index=chunk.chunk_index,
                chunk_count=chunk.chunk_count,
                total_records=chunk.total_records,
                record_seq=r.record_seq,
                correlation_id=str(self.env.correlation_id),
                source_message_id=str(self.env.message_id),
                created_at=self.env.created_at,
                candidates=tuple(
                    HeldCandidate(no, seal_for_hold(self.ctx.sealer, number, hold_id, no), info)
                    for no, number, info in candidates
                ),
                no_match_reason=r.no_match_reason.value if r.no_match_reason else None,
            )
        )


def _info(matched: BasicInfo | None) -> QueriedInfo:
    """J-LIS's 4情報 of a candidate, as a hold keeps them for the operator."""
    if matched is None:
        return QueriedInfo()
    return QueriedInfo(
        name=matched.name,
        name_kana=matched.name_kana,
        birth_date=matched.birth_date,
        sex=matched.sex.value if matched.sex else None,
        address=matched.address,
    )


def handle_acquisition_result(
    message: Decoded[JlisNumberAcquisitionResult], ctx: HandlerContext
) -> list[Envelope]:
    """Link unique matches, hold the rest for an operator, and tell the pension system by usage number."""
    env, result = message.envelope, message.payload
    vault = ctx.uow.vault
    by_ref = vault.subjects_of_tokens(JLIS_REF_SCOPE, [r.ref for r in result.records])
    subjects = subjects_of_answers(result.records, by_ref)
    usage = vault.usage_of(subjects)
    current = vault.numbers_of(subjects)
    audit_tokens = vault.tokens(AUDIT_SCOPE, subjects)
    records = [record_of(ctx, AuditAction.RECEIVED, env, sorted({audit_tokens[s] for s in subjects}))]
    answers = _Answers(env, result, ctx, usage)
    for r in result.records:
        subject = by_ref[r.ref]
        if r.match_status is MatchStatus.UNIQUE:
            assert r.individual_number is not None  # the contract guarantees it
            number = ctx.unsealer.unseal(
                r.individual_number, message_id=env.message_id, field=unique_number_field(r.record_seq)
            )
            if current.get(subject) == number:
                answers.already.add(r.record_seq)
            elif subject in current:
                # The subject got another number meanwhile: never replaced by an acquisition.
                answers.hold(r, subject, HoldReason.NUMBER_CONFLICT, [(1, number, _info(r.matched))])
            else:
                answers.links.append((subject, number))
                answers.link_records[subject] = r
        elif r.match_status is MatchStatus.MULTIPLE_CANDIDATES:
            candidates = [
                (
                    c.candidate_no,
                    ctx.unsealer.unseal(
                        c.individual_number,
                        message_id=env.message_id,
                        field=candidate_number_field(r.record_seq, c.candidate_no),
                    ),
                    _info(c.matched),
                )
                for c in r.candidates
            ]
            answers.hold(r, subject, HoldReason.MULTIPLE_CANDIDATES, candidates)
        else:
            answers.hold(r, subject, HoldReason.NO_MATCH, [])
    conflicted = link_what_can_be_linked(
        vault, answers.links, retention=ENTITLEMENT_RETENTION, source=f"jlis:{result.chunk.batch_id}"
    )
    for subject, number in answers.links:
        if subject in conflicted:
            r = answers.link_records[subject]
            answers.hold(r, subject, HoldReason.NUMBER_CONFLICT, [(1, number, _info(r.matched))])
    linked = [s for s, _ in answers.links if s not in conflicted]
    jlis_grounds(vault, [(s, usage[s]) for s in linked], source=f"jlis:{result.chunk.batch_id}")
    if linked:
        records.append(
            record_of(
                ctx, AuditAction.LINKED, env, [audit_tokens[s] for s in linked], records=str(len(linked))
            )
        )
    ctx.uow.holds.add(answers.holds)
    records.extend(_held_record(ctx, env, h, audit_tokens[h.subject]) for h in answers.holds)
    answer = _to_pension(env, _outcomes(result, by_ref, usage, answers), "pension")
    records.append(record_of(ctx, AuditAction.ROUTED, answer, [], records=str(len(result.records))))
    ctx.uow.audit.append(records)
    return [answer]


def _held_record(ctx: HandlerContext, env: Envelope, hold: Hold, token: str) -> AccessRecord:
    return record_of(
        ctx,
        AuditAction.HELD,
        env,
        [token],
        hold_id=hold.hold_id,
        hold_reason=hold.reason.value,
        candidates=str(len(hold.candidates)),
    )


def _outcomes(
    result: JlisNumberAcquisitionResult,
    by_ref: Mapping[str, SubjectId],
    usage: Mapping[SubjectId, UsageNumber],
    answers: _Answers,
) -> NumberAcquisitionOutcomes:
    held = {h.record_seq: h for h in answers.holds}
    rows = []
    for r in result.records:
        subject = by_ref[r.ref]
        hold = held.get(r.record_seq)
        rows.append(
            AcquisitionOutcomeRecord(
                record_seq=r.record_seq,
                usage_number=usage[subject],
                status=AcquisitionStatus.HELD if hold else AcquisitionStatus.LINKED,
                hold_id=hold.hold_id if hold else None,
                hold_reason=hold.reason if hold else None,
                candidate_count=r.candidate_count,
                no_match_reason=r.no_match_reason,
                note="already_linked" if r.record_seq in answers.already else None,
            )
        )
    return NumberAcquisitionOutcomes(
        chunk=ChunkInfo(
            batch_id=result.chunk.batch_id,
            chunk_index=result.chunk.chunk_index,
            chunk_count=result.chunk.chunk_count,
            total_records=result.chunk.total_records,
        ),
        answered_by="jlis",
        records=tuple(rows),
    )
