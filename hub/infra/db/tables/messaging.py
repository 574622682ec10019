"""Tables that make consumers idempotent and publishing transactional: the inbox and the outbox."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from hub.infra.db.tables.metadata import metadata

__all__ = ["inbox", "outbox"]

inbox = Table(
    "inbox",
    metadata,
    Column("consumer", String(80), nullable=False),
    Column("message_id", String(64), nullable=False),
    Column("handled_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("consumer", "message_id"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("exchange", String(200), nullable=False),
    Column("routing_key", String(200), nullable=False),
    Column("message_id", String(64), nullable=False),
    Column("message_type", String(120), nullable=False),
    Column("correlation_id", String(64), nullable=False),
    Column("headers", Text, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True, index=True),
)
