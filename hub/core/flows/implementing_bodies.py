"""The hub's part in forwarding claims to the other implementing bodies (事務 (6), ワンストップサービス).

Outbound: a 構成組合 received claims (年金請求書等) that concern other implementing bodies too; the pension
system asks the hub to forward them. The worker has already refused a request whose actor may not do 事務 (6)
(the purpose table's ``[[request]]`` row: a 構成組合 only, never the federation), dead-lettered and recorded.
For the rest, per claim:

* a claim the one-stop service does not cover (障害, the 本来支給 claim at 65, a pre-一元化 共済年金:
  :data:`~contracts.messages.implementing_bodies.NOT_ONE_STOP`) is **refused**: not forwarded, an access
  record REFUSED (reason ``not_one_stop``), and the pension system is told why;
* a claim whose claimant's or deceased's number the use ``implementing_bodies.claim_forwarding`` may not take
  (:mod:`hub.core.flows.purpose`) is refused the same way (reason ``not_permitted``);
* the others are grouped by destination: one ``implementing_bodies.claim.forwarding`` per destination, the
  numbers sealed for ``implementing_bodies`` under the claim's fields. A person the vault holds no number for
  is forwarded without one (the 基礎年金番号 identifies them).

Inbound: a receiving body's receipt names the claims it took and those it returned (返戻), by record_seq;
the hub passes them on to the pension system. It names no person, so its access record names none.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from contracts.envelope import Envelope
from contracts.errors import ActorNotPermitted
from contracts.messages.implementing_bodies import (
    CLAIM_FORWARDING_PURPOSE,
    NOT_ONE_STOP,
    ONE_STOP,
    ClaimForwarding,
    ClaimForwardingOutcomes,
    ClaimForwardingRequested,
    ClaimOutcome,
    ClaimRequest,
    ForwardedClaim,
    ForwardingReceipt,
    ForwardingStatus,
    ImplementingBody,
    claimant_number_field,
    deceased_number_field,
)
from contracts.purposes import IB_CLAIM_FORWARDING, PENSION_IMPLEMENTING_BODIES
from contracts.registry import Decoded
from contracts.usage_number import UsageNumber
from hub.core.flows.access import access_record, record_of
from hub.core.flows.context import HandlerContext, answer_pension, derived_id, reply
from hub.core.flows.purpose import NOT_PERMITTED, refusal_records, screen
from hub.core.flows.tax_reports import Enrichment, People
from hub.ports.audit import AccessRecord, AuditAction, Outcome

__all__ = [
    "FORWARDING_TYPE",
    "NOT_ONE_STOP_REASON",
    "OUTCOMES_TYPE",
    "RECIPIENT",
    "handle_claim_forwarding_request",
    "handle_forwarding_receipt",
]

RECIPIENT: Final = "implementing_bodies"
FORWARDING_TYPE: Final = "implementing_bodies.claim.forwarding"
OUTCOMES_TYPE: Final = "pension.claim_forwarding.outcomes"
NOT_ONE_STOP_REASON: Final = "not_one_stop"
"""The reason code of a claim the one-stop service does not cover (access record and outcome)."""


def _people(record: ClaimRequest) -> list[UsageNumber]:
    return [record.claimant] if record.deceased is None else [record.claimant, record.deceased]


def handle_claim_forwarding_request(
    message: Decoded[ClaimForwardingRequested], ctx: HandlerContext
) -> list[Envelope]:
    """Forward the one-stop claims, numbers sealed for the adapter, one message per destination.

    Claims not covered, or with a number the use may not take, are not sent; the pension system is told
    ``refused`` with the reason, and each refusal is recorded.
    """
    env, request = message.envelope, message.payload
    # The worker refuses such a request before it reaches here (the [[request]] row); refused again, so
    # that no path forwards a claim on behalf of anyone but a 構成組合 (a claimant without a number
    # would pass the purpose check, which looks only at numbers).
    refused = ctx.purposes.may_do(env.actor, ctx.purposes.use(IB_CLAIM_FORWARDING).jimu.no)
    if refused is not None or env.actor is None:
        raise ActorNotPermitted(refused.message if refused else "事務(6) needs the 構成組合 that received it")
    usage = [u for r in request.records for u in _people(r)]
    people = People(ctx, usage, numbers=True)
    covered = [r for r in request.records if r.kind in ONE_STOP]
    uncovered = [r for r in request.records if r.kind not in ONE_STOP]
    with_numbers = [
        s for r in covered for u in _people(r) if (s := people.subject(u)) is not None and s in people.numbers
    ]
    screening = screen(ctx, env, use=IB_CLAIM_FORWARDING, subjects=with_numbers)
    audit = [
        record_of(ctx, AuditAction.RECEIVED, env, people.audit(usage), records=str(len(request.records)))
    ]
    refusals = [
        ClaimOutcome(
            record_seq=r.record_seq,
            status=ForwardingStatus.REFUSED,
            reason=NOT_ONE_STOP_REASON,
            message=NOT_ONE_STOP[r.kind],
        )
        for r in uncovered
    ]
    if uncovered:
        audit.append(
            access_record(
                ctx,
                AuditAction.REFUSED,
                env,
                people.audit([u for r in uncovered for u in _people(r)]),
                outcome=Outcome.REFUSED,
                reason=NOT_ONE_STOP_REASON,
                details={
                    "records": str(len(uncovered)),
                    "kinds": ",".join(sorted({r.kind.value for r in uncovered})),
                },
            )
        )
    sendable: list[ClaimRequest] = []
    for r in covered:
        found = [
            screening.refused[s]
            for u in _people(r)
            if (s := people.subject(u)) is not None and s in screening.refused
        ]
        if found:
            refusals.append(
                ClaimOutcome(
                    record_seq=r.record_seq,
                    status=ForwardingStatus.REFUSED,
                    reason=NOT_PERMITTED,
                    message=found[0].message[:600],
                )
            )
        else:
            sendable.append(r)
    if screening.refused:
        audit.extend(refusal_records(ctx, env, screening.refused, people.tokens))
    out = [
        _forwarding(
            ctx, env, request.batch_id, body, [r for r in sendable if body in r.destinations], people, audit
        )
        for body in ImplementingBody
        if any(body in r.destinations for r in sendable)
    ]
    if refusals:
        answer = answer_pension(
            env,
            message_type=OUTCOMES_TYPE,
            payload=ClaimForwardingOutcomes(batch_id=request.batch_id, outcomes=tuple(refusals)),
            code=PENSION_IMPLEMENTING_BODIES,
            label="pension-refused",
        )
        audit.append(record_of(ctx, AuditAction.ROUTED, answer, [], records=str(len(refusals))))
        out.append(answer)
    ctx.uow.audit.append(audit)
    return out


def _forwarding(  # noqa: PLR0917 (private, one call site)
    ctx: HandlerContext,
    env: Envelope,
    batch_id: str,
    body: ImplementingBody,
    claims: Sequence[ClaimRequest],
    people: People,
    audit: list[AccessRecord],
) -> Envelope:
    ctx.policy.check(destination=RECIPIENT, message_type=FORWARDING_TYPE, purpose=CLAIM_FORWARDING_PURPOSE)
    label = f"{RECIPIENT}/{body.value}"
    enrichment = Enrichment(ctx, people, RECIPIENT, derived_id(env.message_id, label))
    sealed = enrichment.sealed
    forwarded = tuple(
        ForwardedClaim(
            record_seq=r.record_seq,
            kind=r.kind,
            received_on=r.received_on,
            individual_number=sealed(r.claimant, claimant_number_field(r.record_seq)),
            basic_pension_number=r.basic_pension_number,
            deceased_individual_number=sealed(r.deceased, deceased_number_field(r.record_seq)),
            deceased_basic_pension_number=r.deceased_basic_pension_number,
            pages=r.pages,
        )
        for r in claims
    )
    out = reply(
        env,
        message_type=FORWARDING_TYPE,
        destination=RECIPIENT,
        purpose=CLAIM_FORWARDING_PURPOSE,
        payload=ClaimForwarding(
            batch_id=batch_id, destination=body, forwarded_by=str(env.actor), claims=forwarded
        ),
        label=label,
    )
    audit.extend(enrichment.records(out, destination_body=body.value))
    return out


def handle_forwarding_receipt(message: Decoded[ForwardingReceipt], ctx: HandlerContext) -> list[Envelope]:
    """Tell the pension system which claims the receiving body took and which it returned (返戻)."""
    env, receipt = message.envelope, message.payload
    outcomes = [
        ClaimOutcome(record_seq=seq, destination=receipt.destination, status=ForwardingStatus.FORWARDED)
        for seq in receipt.accepted
    ] + [
        ClaimOutcome(
            record_seq=r.record_seq,
            destination=receipt.destination,
            status=ForwardingStatus.RETURNED,
            reason=r.reason,
            message=None if r.field is None else f"item {r.field}",
        )
        for r in receipt.returned
    ]
    ctx.uow.audit.append(
        [
            record_of(
                ctx,
                AuditAction.RECEIVED,
                env,
                [],
                destination_body=receipt.destination.value,
                accepted=str(len(receipt.accepted)),
                returned=str(len(receipt.returned)),
            )
        ]
    )
    if not outcomes:  # a file the body could not read a claim of: nothing to tell per claim
        return []
    out = answer_pension(
        env,
        message_type=OUTCOMES_TYPE,
        payload=ClaimForwardingOutcomes(batch_id=receipt.batch_id, outcomes=tuple(outcomes)),
        code=PENSION_IMPLEMENTING_BODIES,
    )
    ctx.uow.audit.append([record_of(ctx, AuditAction.ROUTED, out, [])])
    return [out]
