"""The console's tables: per-minute flow samples and association membership.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

``metric_samples`` keeps per-minute counts and gauges per flow and adapter (history for the console's charts
and the Prometheus endpoint); ``association_members`` maps a vault subject to its 構成組合 for the console's
scope. See ``hub/infra/db/tables/metrics.py`` and ``hub/infra/db/tables/associations.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``metric_samples`` and ``association_members``."""
    op.create_table(
        "metric_samples",
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flow", sa.String(length=80), nullable=False),
        sa.Column("adapter", sa.String(length=80), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("routed", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("in_flight", sa.Integer(), nullable=True),
        sa.Column("queue_depth", sa.Integer(), nullable=True),
        sa.Column("consumers", sa.Integer(), nullable=True),
        sa.Column("latency_count", sa.Integer(), nullable=False),
        sa.Column("latency_sum_ms", sa.BigInteger(), nullable=False),
        sa.Column(
            "latency_buckets",
            sa.Text(),
            nullable=False,
            comment="JSON list: cumulative counts per bound",
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("minute", "flow", "adapter", name=op.f("pk_metric_samples")),
    )
    op.create_index("ix_metric_samples_flow_minute", "metric_samples", ["flow", "minute"], unique=False)
    op.create_table(
        "association_members",
        sa.Column(
            "subject_id",
            sa.String(length=32),
            nullable=False,
            comment="vault subject id (letters, never a number)",
        ),
        sa.Column("association_code", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_association_members")),
    )
    op.create_index(
        op.f("ix_association_members_association_code"),
        "association_members",
        ["association_code"],
        unique=False,
    )


def downgrade() -> None:
    """Drop both tables."""
    op.drop_index(op.f("ix_association_members_association_code"), table_name="association_members")
    op.drop_table("association_members")
    op.drop_index("ix_metric_samples_flow_minute", table_name="metric_samples")
    op.drop_table("metric_samples")
