"""The shape of a demo flow."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from hub.demo.deployment import LocalDeployment

__all__ = ["DemoFlow", "FlowCounts"]


class FlowCounts(Protocol):
    """What a flow reports."""

    sent: int
    completed: int
    duplicates: int
    outcomes: dict[str, int]


class DemoFlow(Protocol):
    """One business exchange the demo runs end to end.

    ``prepare`` runs before the services start (seed the vault, the simulators' registers);
    ``start`` sends the flow's first messages or files; ``completed`` is polled until it reaches
    ``sent``; ``finish`` reads the final counts once the services stopped.
    """

    name: str

    def prepare(self, hub: LocalDeployment, records: int) -> None:
        """Seed what the flow needs (idempotent)."""
        ...

    def start(self, hub: LocalDeployment, records: int) -> None:
        """Send the flow's requests."""
        ...

    def sent(self) -> int:
        """Records (or messages) the flow sent."""
        ...

    def completed(self) -> int:
        """Records (or messages) that completed so far, each counted once."""
        ...

    def finish(self) -> FlowCounts:
        """Final counts, duplicates included."""
        ...
