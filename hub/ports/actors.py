"""The actors port: on whose behalf each message ran, as the hub established it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["MessageActor", "MessageActors"]


@dataclass(frozen=True, slots=True)
class MessageActor:
    """One message and the actor it ran on behalf of."""

    message_id: str
    correlation_id: str
    actor: str


class MessageActors(Protocol):
    """The established actor of each message the hub handled or produced."""

    def record(self, rows: Sequence[MessageActor]) -> None:
        """Record actors (a message recorded already keeps its first actor)."""
        ...

    def of_messages(self, message_ids: Iterable[str]) -> dict[str, str]:
        """The actor of each known message id."""
        ...

    def of_correlations(self, correlation_ids: Iterable[str]) -> dict[str, frozenset[str]]:
        """The actors of each correlation's messages (one, normally; several would be a mixed flow)."""
        ...
