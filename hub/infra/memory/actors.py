"""The actors of messages in memory, kept as :class:`~hub.infra.stores.actors.SqlMessageActors` keeps them.

Values are cut to the SQL columns' widths (message and correlation ids 64 characters, actors 16), and a
message recorded already, or earlier in the same batch, keeps its first actor.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hub.ports.actors import MessageActor

__all__ = ["InMemoryMessageActors"]


class InMemoryMessageActors:
    """:class:`hub.ports.actors.MessageActors` in memory."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[str, str]] = {}  # message id -> (correlation id, actor)

    def record(self, rows: Sequence[MessageActor]) -> None:
        """Record actors; a message recorded already, or earlier in the same batch, keeps its first actor."""
        for r in rows:  # in order, so the first row of a message id wins within a batch too
            if r.message_id:
                self._rows.setdefault(r.message_id[:64], (r.correlation_id[:64], r.actor[:16]))

    def of_messages(self, message_ids: Iterable[str]) -> dict[str, str]:
        """The actor of each known message id."""
        return {m: self._rows[m][1] for m in message_ids if m in self._rows}

    def of_correlations(self, correlation_ids: Iterable[str]) -> dict[str, frozenset[str]]:
        """The distinct actors of each correlation's messages."""
        wanted = {c for c in correlation_ids if c}
        found: dict[str, set[str]] = {}
        for correlation, actor in self._rows.values():
            if correlation in wanted:
                found.setdefault(correlation, set()).add(actor)
        return {c: frozenset(a) for c, a in found.items()}
