"""Erasure that erases: the deletion log names erased people by reference; dead letters say what retention destroyed.

Revision ID: 0009_erasure
Revises: 0008
Create Date: 2026-12-14

* ``deletion_log.subject_id`` may be NULL: an erased person's entries name them by ``person_ref`` (a fresh
  reference per erasure), so that no table keeps the subject id their tokens derive from; ``kind`` says
  which kind of data of ``hub/core/rules/retention_model.py`` an entry is about (earlier entries: ``vault``).
* ``dead_letters.erased_at`` and ``erasure_note``: when the retention job destroyed a dead letter's sealed
  values (and an erased person's fields), and what it destroyed.

Erased subjects of earlier versions keep their ``subjects`` row until the next ``renkei retention run``,
which removes them and moves their deletion-log entries to a reference.

On PostgreSQL, the columns that hold secrets or identify a person get statistics target 0: ``ANALYZE``
(autovacuum's included) copies sampled column values into the ``pg_statistic`` catalog (with fewer rows
than the target, every value), where an erasure cannot reach them. The planner estimates these columns
with its defaults, which still choose their indexes. Statistics collected before this revision stay until
the table is analysed again.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_erasure"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_NO_STATISTICS = {
    "subjects": ("id",),
    "subject_keys": ("subject_id", "wrapped_dek"),
    "numbers": ("subject_id", "nonce", "ciphertext", "blind_index"),
    "usage_numbers": ("subject_id", "value"),
    "tokens": ("token", "subject_id"),
    "deletion_log": ("subject_id", "person_ref"),
    "is_codes": ("subject_id", "atena_no", "code_ciphertext"),
    "is_pending_queries": ("subject_id", "usage_value"),
    "number_holds": ("subject_id", "usage_value", "queried", "candidates"),
    "association_members": ("subject_id",),
    "outbox": ("body",),
    "dead_letters": ("body",),
}
"""PostgreSQL columns ANALYZE must not sample (see the module docstring)."""


def _statistics(target: int) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite's ANALYZE (which renkei never runs) keeps counts, not values
    for table, columns in _NO_STATISTICS.items():
        for column in columns:
            op.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET STATISTICS {target}')


def upgrade() -> None:
    """Add the deletion log's ``person_ref`` and ``kind``, the dead letters' erasure columns; no statistics."""
    with op.batch_alter_table("deletion_log") as batch:
        batch.alter_column(
            "subject_id",
            existing_type=sa.String(length=32),
            nullable=True,
            comment="a person who lives on (re-keyed); NULL once erased, or for data kept per run",
        )
        batch.add_column(
            sa.Column(
                "person_ref",
                sa.String(length=40),
                nullable=True,
                comment="an erased person: erasure- and random letters, one per person and run",
            )
        )
        batch.add_column(
            sa.Column(
                "kind",
                sa.String(length=64),
                nullable=False,
                server_default="vault",
                comment="hub/core/rules/retention_model.py",
            )
        )
        batch.create_index(op.f("ix_deletion_log_person_ref"), ["person_ref"], unique=False)
    with op.batch_alter_table("dead_letters") as batch:
        batch.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("erasure_note", sa.Text(), nullable=True))
    _statistics(0)


def downgrade() -> None:
    """Drop them again (entries without a subject id are dropped: the old schema cannot hold them)."""
    _statistics(-1)
    with op.batch_alter_table("dead_letters") as batch:
        batch.drop_column("erasure_note")
        batch.drop_column("erased_at")
    op.execute("DELETE FROM deletion_log WHERE subject_id IS NULL")
    with op.batch_alter_table("deletion_log") as batch:
        batch.drop_index(op.f("ix_deletion_log_person_ref"))
        batch.drop_column("kind")
        batch.drop_column("person_ref")
        batch.alter_column(
            "subject_id", existing_type=sa.String(length=32), nullable=False, comment=None
        )
