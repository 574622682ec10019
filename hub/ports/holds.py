"""Links held for an operator: a number the hub may not link without a person deciding.

Since the 2023 紐付け誤り a link between a person and an Individual Number is never made by guesswork
(domain.md §1.4): when J-LIS finds several people for a number acquisition query, or nobody, or when a
number J-LIS gives (a new one after a change, or one just acquired) already belongs to another subject in
the vault, the hub *holds* the link. An operator lists the holds (``renkei vault pending``) and resolves
each with a recorded reason (``renkei vault resolve``): link one candidate, or reject.

A hold keeps what the operator needs to decide and nothing more: the usage number and 4情報 the pension
system asked with, J-LIS's 4情報 of each candidate, and each candidate's number **sealed for the hub**
(bound to the hold and the candidate) so that no number rests in the clear. Once resolved, the candidates'
sealed numbers and 4情報 are discarded: they are other people's data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from contracts.errors import PermanentError
from contracts.messages.jlis_acquisition import HoldReason
from contracts.usage_number import UsageNumber
from hub.ports.vault import SubjectId

__all__ = [
    "HeldCandidate",
    "Hold",
    "HoldFlow",
    "HoldNotPending",
    "HoldResolution",
    "HoldStatus",
    "HoldStore",
    "QueriedInfo",
    "UnknownHold",
]


class HoldFlow(StrEnum):
    """The exchange that held the link."""

    NUMBER_ACQUISITION = "number_acquisition"
    SURVIVAL_CHANGE = "survival_change"


class HoldStatus(StrEnum):
    """Where a hold stands."""

    PENDING = "pending"
    RESOLVED = "resolved"


class HoldResolution(StrEnum):
    """What the operator decided."""

    LINKED = "linked"
    """One candidate's number was linked to the subject."""
    REJECTED = "rejected"
    """No candidate was linked."""


@dataclass(frozen=True, slots=True)
class QueriedInfo:
    """4情報 as asked or as J-LIS holds them (personal data, but no number)."""

    name: str | None = None
    name_kana: str | None = None
    birth_date: date | None = None
    sex: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class HeldCandidate:
    """One candidate: its number sealed for the hub, and J-LIS's 4情報 of it.

    ``sealed_number`` is bound to the hold (:func:`hub.core.operator.holds.hold_seal_id`) and to the field
    ``candidates.<candidate_no>.individual_number``; it is ``None`` once the hold is resolved.
    """

    candidate_no: int
    sealed_number: str | None
    matched: QueriedInfo = field(default_factory=QueriedInfo)


@dataclass(frozen=True, slots=True)
class Hold:
    """A held link and, once resolved, its resolution.

    Attributes:
        hold_id: ``hold-`` and twelve letters; derived from the message and record that held it.
        flow: the exchange that held it.
        reason: why (several candidates, none, a conflict in the vault).
        subject: the subject the number would be linked to.
        usage_number: the subject's usage number, as the pension system knows it.
        batch_id, chunk_index, chunk_count, total_records, record_seq: where the record came from, so that
            the answer to the pension system after the resolution lands in the right place.
        correlation_id: the business exchange.
        source_message_id: the message whose handling held the link.
        queried: the 4情報 the pension system asked with (number acquisition only).
        candidates: the candidates (several, one for a conflict, none when nobody was found).
        no_match_reason: why J-LIS found nobody.
        created_at: when it was held.
    """

    hold_id: str
    flow: HoldFlow
    reason: HoldReason
    subject: SubjectId
    usage_number: UsageNumber
    batch_id: str
    chunk_index: int
    chunk_count: int
    total_records: int
    record_seq: int
    correlation_id: str
    source_message_id: str
    created_at: datetime
    queried: QueriedInfo | None = None
    candidates: tuple[HeldCandidate, ...] = ()
    no_match_reason: str | None = None
    status: HoldStatus = HoldStatus.PENDING
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution: HoldResolution | None = None
    linked_candidate: int | None = None
    resolution_reason: str | None = None


class UnknownHold(PermanentError):
    """No hold has this id."""

    code = "unknown_hold"


class HoldNotPending(PermanentError):
    """The hold was already resolved (perhaps by another operator at the same time)."""

    code = "hold_not_pending"


class HoldStore(Protocol):
    """The held links, bound to the unit of work's transaction."""

    def add(self, holds: Sequence[Hold]) -> int:
        """Keep new holds; a hold id already kept is left as it is. Returns how many were new."""
        ...

    def get(self, hold_id: str) -> Hold | None:
        """One hold, pending or resolved."""
        ...

    def pending(self, *, limit: int = 100, after: str | None = None) -> list[Hold]:
        """Pending holds, oldest first (``after``: continue after that hold id in the same order)."""
        ...

    def count_pending(self) -> int:
        """How many holds wait for an operator."""
        ...

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
        """Mark a pending hold resolved and discard its candidates' numbers and 4情報.

        Raises:
            UnknownHold: no hold has this id.
            HoldNotPending: it was resolved already (a conditional update: two operators cannot both win).
        """
        ...
