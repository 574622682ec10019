"""Tables of the tamper-evident access record (アクセス記録) and the 情報提供等の記録.

Layout:

* ``audit_chains``: one hash chain per writer; its row holds the chain head and is locked while a
  transaction appends, so the head moves only when that transaction commits.
* ``access_records``: the records, ``(chain_id, seq)`` unique; each carries the hash of its predecessor.
* ``access_record_subjects``: the subjects a record touched, as audit-scope tokens (never numbers), so that
  "who touched this person" is one indexed query.
* ``audit_checkpoints``: signed (Ed25519) checkpoints of the chain heads, themselves chained.
* ``audit_coverage``: the head each chain had at its latest checkpoint; only the checkpoint writer touches
  it (a column on ``audit_chains`` would wait on the writers' row locks). The verifier never trusts it.
* ``provision_records``: 情報提供等の記録 (番号法 第23条), each linked to the access record whose
  details carry its digest, which makes it tamper-evident too.

Hashes are lower-case hex SHA-256. No column ever holds an Individual Number.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from hub.infra.db.tables.metadata import metadata

__all__ = [
    "AUDIT_TABLES",
    "access_record_subjects",
    "access_records",
    "audit_chains",
    "audit_checkpoints",
    "audit_coverage",
    "provision_records",
]

_Seq = BigInteger().with_variant(Integer, "sqlite")

audit_chains = Table(
    "audit_chains",
    metadata,
    Column("chain_id", String(64), primary_key=True),
    Column("writer", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("head_seq", _Seq, nullable=False),
    Column("head_hash", String(64), nullable=False),
)

access_records = Table(
    "access_records",
    metadata,
    Column("chain_id", String(64), nullable=False),
    Column("seq", _Seq, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(40), nullable=False),
    Column("message_id", String(200), nullable=True),
    Column("correlation_id", String(200), nullable=True),
    Column("message_type", String(200), nullable=True),
    Column("source", String(200), nullable=True),
    Column("destination", String(200), nullable=True),
    Column("purpose", Text, nullable=True),
    Column("legal_basis", Text, nullable=True),
    Column("outcome", String(20), nullable=False),
    Column("reason", Text, nullable=True),
    Column("details", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    PrimaryKeyConstraint("chain_id", "seq"),
    Index("ix_access_records_message_id", "message_id"),
    Index("ix_access_records_correlation_id", "correlation_id"),
    Index("ix_access_records_actor_at", "actor", "at"),
    Index("ix_access_records_action_at", "action", "at"),
    Index("ix_access_records_at", "at"),
)

access_record_subjects = Table(
    "access_record_subjects",
    metadata,
    Column("chain_id", String(64), nullable=False),
    Column("seq", _Seq, nullable=False),
    Column("subject_token", String(200), nullable=False),
    PrimaryKeyConstraint("chain_id", "seq", "subject_token"),
    Index("ix_access_record_subjects_subject_token", "subject_token"),
)

audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("id", _Seq, primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("heads", Text, nullable=False),
    Column("root", String(64), nullable=False),
    Column("prev_digest", String(64), nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("signature", String(128), nullable=False),
)

audit_coverage = Table(
    "audit_coverage",
    metadata,
    Column("chain_id", String(64), primary_key=True),
    Column("seq", _Seq, nullable=False),
    Column("checkpoint_id", _Seq, nullable=False),
)

provision_records = Table(
    "provision_records",
    metadata,
    Column("record_id", String(200), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("requester", String(200), nullable=False),
    Column("provider", String(200), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("provided_at", DateTime(timezone=True), nullable=True),
    Column("items", Text, nullable=False),
    Column("jimu", Text, nullable=False),
    Column("legal_basis_current", Text, nullable=False),
    Column("legal_basis_legacy", Text, nullable=True),
    Column("non_disclosure", Boolean, nullable=False),
    Column("subject_token", String(200), nullable=True, index=True),
    Column("retention_until", Date, nullable=False, index=True),
    Column("access_chain_id", String(64), nullable=False),
    Column("access_seq", _Seq, nullable=False),
    Index("ix_provision_records_requested_at", "requested_at"),
)

AUDIT_TABLES = (
    audit_chains,
    access_records,
    access_record_subjects,
    audit_checkpoints,
    audit_coverage,
    provision_records,
)
"""Every table of this module, for ``metadata.create_all(engine, tables=AUDIT_TABLES)`` in tests."""
