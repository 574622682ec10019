"""The operator tools' composition root.

What ``renkei vault``, ``dlq``, ``topology``, ``retention``, ``keys``, ``audit checkpoint`` and ``console
members`` work with.

Operator tools run beside the hub. They connect to the broker as ``operator``, and each command asks only
for the keys it uses: dead-letter commands none (their units of work have no vault), the vault's commands the
operator's bundles (:class:`~hub.infra.keys.service_keys.OperatorKeys`), the checkpoint job the audit
signing key.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from contracts.errors import ConfigurationError
from hub.bootstrap.common import Wiring, process_chain, uow_factory
from hub.bootstrap.transports import TransportFactory, transient
from hub.core.runtime.senders import ReplayRoutes
from hub.infra.audit.checkpoint import Checkpoint, CheckpointSigner, write_checkpoint
from hub.infra.broker.credentials import replay_routes
from hub.infra.crypto.sealing import HpkeSealer, HpkeUnsealer
from hub.infra.crypto.signing import Ed25519Signer, signer_from_settings
from hub.infra.keys.service_keys import OperatorKeys
from hub.ports.transport import Transport
from hub.settings import Settings

__all__ = ["OperatorTools", "checkpoint_now", "checkpoint_signer"]


class OperatorTools:
    """The database, the operator's keys (if the command needs them) and the broker as ``operator``.

    Args:
        settings: the settings in force.
        engine: the database (disposed of by :meth:`close`).
        keys: the operator's key bundles, for commands that touch the vault or held numbers; without them
            the units of work have no vault.
        transports: makes broker connections, for commands that publish or look at queues.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        engine: Engine,
        keys: OperatorKeys | None = None,
        transports: TransportFactory | None = None,
    ) -> None:
        wiring = Wiring.of(settings)
        self.settings = settings
        self.names = wiring.names
        self.exchanges = wiring.exchanges
        self.engine = engine
        self.uow_factory = uow_factory(engine, process_chain(), keys.vault if keys else None)
        self.replay_routes: ReplayRoutes = replay_routes(settings, wiring.exchanges)
        """Where dead letters are replayed to (computed from the message type, never from a header)."""
        self._keys = keys
        self._transports = transports

    def hub_unsealer(self) -> HpkeUnsealer:
        """What opens numbers sealed for the hub (held candidates).

        Raises:
            ConfigurationError: these tools were built without the operator's keys.
        """
        return HpkeUnsealer(self._operator_keys().unsealing)

    def hub_sealer(self) -> HpkeSealer:
        """What seals for the hub under its current key (re-sealing held candidates before a retirement).

        Raises:
            ConfigurationError: these tools were built without the operator's keys.
        """
        return HpkeSealer(self._operator_keys().sealing)

    def _operator_keys(self) -> OperatorKeys:
        if self._keys is None:
            raise ConfigurationError("this operator command was built without the operator's keys")
        return self._keys

    @contextmanager
    def transport(self, role: str) -> Iterator[Transport]:
        """A broker connection as ``operator`` for one piece of work, closed afterwards.

        Raises:
            ConfigurationError: these tools were built without transports.
        """
        if self._transports is None:
            raise ConfigurationError("this operator command was built without a broker connection")
        with transient(self._transports, "operator", role) as transport:
            yield transport

    def close(self) -> None:
        """Dispose of the engine."""
        self.engine.dispose()


def checkpoint_signer(settings: Settings) -> Ed25519Signer:
    """The audit signing key of the checkpoint job (generated in development on first run).

    Raises:
        ConfigurationError: the key is missing in production, or unusable.
    """
    return signer_from_settings(settings)


def checkpoint_now(engine: Engine, signer: CheckpointSigner) -> Checkpoint | None:
    """Seal the chain heads that grew in a signed checkpoint, now (``None`` when none grew)."""
    with engine.begin() as conn:
        return write_checkpoint(conn, signer)
