"""The size limit at the door: a body over its message type's limit is refused before anything reads it.

Every consumer (the hub's worker, the dead-letter consumer, the adapter and simulator hosts) asks
:meth:`BodyLimits.check` before decoding a delivery. A body over the limit is dead-lettered with reason
``too_large`` and its size, keeping only its beginning, redacted: ``kept`` bytes (64 KiB, never more than
the limit), enough to tell what it was and who sent it. Its batch neighbours go on.

The transports keep no more than that in memory either (:class:`hub.ports.transport.Delivery`): a consumer
holds at most ``prefetch`` refused bodies of ``kept`` bytes, whatever arrives (with the limit instead, 500
refused bodies at 4 MiB would be 2 GiB). The broker's ``max_message_size`` refuses what no limit would take
(``docker/rabbitmq/rabbitmq.conf``). The limits come from settings (:class:`hub.settings.BodyLimitSettings`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from contracts.errors import BodyTooLarge
from hub.ports.transport import Delivery

__all__ = ["DEFAULT_KEPT", "DEFAULT_LIMIT", "BodyLimits"]

DEFAULT_LIMIT = 4 * 1024 * 1024
"""The limit of a message type that declares none: 4 MiB, twenty times a 1,000-record chunk."""
DEFAULT_KEPT = 64 * 1024
"""How much of a refused body is kept: its first 64 KiB."""


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """Body size limits, in bytes: one per message type that declares one, ``default`` for the others.

    Attributes:
        default: the limit of a type without its own (and of a delivery without a type).
        per_type: limits by AMQP message type (the ``type`` property, read before the body).
        kept: how many bytes of a refused body's beginning are kept (never more than its limit).
    """

    default: int = DEFAULT_LIMIT
    per_type: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    kept: int = DEFAULT_KEPT

    def __post_init__(self) -> None:
        if min([self.default, self.kept, *self.per_type.values()]) < 1:
            raise ValueError("a body limit is at least one byte")

    @property
    def largest(self) -> int:
        """The largest limit of any type (what the broker's ``max_message_size`` must allow)."""
        return max([self.default, *self.per_type.values()])

    def limit_for(self, message_type: str | None) -> int:
        """The limit of ``message_type``."""
        return self.per_type.get(message_type or "", self.default)

    def cut(self, message_type: str | None, body: bytes) -> tuple[bytes, int | None]:
        """What a transport keeps of an arriving body: at most its type's limit, and its size if cut.

        Returns ``(body, None)`` for a body within the limit, ``(its beginning, size)`` otherwise: the rest
        is never kept, so a consumer's memory stays flat however large what arrives is.
        """
        limit = self.limit_for(message_type)
        return (body, None) if len(body) <= limit else (body[: min(limit, self.kept)], len(body))

    def check(self, delivery: Delivery) -> BodyTooLarge | None:
        """The refusal of ``delivery`` when its body is over its type's limit, else ``None``.

        Looks at the size only: the body is not read.
        """
        limit = self.limit_for(delivery.message_type)
        if delivery.size <= limit:
            return None
        kind = delivery.message_type or "a message without a type"
        kept = min(limit, self.kept)
        return BodyTooLarge(
            f"the body of {delivery.size:,} bytes is over the limit of {limit:,} bytes for {kind}; it was "
            f"not read, and only its first {kept:,} bytes are kept (redacted). Raise the limit in settings "
            "(RENKEI_BODY_LIMIT_*) if such bodies are lawful and have the sender send it again",
            size=delivery.size,
            limit=limit,
            kept=kept,
        )
