"""The hub's side of the intermediate server: codes (符号) and pending queries.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

``is_codes`` keeps each subject's 団体内統合宛名番号 and its code, encrypted; ``is_pending_queries`` keeps each
query sent until its answer settles it. See ``hub/infra/db/tables/codes.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``is_codes`` and ``is_pending_queries``."""
    op.create_table(
        "is_codes",
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("atena_no", sa.BigInteger(), nullable=False, comment="団体内統合宛名番号 (15 digits)"),
        sa.Column(
            "key_id", sa.String(length=32), nullable=True, comment="KEK version the code key is derived from"
        ),
        sa.Column(
            "code_ciphertext", sa.LargeBinary(), nullable=True, comment="nonce + AES-GCM ciphertext of the 符号"
        ),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_is_codes_subject_id_subjects")),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_is_codes")),
        sa.UniqueConstraint("atena_no", name=op.f("uq_is_codes_atena_no")),
    )
    op.create_table(
        "is_pending_queries",
        sa.Column("record_id", sa.String(length=32), nullable=False, comment="レコード識別番号"),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("usage_kind", sa.String(length=32), nullable=False),
        sa.Column("usage_value", sa.String(length=32), nullable=False),
        sa.Column("query_ref", sa.String(length=64), nullable=False),
        sa.Column("info_kind", sa.String(length=32), nullable=False),
        sa.Column("spi_code", sa.String(length=16), nullable=False),
        sa.Column("spi_text", sa.String(length=120), nullable=False),
        sa.Column("jimu_text", sa.String(length=200), nullable=False),
        sa.Column("basis_current", sa.String(length=200), nullable=False),
        sa.Column("basis_legacy", sa.String(length=200), nullable=True),
        sa.Column("provider_org_code", sa.String(length=6), nullable=False),
        sa.Column("correlation_id", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_is_pending_queries_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_is_pending_queries")),
    )
    op.create_index(
        op.f("ix_is_pending_queries_subject_id"), "is_pending_queries", ["subject_id"], unique=False
    )
    op.create_index(op.f("ix_is_pending_queries_status"), "is_pending_queries", ["status"], unique=False)


def downgrade() -> None:
    """Drop both tables."""
    op.drop_index(op.f("ix_is_pending_queries_status"), table_name="is_pending_queries")
    op.drop_index(op.f("ix_is_pending_queries_subject_id"), table_name="is_pending_queries")
    op.drop_table("is_pending_queries")
    op.drop_table("is_codes")
