"""Every role of renkei in one process: the deployment of the demo, the benchmark and tests (not production).

:class:`LocalDeployment` assembles the roles' composition roots (:mod:`hub.bootstrap`) on one database and
one transport factory. Each role gets its own keys through the same role functions as the production
entrypoints (:mod:`hub.infra.keys.service_keys`), or cut from a keyring a test hands in. It adds the
demo's conveniences (the synthetic population, loading the vault, publishing as the pension system).
Production entrypoints (``renkei run hub|adapter|simulator``, the console, the operator commands) use only
their own role's builder.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence

from sqlalchemy import Engine

from adapters.jlis import SyntheticPopulation
from adapters.pension import PensionSystemSimulator
from contracts.envelope import Envelope
from contracts.link import Adapter, Simulator
from hub.bootstrap.adapters import ADAPTER_SPECS, adapter_spec, build_adapter_host
from hub.bootstrap.common import Wiring, configure_process_logs, load_policy, open_database
from hub.bootstrap.console import ConsoleRoot
from hub.bootstrap.hub_worker import HubWorkerRoot, worker_checkpoint_signer
from hub.bootstrap.prepare import declared_queues, prepare_broker, prepare_database
from hub.bootstrap.simulators import SIMULATOR_SPECS, build_simulator_host, simulator_spec
from hub.bootstrap.transports import TransportFactory, pika_transports, transient
from hub.core.rules.policy import NumberPolicy
from hub.core.runtime.dead_letter_consumer import DeadLetterConsumer
from hub.core.runtime.worker import HubWorker
from hub.demo.data import demo_population, demo_world, enrol_population, pension_system, publish_as_pension
from hub.infra.audit.checkpoint import Checkpointer
from hub.infra.broker.topology import COUNTERPARTS
from hub.infra.crypto.link_cipher import AeadLinkCipher
from hub.infra.db.uow import SqlUnitOfWorkFactory
from hub.infra.keys.bundles import LinkKeys
from hub.infra.keys.keyring import Keyring
from hub.infra.keys.keyring_files import deployment_keyring, ensure_development_keyrings
from hub.infra.keys.service_keys import (
    AdapterKeys,
    adapter_keys,
    adapter_keys_from,
    console_keys,
    console_keys_from,
    hub_keys,
    hub_keys_from,
    simulator_keys,
    simulator_keys_from,
)
from hub.infra.runner import ServiceGroup
from hub.infra.service_names import ServiceName
from hub.ports.dead_letters import DeadLetterStatus
from hub.ports.transport import Transport
from hub.settings import Environment, Settings

__all__ = ["LocalDeployment", "local_deployment"]


class LocalDeployment:
    """The hub worker, the adapters and the simulators in one process, on one database.

    Args:
        settings: the settings in force.
        transports: makes every role's connections.
        engine: the database (disposed of by :meth:`close`).
        keyring: a deployment's keyring to cut every role's keys from (tests); by default each role's keys
            come from its own keyring file through its role function, as in production.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        transports: TransportFactory,
        engine: Engine,
        keyring: Keyring | None = None,
    ) -> None:
        wiring = Wiring.of(settings)
        self.settings = settings
        self.names = wiring.names
        self.exchanges = wiring.exchanges
        self.retry = wiring.retry
        self.engine = engine
        self._keyring = keyring
        self.transports = transports
        self._owned: list[Transport] = []
        self._lock = threading.Lock()

    # -- the hub worker -------------------------------------------------------------------------------

    @functools.cached_property
    def hub(self) -> HubWorkerRoot:
        """The hub worker's root (built on first use: in development that may generate the signing key)."""
        return HubWorkerRoot(
            self.settings,
            hub_keys_from(self._keyring) if self._keyring is not None else hub_keys(self.settings),
            self.transports,
            engine=self.engine,
            signer=worker_checkpoint_signer(self.settings),
        )

    @functools.cached_property
    def keyring(self) -> Keyring:
        """Every service's keys merged, for tests that seal or open as any party (never a role's source).

        Without a keyring handed in, it is read from the services' keyring files (made on first run in
        development).
        """
        if self._keyring is not None:
            return self._keyring
        if self.settings.environment is Environment.DEVELOPMENT:
            ensure_development_keyrings(self.settings)
        return deployment_keyring(self.settings)

    def _adapter_keys(self, name: str) -> AdapterKeys:
        if self._keyring is not None:
            return adapter_keys_from(self._keyring, name)
        return adapter_keys(self.settings, name)

    def _link_key(self, counterpart: str) -> LinkKeys:
        if self._keyring is not None:
            return simulator_keys_from(self._keyring, counterpart)
        return simulator_keys(self.settings, counterpart)

    @functools.cached_property
    def policy(self) -> NumberPolicy:
        """The number policy kept in the repository."""
        return load_policy()

    @property
    def checkpointer(self) -> Checkpointer | None:
        """The hub worker's checkpointer, when it signs checkpoints."""
        return self.hub.checkpointer

    def uow_factory(self) -> SqlUnitOfWorkFactory:
        """The hub worker's units of work."""
        return self.hub.uow_factory

    def hub_worker(self, transport: Transport, actor: str | None = None) -> HubWorker:
        """An ingress consumer publishing on ``transport``."""
        return self.hub.worker(transport, actor)

    def dead_letter_consumer(self, actor: str | None = None) -> DeadLetterConsumer:
        """The dead-letter consumer."""
        return self.hub.dead_letter_consumer(actor)

    def hub_services(self, group: ServiceGroup | None = None) -> ServiceGroup:
        """The hub worker's threads."""
        return self.hub.services(group)

    # -- adapters and simulators ----------------------------------------------------------------------

    def adapter_services(self, name: str, group: ServiceGroup | None = None) -> ServiceGroup:
        """One adapter's threads, with that adapter's keys alone."""
        keys = self._adapter_keys(name)
        return build_adapter_host(adapter_spec(name), self.settings, keys, self.transports, group)

    def adapter(self, name: str) -> Adapter:
        """Adapter ``name`` itself (no host), built with its own keys alone."""
        return adapter_spec(name).build(self.settings, self._adapter_keys(name))

    def link_cipher(self, *counterparts: str) -> AeadLinkCipher:
        """A cipher of the lines of ``counterparts`` (every counterpart by default), to watch or feed them."""
        chosen = counterparts or COUNTERPARTS
        return AeadLinkCipher(*(self._link_key(c) for c in chosen))

    def simulator_services(
        self,
        name: str,
        population: SyntheticPopulation,
        group: ServiceGroup | None = None,
        *,
        simulator: Simulator | None = None,
    ) -> ServiceGroup:
        """One simulated counterpart's threads, answering from the demo world of ``population``."""
        spec = simulator_spec(name)
        link = self._link_key(name)
        world = demo_world(population)
        return build_simulator_host(
            spec, self.settings, link, self.transports, world, simulator=simulator, group=group
        )

    def services(self, *, simulators: bool, population: SyntheticPopulation | None = None) -> ServiceGroup:
        """Every role as threads of one group: the hub worker, every adapter, and the simulators if asked."""
        group = self.hub_services()
        for adapter in ADAPTER_SPECS:
            self.adapter_services(adapter, group)
        if simulators:
            if population is None:
                raise ValueError("the J-LIS simulator needs its population")
            for simulator in SIMULATOR_SPECS:
                self.simulator_services(simulator, population, group)
        return group

    def console(self) -> ConsoleRoot:
        """The console's root on this deployment's database, with the console's keys alone."""
        return ConsoleRoot(
            self.settings,
            console_keys_from(self._keyring) if self._keyring is not None else console_keys(self.settings),
            self.transports,
            engine=self.engine,
        )

    # -- preparing, looking, closing ------------------------------------------------------------------

    def prepare(self) -> None:
        """Migrate the database and declare the broker topology (both idempotent)."""
        self.prepare_database()
        self.prepare_broker()

    def prepare_database(self) -> None:
        """Migrate the database."""
        prepare_database(self.engine)

    def prepare_broker(self) -> None:
        """Declare the broker topology (as the operator)."""
        prepare_broker(self.settings, self.transports, "operator")

    def declared_queues(self) -> list[str]:
        """Names of every queue of the topology."""
        return declared_queues(self.settings)

    def transport(self, role: str, service: ServiceName = "operator") -> Transport:
        """A connection for a test's, the demo's or the benchmark's own use; closed by :meth:`close`.

        Args:
            role: what the connection is for (part of its name).
            service: whom it connects as: the operator by default (look-ups); the service whose part it
                plays when it publishes or consumes (the benchmark publishes as the pension adapter).
        """
        transport = self.transports(service, role)
        with self._lock:
            self._owned.append(transport)
        return transport

    def dead_letter_depth(self) -> int:
        """Dead letters waiting for an operator: pending in the store, plus those still in the queue."""
        with self.uow_factory()() as uow:
            pending = uow.dead_letters.count(DeadLetterStatus.PENDING)
        with transient(self.transports, "operator", "depth") as transport:
            ready, _ = transport.queue_depth(self.names.dead_letter_queue)
        return pending + ready

    def close(self) -> None:
        """Close the connections made by :meth:`transport` and dispose of the engine."""
        with self._lock:
            owned, self._owned = self._owned, []
        for transport in owned:
            transport.close()
        self.engine.dispose()

    # -- the demo's data ------------------------------------------------------------------------------

    def population(self, records: int) -> SyntheticPopulation:
        """The synthetic register of ``records`` people shared by the demo flows and the simulators."""
        return demo_population(records)

    def enrol_population(self, population: SyntheticPopulation, records: int, chunk: int = 2_000) -> None:
        """Load the synthetic population into the vault (idempotent)."""
        enrol_population(self.uow_factory(), population, records, chunk)

    def publish_as_pension(self, envelopes: Sequence[Envelope]) -> None:
        """Publish the pension system's messages straight to the hub's ingress."""
        publish_as_pension(self.transports, self.exchanges, envelopes)

    def pension_system(self) -> PensionSystemSimulator:
        """The simulated pension benefit system."""
        return pension_system(self.settings)


def local_deployment(
    settings: Settings,
    *,
    transports: TransportFactory | None = None,
    engine: Engine | None = None,
    keyring: Keyring | None = None,
    configure_logs: bool = True,
    log_to_stderr: bool = True,
) -> LocalDeployment:
    """Every role in one process from ``settings``; pass fakes to replace the broker, database or keys."""
    if configure_logs:
        configure_process_logs(settings, stderr=log_to_stderr)
    return LocalDeployment(
        settings,
        transports=transports or pika_transports(settings),
        engine=engine or open_database(settings),
        keyring=keyring,
    )
