"""Approval requests (four eyes) in memory, with the SQL store's conditional decisions and counts.

The target is kept as JSON would give it back (as :class:`~hub.infra.stores.approvals.SqlApprovalStore` stores
it), so a caller that put in a tuple reads a list here too.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import datetime

from contracts.errors import AlreadyExists
from hub.ports.approvals import Approval, ApprovalAction, ApprovalStatus

__all__ = ["InMemoryApprovalStore"]

_OPEN = (ApprovalStatus.PENDING, ApprovalStatus.APPROVED)


class InMemoryApprovalStore:
    """:class:`hub.ports.approvals.ApprovalStore` in memory."""

    def __init__(self) -> None:
        self._approvals: dict[str, Approval] = {}

    def add(self, approval: Approval) -> None:
        """Store a new request (as requested: any decision it carries is not kept).

        Raises:
            AlreadyExists: a request with this id exists (it is kept as it was).
        """
        if approval.approval_id in self._approvals:
            raise AlreadyExists("an approval request with this id exists; nothing was written")
        target = json.loads(json.dumps(dict(approval.target), sort_keys=True, ensure_ascii=False))
        self._approvals[approval.approval_id] = Approval(
            approval_id=approval.approval_id,
            action=approval.action,
            target=target,
            reason=approval.reason,
            requested_by=approval.requested_by,
            requested_org=approval.requested_org,
            requested_at=approval.requested_at,
            expires_at=approval.expires_at,
            status=approval.status,
        )

    def get(self, approval_id: str) -> Approval | None:
        """One request, if it exists."""
        return self._approvals.get(approval_id)

    def find(self, *, statuses: Sequence[ApprovalStatus] = (), limit: int = 100) -> list[Approval]:
        """Requests, newest first (``statuses`` empty: any)."""
        chosen = [a for a in self._approvals.values() if not statuses or a.status in statuses]
        chosen.sort(key=lambda a: a.approval_id)
        chosen.sort(key=lambda a: a.requested_at, reverse=True)
        return chosen[:limit]

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
        approval = self._approvals.get(approval_id)
        if approval is None or approval.status is not ApprovalStatus.PENDING:
            return False
        self._approvals[approval_id] = dataclasses.replace(
            approval,
            status=status,
            decided_by=by,
            decided_org=org,
            decided_at=at,
            decision_note=note,
            expires_at=expires_at,
        )
        return True

    def use(self, approval_id: str, *, at: datetime) -> bool:
        """Mark an approved request used; ``False`` when it was not approved any more."""
        approval = self._approvals.get(approval_id)
        if approval is None or approval.status is not ApprovalStatus.APPROVED:
            return False
        self._approvals[approval_id] = dataclasses.replace(approval, status=ApprovalStatus.USED, used_at=at)
        return True

    def count_used(self, action: ApprovalAction, requested_by: str, since: datetime) -> int:
        """How many requests of ``action`` by ``requested_by`` were used since ``since``."""
        return sum(
            1
            for a in self._approvals.values()
            if (a.action, a.requested_by, a.status) == (action, requested_by, ApprovalStatus.USED)
            and a.used_at is not None
            and a.used_at >= since
        )

    def count_open(self, action: ApprovalAction, requested_by: str, now: datetime) -> int:
        """How many requests of ``action`` by ``requested_by`` are pending or approved and not expired."""
        return sum(
            1
            for a in self._approvals.values()
            if (a.action, a.requested_by) == (action, requested_by)
            and a.status in _OPEN
            and a.expires_at >= now
        )
