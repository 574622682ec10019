"""The dead-letter store.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

One row per message failing one way while it waits for an operator; redacted body, scalar headers only,
never deleted (a discarded row is archived with its reason). See ``hub/infra/db/tables/dead_letters.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create ``dead_letters`` and its indexes."""
    op.create_table(
        "dead_letters",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("death_key", sa.String(length=64), nullable=False),
        sa.Column("message_key", sa.String(length=200), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=True),
        sa.Column("correlation_id", sa.String(length=200), nullable=True),
        sa.Column("message_type", sa.String(length=200), nullable=False),
        sa.Column("source_queue", sa.String(length=200), nullable=False),
        sa.Column("stage", sa.String(length=200), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.String(length=80), nullable=False),
        sa.Column("reason_text", sa.Text(), nullable=False),
        sa.Column("exception_type", sa.String(length=200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column("group_label", sa.String(length=400), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("body_redacted", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("replay_of", _ID, nullable=True),
        sa.Column("replay_count", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_replayed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_replay_id", sa.String(length=36), nullable=True),
        sa.Column("last_operator", sa.String(length=200), nullable=True),
        sa.Column("discard_reason", sa.Text(), nullable=True),
        sa.Column("discarded_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'replaying', 'replayed', 'discarded')",
            name=op.f("ck_dead_letters_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
        sa.UniqueConstraint("death_key", name=op.f("uq_dead_letters_death_key")),
    )
    for name, columns in (
        ("ix_dead_letters_message_key", ["message_key", "fingerprint"]),
        ("ix_dead_letters_status_failed", ["status", "last_failed_at"]),
        ("ix_dead_letters_fingerprint", ["fingerprint", "status"]),
        ("ix_dead_letters_message_id", ["message_id"]),
    ):
        op.create_index(name, "dead_letters", columns, unique=False)


def downgrade() -> None:
    """Drop ``dead_letters`` (its dead letters are lost)."""
    for index in (
        "ix_dead_letters_message_id",
        "ix_dead_letters_fingerprint",
        "ix_dead_letters_status_failed",
        "ix_dead_letters_message_key",
    ):
        op.drop_index(index, table_name="dead_letters")
    op.drop_table("dead_letters")
