"""SQLAlchemy implementations of the inbox and the outbox."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from contracts.errors import StoreUnavailable
from hub.infra.db.tables.messaging import inbox, outbox
from hub.ports.transport import OutgoingMessage

__all__ = ["SENT_BODY", "SqlInbox", "SqlOutbox"]

_IN_CHUNK = 500  # keeps IN (...) lists under every backend's parameter limit
SENT_BODY = b""
"""The body of an outbox row once the broker confirmed it: deleted (the column is not nullable)."""


class SqlInbox:
    """Handled message ids per consumer."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def handled(self, consumer: str, message_ids: Sequence[str]) -> set[str]:
        """Return the ids among ``message_ids`` that ``consumer`` has already handled."""
        seen: set[str] = set()
        for start in range(0, len(message_ids), _IN_CHUNK):
            chunk = list(message_ids[start : start + _IN_CHUNK])
            rows = self._conn.execute(
                select(inbox.c.message_id).where(inbox.c.consumer == consumer, inbox.c.message_id.in_(chunk))
            )
            seen.update(row[0] for row in rows)
        return seen

    def mark(self, consumer: str, message_ids: Sequence[str]) -> None:
        """Record ``message_ids`` as handled by ``consumer``.

        Raises:
            StoreUnavailable: an id is handled already (another consumer's transaction won the race) or
                repeats in the call: the primary key refuses it and the transaction (or the savepoint
                around this call) must roll back; retried, the inbox tells the message was handled.
        """
        if not message_ids:
            return
        now = datetime.now(UTC)
        try:
            self._conn.execute(
                insert(inbox),
                [{"consumer": consumer, "message_id": mid, "handled_at": now} for mid in message_ids],
            )
        except IntegrityError as exc:
            raise StoreUnavailable("a message was marked handled twice; the batch will be retried") from exc


class SqlOutbox:
    """Messages waiting to be relayed to the broker."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, messages: Sequence[OutgoingMessage]) -> list[int]:
        """Queue ``messages``; returns their outbox ids in order."""
        if not messages:
            return []
        now = datetime.now(UTC)
        rows = [
            {
                "exchange": m.exchange,
                "routing_key": m.routing_key,
                "message_id": m.message_id,
                "message_type": m.message_type,
                "correlation_id": m.correlation_id,
                "headers": json.dumps(dict(m.headers), sort_keys=True),
                "body": m.body,
                "created_at": now,
            }
            for m in messages
        ]
        result = self._conn.execute(insert(outbox).returning(outbox.c.id, sort_by_parameter_order=True), rows)
        return [row[0] for row in result]

    def pending(self, limit: int, older_than: timedelta | None = None) -> list[tuple[int, OutgoingMessage]]:
        """Unsent messages, oldest first; with ``older_than``, only rows written at least that long ago."""
        query = select(outbox).where(outbox.c.sent_at.is_(None))
        if older_than is not None:
            query = query.where(outbox.c.created_at <= datetime.now(UTC) - older_than)
        rows = self._conn.execute(query.order_by(outbox.c.id).limit(limit))
        return [
            (
                row.id,
                OutgoingMessage(
                    exchange=row.exchange,
                    routing_key=row.routing_key,
                    body=row.body,
                    message_id=row.message_id,
                    message_type=row.message_type,
                    correlation_id=row.correlation_id,
                    headers=json.loads(row.headers),
                ),
            )
            for row in rows
        ]

    def mark_sent(self, ids: Sequence[int]) -> None:
        """Mark rows as published and confirmed, and delete their bodies.

        A body holds numbers sealed for its recipient; once the broker confirmed it, the queue has the
        message and nothing needs the copy (docs/retention.md, ``outbox.bodies``). The row stays, without
        its body, for the relay (it is no longer pending) and for tracing a message id to its access
        record. Only rows the broker confirmed come here: a body not yet confirmed stays until it is.
        """
        now = datetime.now(UTC)
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = list(ids[start : start + _IN_CHUNK])
            self._conn.execute(
                update(outbox).where(outbox.c.id.in_(chunk)).values(sent_at=now, body=SENT_BODY)
            )
