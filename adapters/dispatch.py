"""How every adapter picks the handler of a message from the hub: one table keyed by message type.

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

This module is shared by the adapters (they never import each other) and imports nothing of the hub.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from contracts.envelope import Envelope
from contracts.errors import UnknownMessageType
from contracts.link import AdapterOutput
from contracts.registry import Decoded

__all__ = ["MessageKey", "Route", "Routes", "route"]

A = TypeVar("A")
P = TypeVar("P", bound=BaseModel)

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
