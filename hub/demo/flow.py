"""The shape of a demo flow."""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from contracts.envelope import Envelope, Purpose, new_envelope
from contracts.ids import new_id
from contracts.registry import payload_dict

if TYPE_CHECKING:
    from pydantic import BaseModel

    from hub.demo.deployment import LocalDeployment

__all__ = ["DemoFlow", "FlowCounts", "FlowResult", "pension_request"]


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
    batch_id: str  # the batch its first messages or files name (the fault tests look for its files)

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


@dataclass
class FlowResult:
    """Counts of one flow."""

    sent: int
    completed: int
    duplicates: int
    outcomes: dict[str, int] = field(default_factory=dict)

    @classmethod
    def counted(cls, sent: int, answered: Sequence[Hashable], outcomes: Mapping[str, int]) -> FlowResult:
        """The counts of ``sent`` records from the rows that came back.

        ``answered`` names, row by row, the record each row answers: a record answered twice is one
        completed and one duplicate.
        """
        distinct = len(set(answered))
        return cls(sent, distinct, len(answered) - distinct, dict(outcomes))


def pension_request(
    message_type: str,
    purpose: Purpose,
    payload: BaseModel,
    *,
    actor: str,
    correlation: uuid.UUID | None = None,
) -> Envelope:
    """A pension-system message to the hub on behalf of ``actor``: a new flow unless ``correlation``."""
    return new_envelope(
        message_type=message_type,
        schema_version=1,
        source="pension",
        destination="hub",
        purpose=purpose,
        payload=payload_dict(payload),
        correlation_id=correlation,
        message_id=new_id(),
        actor=actor,
    )
