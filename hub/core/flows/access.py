"""The access record (アクセス記録) of a message the hub handles: built the same way by every handler.

Who (the hub's actor), what (the action), which message (ids, type, source, destination), why (purpose and
legal basis, as text) and whom (subjects as audit-scope tokens, never numbers). The handlers differ only in
what they add: :func:`access_record` takes an outcome, a reason and details; :func:`record_of` is the short
form for the common case, every keyword a detail.
"""

from __future__ import annotations

from collections.abc import Iterable

from contracts.envelope import Envelope, Purpose
from hub.core.flows.context import HandlerContext
from hub.ports.audit import AccessRecord, AuditAction, Outcome

__all__ = ["access_record", "legal_basis_text", "record_of"]


def legal_basis_text(purpose: Purpose) -> str:
    """The purpose's legal bases as one line: ``番号法 第9条第1項 別表 59の項; ...``."""
    return "; ".join(f"{b.law} {b.article}{' ' + b.item if b.item else ''}" for b in purpose.legal_basis)


def access_record(
    ctx: HandlerContext,
    action: AuditAction,
    env: Envelope,
    subjects: Iterable[str] = (),
    *,
    outcome: Outcome = Outcome.OK,
    reason: str | None = None,
    details: dict[str, str] | None = None,
    **more: str,
) -> AccessRecord:
    """The access record of ``env`` (subjects as audit-scope tokens; each counted once).

    The details name the actor on whose behalf the message runs (``on_behalf_of``), when it has one.
    """
    extra = {"on_behalf_of": env.actor} if env.actor else {}
    return AccessRecord(
        actor=ctx.actor,
        action=action,
        message_id=str(env.message_id),
        correlation_id=str(env.correlation_id),
        message_type=env.message_type,
        source=env.source,
        destination=env.destination,
        purpose=env.purpose.code,
        legal_basis=legal_basis_text(env.purpose),
        subjects=tuple(dict.fromkeys(subjects)),
        outcome=outcome,
        reason=reason,
        details={**extra, **(details or {}), **more},
    )


def record_of(
    ctx: HandlerContext, action: AuditAction, env: Envelope, subjects: Iterable[str], **details: str
) -> AccessRecord:
    """:func:`access_record` with an OK outcome and every keyword a detail (``reason=`` included)."""
    return access_record(ctx, action, env, subjects, details=details)
