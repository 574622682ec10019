"""Four eyes (二者承認): requests for privileged actions and the second person's decision.

Revealing a number, resolving a held link, and replaying or discarding dead letters whose bodies hold sealed
numbers need two people: one requests with a reason, another approves within a time limit, then the requester
acts once. A row is one request; it is never deleted (the access record names it on every step).
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, DateTime, Index, String, Table, Text

from hub.infra.db.tables.metadata import metadata

__all__ = ["approvals"]

approvals = Table(
    "approvals",
    metadata,
    Column("id", String(20), primary_key=True, comment="apr- and 12 letters"),
    Column("action", String(32), nullable=False),
    Column("target", Text, nullable=False, comment="JSON: what exactly is to be done (ids, never a number)"),
    Column("reason", Text, nullable=False),
    Column("requested_by", String(120), nullable=False),
    Column("requested_org", String(16), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("decided_by", String(120), nullable=True),
    Column("decided_org", String(16), nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("decision_note", Text, nullable=True),
    Column("used_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("status IN ('pending', 'approved', 'rejected', 'used')", name="approval_status"),
)
Index("ix_approvals_status", approvals.c.status)
Index("ix_approvals_requester", approvals.c.requested_by, approvals.c.action, approvals.c.used_at)
