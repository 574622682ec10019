"""The proven sender of a dead letter: only what the broker proved may be replayed to the hub.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10

``dead_letters.sender`` is the renkei service that sent the message, as far as the broker proves it (its AMQP
``user_id``, resolved through the hub's own ``x-renkei-sender`` header; see ``hub/core/runtime/senders.py``), or NULL.
Rows stored before this revision have none, and so cannot be replayed to the hub's ingress.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``dead_letters.sender``."""
    with op.batch_alter_table("dead_letters") as batch:
        batch.add_column(sa.Column("sender", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Drop ``dead_letters.sender``."""
    with op.batch_alter_table("dead_letters") as batch:
        batch.drop_column("sender")
