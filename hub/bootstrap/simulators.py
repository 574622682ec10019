"""The simulator host's composition root, built from a table of simulator specs (one :class:`SimulatorSpec`).

A simulated counterpart consumes its outbound line and answers on its inbound line; it connects to the
broker as ``simulator-<name>`` and holds one key, its side of the line
(:class:`~hub.infra.keys.bundles.LinkKeys`). What it simulates (the synthetic population, the register of
new entitlements, the municipalities' decisions, the network's seed) is a :class:`SimulatorWorld` given by
the caller: the demo's is :func:`hub.demo.data.demo_world`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Protocol, runtime_checkable

from adapters.eltax import EltaxSimulator, MunicipalRegister
from adapters.implementing_bodies import ImplementingBodiesSimulator
from adapters.intermediate_server import IntermediateServerSimulator, Permission, Requester
from adapters.jlis import JlisSimulator, NewEntitlementRegister, SyntheticPopulation
from adapters.nta import NtaSimulator
from contracts.errors import ConfigurationError
from contracts.link import CounterpartFile, Simulator
from hub.bootstrap.common import Wiring, body_limits, consume, load_legal_basis_table, spec_named
from hub.bootstrap.transports import TransportFactory
from hub.core.rules.legal_basis import MUNICIPALITY
from hub.core.runtime.hosting import HostDeps, SimulatorHost, counterpart_message
from hub.infra.crypto.link_cipher import AeadLinkCipher
from hub.infra.keys.bundles import LinkKeys
from hub.infra.runner import ServiceGroup
from hub.infra.service_names import simulator_service
from hub.settings import Settings

__all__ = [
    "SIMULATOR_SPECS",
    "SIMULATOR_TICK_S",
    "SimulatorSpec",
    "SimulatorWorld",
    "TickingSimulator",
    "build_simulator_host",
    "simulator_spec",
]

SIMULATOR_TICK_S = 0.2
"""How often a simulator that lets time pass (the intermediate server) releases late answers and notices."""


@dataclass(frozen=True, slots=True)
class SimulatorWorld:
    """The synthetic world the simulators answer from (synthetic data only).

    Attributes:
        population: the pensioners J-LIS answers survival/change inquiries about.
        register: the new entitlements J-LIS finds by 4情報.
        municipalities: the municipalities' decisions eLTAX reports.
        seed: the intermediate server's draws.
    """

    population: SyntheticPopulation
    register: NewEntitlementRegister
    municipalities: MunicipalRegister
    seed: int


@runtime_checkable
class TickingSimulator(Simulator, Protocol):
    """A simulator that holds files back and releases them as time passes."""

    def tick(self) -> list[CounterpartFile]:
        """Files due now (offered again until confirmed)."""
        ...

    def confirm(self, names: Sequence[str]) -> None:
        """The files named were published."""
        ...


BuildSimulator = Callable[[Settings, SimulatorWorld], Simulator]


@dataclass(frozen=True, slots=True)
class SimulatorSpec:
    """One simulated counterpart: its name (its line's), a line for ``--help``, and how to build it."""

    name: str
    summary: str
    build: BuildSimulator


def _jlis(settings: Settings, world: SimulatorWorld) -> JlisSimulator:
    return JlisSimulator(world.population, register=world.register)


def _eltax(settings: Settings, world: SimulatorWorld) -> EltaxSimulator:
    return EltaxSimulator(world.municipalities)


def _nta(settings: Settings, world: SimulatorWorld) -> NtaSimulator:
    # It answers from the submitted file alone (its own share of rejected files): no world of its own.
    return NtaSimulator()


def _implementing_bodies(settings: Settings, world: SimulatorWorld) -> ImplementingBodiesSimulator:
    # It answers from the forwarded file alone (its own share of returned claims): no world of its own.
    return ImplementingBodiesSimulator()


def _intermediate_server(settings: Settings, world: SimulatorWorld) -> IntermediateServerSimulator:
    # Its permissions are the legal-basis table's rows for municipalities; its registrations (codes, record
    # ids, 副本) are kept under the data directory across restarts.
    # Other institutions it serves from the federation's 副本: the provision rows whose current item is known.
    table = load_legal_basis_table()
    permissions = [
        Permission(r.jimu_code, r.current_item, r.current_article, r.legacy_item, r.spi_codes)
        for r in table.queries
        if r.provider_kind == MUNICIPALITY
    ]
    requesters = [
        Requester(
            f"REQ{r.current_item:03d}",
            r.requester_kind,
            r.jimu_name,
            r.current_item,
            r.current_article,
            r.legacy_item,
        )
        for r in table.provides
        if r.current_item is not None and r.current_article is not None
    ]
    state = settings.data_dir / "simulators" / "intermediate_server" / "state.jsonl"
    return IntermediateServerSimulator(
        seed=world.seed, permissions=permissions, requesters=requesters, state_file=state
    )


SIMULATOR_SPECS: Final[Mapping[str, SimulatorSpec]] = {
    spec.name: spec
    for spec in (
        SimulatorSpec("jlis", "住基ネット/J-LIS: answers from the synthetic population", _jlis),
        SimulatorSpec(
            "intermediate_server",
            "中間サーバー: codes, answers (some late), provision notices",
            _intermediate_server,
        ),
        SimulatorSpec("eltax", "eLTAX: receipts and municipalities' notices", _eltax),
        SimulatorSpec("nta", "国税庁: receipts of withholding slips (受信通知), some files rejected", _nta),
        SimulatorSpec(
            "implementing_bodies",
            "他の実施機関: receipts of forwarded claims, some returned (返戻)",
            _implementing_bodies,
        ),
    )
}
"""Every simulated counterpart, in the order of :data:`hub.infra.broker.topology.COUNTERPARTS`."""


def simulator_spec(name: str) -> SimulatorSpec:
    """The spec of simulator ``name``.

    Raises:
        ValueError: there is no such simulator.
    """
    return spec_named(SIMULATOR_SPECS, name, "simulator")


def build_simulator_host(
    spec: SimulatorSpec,
    settings: Settings,
    link: LinkKeys,
    transports: TransportFactory,
    world: SimulatorWorld,
    *,
    simulator: Simulator | None = None,
    group: ServiceGroup | None = None,
) -> ServiceGroup:
    """The threads of one simulated counterpart, added to ``group`` (which closes their transports).

    Args:
        spec: which counterpart.
        settings: the settings in force.
        link: the counterpart's link keys, its only keys.
        transports: makes its connections (service ``simulator-<name>``).
        world: what it answers from.
        simulator: a simulator built by the caller instead of by ``spec`` (tests).
        group: the group to add to (a new one by default).

    Raises:
        ConfigurationError: ``link`` is another counterpart's key.
    """
    if link.counterpart != spec.name:
        raise ConfigurationError(f"the {spec.name} simulator was given the link key of {link.counterpart}")
    group = group or ServiceGroup()
    wiring = Wiring.of(settings)
    service = simulator_service(spec.name)
    cipher = AeadLinkCipher(link)
    limits = body_limits(settings)
    simulated = simulator if simulator is not None else spec.build(settings, world)
    transport = group.own(transports(service, "link"))
    host = SimulatorHost(simulated, HostDeps(transport, wiring.exchanges, wiring.retry, cipher, limits))
    consume(
        group, service, transport, wiring.names.counterpart_queue(spec.name, "outbound"), host, wiring=wiring
    )
    if isinstance(simulated, TickingSimulator):
        ticking = simulated
        deps = HostDeps(
            group.own(transports(service, "tick")), wiring.exchanges, wiring.retry, cipher, limits
        )

        def release() -> int:
            # Late answers and notices leave when time has passed; unconfirmed ones are offered again.
            files = ticking.tick()
            if files:
                deps.transport.publish([counterpart_message(f, "inbound", deps) for f in files])
                ticking.confirm([f.name for f in files])
            return len(files)

        group.every(f"{service}-tick", SIMULATOR_TICK_S, release)
    return group
