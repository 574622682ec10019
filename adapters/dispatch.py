"""How every adapter picks its handler: one table for messages from the hub, one for files from its line.

Each adapter's ``service`` module declares, at module level, ``FROM_HUB``: a mapping from
``(message_type, schema_version)`` to a :class:`Route`, the payload class the message must carry and the
adapter method that handles it. ``from_hub`` is then one line, :func:`route`, the same in every adapter::

    FROM_HUB: Final[Routes[JlisAdapter]] = {
        ("jlis.survival_change.inquiry", 1): Route(JlisSurvivalChangeInquiry, JlisAdapter._request_file),
        ...
    }

    def from_hub(self, message: Decoded) -> AdapterOutput:
        return route(FROM_HUB, self, message)

Because the table is data, a test reads it (``tests/unit/test_layout.py``): every message type the hub's
sender table (``hub/senders.toml``) sends to an adapter's queue has its route there. The handler receives
the envelope and the payload already narrowed to the route's class, so it needs no ``isinstance``.

Files from the counterpart's line go the same way. The ``service`` module declares ``FROM_COUNTERPART``:
a mapping from the file kind the adapter's ``names`` module reads from a file name (the kind code in the
name: ``SVR1``, ``FGR1``, ``RC`` ...) to a handler ``handle(adapter, file, name)``. ``from_counterpart``
parses the name, then makes one call, :func:`receive`, which refuses a kind the table lacks (a file that
goes the other way, or one the line never sends) with the adapter's own permanent file error::

    FROM_COUNTERPART: Final[Receivers[JlisAdapter, FileName]] = {
        "SVR1": JlisAdapter._survival_result,
        "NAR1": JlisAdapter._acquisition_result,
    }

    def from_counterpart(self, file: CounterpartFile) -> AdapterOutput:
        name = parse_name(file.name, "result")
        return receive(FROM_COUNTERPART, self, file, name.code, name)

The layout test checks this table too: every kind the ``names`` module parses as inbound
(``names.INBOUND``) has a handler, and no other kind has one. An adapter whose counterpart is a directory
(the pension system, read by ``poll()``) has no line and so no such table.

This module is shared by the adapters (they never import each other) and imports nothing of the hub.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel

from contracts.envelope import Envelope
from contracts.errors import ContractError, UnknownMessageType
from contracts.link import AdapterOutput, CounterpartFile
from contracts.registry import Decoded

__all__ = ["MessageKey", "Receiver", "Receivers", "Receiving", "Route", "Routes", "receive", "route"]

A = TypeVar("A")
P = TypeVar("P", bound=BaseModel)
N = TypeVar("N")

MessageKey = tuple[str, int]
"""A message type and its schema version, as the envelope carries them."""


@dataclass(frozen=True, slots=True)
class Route(Generic[A, P]):
    """Where a message type goes: the payload class it carries and the handler that writes it out.

    Attributes:
        payload: the contract class of the message's payload (the registry decodes it to this class).
        handle: ``handle(adapter, envelope, payload)``, an adapter method taking the narrowed payload.
    """

    payload: type[P]
    handle: Callable[[A, Envelope, P], AdapterOutput]


Routes = Mapping[MessageKey, Route[A, Any]]
"""An adapter's dispatch table (its ``service.FROM_HUB``)."""


def route(table: Routes[A], adapter: A, message: Decoded) -> AdapterOutput:
    """Hand ``message`` to the handler its type and version have in ``table``.

    Raises:
        UnknownMessageType: the table has no route for the message's type and version, or the payload is
            not of the route's class.
    """
    env = message.envelope
    found = table.get((env.message_type, env.schema_version))
    if found is None or not isinstance(message.payload, found.payload):
        name = getattr(adapter, "name", type(adapter).__name__)
        what = f"{env.message_type} v{env.schema_version}"
        raise UnknownMessageType(f"the {name} adapter does not handle {what}")
    return found.handle(adapter, env, message.payload)


class Receiving(Protocol):
    """An adapter with a counterpart line: how it refuses a file of a kind it does not receive."""

    @property
    def file_error(self) -> type[ContractError]:
        """The adapter's permanent error for a file it cannot take (``JlisFileError``, ...)."""
        ...

    @property
    def not_received(self) -> str:
        """What that error says of a file of a kind the line does not bring to the federation."""
        ...


R = TypeVar("R", bound=Receiving)

Receiver = Callable[[R, CounterpartFile, N], AdapterOutput]
"""A handler of one file kind: ``handle(adapter, file, name)``, ``name`` as the ``names`` module read it."""

Receivers = Mapping[str, Receiver[R, N]]
"""An adapter's table of files from its counterpart (its ``service.FROM_COUNTERPART``), keyed by file kind."""


def receive(table: Receivers[R, N], adapter: R, file: CounterpartFile, kind: str, name: N) -> AdapterOutput:
    """Hand ``file``, whose name ``name`` says it is of ``kind``, to the handler of that kind in ``table``.

    Raises:
        ContractError: of the adapter's class ``file_error`` (permanent): the table has no handler for
            ``kind``, so the line does not bring such files to the federation.
    """
    found = table.get(kind)
    if found is None:
        raise adapter.file_error(adapter.not_received)
    return found(adapter, file, name)
