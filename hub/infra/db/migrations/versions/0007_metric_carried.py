"""The counts pruning took out of the per-minute samples, so that the console's counters never fall.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

``metric_carried`` keeps, per flow and adapter, the sums of the ``metric_samples`` rows the sampler
pruned. See ``hub/infra/db/tables/metrics.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``metric_carried``."""
    op.create_table(
        "metric_carried",
        sa.Column("flow", sa.String(length=80), nullable=False),
        sa.Column("adapter", sa.String(length=80), nullable=False),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.Column("routed", sa.BigInteger(), nullable=False),
        sa.Column("failed", sa.BigInteger(), nullable=False),
        sa.Column("latency_count", sa.BigInteger(), nullable=False),
        sa.Column("latency_sum_ms", sa.BigInteger(), nullable=False),
        sa.Column(
            "latency_buckets",
            sa.Text(),
            nullable=False,
            comment="JSON list: cumulative counts per bound",
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("flow", "adapter", name=op.f("pk_metric_carried")),
    )


def downgrade() -> None:
    """Drop ``metric_carried``."""
    op.drop_table("metric_carried")
