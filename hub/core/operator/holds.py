"""Holding links for an operator, and resolving them (``renkei vault pending`` / ``resolve``).

The handlers hold what they may not link (several candidates, none, a number that belongs to another
subject); an operator resolves each hold with a recorded reason. Numbers at rest in a hold are sealed for
the hub, bound to the hold (:func:`hold_seal_id`) and to the candidate (:func:`candidate_field`), so a
copied value opens nowhere else.

Resolving writes the ``resolved`` access record first, then changes the vault, the hold and the outbox,
all in one transaction: either everything happened and is recorded, or nothing happened. A resolution the
vault refuses (the candidate's number belongs to someone else) is recorded apart as refused.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Final

from contracts.envelope import Envelope, Purpose
from contracts.errors import PermanentError
from contracts.ids import stable_id
from contracts.individual_number import IndividualNumber
from contracts.messages.common import ChunkInfo
from contracts.messages.jlis_acquisition import (
    AcquisitionOutcomeRecord,
    AcquisitionStatus,
    NumberAcquisitionOutcomes,
)
from contracts.purpose_table import default_table
from contracts.purposes import PENSION_NUMBER_ACQUISITION
from contracts.sealing import Sealer, Unsealer
from contracts.usage_number import UsageNumber
from hub.core.flows.context import CauseIds, reply
from hub.core.operator.approvals import approval_details
from hub.ports.approvals import Approval
from hub.ports.audit import AccessRecord, AuditAction, Outcome
from hub.ports.holds import Hold, HoldFlow, HoldNotPending, HoldResolution, HoldStatus, UnknownHold
from hub.ports.store import UnitOfWork
from hub.ports.vault import AUDIT_SCOPE, Ground, NumberConflict, Retention, SubjectId, Vault

__all__ = [
    "ENTITLEMENT_RETENTION",
    "HOLD_PURPOSE",
    "ResolutionRefused",
    "candidate_field",
    "hold_id_for",
    "hold_seal_id",
    "jlis_grounds",
    "link_what_can_be_linked",
    "record_refused_resolution",
    "resolve_hold",
    "seal_for_hold",
]

JLIS_HELD: Final = "jlis"
"""The purpose table's held-under basis of numbers obtained from J-LIS."""
ENTITLEMENT_RETENTION: Final = Retention(basis=default_table().held_under[JLIS_HELD].retention)
"""Numbers of pensioners (and new entitlements): kept while the pension business needs them (no end date);
the purpose table's ``jlis`` row names the basis."""
HOLD_PURPOSE: Final = Purpose(
    code=PENSION_NUMBER_ACQUISITION,
    legal_basis=tuple(default_table().bases[b].legal_basis for b in ("mynumber.14-2", "juki.b1-19")),
)
"""The purpose an operator's resolution serves (linking a number for the pension business)."""
_NAMESPACE: Final = uuid.UUID("6a3f1b2c-8d4e-4f5a-9b6c-686f6c647321")
_LETTERS: Final = "abcdefghijklmnopqrstuvwxyz"
_MAX_LINK_ATTEMPTS: Final = 3


class ResolutionRefused(PermanentError):
    """The resolution asked for is not possible (no such candidate, nothing to link)."""

    code = "resolution_refused"


def hold_id_for(source_message_id: uuid.UUID, record_seq: int, label: str = "") -> str:
    """The id of the hold of one record of one message: ``hold-`` and 12 letters, deterministic."""
    digest = hashlib.sha256(f"{source_message_id}|{record_seq}|{label}".encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    letters = []
    for _ in range(12):
        number, digit = divmod(number, 26)
        letters.append(_LETTERS[digit])
    return "hold-" + "".join(letters)


def hold_seal_id(hold_id: str) -> uuid.UUID:
    """The id the numbers of a hold are sealed under (the "message" they are bound to)."""
    return stable_id(_NAMESPACE, hold_id)


def candidate_field(candidate_no: int) -> str:
    """The field a candidate's number is sealed under, within its hold."""
    return f"candidates.{candidate_no}.individual_number"


def seal_for_hold(sealer: Sealer, number: IndividualNumber, hold_id: str, candidate_no: int) -> str:
    """Seal a candidate's number for the hub, to rest in the hold."""
    return sealer.seal(
        number, recipient="hub", message_id=hold_seal_id(hold_id), field=candidate_field(candidate_no)
    )


def link_what_can_be_linked(
    vault: Vault,
    links: Sequence[tuple[SubjectId, IndividualNumber]],
    *,
    retention: Retention,
    source: str,
) -> set[SubjectId]:
    """Link every link the vault accepts; returns the subjects whose links conflict (left unwritten).

    The vault refuses a batch with a conflict before writing any of it and names the conflicting
    subjects, so the rest is linked in a second call; never is a conflicting link forced.
    """
    pending = list(links)
    conflicted: set[SubjectId] = set()
    for _ in range(_MAX_LINK_ATTEMPTS):
        if not pending:
            return conflicted
        try:
            vault.link_numbers(pending, retention=retention, source=source)
        except NumberConflict as exc:
            if not exc.subjects:
                raise
            conflicted.update(exc.subjects)
            pending = [link for link in pending if link[0] not in conflicted]
            continue
        return conflicted
    raise NumberConflict("links kept conflicting; nothing more was linked", subjects=sorted(conflicted))


def jlis_grounds(vault: Vault, links: Sequence[tuple[SubjectId, UsageNumber]], *, source: str) -> None:
    """Record that these subjects' numbers were obtained from J-LIS, in the role their usage numbers name.

    A 年金証書記号番号 or 基礎年金番号 names a 年金受給権者; a dependant key asked about at J-LIS names a
    加給年金額対象配偶者 (J-LIS is asked about nobody else: seed Ⅲ(1) リスク1). See the purpose table.
    """
    table = default_table()
    vault.add_grounds(
        [(subject, Ground(table.role_of_kind(usage.kind), JLIS_HELD)) for subject, usage in links],
        source=source,
    )


def _record(hold: Hold, token: str, action: AuditAction, operator: str, **details: str) -> AccessRecord:
    return AccessRecord(
        actor=f"operator:{operator}",
        action=action,
        message_id=hold.source_message_id,
        correlation_id=hold.correlation_id,
        message_type=f"hub.hold.{hold.flow.value}",
        source="operator",
        destination="hub",
        purpose=HOLD_PURPOSE.code,
        legal_basis="; ".join(f"{b.law} {b.article}" for b in HOLD_PURPOSE.legal_basis),
        subjects=(token,),
        details={"hold_id": hold.hold_id, "hold_reason": hold.reason.value, **details},
    )


def _pending_hold(uow: UnitOfWork, hold_id: str) -> Hold:
    hold = uow.holds.get(hold_id)
    if hold is None:
        raise UnknownHold(f"no hold {hold_id}")
    if hold.status is not HoldStatus.PENDING:
        raise HoldNotPending(f"{hold_id} was resolved already")
    return hold


def resolve_hold(
    uow: UnitOfWork,
    unsealer: Unsealer,
    *,
    hold_id: str,
    link_candidate: int | None,
    operator: str,
    reason: str,
    now: datetime | None = None,
    approval: Approval | None = None,
) -> list[Envelope]:
    """Resolve a pending hold: link one candidate (``link_candidate``) or reject every one (``None``).

    ``approval`` is the approved request this resolution carries out (four eyes, consumed by the caller): the
    records name both people.

    Writes the ``resolved`` access record before anything changes, then links (and records it), marks the
    hold resolved (discarding the candidates' numbers) and returns the answer for the pension system (a
    number acquisition outcome, or nothing for a survival/change conflict). The caller adds the answer to
    the outbox and commits.

    Raises:
        UnknownHold: no hold has this id.
        HoldNotPending: it was resolved already.
        ResolutionRefused: there is no such candidate, or the reason is empty.
        NumberConflict: the candidate's number belongs to another subject (nothing was changed).
    """
    if not reason.strip():
        raise ResolutionRefused("a resolution needs a reason")
    hold = _pending_hold(uow, hold_id)
    chosen = None
    if link_candidate is not None:
        chosen = next((c for c in hold.candidates if c.candidate_no == link_candidate), None)
        if chosen is None or chosen.sealed_number is None:
            raise ResolutionRefused(f"{hold_id} has no candidate {link_candidate}")
    token = uow.vault.tokens(AUDIT_SCOPE, [hold.subject]).get(hold.subject, "erased")
    resolution = HoldResolution.LINKED if chosen is not None else HoldResolution.REJECTED
    at = now or datetime.now(UTC)
    uow.audit.append(
        [
            _record(
                hold,
                token,
                AuditAction.RESOLVED,
                operator,
                resolution=resolution.value,
                candidate=str(link_candidate or ""),
                operator_reason=reason,
                **approval_details(approval),
            )
        ]
    )
    if chosen is not None:
        assert chosen.sealed_number is not None
        number = unsealer.unseal(
            chosen.sealed_number, message_id=hold_seal_id(hold_id), field=candidate_field(chosen.candidate_no)
        )
        uow.vault.link_numbers(
            [(hold.subject, number)], retention=ENTITLEMENT_RETENTION, source=f"op:{hold_id}"
        )
        jlis_grounds(uow.vault, [(hold.subject, hold.usage_number)], source=f"op:{hold_id}")
        uow.audit.append(
            [
                _record(
                    hold,
                    token,
                    AuditAction.LINKED,
                    operator,
                    candidate=str(link_candidate),
                    **approval_details(approval),
                )
            ]
        )
    uow.holds.resolve(
        hold_id,
        resolution=resolution,
        linked_candidate=link_candidate,
        operator=operator,
        reason=reason,
        at=at,
    )
    if hold.flow is not HoldFlow.NUMBER_ACQUISITION:
        return []
    # The answer runs on behalf of the flow the hold came from (the actor the hub recorded for it).
    flow = uow.actors.of_correlations([hold.correlation_id]).get(hold.correlation_id, frozenset())
    return [_outcome(hold, resolution, reason, next(iter(flow)) if len(flow) == 1 else None)]


def _outcome(hold: Hold, resolution: HoldResolution, reason: str, actor: str | None) -> Envelope:
    outcomes = NumberAcquisitionOutcomes(
        chunk=ChunkInfo(
            batch_id=hold.batch_id,
            chunk_index=hold.chunk_index,
            chunk_count=hold.chunk_count,
            total_records=hold.total_records,
        ),
        answered_by="operator",
        records=(
            AcquisitionOutcomeRecord(
                record_seq=hold.record_seq,
                usage_number=hold.usage_number,
                status=AcquisitionStatus.LINKED
                if resolution is HoldResolution.LINKED
                else AcquisitionStatus.REFUSED,
                hold_id=hold.hold_id,
                hold_reason=hold.reason,
                note=f"operator: {reason}"[:200],
            ),
        ),
    )
    cause = CauseIds(uuid.UUID(hold.source_message_id), uuid.UUID(hold.correlation_id), actor)
    return reply(
        cause,
        message_type="pension.number_acquisition.outcome",
        payload=outcomes,
        label=f"resolved/{hold.hold_id}",
        purpose=HOLD_PURPOSE,
    )


def record_refused_resolution(
    uow: UnitOfWork, *, hold_id: str, link_candidate: int | None, operator: str, reason: str, problem: str
) -> None:
    """Record a resolution that was refused (in its own transaction, after the attempt rolled back)."""
    hold = uow.holds.get(hold_id)
    if hold is None:
        return
    token = uow.vault.tokens(AUDIT_SCOPE, [hold.subject]).get(hold.subject, "erased")
    record = _record(
        hold,
        token,
        AuditAction.RESOLVED,
        operator,
        candidate=str(link_candidate or ""),
        operator_reason=reason,
        problem=problem,
    )
    uow.audit.append([replace(record, outcome=Outcome.REFUSED, reason=problem)])
