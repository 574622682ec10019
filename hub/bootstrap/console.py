"""The operator console's composition root: its database, its keys, its one broker connection.

The console holds the vault's keys (tokens, member scope) and the hub's private keys, which reveal a dead
letter's number sealed *for the hub* to an admin allowed to see it
(:class:`~hub.infra.keys.service_keys.ConsoleKeys`). A number sealed for a counterpart's adapter opens with
that adapter's private key alone, which never leaves the adapter: the console does not reveal it (see
``docs/keys.md``). It connects to the broker as ``console`` (replays, queue depths).
"""

from __future__ import annotations

import threading

from sqlalchemy import Engine

from contracts.errors import ConfigurationError
from hub.bootstrap.common import Wiring, process_chain, uow_factory
from hub.bootstrap.transports import TransportFactory
from hub.core.operator.notices import Notice, NoticeCode
from hub.core.runtime.retry import Exchanges
from hub.core.runtime.senders import ReplayRoutes
from hub.infra.broker.credentials import replay_routes
from hub.infra.broker.topology import Names
from hub.infra.crypto.sealing import HpkeUnsealer
from hub.infra.db.uow import SqlUnitOfWorkFactory
from hub.infra.keys.service_keys import ConsoleKeys
from hub.ports.transport import Transport
from hub.settings import Settings

__all__ = ["ConsoleRoot"]


class ConsoleRoot:
    """What the console's routes work with; :meth:`close` releases its connection and its engine.

    Args:
        settings: the settings in force.
        keys: the console's key bundles.
        transports: makes its broker connection (service ``console``).
        engine: the database (disposed of by :meth:`close`).
    """

    def __init__(
        self, settings: Settings, keys: ConsoleKeys, transports: TransportFactory, *, engine: Engine
    ) -> None:
        wiring = Wiring.of(settings)
        self.settings = settings
        self.names: Names = wiring.names
        self.exchanges: Exchanges = wiring.exchanges
        self.engine = engine
        self.uow_factory: SqlUnitOfWorkFactory = uow_factory(engine, process_chain(), keys.vault)
        self.replay_routes: ReplayRoutes = replay_routes(settings, wiring.exchanges)
        self._reveal = {owner: HpkeUnsealer(k) for owner, k in keys.reveal.items()}
        self._transports = transports
        self._transport: Transport | None = None
        self._lock = threading.Lock()

    def unsealer(self, recipient: str) -> HpkeUnsealer:
        """What opens a number sealed for ``recipient``, to reveal it.

        Raises:
            ConfigurationError: the console holds no key for ``recipient``.
        """
        try:
            return self._reveal[recipient]
        except KeyError:
            raise ConfigurationError(
                Notice(NoticeCode.REVEAL_SEALED_ELSEWHERE, recipient=recipient)
            ) from None

    def transport(self) -> Transport:
        """The console's broker connection (made on first use, closed by :meth:`close`)."""
        with self._lock:
            if self._transport is None:
                self._transport = self._transports("console", "console")
            return self._transport

    def close(self) -> None:
        """Close the broker connection and dispose of the engine."""
        with self._lock:
            transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()
        self.engine.dispose()
