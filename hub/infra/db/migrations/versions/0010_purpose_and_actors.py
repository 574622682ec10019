"""Why each number is held, on whose behalf each message ran, and four-eyes approvals.

Revision ID: 0010_purpose_and_actors
Revises: 0009_erasure
Create Date: 2026-12-14

* ``number_grounds``: each row a role of a subject's person and the basis its number was obtained under
  (the purpose table's ``[[role]]`` and ``[[held_under]]``). Every outgoing use is checked against them.
  **Existing subjects get a default from how they were enrolled** (documented in docs/legal-basis.md):

  - a subject with a 年金証書記号番号 or 基礎年金番号 in force: ``recipient`` held under ``jlis`` (the
    個人番号管理ファイル was filled from J-LIS: seed, システム1);
  - a subject with a dependant key (扶養親族キー) in force whose number is kept for the pension (retention
    basis other than a declaration's): ``spouse`` held under ``jlis`` (spouses were asked about at J-LIS);
  - a subject whose number is kept for a 扶養親族等申告書 (retention basis ``tax.dependants_declaration`` or
    the demo's ``income_tax.dependants_declaration``): ``dependant`` held under ``declaration``.

  Only subjects that hold a number and are not erased get one. A subject that fits none (a number with
  another basis and no usage number of those kinds) gets none, and every use of its number is refused
  (``no_recorded_basis``) until an operator records one.
* ``message_actors``: the actor the hub established for each message it handled or produced.
* ``dead_letters.actor``: the established actor of a dead letter (NULL: the federation's alone).
* ``approvals``: four-eyes requests and their decisions.

On PostgreSQL ``number_grounds.subject_id`` gets statistics target 0, as ``0009_erasure`` gives every column
that names a person: ``ANALYZE`` must not copy subject ids into ``pg_statistic``, where no erasure reaches.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0010_purpose_and_actors"
down_revision: str | None = "0009_erasure"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_DECLARATION = ("tax.dependants_declaration", "income_tax.dependants_declaration")
_DEFAULTS = (
    # role, held under, the subjects it applies to
    (
        "recipient",
        "jlis",
        "EXISTS (SELECT 1 FROM usage_numbers u WHERE u.subject_id = s.id AND u.valid_to IS NULL "
        "AND u.kind IN ('pension_certificate', 'basic_pension'))",
    ),
    (
        "spouse",
        "jlis",
        "EXISTS (SELECT 1 FROM usage_numbers u WHERE u.subject_id = s.id AND u.valid_to IS NULL "
        "AND u.kind = 'dependant') AND EXISTS (SELECT 1 FROM numbers n WHERE n.subject_id = s.id "
        "AND n.retention_basis NOT IN (:decl_a, :decl_b))",
    ),
    (
        "dependant",
        "declaration",
        "EXISTS (SELECT 1 FROM numbers n WHERE n.subject_id = s.id AND n.retention_basis IN (:decl_a, :decl_b))",
    ),
)


def upgrade() -> None:
    """Create the tables, add ``dead_letters.actor`` and give existing numbers their default grounds."""
    op.create_table(
        "number_grounds",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column(
            "role", sa.String(length=32), nullable=False, comment="the person's role (purpose table [[role]])"
        ),
        sa.Column(
            "held_under",
            sa.String(length=32),
            nullable=False,
            comment="how the number was obtained ([[held_under]])",
        ),
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_number_grounds_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_number_grounds")),
    )
    op.create_index(op.f("ix_number_grounds_subject_id"), "number_grounds", ["subject_id"], unique=False)
    op.create_index("uq_number_grounds", "number_grounds", ["subject_id", "role", "held_under"], unique=True)

    op.create_table(
        "message_actors",
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("correlation_id", sa.String(length=64), nullable=False),
        sa.Column(
            "actor",
            sa.String(length=16),
            nullable=False,
            comment="federation or a 構成組合 code (purpose table)",
        ),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_message_actors")),
    )
    op.create_index("ix_message_actors_correlation_id", "message_actors", ["correlation_id"], unique=False)

    with op.batch_alter_table("dead_letters") as batch:
        batch.add_column(sa.Column("actor", sa.String(length=16), nullable=True))

    op.create_table(
        "approvals",
        sa.Column("id", sa.String(length=20), nullable=False, comment="apr- and 12 letters"),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column(
            "target",
            sa.Text(),
            nullable=False,
            comment="JSON: what exactly is to be done (ids, never a number)",
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=120), nullable=False),
        sa.Column("requested_org", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=120), nullable=True),
        sa.Column("decided_org", sa.String(length=16), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'used')", name=op.f("ck_approvals_approval_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
    )
    op.create_index("ix_approvals_status", "approvals", ["status"], unique=False)
    op.create_index(
        "ix_approvals_requester", "approvals", ["requested_by", "action", "used_at"], unique=False
    )

    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        op.execute('ALTER TABLE "number_grounds" ALTER COLUMN "subject_id" SET STATISTICS 0')
    now = datetime.now(UTC)
    for role, held, condition in _DEFAULTS:
        conn.execute(
            sa.text(
                "INSERT INTO number_grounds (subject_id, role, held_under, source, recorded_at) "
                f"SELECT s.id, :role, :held, :source, :now FROM subjects s WHERE s.erased_at IS NULL "  # noqa: S608
                f"AND EXISTS (SELECT 1 FROM numbers n0 WHERE n0.subject_id = s.id) AND {condition}"
            ),
            {
                "role": role,
                "held": held,
                "source": "migration:0010 default",
                "now": now,
                "decl_a": _DECLARATION[0],
                "decl_b": _DECLARATION[1],
            },
        )


def downgrade() -> None:
    """Drop the tables and ``dead_letters.actor``."""
    op.drop_index("ix_approvals_requester", table_name="approvals")
    op.drop_index("ix_approvals_status", table_name="approvals")
    op.drop_table("approvals")
    with op.batch_alter_table("dead_letters") as batch:
        batch.drop_column("actor")
    op.drop_index("ix_message_actors_correlation_id", table_name="message_actors")
    op.drop_table("message_actors")
    op.drop_index("uq_number_grounds", table_name="number_grounds")
    op.drop_index(op.f("ix_number_grounds_subject_id"), table_name="number_grounds")
    op.drop_table("number_grounds")
