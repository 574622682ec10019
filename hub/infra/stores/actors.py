"""The message actors on SQLAlchemy Core, bound to the unit of work's connection."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import Connection, select

from hub.infra.db.bulk import insert_rows
from hub.infra.db.tables.actors import message_actors as t
from hub.ports.actors import MessageActor

__all__ = ["SqlMessageActors"]

_CHUNK: Final = 500


class SqlMessageActors:
    """:class:`hub.ports.actors.MessageActors` on one connection; never commits by itself."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def record(self, rows: Sequence[MessageActor]) -> None:
        """Record actors; a message recorded already keeps its first actor."""
        unique: dict[str, MessageActor] = {}
        for r in rows:  # the first row of a message id (as stored: cut to 64) wins within the batch too
            if r.message_id:
                unique.setdefault(r.message_id[:64], r)
        if not unique:
            return
        now = datetime.now(UTC)
        insert_rows(
            self._conn,
            t,
            [
                {
                    "message_id": r.message_id[:64],
                    "correlation_id": r.correlation_id[:64],
                    "actor": r.actor[:16],
                    "recorded_at": now,
                }
                for r in unique.values()
            ],
            ignore_duplicates=True,
        )

    def of_messages(self, message_ids: Iterable[str]) -> dict[str, str]:
        """The actor of each known message id."""
        ids = sorted({m for m in message_ids if m})
        found: dict[str, str] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            found.update(
                (str(m), str(a))
                for m, a in self._conn.execute(
                    select(t.c.message_id, t.c.actor).where(t.c.message_id.in_(chunk))
                )
            )
        return found

    def of_correlations(self, correlation_ids: Iterable[str]) -> dict[str, frozenset[str]]:
        """The distinct actors of each correlation's messages."""
        ids = sorted({c for c in correlation_ids if c})
        found: dict[str, set[str]] = defaultdict(set)
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            query = (
                select(t.c.correlation_id, t.c.actor)
                .where(t.c.correlation_id.in_(chunk))
                .group_by(t.c.correlation_id, t.c.actor)
            )
            for correlation, actor in self._conn.execute(query):
                found[str(correlation)].add(str(actor))
        return {c: frozenset(a) for c, a in found.items()}
