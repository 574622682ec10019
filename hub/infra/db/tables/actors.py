"""On whose behalf each message ran: the actor the hub established for it (the federation or a 構成組合).

The hub writes one row for every message it handles and every message it produces, in the transaction of the
work, with the actor it established (the pension system's, checked against the seed's split of 事務, or the
one its flow already had). The console's association scope and the dead-letter store read the actor from
here, never from the people a message touched; a message the hub never established an actor for (one that
failed before it could be read, or one planted on the broker) has no row and is the federation's alone.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, String, Table

from hub.infra.db.tables.metadata import metadata

__all__ = ["message_actors"]

message_actors = Table(
    "message_actors",
    metadata,
    Column("message_id", String(64), primary_key=True),
    Column("correlation_id", String(64), nullable=False),
    Column("actor", String(16), nullable=False, comment="federation or a 構成組合 code (purpose table)"),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)
Index("ix_message_actors_correlation_id", message_actors.c.correlation_id)
