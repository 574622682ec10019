"""The composition root: the one place that builds concrete infrastructure and wires it to the core.

Nothing connects at import time. ``bootstrap(settings)`` returns a :class:`Hub` from which entrypoints
(the CLI, the demo, the console, tests) take what they need; tests pass fakes through the keyword
arguments instead of touching the network.
"""

from __future__ import annotations

import functools
import os
import socket
import threading
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Connection, Engine

from adapters.eltax import EltaxAdapter, EltaxSimulator, MunicipalRegister
from adapters.intermediate_server import IntermediateServerAdapter, IntermediateServerSimulator, Permission
from adapters.jlis import JlisAdapter, JlisSimulator, NewEntitlementRegister, SyntheticPopulation
from adapters.pension import DirectoryGateway, PensionAdapter, PensionSystemSimulator
from contracts.envelope import Envelope
from contracts.individual_number import IndividualNumber
from contracts.usage_number import UsageNumber
from hub.core.body_limits import BodyLimits
from hub.core.dead_letters import DeadLetterConfig, DeadLetterConsumer
from hub.core.failure import Exchanges, RetryPolicy
from hub.core.hosting import AdapterHost, DirectoryPoller, HostDeps, SimulatorHost, counterpart_message
from hub.core.legal_basis import MUNICIPALITY, LegalBasisTable
from hub.core.policy import NumberPolicy
from hub.core.routing import HANDLERS, to_outgoing
from hub.core.worker import HubWorker, WorkerDeps
from hub.infra.audit_checkpoint import Checkpointer
from hub.infra.audit_provision import SqlProvisionLog
from hub.infra.audit_sql import ChainWriter, SqlAuditLog
from hub.infra.broker_credentials import sender_identities
from hub.infra.codes_sql import SqlCodeStore
from hub.infra.crypto.keyring import Keyring, load_keyring
from hub.infra.crypto.sealing import AeadSealer, AeadUnsealer
from hub.infra.crypto.signing import signer_from_settings
from hub.infra.db.engine import make_engine
from hub.infra.db.migrate import upgrade
from hub.infra.db.uow import SqlUnitOfWorkFactory
from hub.infra.link_cipher import AeadLinkCipher
from hub.infra.logs import configure_logging_from
from hub.infra.metrics_sampler import MetricsSampler
from hub.infra.runner import ServiceGroup
from hub.infra.topology import Names, apply_topology, renkei_topology
from hub.infra.transport_pika import PikaTransport
from hub.infra.vault_memo import MemoisingVault
from hub.ports.dead_letters import DeadLetterStatus
from hub.ports.transport import Transport
from hub.ports.vault import Retention
from hub.settings import Settings

__all__ = ["DEMO_SEED", "Hub", "bootstrap", "demo_population", "demo_register"]

DEMO_SEED = 20_261_126
COUNTERPARTS = ("jlis", "intermediate_server", "eltax")
TransportFactory = Callable[[str], Transport]


def demo_population(records: int) -> SyntheticPopulation:
    """The synthetic register the demo, the simulator and the tests share (same seed, same people)."""
    return SyntheticPopulation(size=records, seed=DEMO_SEED)


def demo_register(records: int) -> NewEntitlementRegister:
    """The people J-LIS finds by 4情報 for number acquisition (new entitlements), shared like the population.

    A register of its own seed: new entitlements are not yet in the pensioners' population.
    """
    return NewEntitlementRegister(size=records, seed=DEMO_SEED + 1)


def load_policy(path: Path | None = None) -> NumberPolicy:
    """Load the number policy kept in the repository (``hub/number_policy.toml``)."""
    text = (
        path.read_text(encoding="utf-8")
        if path
        else resources.files("hub").joinpath("number_policy.toml").read_text(encoding="utf-8")
    )
    return NumberPolicy.from_mapping(tomllib.loads(text))


def load_legal_basis_table(path: Path | None = None) -> LegalBasisTable:
    """Load the legal-basis table of the information-provision network (``hub/legal_basis_table.toml``)."""
    text = (
        path.read_text(encoding="utf-8")
        if path
        else resources.files("hub").joinpath("legal_basis_table.toml").read_text(encoding="utf-8")
    )
    return LegalBasisTable.from_mapping(tomllib.loads(text))


def body_limits(settings: Settings) -> BodyLimits:
    """The body size limits of every consumer, from settings."""
    limits = settings.body_limit
    return BodyLimits(limits.default_bytes, MappingProxyType(dict(limits.per_type)), limits.kept_bytes)


def _link_keys(keyring: Keyring) -> dict[str, bytes]:
    # One key per counterpart line, derived from that counterpart's current sealing key.
    keys = {}
    for counterpart in COUNTERPARTS:
        material = keyring.sealing_keys(counterpart).current.material
        hkdf = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"renkei-link-v1|" + counterpart.encode()
        )
        keys[counterpart] = hkdf.derive(material)
    return keys


@dataclass
class Hub:
    """The wired application."""

    settings: Settings
    names: Names
    engine: Engine
    keyring: Keyring
    policy: NumberPolicy
    transport_factory: TransportFactory
    chain: ChainWriter
    _transports: list[Transport] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    legal_basis: LegalBasisTable = field(default_factory=load_legal_basis_table)

    @property
    def exchanges(self) -> Exchanges:
        """Exchange names for the core."""
        n = self.names
        return Exchanges(
            ingress=n.ingress_exchange,
            route=n.route_exchange,
            counterpart=n.counterpart_exchange,
            dead=n.dead_letter_exchange,
            retry=n.retry_exchange,
        )

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy from settings."""
        return RetryPolicy(self.settings.retry.max_attempts, self.settings.retry.delays_ms)

    def transport(self, role: str) -> Transport:
        """A new transport (its own connections) named after ``role``; closed by :meth:`close`."""
        transport = self.transport_factory(role)
        with self._lock:
            self._transports.append(transport)
        return transport

    def uow_factory(self) -> SqlUnitOfWorkFactory:
        """Units of work on the hub's database."""
        keyring = self.keyring

        def vault(conn: Connection) -> MemoisingVault:
            return MemoisingVault(conn, keyring)

        def audit(conn: Connection) -> SqlAuditLog:
            return SqlAuditLog(conn, self.chain)

        def codes(conn: Connection) -> SqlCodeStore:
            return SqlCodeStore(conn, keyring)

        def provisions(conn: Connection) -> SqlProvisionLog:
            return SqlProvisionLog(conn, self.chain)

        return SqlUnitOfWorkFactory(
            self.engine, vault, audit, codes_factory=codes, provisions_factory=provisions
        )

    def prepare(self) -> None:
        """Migrate the database and declare the broker topology (both idempotent)."""
        self.prepare_database()
        self.prepare_broker()

    def prepare_database(self) -> None:
        """Migrate the database to the newest schema (idempotent)."""
        upgrade(self.engine)

    def prepare_broker(self) -> None:
        """Declare the broker topology (idempotent)."""
        apply_topology(self.transport("topology"), self.settings)

    def declared_queues(self) -> list[str]:
        """Names of every queue of the topology."""
        return [q.name for q in renkei_topology(self.settings.exchange_prefix, self.settings.retry).queues]

    def host_deps(self, transport: Transport) -> HostDeps:
        """Dependencies of adapter and simulator hosts."""
        link = AeadLinkCipher(_link_keys(self.keyring))
        return HostDeps(transport, self.exchanges, self.retry, link, body_limits(self.settings))

    def hub_worker(self, transport: Transport, actor: str | None = None) -> HubWorker:
        """The hub's ingress consumer."""
        return HubWorker(
            WorkerDeps(
                uow_factory=self.uow_factory(),
                transport=transport,
                sealer=AeadSealer(self.keyring),
                unsealer=AeadUnsealer(self.keyring, owner="hub"),
                policy=self.policy,
                exchanges=self.exchanges,
                retry=self.retry,
                handlers=HANDLERS,
                actor=actor or f"hub:{os.getpid()}",
                identities=sender_identities(self.settings),
                after_commit=self.checkpointer.maybe_checkpoint,
                legal_basis=self.legal_basis,
                body_limits=body_limits(self.settings),
            )
        )

    @functools.cached_property
    def checkpointer(self) -> Checkpointer:
        """Signs a checkpoint of every chain head after each 1,000 records or minute with new records."""
        return Checkpointer(self.engine, signer_from_settings(self.settings), [self.chain])

    def jlis_adapter(self) -> JlisAdapter:
        """The J-LIS adapter, holding only the J-LIS and hub sealing keys."""
        keys = self.keyring.for_recipients(["jlis", "hub"])
        return JlisAdapter(unsealer=AeadUnsealer(keys, owner="jlis"), sealer=AeadSealer(keys))

    def eltax_adapter(self) -> EltaxAdapter:
        """The eLTAX adapter, holding only the eLTAX and hub sealing keys."""
        keys = self.keyring.for_recipients(["eltax", "hub"])
        return EltaxAdapter(unsealer=AeadUnsealer(keys, owner="eltax"), sealer=AeadSealer(keys))

    def eltax_simulator(self) -> EltaxSimulator:
        """The simulated eLTAX and municipalities; their decisions are pure functions of the demo seed."""
        return EltaxSimulator(MunicipalRegister(seed=DEMO_SEED))

    def intermediate_server_adapter(self) -> IntermediateServerAdapter:
        """The intermediate server adapter, holding only the intermediate server's sealing key."""
        keys = self.keyring.for_recipients(["intermediate_server"])
        return IntermediateServerAdapter(unsealer=AeadUnsealer(keys, owner="intermediate_server"))

    def intermediate_server_simulator(self) -> IntermediateServerSimulator:
        """The simulated intermediate server: its permissions are the table's rows for municipalities.

        Its registrations (codes, record ids, 副本) are kept under the data directory across restarts.
        """
        permissions = [
            Permission(r.jimu_code, r.current_item, r.current_article, r.legacy_item, r.spi_codes)
            for r in self.legal_basis.queries
            if r.provider_kind == MUNICIPALITY and r.requester == self.legal_basis.requester
        ]
        state = self.settings.data_dir / "simulators" / "intermediate_server" / "state.jsonl"
        return IntermediateServerSimulator(seed=DEMO_SEED, permissions=permissions, state_file=state)

    def publish_as_pension(self, envelopes: Sequence[Envelope]) -> None:
        """Publish the pension system's messages straight to the hub's ingress (demo and tests).

        The pension adapter reads only survival request files; flows whose requests have no file format yet
        stand in for the pension system this way.
        """
        transport = self.transport_factory("as-pension")
        try:
            transport.publish([to_outgoing(env, self.exchanges) for env in envelopes])
        finally:
            transport.close()

    def pension_adapter(self) -> PensionAdapter:
        """The pension adapter on its directory exchange."""
        gateway = DirectoryGateway(self.settings.wire_dir / "pension")
        # Dependants' declarations carry numbers: the adapter seals them for the hub at once, so it holds
        # the hub's sealing key and no other.
        sealer = AeadSealer(self.keyring.for_recipients(["hub"]))
        return PensionAdapter(gateway, chunk_records=self.settings.chunk_records, sealer=sealer)

    def population(self, records: int) -> SyntheticPopulation:
        """The synthetic register of ``records`` people shared by the demo flows and the simulators."""
        return demo_population(records)

    def pension_system(self) -> PensionSystemSimulator:
        """The simulated pension benefit system, on the other side of the pension adapter's directories."""
        return PensionSystemSimulator(self.settings.wire_dir / "pension")

    def enrol_population(self, population: SyntheticPopulation, records: int, chunk: int = 2_000) -> None:
        """Load the synthetic 個人番号管理ファイル (usage number ↔ number) into the vault, in chunks."""
        factory = self.uow_factory()
        for start in range(0, records, chunk):
            links: list[tuple[UsageNumber, IndividualNumber | None]] = [
                (population.usage_number(i), population.individual_number(i))
                for i in range(start, min(records, start + chunk))
            ]
            with factory() as uow:
                known = uow.vault.subjects_by_usage([u for u, _ in links])
                fresh = [(u, n) for u, n in links if u not in known]
                if fresh:
                    uow.vault.enrol(
                        fresh, retention=Retention(basis="pension.entitlement"), source="demo-load"
                    )
                uow.commit()

    def dead_letter_consumer(self, actor: str | None = None) -> DeadLetterConsumer:
        """The consumer that keeps what reaches the dead-letter queue in the dead-letter store."""
        config = DeadLetterConfig(
            hub_queue=self.names.ingress_queue,
            queue_prefix=self.names.prefix,
            delivery_limit=self.settings.retry.delivery_limit,
            identities=sender_identities(self.settings),
            body_limits=body_limits(self.settings),
        )
        return DeadLetterConsumer(
            self.uow_factory(), config, actor=actor or f"hub:dead-letters:{os.getpid()}"
        )

    def dead_letter_depth(self) -> int:
        """Dead letters waiting for an operator: pending in the store, plus those still in the queue."""
        with self.uow_factory()() as uow:
            pending = uow.dead_letters.count(DeadLetterStatus.PENDING)
        ready, _ = self.transport("depth").queue_depth(self.names.dead_letter_queue)
        return pending + ready

    ADAPTERS = ("jlis", "intermediate_server", "eltax", "pension")
    SIMULATORS = ("jlis", "intermediate_server", "eltax")
    SIMULATOR_TICK_S = 0.2
    """How often the simulated intermediate server lets time pass (releases late answers and notices)."""

    def _consumer_options(self) -> dict[str, float | int]:
        s = self.settings
        return {"prefetch": s.prefetch, "batch_size": s.batch_size, "batch_wait_s": s.batch_wait_ms / 1000}

    def hub_services(self, group: ServiceGroup | None = None) -> ServiceGroup:
        """The hub's ingress consumer, its outbox relay and the dead-letter consumer."""
        group = group or ServiceGroup()
        transport = self.transport("hub")
        worker = self.hub_worker(transport)
        group.consume("hub", transport, self.names.ingress_queue, worker, **self._consumer_options())  # type: ignore[arg-type]
        group.every("outbox-relay", 5.0, worker.relay_pending)
        group.consume(
            "dead-letters",
            self.transport("dead-letters"),
            self.names.dead_letter_queue,
            self.dead_letter_consumer(),
            **self._consumer_options(),  # type: ignore[arg-type]
        )
        group.every("audit-checkpoint", 10.0, self.checkpointer.maybe_checkpoint)
        sampler = MetricsSampler(self.engine, self.names, queue_depth=self.transport("metrics").queue_depth)
        group.every("metrics-sampler", self.settings.console.sample_interval_s, sampler.sample)
        return group

    def adapter_services(self, name: str, group: ServiceGroup | None = None) -> ServiceGroup:
        """One adapter: its queue from the hub and its counterpart link (or directory poller)."""
        group, n, opts = group or ServiceGroup(), self.names, self._consumer_options()
        if name in ("jlis", "intermediate_server"):
            make = self.jlis_adapter if name == "jlis" else self.intermediate_server_adapter
            t_hub, t_link = self.transport(f"adapter-{name}"), self.transport(f"adapter-{name}-link")
            from_hub = AdapterHost(make(), self.host_deps(t_hub))
            from_link = AdapterHost(make(), self.host_deps(t_link))
            group.consume(f"adapter-{name}", t_hub, n.adapter_queue(name), from_hub.from_hub, **opts)  # type: ignore[arg-type]
            group.consume(
                f"adapter-{name}-link",
                t_link,
                n.counterpart_queue(name, "inbound"),
                from_link.from_counterpart,
                **opts,  # type: ignore[arg-type]
            )
        elif name == "eltax":
            t_hub, t_link = self.transport("adapter-eltax"), self.transport("adapter-eltax-link")
            from_hub = AdapterHost(self.eltax_adapter(), self.host_deps(t_hub))
            from_link = AdapterHost(self.eltax_adapter(), self.host_deps(t_link))
            group.consume("adapter-eltax", t_hub, n.adapter_queue("eltax"), from_hub.from_hub, **opts)  # type: ignore[arg-type]
            group.consume(
                "adapter-eltax-link",
                t_link,
                n.counterpart_queue("eltax", "inbound"),
                from_link.from_counterpart,
                **opts,  # type: ignore[arg-type]
            )
        elif name == "pension":
            t_hub = self.transport("adapter-pension")
            host = AdapterHost(self.pension_adapter(), self.host_deps(t_hub))
            group.consume("adapter-pension", t_hub, n.adapter_queue("pension"), host.from_hub, **opts)  # type: ignore[arg-type]
            poller = DirectoryPoller(self.pension_adapter(), self.transport("pension-poller"), self.exchanges)
            group.every("pension-poller", 0.2, poller.poll_all)
        else:
            raise ValueError(f"unknown adapter {name!r}")
        return group

    def simulator_services(
        self, name: str, population: SyntheticPopulation, group: ServiceGroup | None = None
    ) -> ServiceGroup:
        """A simulated counterpart on the broker."""
        group = group or ServiceGroup()
        if name not in self.SIMULATORS:
            raise ValueError(f"unknown simulator {name!r}")
        transport = self.transport(f"simulator-{name}")
        if name == "jlis":
            jlis = JlisSimulator(population, register=demo_register(population.size))
            host = SimulatorHost(jlis, self.host_deps(transport))
        elif name == "eltax":
            host = SimulatorHost(self.eltax_simulator(), self.host_deps(transport))
        else:
            simulator = self.intermediate_server_simulator()
            host = SimulatorHost(simulator, self.host_deps(transport))
            deps = self.host_deps(self.transport(f"simulator-{name}-tick"))

            def release() -> int:
                # Late answers and notices leave when time has passed; unconfirmed ones are offered again.
                files = simulator.tick()
                if files:
                    deps.transport.publish([counterpart_message(f, "inbound", deps) for f in files])
                    simulator.confirm([f.name for f in files])
                return len(files)

            group.every(f"simulator-{name}-tick", self.SIMULATOR_TICK_S, release)
        group.consume(
            f"simulator-{name}",
            transport,
            self.names.counterpart_queue(name, "outbound"),
            host,
            **self._consumer_options(),  # type: ignore[arg-type]
        )
        return group

    def services(self, *, simulators: bool, population: SyntheticPopulation | None = None) -> ServiceGroup:
        """Every service of the survival/change flow as threads of one process."""
        group = self.hub_services()
        for adapter in self.ADAPTERS:
            self.adapter_services(adapter, group)
        if simulators:
            if population is None:
                raise ValueError("the J-LIS simulator needs its population")
            for simulator in self.SIMULATORS:
                self.simulator_services(simulator, population, group)
        return group

    def close(self) -> None:
        """Close every transport and the engine."""
        with self._lock:
            transports, self._transports = self._transports, []
        for transport in transports:
            transport.close()
        self.engine.dispose()


def bootstrap(
    settings: Settings,
    *,
    transport_factory: TransportFactory | None = None,
    engine: Engine | None = None,
    keyring: Keyring | None = None,
    configure_logs: bool = True,
    log_to_stderr: bool = True,
) -> Hub:
    """Build the hub from settings; pass fakes to replace any piece."""
    if configure_logs:
        configure_logging_from(settings, stderr=log_to_stderr)
    keys = keyring or load_keyring(settings)
    db = engine or make_engine(settings.database_url)
    return Hub(
        settings=settings,
        names=Names(settings.exchange_prefix),
        engine=db,
        keyring=keys,
        policy=load_policy(),
        transport_factory=transport_factory
        or (
            lambda role: PikaTransport(
                settings.amqp_addresses,
                connection_name=f"renkei-{role}-{os.getpid()}",
                body_limits=body_limits(settings),
            )
        ),
        chain=ChainWriter(f"renkei pid {os.getpid()} on {socket.gethostname()}"),
    )
