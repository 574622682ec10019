"""Tables of the vault: subjects, their wrapped data keys, numbers, usage numbers, tokens, deletion log.

No column ever holds a plain Individual Number: numbers are AES-GCM ciphertext under the subject's data key
(``subject_keys.wrapped_dek``, itself wrapped by a key-encryption key named by ``kek_id``), found through a
keyed blind index. Erasing a subject deletes its wrapped data key, its ciphertexts and blind indexes, then
every row of every table with a ``subject_id`` column and the ``subjects`` row itself: the subject id, from
which its tokens derive, is destroyed. The ``deletion_log`` names an erased person by a fresh reference
(``person_ref``), never by the subject id (:mod:`hub.infra.vault.lifecycle`).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
)

from hub.infra.db.tables.metadata import metadata

__all__ = [
    "deletion_log",
    "number_grounds",
    "numbers",
    "subject_keys",
    "subjects",
    "tokens",
    "usage_numbers",
]

_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements only INTEGER PRIMARY KEY

subjects = Table(
    "subjects",
    metadata,
    Column(
        "id", String(32), primary_key=True, comment="26 random letters (about 122 bits); never leaves the hub"
    ),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("erased_at", DateTime(timezone=True), nullable=True),
)

subject_keys = Table(
    "subject_keys",
    metadata,
    Column("subject_id", String(32), ForeignKey("subjects.id"), primary_key=True),
    Column("dek_version", Integer, nullable=False),
    Column("kek_id", String(32), nullable=False, index=True),
    Column("wrapped_dek", LargeBinary, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

numbers = Table(
    "numbers",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("subject_id", String(32), ForeignKey("subjects.id"), nullable=False, index=True),
    Column("dek_version", Integer, nullable=False),
    Column("nonce", LargeBinary, nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("blind_index", LargeBinary, nullable=False, index=True),
    Column("bix_version", Integer, nullable=False),
    Column("is_current", Boolean, nullable=False),
    Column("valid_from", DateTime(timezone=True), nullable=False),
    Column("valid_to", DateTime(timezone=True), nullable=True),
    Column("retention_basis", String(64), nullable=False),
    Column("purge_after", Date, nullable=True, index=True),
    Column("source", String(80), nullable=False),
)
# At most one current number per subject, and one subject per current number (per blind-index version).
Index(
    "uq_numbers_current_subject",
    numbers.c.subject_id,
    unique=True,
    sqlite_where=numbers.c.is_current,
    postgresql_where=numbers.c.is_current,
)
Index(
    "uq_numbers_current_blind_index",
    numbers.c.blind_index,
    unique=True,
    sqlite_where=numbers.c.is_current,
    postgresql_where=numbers.c.is_current,
)

usage_numbers = Table(
    "usage_numbers",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("subject_id", String(32), ForeignKey("subjects.id"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("value", String(32), nullable=False),
    Column("valid_from", DateTime(timezone=True), nullable=False),
    Column("valid_to", DateTime(timezone=True), nullable=True),
)
# A usage number in force belongs to one subject; retired ones stay as history.
Index(
    "uq_usage_numbers_current",
    usage_numbers.c.kind,
    usage_numbers.c.value,
    unique=True,
    sqlite_where=usage_numbers.c.valid_to.is_(None),
    postgresql_where=usage_numbers.c.valid_to.is_(None),
)

number_grounds = Table(
    "number_grounds",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("subject_id", String(32), ForeignKey("subjects.id"), nullable=False, index=True),
    Column("role", String(32), nullable=False, comment="the person's role (purpose table [[role]])"),
    Column("held_under", String(32), nullable=False, comment="how the number was obtained ([[held_under]])"),
    Column("source", String(80), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)
"""Why the vault holds a subject's number: each row a role of the person and the basis the number was obtained
under (for example recipient + jlis, dependant + declaration). Every outgoing use is checked against these
before a number is sealed (the purpose table's ``[[use]]`` rows)."""
Index(
    "uq_number_grounds",
    number_grounds.c.subject_id,
    number_grounds.c.role,
    number_grounds.c.held_under,
    unique=True,
)

tokens = Table(
    "tokens",
    metadata,
    Column("scope", String(64), nullable=False),
    Column("token", String(64), nullable=False),
    Column("subject_id", String(32), ForeignKey("subjects.id"), nullable=False),
    Column("key_version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("scope", "token"),
)
Index("uq_tokens_subject", tokens.c.scope, tokens.c.subject_id, tokens.c.key_version, unique=True)
Index("ix_tokens_subject_id", tokens.c.subject_id)

deletion_log = Table(
    "deletion_log",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column(
        "subject_id",
        String(32),
        ForeignKey("subjects.id"),
        nullable=True,
        index=True,
        comment="a person who lives on (re-keyed); NULL once erased, or for data kept per run",
    ),
    Column(
        "person_ref",
        String(40),
        nullable=True,
        index=True,
        comment="an erased person: erasure- and random letters, one per person and run",
    ),
    Column(
        "kind",
        String(64),
        nullable=False,
        server_default="vault",
        comment="hub/core/rules/retention_model.py",
    ),
    Column("what", String(200), nullable=False),
    Column("basis", String(200), nullable=False),
    Column("purge_after", Date, nullable=True),
    Column("erased_at", DateTime(timezone=True), nullable=False),
    Column("method", String(32), nullable=False),
    Column("actor", String(120), nullable=False),
)
