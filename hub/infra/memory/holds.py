"""The held links in memory: the same keep-once, paging and conditional resolution as the SQL store.

Holds are kept as the frozen :class:`~hub.ports.holds.Hold` values they arrive as (numbers still sealed
for the hub); resolving one replaces it with its resolved form, candidates' sealed numbers and 4情報
discarded, as :class:`~hub.infra.stores.holds.SqlHoldStore` does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from hub.ports.holds import HeldCandidate, Hold, HoldNotPending, HoldResolution, HoldStatus, UnknownHold

__all__ = ["InMemoryHoldStore"]


class InMemoryHoldStore:
    """:class:`~hub.ports.holds.HoldStore` in memory."""

    def __init__(self) -> None:
        self._holds: dict[str, Hold] = {}

    def add(self, holds: Sequence[Hold]) -> int:
        """Keep new holds (pending, whatever status they carry); ids already kept are left as they are."""
        wanted = {h.hold_id: h for h in holds}
        fresh = [h for h in wanted.values() if h.hold_id not in self._holds]
        for hold in fresh:
            self._holds[hold.hold_id] = dataclasses.replace(
                hold,
                status=HoldStatus.PENDING,
                resolved_at=None,
                resolved_by=None,
                resolution=None,
                linked_candidate=None,
                resolution_reason=None,
            )
        return len(fresh)

    def get(self, hold_id: str) -> Hold | None:
        """One hold, pending or resolved."""
        return self._holds.get(hold_id)

    def pending(self, *, limit: int = 100, after: str | None = None) -> list[Hold]:
        """Pending holds, oldest first; ``after`` continues after that hold in the same order."""
        waiting = sorted(
            (h for h in self._holds.values() if h.status is HoldStatus.PENDING),
            key=lambda h: (h.created_at, h.hold_id),
        )
        anchor = self._holds.get(after) if after is not None else None
        if anchor is not None:
            waiting = [h for h in waiting if (h.created_at, h.hold_id) > (anchor.created_at, anchor.hold_id)]
        return waiting[:limit]

    def count_pending(self) -> int:
        """How many holds wait for an operator."""
        return sum(1 for h in self._holds.values() if h.status is HoldStatus.PENDING)

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
        hold = self._holds.get(hold_id)
        if hold is None:
            raise UnknownHold("no hold has this id")
        if hold.status is not HoldStatus.PENDING:
            raise HoldNotPending("the hold was resolved already")
        self._holds[hold_id] = dataclasses.replace(
            hold,
            status=HoldStatus.RESOLVED,
            resolved_at=at,
            resolved_by=operator,
            resolution=resolution,
            linked_candidate=linked_candidate,
            resolution_reason=reason,
            candidates=tuple(HeldCandidate(c.candidate_no, None) for c in hold.candidates),
        )
