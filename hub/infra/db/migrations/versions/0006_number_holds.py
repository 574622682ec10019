"""Links held for an operator: number acquisition with several candidates or none, and number conflicts.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27

``number_holds`` keeps each held link until an operator resolves it (``renkei vault resolve``); the
candidates' numbers are stored sealed for the hub, never in the clear. See ``hub/infra/db/tables/holds.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``number_holds`` and its indexes."""
    op.create_table(
        "number_holds",
        sa.Column("hold_id", sa.String(length=20), nullable=False, comment="hold- and 12 letters"),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("flow", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("usage_kind", sa.String(length=32), nullable=False),
        sa.Column("usage_value", sa.String(length=32), nullable=False),
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("chunk_index", sa.Integer(), nullable=False),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("total_records", sa.Integer(), nullable=False),
        sa.Column("record_seq", sa.BigInteger(), nullable=False),
        sa.Column("correlation_id", sa.String(length=64), nullable=False),
        sa.Column("source_message_id", sa.String(length=64), nullable=False),
        sa.Column("queried", sa.Text(), nullable=True, comment="JSON: the 4情報 asked with"),
        sa.Column(
            "candidates",
            sa.Text(),
            nullable=False,
            comment="JSON: numbers sealed for the hub, J-LIS's 4情報",
        ),
        sa.Column("candidate_count", sa.Integer(), nullable=False),
        sa.Column("no_match_reason", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=120), nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.Column("linked_candidate", sa.Integer(), nullable=True),
        sa.Column("resolution_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'resolved')", name=op.f("ck_number_holds_status")),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_number_holds_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("hold_id", name=op.f("pk_number_holds")),
    )
    op.create_index(op.f("ix_number_holds_subject_id"), "number_holds", ["subject_id"], unique=False)
    op.create_index(
        "ix_number_holds_status_created",
        "number_holds",
        ["status", "created_at", "hold_id"],
        unique=False,
    )


def downgrade() -> None:
    """Drop ``number_holds``."""
    op.drop_index("ix_number_holds_status_created", table_name="number_holds")
    op.drop_index(op.f("ix_number_holds_subject_id"), table_name="number_holds")
    op.drop_table("number_holds")
