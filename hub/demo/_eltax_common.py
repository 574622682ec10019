"""What the eLTAX demo flows share: the households, the chunks, the pension system's side of the files."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from adapters.jlis import SyntheticPopulation
from adapters.pension.messages import read_hub_messages
from contracts.envelope import Envelope, Purpose
from contracts.individual_number import IndividualNumber, synthetic_individual_number
from contracts.messages.eltax import DependantKind
from contracts.purpose_table import FEDERATION
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.core.flows.dependants import DECLARATION_HELD, DEPENDANT_ROLE
from hub.core.rules.retention import dependants_declaration_retention
from hub.demo.dependants import filing_deadline
from hub.demo.flow import FlowResult, pension_request
from hub.ports.vault import Ground

if TYPE_CHECKING:
    from pydantic import BaseModel

    from hub.demo.deployment import LocalDeployment

__all__ = [
    "CHUNK",
    "FlowResult",
    "PensionInbox",
    "Relative",
    "as_pension",
    "chunks",
    "enrol_households",
    "household",
]

CHUNK: Final = 500


@dataclass(frozen=True, slots=True)
class Relative:
    """A spouse (``kind`` None) or dependant named on a pensioner's declaration, synthetic."""

    usage: UsageNumber
    number: IndividualNumber
    name: str
    kind: DependantKind | None


def household(population: SyntheticPopulation, index: int) -> list[Relative]:
    """The spouse (one in three) and dependants (one in five: a parent; one in ten: a grandchild too)."""
    person = population.person(index)
    family = person.name.split("\u3000")[0]

    def relative(k: int, given: str, kind: DependantKind | None) -> Relative:
        draw = random.Random(f"renkei.demo.household/{population.seed}/{index}/{k}")
        usage = UsageNumber(kind=UsageNumberKind.DEPENDANT, value=f"D{index:010d}{k}")
        return Relative(usage, synthetic_individual_number(draw), f"{family}\u3000{given}", kind)

    people = []
    if index % 3 == 0:
        people.append(relative(0, "和夫" if person.female else "節子", None))
    if index % 5 == 0:
        people.append(relative(1, "千代子", DependantKind.ELDERLY))
    if index % 10 == 0:
        people.append(relative(2, "陽菜", DependantKind.UNDER_16))
    return people


def enrol_households(hub: LocalDeployment, records: int, *, tax_year: int) -> None:
    """Enrol the first ``records`` pensioners, then their relatives (as a 扶養親族等申告書 intake would).

    Idempotent: what the vault holds already is left as it is. The relatives are kept as the declaration
    for ``tax_year`` keeps them: until 10 January seven years after the year following its filing deadline
    (:func:`hub.core.rules.retention.dependants_declaration_retention`).
    """
    population = hub.population(records)
    hub.enrol_population(population, records)
    for start in range(0, records, 2_000):
        enrol_relatives(
            hub,
            [r for i in range(start, min(records, start + 2_000)) for r in household(population, i)],
            tax_year=tax_year,
        )


def enrol_relatives(hub: LocalDeployment, relatives: Sequence[Relative], *, tax_year: int) -> None:
    """Enrol relatives as a 扶養親族等申告書 for ``tax_year`` brought them: 扶養控除対象者 held for tax only.

    Idempotent; kept with the declaration's retention.
    """
    links = [(r.usage, r.number) for r in relatives]
    if not links:
        return
    retention = dependants_declaration_retention(filing_deadline(tax_year))
    with hub.uow_factory()() as uow:
        known = uow.vault.subjects_by_usage([u for u, _ in links])
        new = [(u, n) for u, n in links if u not in known]
        taken = uow.vault.subjects_by_number([n for _, n in new]) if new else {}
        # A synthetic number that clashes with someone's is left out: that relative goes without one.
        fresh: list[tuple[UsageNumber, IndividualNumber | None]] = [(u, n) for u, n in new if n not in taken]
        if fresh:
            subjects = uow.vault.enrol(fresh, retention=retention, source="demo-dependants")
            grounds = [(subjects[u], Ground(DEPENDANT_ROLE, DECLARATION_HELD)) for u, _ in fresh]
            uow.vault.add_grounds(grounds, source="demo-dependants")
        uow.commit()


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[tuple[int, int, Sequence[Any]]]:
    count = max(1, -(-len(items) // size))
    for index, start in enumerate(range(0, len(items), size)):
        yield index, count, items[start : start + size]


def as_pension(message_type: str, purpose: Purpose, payload: BaseModel, correlation: Any) -> Envelope:
    # 事務(5)(7) are the federation's alone
    return pension_request(message_type, purpose, payload, actor=FEDERATION, correlation=correlation)


class PensionInbox:
    """The pension system's side: the JSON files of the flow's correlation ids, each read once.

    A flow that asked in several request files waits for the answers of each (a file's batch is its
    correlation id, :func:`adapters.pension.mapping.kind_correlation_id`).
    """

    def __init__(self, hub: LocalDeployment, *correlations: Any) -> None:
        self._outbound = hub.settings.wire_dir / "pension" / "outbound"
        self._correlations = frozenset(correlations)
        self._seen: dict[str, dict[str, Any]] = {}

    def read(self, message_type: str, model: type[BaseModel]) -> list[Any]:
        seen = self._seen.setdefault(message_type, {})
        for env in read_hub_messages(self._outbound, message_type):
            if env.correlation_id in self._correlations and str(env.message_id) not in seen:
                seen[str(env.message_id)] = model.model_validate(env.payload)
        return list(seen.values())
