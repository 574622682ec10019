"""The demo's synthetic data: one seed for every simulated register, loading the vault, the pension side.

Synthetic data only: numbers with valid check digits that belong to nobody. The demo, the benchmark, the
simulators started by ``renkei run simulator`` and the tests share :data:`DEMO_SEED`, so that they all speak
of the same (invented) people.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from adapters.eltax import MunicipalRegister
from adapters.jlis import NewEntitlementRegister, SyntheticPopulation
from adapters.pension import PensionSystemSimulator
from contracts.envelope import Envelope
from contracts.individual_number import IndividualNumber
from contracts.usage_number import UsageNumber
from hub.bootstrap.simulators import SimulatorWorld
from hub.bootstrap.transports import TransportFactory, transient
from hub.core.operator.holds import ENTITLEMENT_RETENTION, jlis_grounds
from hub.core.runtime.retry import Exchanges
from hub.core.runtime.routing import to_outgoing
from hub.ports.store import UnitOfWorkFactory
from hub.settings import Settings

__all__ = [
    "DEMO_SEED",
    "demo_municipalities",
    "demo_population",
    "demo_register",
    "demo_world",
    "enrol_population",
    "pension_system",
    "publish_as_pension",
]

DEMO_SEED: Final = 20_261_126


DEMO_ASSOCIATION: Final = "m130001"
"""The 構成組合 the demo's 構成組合-only flows (dependants' declarations, 情報照会) run on behalf of:
東京都市町村職員共済組合
in the purpose table's synthetic actor list."""


def demo_population(records: int) -> SyntheticPopulation:
    """The synthetic register the demo, the simulator and the tests share (same seed, same people)."""
    return SyntheticPopulation(size=records, seed=DEMO_SEED)


def demo_register(records: int) -> NewEntitlementRegister:
    """The people J-LIS finds by 4情報 for number acquisition (new entitlements), shared like the population.

    A register of its own seed: new entitlements are not yet in the pensioners' population.
    """
    return NewEntitlementRegister(size=records, seed=DEMO_SEED + 1)


def demo_municipalities() -> MunicipalRegister:
    """The simulated municipalities' decisions (eLTAX), pure functions of the demo seed."""
    return MunicipalRegister(seed=DEMO_SEED)


def demo_world(population: SyntheticPopulation) -> SimulatorWorld:
    """What the simulators answer from in the demo: ``population`` and the registers of the demo seed."""
    return SimulatorWorld(
        population=population,
        register=demo_register(population.size),
        municipalities=demo_municipalities(),
        seed=DEMO_SEED,
    )


def pension_system(settings: Settings) -> PensionSystemSimulator:
    """The simulated pension benefit system, on the other side of the pension adapter's directories."""
    return PensionSystemSimulator(settings.wire_dir / "pension")


def enrol_population(
    uow_factory: UnitOfWorkFactory, population: SyntheticPopulation, records: int, chunk: int = 2_000
) -> None:
    """Load the synthetic 個人番号管理ファイル (usage number ↔ number) into the vault (idempotent).

    The file was filled from J-LIS (seed, システム1: 一括取得): each person is held as a 年金受給権者 whose
    number came from J-LIS.
    """
    for start in range(0, records, chunk):
        links: list[tuple[UsageNumber, IndividualNumber | None]] = [
            (population.usage_number(i), population.individual_number(i))
            for i in range(start, min(records, start + chunk))
        ]
        with uow_factory() as uow:
            known = uow.vault.subjects_by_usage([u for u, _ in links])
            fresh = [(u, n) for u, n in links if u not in known]
            if fresh:
                subjects = uow.vault.enrol(fresh, retention=ENTITLEMENT_RETENTION, source="demo-load")
                jlis_grounds(uow.vault, [(subjects[u], u) for u, _ in fresh], source="demo-load")
            uow.commit()


def publish_as_pension(
    transports: TransportFactory, exchanges: Exchanges, envelopes: Sequence[Envelope]
) -> None:
    """Publish the pension system's messages straight to the hub's ingress, as the pension adapter's service.

    The pension adapter reads only some request files; flows whose requests have no file format yet stand in
    for the pension system this way (demo and tests).
    """
    with transient(transports, "adapter-pension", "as-pension") as transport:
        transport.publish([to_outgoing(env, exchanges) for env in envelopes])
