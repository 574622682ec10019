"""What an adapter hands back to its host: messages for the hub and files for its counterpart.

Adapters are pure translators between renkei's contracts and a counterpart's wire format; they never
touch the broker. The host in the hub's runtime publishes :class:`AdapterOutput` for them: envelopes go to
the hub's ingress, counterpart files go over the counterpart link, encrypted for that link, because a
counterpart file may hold Individual Numbers in the clear and the broker must never carry one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from contracts.envelope import Envelope
from contracts.registry import Decoded

__all__ = ["Adapter", "AdapterOutput", "CounterpartFile", "Polled", "PollingAdapter", "Simulator"]


@dataclass(frozen=True, slots=True)
class CounterpartFile:
    """One file exchanged with a counterpart network (J-LIS, the intermediate server, eLTAX).

    Attributes:
        counterpart: ``jlis``, ``intermediate_server`` or ``eltax``.
        name: the file name in the counterpart's convention; unique per exchange, used as idempotency key.
        content: the bytes in the counterpart's wire format (may hold plain numbers: seal before transit).
        correlation_id: the business exchange the file belongs to.
    """

    counterpart: str
    name: str
    content: bytes
    correlation_id: str


@dataclass(frozen=True, slots=True)
class AdapterOutput:
    """What one handled input produces."""

    to_hub: tuple[Envelope, ...] = ()
    to_counterpart: tuple[CounterpartFile, ...] = ()
    completed_records: int = 0
    details: dict[str, int] = field(default_factory=dict)


class Adapter(Protocol):
    """The shape every adapter's service has."""

    name: str

    def from_hub(self, message: Decoded) -> AdapterOutput:
        """Handle a message the hub routed to this adapter."""
        ...

    def from_counterpart(self, file: CounterpartFile) -> AdapterOutput:
        """Handle a file that arrived from the counterpart."""
        ...


@dataclass(frozen=True, slots=True)
class Polled:
    """What a polling adapter took from its directory: the output, and the file to acknowledge."""

    output: AdapterOutput
    source: str


class PollingAdapter(Adapter, Protocol):
    """An adapter whose counterpart is a directory (the pension system), polled by its host."""

    def poll(self) -> Polled | None:
        """Take the next complete inbound file, if any, and translate it."""
        ...

    def acknowledge(self, source: str) -> None:
        """The output of ``source`` is published: move the file out of the inbound directory."""
        ...


class Simulator(Protocol):
    """A simulated counterpart: answers files with files."""

    name: str

    def handle(self, file: CounterpartFile) -> list[CounterpartFile]:
        """Answer one file from the adapter with zero or more files back."""
        ...
