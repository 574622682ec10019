"""The approvals store on SQLAlchemy Core, bound to the unit of work's connection."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from contracts.errors import AlreadyExists, StoreUnavailable
from hub.infra.db.tables.approvals import approvals as t
from hub.ports.approvals import Approval, ApprovalAction, ApprovalStatus

__all__ = ["SqlApprovalStore"]


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _row(row: Any) -> Approval:
    requested_at = _utc(row.requested_at)
    expires_at = _utc(row.expires_at)
    assert requested_at is not None
    assert expires_at is not None
    return Approval(
        approval_id=row.id,
        action=ApprovalAction(row.action),
        target=json.loads(row.target),
        reason=row.reason,
        requested_by=row.requested_by,
        requested_org=row.requested_org,
        requested_at=requested_at,
        expires_at=expires_at,
        status=ApprovalStatus(row.status),
        decided_by=row.decided_by,
        decided_org=row.decided_org,
        decided_at=_utc(row.decided_at),
        decision_note=row.decision_note,
        used_at=_utc(row.used_at),
    )


class SqlApprovalStore:
    """:class:`hub.ports.approvals.ApprovalStore` on one connection; never commits by itself."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, approval: Approval) -> None:
        """Store a new request.

        Raises:
            AlreadyExists: a request with this id is stored (checked first, so the transaction stays usable).
            StoreUnavailable: a concurrent transaction inserted the same id first (retried, then refused).
        """
        if self._conn.execute(select(t.c.id).where(t.c.id == approval.approval_id)).first() is not None:
            raise AlreadyExists("an approval request with this id exists; nothing was written")
        try:
            self._insert(approval)
        except IntegrityError as exc:
            raise StoreUnavailable(
                "a concurrent transaction stored an approval request with this id; retry"
            ) from exc

    def _insert(self, approval: Approval) -> None:
        self._conn.execute(
            insert(t).values(
                id=approval.approval_id,
                action=approval.action.value,
                target=json.dumps(dict(approval.target), sort_keys=True, ensure_ascii=False),
                reason=approval.reason,
                requested_by=approval.requested_by,
                requested_org=approval.requested_org,
                requested_at=approval.requested_at,
                expires_at=approval.expires_at,
                status=approval.status.value,
            )
        )

    def get(self, approval_id: str) -> Approval | None:
        """One request, if it exists."""
        row = self._conn.execute(select(t).where(t.c.id == approval_id)).first()
        return None if row is None else _row(row)

    def find(self, *, statuses: Sequence[ApprovalStatus] = (), limit: int = 100) -> list[Approval]:
        """Requests, newest first."""
        query = select(t).order_by(t.c.requested_at.desc(), t.c.id).limit(limit)
        if statuses:
            query = query.where(t.c.status.in_([s.value for s in statuses]))
        return [_row(r) for r in self._conn.execute(query)]

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
        """Approve or reject a pending request (conditional update)."""
        result = self._conn.execute(
            update(t)
            .where(t.c.id == approval_id, t.c.status == ApprovalStatus.PENDING.value)
            .values(
                status=status.value,
                decided_by=by,
                decided_org=org,
                decided_at=at,
                decision_note=note,
                expires_at=expires_at,
            )
        )
        return result.rowcount == 1

    def use(self, approval_id: str, *, at: datetime) -> bool:
        """Mark an approved request used (conditional update)."""
        result = self._conn.execute(
            update(t)
            .where(t.c.id == approval_id, t.c.status == ApprovalStatus.APPROVED.value)
            .values(status=ApprovalStatus.USED.value, used_at=at)
        )
        return result.rowcount == 1

    def count_used(self, action: ApprovalAction, requested_by: str, since: datetime) -> int:
        """Requests of ``action`` by ``requested_by`` used since ``since``."""
        query = select(func.count()).where(
            t.c.action == action.value,
            t.c.requested_by == requested_by,
            t.c.status == ApprovalStatus.USED.value,
            t.c.used_at >= since,
        )
        return int(self._conn.execute(query).scalar_one())

    def count_open(self, action: ApprovalAction, requested_by: str, now: datetime) -> int:
        """Requests of ``action`` by ``requested_by`` still pending or approved and not expired."""
        query = select(func.count()).where(
            t.c.action == action.value,
            t.c.requested_by == requested_by,
            t.c.status.in_([ApprovalStatus.PENDING.value, ApprovalStatus.APPROVED.value]),
            t.c.expires_at >= now,
        )
        return int(self._conn.execute(query).scalar_one())
