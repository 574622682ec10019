"""A local deployment whose vault holds a few pensioners and relatives, for the tax reports' handler tests.

Pensioners ``certificate(0..3)`` are held from J-LIS as recipients, relatives ``dependant(0..3)`` from a
扶養親族等申告書 as dependants; ``certificate(9)`` is known without a number.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

from contracts.envelope import Envelope
from contracts.individual_number import IndividualNumber
from contracts.messages.eltax import PaymentReportRecord, ReportDependant, ReportSpouse
from contracts.registry import decode, encode
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.core.rules.policy import NumberPolicy
from hub.demo.deployment import LocalDeployment, local_deployment
from hub.infra.memory.transport import InMemoryTransport
from hub.ports.vault import Ground, Retention
from hub.settings import Settings
from tests._shared_transport import shared
from tests.eltax_fixtures import certificate, number
from tests.handler_context import handler_context

__all__ = ["dependant", "enrolled_hub", "report_record", "run"]

DEPENDANT = UsageNumberKind.DEPENDANT


def dependant(index: int) -> UsageNumber:
    return UsageNumber(kind=DEPENDANT, value=f"D{index:010d}")


def enrolled_hub(tmp_path: Path) -> Iterator[LocalDeployment]:
    settings = Settings(data_dir=tmp_path / "var", exchange_prefix="t", log_json=False)
    mem = InMemoryTransport()
    hub = local_deployment(settings, transports=shared(mem), configure_logs=False)
    hub.prepare()
    factory = hub.uow_factory()
    with factory() as uow:
        links: list[tuple[UsageNumber, IndividualNumber | None]] = [
            (certificate(i), number(i)) for i in range(4)
        ]
        links += [(dependant(i), number(100 + i)) for i in range(4)]
        links.append((certificate(9), None))  # known, but without a number
        subjects = uow.vault.enrol(links, retention=Retention(basis="test"), source="test")
        # Why each number is held: pensioners from J-LIS, their relatives from a 扶養親族等申告書.
        grounds = [(subjects[certificate(i)], Ground("recipient", "jlis")) for i in range(4)]
        grounds += [(subjects[dependant(i)], Ground("dependant", "declaration")) for i in range(4)]
        uow.vault.add_grounds(grounds, source="test")
        uow.commit()
    yield hub
    hub.close()


def run(hub, handler, envelope: Envelope, policy: NumberPolicy | None = None) -> list[Envelope]:
    message = decode(encode(envelope))
    with hub.uow_factory()() as uow:
        ctx = handler_context(hub, uow, policy=policy)
        out = handler(message, ctx)
        uow.commit()
    return [decode(encode(e)).envelope for e in out]


def report_record(
    seq: int, usage: UsageNumber, *, spouse: int | None = None, dependants=()
) -> PaymentReportRecord:
    return PaymentReportRecord(
        record_seq=seq,
        usage_number=usage,
        destination_municipality_code="13101",
        name="佐藤　茂",
        kana_name="サトウ　シゲル",
        address="東京都千代田区本町一丁目１番１号",
        birth_date=date(1950, 1, 1),
        spouse=None if spouse is None else ReportSpouse(usage_number=dependant(spouse), name="佐藤　節子"),
        dependants=tuple(
            ReportDependant(
                usage_number=dependant(k), name="佐藤　一郎", kana_name="サトウ　イチロウ", kind=kind
            )
            for k, kind in dependants
        ),
    )
