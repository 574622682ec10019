"""The broker topology of renkei as value objects: every exchange, queue, binding and argument.

One function, :func:`renkei_topology`, derives the whole topology from the settings, and
:func:`apply_topology` declares it through any :class:`~hub.ports.transport.Transport` (idempotently, so it
runs on every start). :class:`Names` is the single place that spells a name, so that publishers,
consumers and the topology cannot drift apart. ``docs/topology.md`` draws the result and explains why.

Why these arguments (RabbitMQ 3.10.8):

- Work queues are quorum queues (replicated, durable) with ``x-delivery-limit`` set explicitly: 3.10 has
  no default limit, and a message that crashes its consumer would otherwise be redelivered forever; 4.0
  made the default 20, and renkei keeps the choice its own on every series (compose runs 4.2).
- ``x-dead-letter-strategy: at-least-once`` keeps a dead-lettered message in its queue until the
  dead-letter queue has confirmed it; it needs ``x-overflow: reject-publish``.
- Retry tiers are quorum queues with ``x-message-ttl`` and the *default* exchange as dead-letter
  exchange and no dead-letter routing key: an expired message is re-routed with its own routing key,
  which the retrying consumer sets to the name of the queue it came from. Verified on 3.10.8: quorum
  queues honour ``x-message-ttl`` and dead-letter expired messages to the default exchange with the
  original routing key (``x-death`` reason ``expired``), with both dead-letter strategies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from contracts.errors import ConfigurationError
from hub.core.runtime.retry import RetryPolicy
from hub.ports.transport import ExchangeSpec, HeaderValue, QueueSpec, Topology, Transport
from hub.settings import RetrySettings, Settings

__all__ = [
    "ADAPTERS",
    "COUNTERPARTS",
    "INGRESS_ROUTING_KEY",
    "Direction",
    "Names",
    "apply_topology",
    "renkei_topology",
    "retry_delay_ms",
]

ADAPTERS: Final = ("jlis", "intermediate_server", "eltax", "nta", "implementing_bodies", "pension")
"""Adapters the hub routes work to, one queue each (年金給付システム included)."""

COUNTERPARTS: Final = ("jlis", "intermediate_server", "eltax", "nta", "implementing_bodies")
"""Outside networks with a simulated counterpart: 住基ネット/J-LIS, 中間サーバー, eLTAX, 国税庁 (e-Tax)."""

INGRESS_ROUTING_KEY: Final = "hub"

Direction = Literal["inbound", "outbound"]

_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,100}$")


@dataclass(frozen=True, slots=True)
class Names:
    """Every exchange, queue and routing key name under one prefix.

    Args:
        prefix: ``Settings.exchange_prefix``; letters, digits, ``_``, ``.`` and ``-``.

    Raises:
        ConfigurationError: the prefix is empty or holds other characters.
    """

    prefix: str

    def __post_init__(self) -> None:
        if not _PREFIX.match(self.prefix):
            raise ConfigurationError("exchange_prefix must be 1-101 letters, digits, '_', '.' or '-'")

    @property
    def ingress_exchange(self) -> str:
        """Direct exchange every message to the hub is published to."""
        return f"{self.prefix}.ingress"

    @property
    def ingress_queue(self) -> str:
        """The hub's own work queue (bound to the ingress exchange with ``hub``)."""
        return f"{self.prefix}.hub.ingress"

    @property
    def route_exchange(self) -> str:
        """Direct exchange the hub routes work to adapters through (routing key: adapter name)."""
        return f"{self.prefix}.route"

    def adapter_queue(self, adapter: str) -> str:
        """Work queue of ``adapter``; bound to :attr:`route_exchange` with the adapter's name."""
        _known(adapter, ADAPTERS, "adapter")
        return f"{self.prefix}.adapter.{adapter}"

    @property
    def counterpart_exchange(self) -> str:
        """Direct exchange between adapters and their (simulated) counterparts."""
        return f"{self.prefix}.counterpart"

    def counterpart_routing_key(self, counterpart: str, direction: Direction) -> str:
        """Routing key of ``counterpart``'s queue in ``direction``, e.g. ``jlis.outbound``."""
        _known(counterpart, COUNTERPARTS, "counterpart")
        if direction not in ("inbound", "outbound"):
            raise ConfigurationError("direction must be 'inbound' or 'outbound'")
        return f"{counterpart}.{direction}"

    def counterpart_queue(self, counterpart: str, direction: Direction) -> str:
        """Queue to (``outbound``) or from (``inbound``) ``counterpart``."""
        return f"{self.prefix}.counterpart.{self.counterpart_routing_key(counterpart, direction)}"

    def retry_exchange(self, delay_ms: int) -> str:
        """Fanout exchange of the retry tier that waits ``delay_ms``.

        Republish a message there with ``routing_key`` = the queue it came from; it returns to that queue
        when the tier's TTL expires.
        """
        return f"{self.prefix}.retry.{_positive(delay_ms)}ms"

    def retry_queue(self, delay_ms: int) -> str:
        """Queue of the retry tier that waits ``delay_ms`` (same name as its exchange)."""
        return self.retry_exchange(delay_ms)

    @property
    def dead_letter_exchange(self) -> str:
        """Fanout exchange every work queue dead-letters to."""
        return f"{self.prefix}.dead"

    @property
    def dead_letter_queue(self) -> str:
        """The one dead-letter queue (一括でオペレーターが確認・再送する)."""
        return f"{self.prefix}.dead_letter"


def retry_delay_ms(retry: RetrySettings, attempt: int) -> int:
    """Delay of the retry tier for the ``attempt``-th retry (1-based); the last tier repeats.

    The rule is the worker's own (:meth:`RetryPolicy.delay_for`); this checks the arguments first.
    """
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    if not retry.delays_ms:
        raise ConfigurationError("retry.delays_ms must name at least one tier")
    return RetryPolicy(retry.max_attempts, retry.delays_ms).delay_for(attempt)


def renkei_topology(prefix: str, retry: RetrySettings) -> Topology:
    """Build the whole topology for ``prefix``.

    Raises:
        ConfigurationError: a bad prefix, or a retry delay that is not a positive number of milliseconds.
    """
    names = Names(prefix)
    work_args = _work_queue_arguments(names, retry.delivery_limit)
    exchanges = [
        ExchangeSpec(names.ingress_exchange, "direct"),
        ExchangeSpec(names.route_exchange, "direct"),
        ExchangeSpec(names.counterpart_exchange, "direct"),
        ExchangeSpec(names.dead_letter_exchange, "fanout"),
    ]
    queues = [
        QueueSpec(names.ingress_queue, work_args, ((names.ingress_exchange, INGRESS_ROUTING_KEY),)),
        *(QueueSpec(names.adapter_queue(a), work_args, ((names.route_exchange, a),)) for a in ADAPTERS),
        *(
            QueueSpec(
                names.counterpart_queue(c, d),
                work_args,
                ((names.counterpart_exchange, names.counterpart_routing_key(c, d)),),
            )
            for c in COUNTERPARTS
            for d in ("outbound", "inbound")
        ),
        QueueSpec(names.dead_letter_queue, {"x-queue-type": "quorum"}, ((names.dead_letter_exchange, ""),)),
    ]
    for delay in sorted(set(retry.delays_ms)):
        tier = names.retry_exchange(delay)
        exchanges.append(ExchangeSpec(tier, "fanout"))
        queues.append(QueueSpec(tier, _retry_queue_arguments(delay), ((tier, ""),)))
    return Topology(exchanges=tuple(exchanges), queues=tuple(queues))


def apply_topology(transport: Transport, settings: Settings) -> Topology:
    """Declare renkei's topology for ``settings`` through ``transport`` and return it.

    Raises:
        ConfigurationError: invalid settings, or a queue exists with other arguments.
        BrokerUnavailable: the broker could not be reached.
    """
    topology = renkei_topology(settings.exchange_prefix, settings.retry)
    transport.declare(topology)
    return topology


def _work_queue_arguments(names: Names, delivery_limit: int) -> dict[str, HeaderValue]:
    return {
        "x-queue-type": "quorum",
        "x-dead-letter-exchange": names.dead_letter_exchange,
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
        "x-delivery-limit": delivery_limit,
    }


def _retry_queue_arguments(delay_ms: int) -> dict[str, HeaderValue]:
    return {
        "x-queue-type": "quorum",
        "x-message-ttl": delay_ms,
        # The default exchange and no x-dead-letter-routing-key: the message's own routing key (the
        # name of its original queue) takes it back there.
        "x-dead-letter-exchange": "",
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }


def _known(name: str, allowed: tuple[str, ...], what: str) -> None:
    if name not in allowed:
        raise ConfigurationError(f"unknown {what} {name!r}; known: {', '.join(allowed)}")


def _positive(delay_ms: int) -> int:
    if isinstance(delay_ms, bool) or not isinstance(delay_ms, int) or delay_ms <= 0:
        raise ConfigurationError("a retry delay must be a positive whole number of milliseconds")
    return delay_ms
