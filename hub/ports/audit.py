"""The access-record port: one tamper-evident entry per handled message and per operator action."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

__all__ = [
    "AccessRecord",
    "AuditAction",
    "AuditLog",
    "Outcome",
    "ProvisionLog",
    "ProvisionRecord",
    "ProvisionRole",
]


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
    REQUESTED = "requested"
    """A person asked for a privileged action (four eyes: a second person must approve it)."""
    APPROVED = "approved"
    """A second person approved (or, outcome REFUSED, rejected) a request."""


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


class ProvisionRole(StrEnum):
    """Which side of an exchange through the information-provision network the federation was on."""

    REQUESTER = "requester"
    """情報照会者: the federation asked."""
    PROVIDER = "provider"
    """情報提供者: the federation provided (from its 副本)."""


@dataclass(frozen=True, slots=True)
class ProvisionRecord:
    """情報提供等の記録 (番号法 第23条): what both sides of an exchange must record and keep.

    Written once, when the exchange completes (or fails): ``provided_at`` is ``None`` when nothing was
    provided. ``subject`` is the audit-scope token of the person, never a number or a 符号.
    ``retention_until`` defaults to seven years after the exchange (番号法施行令 第29条 as commonly cited;
    confirm against the official text).
    """

    record_id: str
    role: ProvisionRole
    requester: str
    provider: str
    requested_at: datetime
    items: tuple[str, ...]
    jimu: str
    legal_basis_current: str
    provided_at: datetime | None = None
    legal_basis_legacy: str | None = None
    non_disclosure: bool = False
    subject: str | None = None
    retention_until: date | None = None


class ProvisionLog(Protocol):
    """Keeps 情報提供等の記録, each linked to (and protected by) an access record."""

    def record(self, provisions: Sequence[tuple[ProvisionRecord, AccessRecord]]) -> None:
        """Store each provision record with the access record that describes the exchange."""
        ...
