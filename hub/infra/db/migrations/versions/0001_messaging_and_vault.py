"""Messaging (inbox, outbox) and vault tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

The vault tables hold no plain Individual Number: ``numbers`` keeps AES-GCM ciphertext under each subject's
data key, ``subject_keys`` the data keys wrapped by a key-encryption key, and a keyed blind index.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _messaging() -> None:
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(length=80), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "message_id", name=op.f("pk_inbox")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("exchange", sa.String(length=200), nullable=False),
        sa.Column("routing_key", sa.String(length=200), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("message_type", sa.String(length=120), nullable=False),
        sa.Column("correlation_id", sa.String(length=64), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index(op.f("ix_outbox_sent_at"), "outbox", ["sent_at"], unique=False)


def _subjects() -> None:
    op.create_table(
        "subjects",
        sa.Column(
            "id", sa.String(length=32), nullable=False, comment="26 random letters (about 122 bits); never leaves the hub"
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subjects")),
    )
    op.create_table(
        "subject_keys",
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("dek_version", sa.Integer(), nullable=False),
        sa.Column("kek_id", sa.String(length=32), nullable=False),
        sa.Column("wrapped_dek", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_subject_keys_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_subject_keys")),
    )
    op.create_index(op.f("ix_subject_keys_kek_id"), "subject_keys", ["kek_id"], unique=False)


def _numbers() -> None:
    op.create_table(
        "numbers",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("dek_version", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("blind_index", sa.LargeBinary(), nullable=False),
        sa.Column("bix_version", sa.Integer(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retention_basis", sa.String(length=64), nullable=False),
        sa.Column("purge_after", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_numbers_subject_id_subjects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_numbers")),
    )
    op.create_index(op.f("ix_numbers_blind_index"), "numbers", ["blind_index"], unique=False)
    op.create_index(op.f("ix_numbers_purge_after"), "numbers", ["purge_after"], unique=False)
    op.create_index(op.f("ix_numbers_subject_id"), "numbers", ["subject_id"], unique=False)
    current = sa.text("is_current")
    op.create_index(
        "uq_numbers_current_blind_index",
        "numbers",
        ["blind_index"],
        unique=True,
        sqlite_where=current,
        postgresql_where=current,
    )
    op.create_index(
        "uq_numbers_current_subject",
        "numbers",
        ["subject_id"],
        unique=True,
        sqlite_where=current,
        postgresql_where=current,
    )


def _usage_tokens_log() -> None:
    op.create_table(
        "usage_numbers",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=32), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_usage_numbers_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_numbers")),
    )
    op.create_index(op.f("ix_usage_numbers_subject_id"), "usage_numbers", ["subject_id"], unique=False)
    in_force = sa.text("valid_to IS NULL")
    op.create_index(
        "uq_usage_numbers_current",
        "usage_numbers",
        ["kind", "value"],
        unique=True,
        sqlite_where=in_force,
        postgresql_where=in_force,
    )
    op.create_table(
        "tokens",
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_tokens_subject_id_subjects")),
        sa.PrimaryKeyConstraint("scope", "token", name=op.f("pk_tokens")),
    )
    op.create_index("ix_tokens_subject_id", "tokens", ["subject_id"], unique=False)
    op.create_index("uq_tokens_subject", "tokens", ["scope", "subject_id", "key_version"], unique=True)
    op.create_table(
        "deletion_log",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("what", sa.String(length=200), nullable=False),
        sa.Column("basis", sa.String(length=200), nullable=False),
        sa.Column("purge_after", sa.Date(), nullable=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_deletion_log_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deletion_log")),
    )
    op.create_index(op.f("ix_deletion_log_subject_id"), "deletion_log", ["subject_id"], unique=False)


def upgrade() -> None:
    """Create the inbox, the outbox and the vault's tables."""
    _messaging()
    _subjects()
    _numbers()
    _usage_tokens_log()


def downgrade() -> None:
    """Drop them (the vault's contents are lost: there is no way back to plaintext, by design)."""
    for table in ("deletion_log", "tokens", "usage_numbers", "numbers", "subject_keys", "subjects"):
        op.drop_table(table)
    op.drop_index(op.f("ix_outbox_sent_at"), table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("inbox")
