"""The held links on SQLAlchemy Core (:class:`~hub.ports.holds.HoldStore`), inside the unit of work.

Candidates travel in and out of the ``candidates`` JSON column with their numbers still sealed for the
hub: this store never sees a plain number. ``resolve`` is a conditional update (``WHERE status =
'pending'``): of two operators resolving one hold at once, one wins and the other is told so.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, update

from contracts.messages.jlis_acquisition import HoldReason
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.infra.db.tables.holds import number_holds
from hub.infra.vault.store import aware, chunked
from hub.ports.holds import (
    HeldCandidate,
    Hold,
    HoldFlow,
    HoldNotPending,
    HoldResolution,
    HoldStatus,
    QueriedInfo,
    UnknownHold,
)
from hub.ports.vault import SubjectId

__all__ = ["SqlHoldStore"]

_CHUNK = 500


def _info_json(info: QueriedInfo | None) -> dict[str, Any] | None:
    if info is None:
        return None
    return {
        "name": info.name,
        "name_kana": info.name_kana,
        "birth_date": info.birth_date.isoformat() if info.birth_date else None,
        "sex": info.sex,
        "address": info.address,
    }


def _info(data: dict[str, Any] | None) -> QueriedInfo | None:
    if data is None:
        return None
    born = data.get("birth_date")
    return QueriedInfo(
        name=data.get("name"),
        name_kana=data.get("name_kana"),
        birth_date=date.fromisoformat(born) if born else None,
        sex=data.get("sex"),
        address=data.get("address"),
    )


def _candidates_json(candidates: Sequence[HeldCandidate]) -> str:
    return json.dumps(
        [
            {"no": c.candidate_no, "sealed": c.sealed_number, "matched": _info_json(c.matched)}
            for c in candidates
        ],
        ensure_ascii=False,
    )


def _hold(row: Any) -> Hold:
    candidates = tuple(
        HeldCandidate(c["no"], c["sealed"], _info(c["matched"]) or QueriedInfo())
        for c in json.loads(row.candidates)
    )
    return Hold(
        hold_id=row.hold_id,
        flow=HoldFlow(row.flow),
        reason=HoldReason(row.reason),
        subject=SubjectId(row.subject_id),
        usage_number=UsageNumber(kind=UsageNumberKind(row.usage_kind), value=row.usage_value),
        batch_id=row.batch_id,
        chunk_index=row.chunk_index,
        chunk_count=row.chunk_count,
        total_records=row.total_records,
        record_seq=row.record_seq,
        correlation_id=row.correlation_id,
        source_message_id=row.source_message_id,
        created_at=aware(row.created_at),
        queried=_info(json.loads(row.queried)) if row.queried else None,
        candidates=candidates,
        no_match_reason=row.no_match_reason,
        status=HoldStatus(row.status),
        resolved_at=aware(row.resolved_at) if row.resolved_at else None,
        resolved_by=row.resolved_by,
        resolution=HoldResolution(row.resolution) if row.resolution else None,
        linked_candidate=row.linked_candidate,
        resolution_reason=row.resolution_reason,
    )


class SqlHoldStore:
    """:class:`~hub.ports.holds.HoldStore` on one connection (the unit of work's)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, holds: Sequence[Hold]) -> int:
        """Keep new holds; ids already kept (a redelivered result) are left as they are."""
        wanted = {h.hold_id: h for h in holds}
        known: set[str] = set()
        for ids in chunked(list(wanted), _CHUNK):
            rows = self._conn.execute(select(number_holds.c.hold_id).where(number_holds.c.hold_id.in_(ids)))
            known.update(rows.scalars())
        fresh = [h for h in wanted.values() if h.hold_id not in known]
        for part in chunked(fresh, _CHUNK):
            self._conn.execute(
                number_holds.insert(),
                [
                    {
                        "hold_id": h.hold_id,
                        "status": HoldStatus.PENDING.value,
                        "flow": h.flow.value,
                        "reason": h.reason.value,
                        "subject_id": h.subject,
                        "usage_kind": h.usage_number.kind.value,
                        "usage_value": h.usage_number.value,
                        "batch_id": h.batch_id,
                        "chunk_index": h.chunk_index,
                        "chunk_count": h.chunk_count,
                        "total_records": h.total_records,
                        "record_seq": h.record_seq,
                        "correlation_id": h.correlation_id,
                        "source_message_id": h.source_message_id,
                        "queried": json.dumps(_info_json(h.queried), ensure_ascii=False)
                        if h.queried
                        else None,
                        "candidates": _candidates_json(h.candidates),
                        "candidate_count": len(h.candidates),
                        "no_match_reason": h.no_match_reason,
                        "created_at": h.created_at,
                    }
                    for h in part
                ],
            )
        return len(fresh)

    def get(self, hold_id: str) -> Hold | None:
        """One hold, pending or resolved."""
        row = self._conn.execute(select(number_holds).where(number_holds.c.hold_id == hold_id)).first()
        return _hold(row) if row is not None else None

    def pending(self, *, limit: int = 100, after: str | None = None) -> list[Hold]:
        """Pending holds, oldest first; ``after`` continues after that hold in the same order."""
        query = select(number_holds).where(number_holds.c.status == HoldStatus.PENDING.value)
        if after is not None:
            anchor = self.get(after)
            if anchor is not None:
                query = query.where(
                    or_(
                        number_holds.c.created_at > anchor.created_at,
                        and_(
                            number_holds.c.created_at == anchor.created_at,
                            number_holds.c.hold_id > anchor.hold_id,
                        ),
                    )
                )
        query = query.order_by(number_holds.c.created_at, number_holds.c.hold_id).limit(limit)
        return [_hold(row) for row in self._conn.execute(query)]

    def count_pending(self) -> int:
        """How many holds wait for an operator."""
        query = select(func.count()).where(number_holds.c.status == HoldStatus.PENDING.value)
        return int(self._conn.execute(query).scalar_one())

    def resolve(
        self,
        hold_id: str,
        *,
        resolution: HoldResolution,
        linked_candidate: int | None,
        operator: str,
        reason: str,
        at: datetime,
    ) -> None:
        """Mark a pending hold resolved; the candidates' sealed numbers and 4情報 are discarded."""
        hold = self.get(hold_id)
        if hold is None:
            raise UnknownHold("no hold has this id")
        discarded = [HeldCandidate(c.candidate_no, None) for c in hold.candidates]
        result = self._conn.execute(
            update(number_holds)
            .where(number_holds.c.hold_id == hold_id, number_holds.c.status == HoldStatus.PENDING.value)
            .values(
                status=HoldStatus.RESOLVED.value,
                resolved_at=at,
                resolved_by=operator,
                resolution=resolution.value,
                linked_candidate=linked_candidate,
                resolution_reason=reason,
                candidates=_candidates_json(discarded),
            )
        )
        if result.rowcount != 1:
            raise HoldNotPending("the hold was resolved already")
