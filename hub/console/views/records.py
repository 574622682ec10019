"""Turning stored access records into what the console shows (hashes cut, text redacted)."""

from __future__ import annotations

from hub.console.render import safe, short
from hub.console.schemas import AuditRecordOut
from hub.infra.audit.rows import StoredRecord

__all__ = ["record_out"]


def record_out(r: StoredRecord) -> AuditRecordOut:
    """One record for a page or the API: at most three subject tokens, hashes cut to ten characters."""
    return AuditRecordOut(
        at=r.at,
        actor=safe(r.actor),
        action=r.action,
        outcome=r.outcome,
        message_id=safe(r.message_id) or None,
        correlation_id=safe(r.correlation_id) or None,
        message_type=safe(r.message_type) or None,
        source=safe(r.source) or None,
        destination=safe(r.destination) or None,
        purpose=safe(r.purpose) or None,
        legal_basis=safe(r.legal_basis) or None,
        reason=safe(r.reason) or None,
        subjects=len(r.subjects),
        subject_sample=[safe(t) for t in r.subjects[:3]],
        details={safe(k): safe(v)[:500] for k, v in r.details.items()},
        chain=short(r.chain_id),
        seq=r.seq,
        hash=short(r.hash),
    )
