"""The approvals port: requests for privileged actions and their second person's decision (four eyes)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

__all__ = ["Approval", "ApprovalAction", "ApprovalStatus", "ApprovalStore"]


class ApprovalAction(StrEnum):
    """What needs a second person."""

    REVEAL_NUMBER = "reveal_number"
    """Reveal one sealed number of one dead letter (console)."""
    RESOLVE_HOLD = "resolve_hold"
    """Resolve a held link: link one candidate, or reject them all (``renkei vault resolve``)."""
    REPLAY_DEAD_LETTERS = "replay_dead_letters"
    """Replay dead letters whose bodies carry numbers."""
    DISCARD_DEAD_LETTERS = "discard_dead_letters"
    """Discard dead letters whose bodies carry numbers."""


class ApprovalStatus(StrEnum):
    """Where a request stands (an expired one keeps its status; :meth:`Approval.expired` tells)."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    USED = "used"


@dataclass(frozen=True, slots=True)
class Approval:
    """One request and its decision.

    Attributes:
        approval_id: ``apr-`` and 12 letters.
        action: what is to be done.
        target: exactly what (dead letter id and sealed index, hold id and candidate, dead letter ids).
        reason: the requester's reason.
        requested_by: who asks (``<name>@console`` or the CLI's operator).
        requested_org: ``federation`` or the requester's 構成組合.
        expires_at: until when it may be approved (pending) or used (approved).
    """

    approval_id: str
    action: ApprovalAction
    target: Mapping[str, Any]
    reason: str
    requested_by: str
    requested_org: str
    requested_at: datetime
    expires_at: datetime
    status: ApprovalStatus
    decided_by: str | None = None
    decided_org: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None
    used_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        """Whether a pending or approved request ran out of time."""
        return self.status in (ApprovalStatus.PENDING, ApprovalStatus.APPROVED) and now > self.expires_at


class ApprovalStore(Protocol):
    """Approval requests, bound to the unit of work."""

    def add(self, approval: Approval) -> None:
        """Store a new request.

        Raises:
            AlreadyExists: a request with this id is stored already; nothing was written.
        """
        ...

    def get(self, approval_id: str) -> Approval | None:
        """One request, if it exists."""
        ...

    def find(self, *, statuses: Sequence[ApprovalStatus] = (), limit: int = 100) -> list[Approval]:
        """Requests, newest first (``statuses`` empty: any)."""
        ...

    def decide(
        self,
        approval_id: str,
        *,
        status: ApprovalStatus,
        by: str,
        org: str,
        at: datetime,
        note: str | None,
        expires_at: datetime,
    ) -> bool:
        """Approve or reject a pending request; ``False`` when it was not pending any more."""
        ...

    def use(self, approval_id: str, *, at: datetime) -> bool:
        """Mark an approved request used; ``False`` when it was not approved any more."""
        ...

    def count_used(self, action: ApprovalAction, requested_by: str, since: datetime) -> int:
        """How many requests of ``action`` by ``requested_by`` were used since ``since``."""
        ...

    def count_open(self, action: ApprovalAction, requested_by: str, now: datetime) -> int:
        """How many requests of ``action`` by ``requested_by`` are pending or approved and not expired."""
        ...
