"""Revealing one number of one message: two people, a reason, recorded before it is shown (fail closed).

The only numbers a dead letter can hold are sealed ones (bodies are redacted when stored). An admin asks to
reveal one of them by its position (``⟨sealed for jlis · #2⟩``) with a reason; a federation admin other than
the requester approves the request (:mod:`hub.core.operator.approvals`, four eyes, within the time limit, at
most ``reveals_per_day`` a day per person); then the requester reveals it, naming the request. The console

0. takes the approved request for exactly this dead letter and sealed number (it is used once);
1. opens that one sealed value in memory with the hub's private key (bound to the message id and field, so
   a value moved from elsewhere does not open). Only numbers sealed *for the hub* open here: one sealed for
   a counterpart's adapter needs that adapter's private key, which the console never holds (least
   privilege), and is refused with 409 saying so;
2. finds the person's audit token through the vault's blind index, to name them in the record;
3. appends a REVEALED access record (actor, reason, dead letter, field, person, the request and both
   people) to its chain and commits it durably (``append_durably``);
4. only then returns the digits, in this one response (``request.state.revealed_number`` lets the response
   guard pass exactly that number).

If step 3 fails, the answer is 503 and the number is dropped: it is never shown unrecorded.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import Request

from contracts.errors import AuditWriteFailed, ConfigurationError, SealError
from contracts.individual_number import IndividualNumber
from contracts.redaction import redact_text
from contracts.sealing import Unsealer
from hub.console.auth import Principal
from hub.console.context import state_of
from hub.console.i18n import LazyText
from hub.console.notices import detail
from hub.console.render import SealedRef, sealed_value
from hub.console.views.approvals import take
from hub.core.operator.approvals import approval_details
from hub.ports.approvals import ApprovalAction
from hub.ports.audit import AccessRecord, AuditAction, Outcome
from hub.ports.dead_letters import DeadLetter
from hub.ports.vault import AUDIT_SCOPE

__all__ = ["RevealFailed", "RevealUnavailable", "Revealed", "reveal_sealed"]


class RevealFailed(Exception):
    """Nothing to reveal there: 404 (no such sealed value) or 409 (it does not open); nothing shown."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class RevealUnavailable(Exception):
    """The access record could not be written: 503, nothing shown."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Revealed:
    """A revealed number, already recorded."""

    ref: SealedRef
    number: str
    recorded_at: datetime


def _unsealer(request: Request, ref: SealedRef) -> Unsealer:
    """What opens ``ref``: the hub's private key alone (a counterpart's number never opens here)."""
    try:
        return state_of(request).root.unsealer(ref.recipient)
    except (ConfigurationError, KeyError) as exc:
        raise RevealFailed(detail(exc)) from exc


def _open(unsealer: Unsealer, sealed: str, ref: SealedRef, message_id: str | None) -> IndividualNumber:
    try:
        message_uuid = uuid.UUID(message_id or "")
    except ValueError as exc:
        raise RevealFailed(LazyText("this sealed number cannot be opened here")) from exc
    for field in ref.fields:
        try:
            return unsealer.unseal(sealed, message_id=message_uuid, field=field)
        except SealError:
            continue
    raise RevealFailed(
        LazyText("this sealed number does not open (it was moved, altered or sealed elsewhere)")
    )


def _subject_token(request: Request, number: IndividualNumber) -> tuple[str, ...]:
    with state_of(request).root.uow_factory() as uow:
        subjects = uow.vault.subjects_by_number([number])
        subject = subjects.get(number)
        if subject is None:
            return ()
        token = uow.vault.tokens(AUDIT_SCOPE, [subject]).get(subject)
        uow.commit()  # a token made on first use is kept, like everywhere else
    return () if token is None else (token,)


def reveal_sealed(
    request: Request, principal: Principal, row: DeadLetter, index: int, approval_id: str
) -> Revealed:
    """Reveal the ``index``-th sealed number of dead letter ``row`` (role and scope already checked).

    Raises:
        RevealFailed: no such sealed number, or it does not open.
        ApprovalRequired, ApprovalRefused: no approved request of this user for exactly this number.
        RevealUnavailable: the REVEALED record was not written; nothing may be shown.
    """
    found = sealed_value(row.body, index)
    if found is None:
        raise RevealFailed(
            LazyText("dead letter %(id)s has no sealed number #%(index)s", id=row.id, index=index), status=404
        )
    ref, sealed, message_id = found
    unsealer = _unsealer(request, ref)  # before the request is used: a number that cannot open keeps it
    target = {"dead_letter_id": row.id, "sealed_index": index}
    approval = take(request, principal, approval_id, action=ApprovalAction.REVEAL_NUMBER, target=target)
    reason = approval.reason
    number = _open(unsealer, sealed, ref, message_id)
    subjects = _subject_token(request, number)
    now = datetime.now(UTC)
    record = AccessRecord(
        actor=principal.user.actor,
        action=AuditAction.REVEALED,
        message_id=row.message_id,
        correlation_id=row.correlation_id,
        message_type=row.message_type,
        source="dead_letters",
        destination="console",
        subjects=subjects,
        outcome=Outcome.OK,
        reason=redact_text(" ".join(reason.split()))[:1_000],
        at=now,
        details={
            "dead_letter_id": str(row.id),
            "field": ref.path[:200],
            "sealed_for": ref.recipient,
            "role": principal.user.role.value,
            "org": principal.user.org,
            **approval_details(approval),
            **({"on_behalf_of": row.actor} if row.actor else {}),
        },
    )
    try:
        state_of(request).record([record])
    except AuditWriteFailed as exc:
        raise RevealUnavailable(
            LazyText("the reveal could not be recorded; the number is not shown; try again later")
        ) from exc
    request.state.revealed_number = number.reveal()
    return Revealed(ref=ref, number=number.reveal(), recorded_at=now)
