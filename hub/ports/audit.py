"""The access-record port: one tamper-evident entry per handled message and per operator action."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

__all__ = ["AccessRecord", "AuditAction", "AuditLog", "Outcome"]


class AuditAction(StrEnum):
    """What was done."""

    RECEIVED = "received"
    REJECTED = "rejected"
    ROUTED = "routed"
    ENRICHED = "enriched"
    TOKENISED = "tokenised"
    DETOKENISED = "detokenised"
    LINKED = "linked"
    RELINKED = "relinked"
    HELD = "held"
    RESOLVED = "resolved"
    DEAD_LETTERED = "dead_lettered"
    RETRIED = "retried"
    REPLAYED = "replayed"
    DISCARDED = "discarded"
    PURGED = "purged"
    REVEALED = "revealed"
    REFUSED = "refused"
    KEY_ROTATED = "key_rotated"


class Outcome(StrEnum):
    """How it ended."""

    OK = "ok"
    REFUSED = "refused"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """One access record (アクセス記録). Never holds a number: subjects appear as audit-scope tokens."""

    actor: str
    action: AuditAction
    message_id: str | None = None
    correlation_id: str | None = None
    message_type: str | None = None
    source: str | None = None
    destination: str | None = None
    purpose: str | None = None
    legal_basis: str | None = None
    subjects: tuple[str, ...] = ()
    outcome: Outcome = Outcome.OK
    reason: str | None = None
    at: datetime | None = None
    details: dict[str, str] = field(default_factory=dict)


class AuditLog(Protocol):
    """Appends access records inside the unit of work's transaction."""

    def append(self, records: Sequence[AccessRecord]) -> None:
        """Append ``records`` to this writer's hash chain; raises ``AuditWriteFailed`` on failure."""
        ...
