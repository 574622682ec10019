"""The table of links held for an operator (``renkei vault pending`` / ``resolve``).

One row per held link. ``candidates`` is JSON: per candidate its number **sealed for the hub** (AES-GCM,
bound to the hold and the candidate: never a plain number) and J-LIS's 4情報 of it; ``queried`` is the
4情報 the pension system asked with. On resolution both candidate fields are emptied (other people's data
is not kept once the decision is made) and the decision, its operator and reason are written; rows are
never deleted. ``status`` moves from ``pending`` to ``resolved`` once, by a conditional update.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from hub.infra.db.tables.metadata import metadata

__all__ = ["number_holds"]

number_holds = Table(
    "number_holds",
    metadata,
    Column("hold_id", String(20), primary_key=True, comment="hold- and 12 letters"),
    Column("status", String(16), nullable=False),
    Column("flow", String(32), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("subject_id", String(32), ForeignKey("subjects.id"), nullable=False, index=True),
    Column("usage_kind", String(32), nullable=False),
    Column("usage_value", String(32), nullable=False),
    Column("batch_id", String(64), nullable=False),
    Column("chunk_index", Integer, nullable=False),
    Column("chunk_count", Integer, nullable=False),
    Column("total_records", Integer, nullable=False),
    Column("record_seq", BigInteger, nullable=False),
    Column("correlation_id", String(64), nullable=False),
    Column("source_message_id", String(64), nullable=False),
    Column("queried", Text, nullable=True, comment="JSON: the 4情報 asked with"),
    Column("candidates", Text, nullable=False, comment="JSON: numbers sealed for the hub, J-LIS's 4情報"),
    Column("candidate_count", Integer, nullable=False),
    Column("no_match_reason", String(32), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    Column("resolved_by", String(120), nullable=True),
    Column("resolution", String(16), nullable=True),
    Column("linked_candidate", Integer, nullable=True),
    Column("resolution_reason", Text, nullable=True),
    CheckConstraint("status IN ('pending', 'resolved')", name="status"),
)
Index(
    "ix_number_holds_status_created", number_holds.c.status, number_holds.c.created_at, number_holds.c.hold_id
)
