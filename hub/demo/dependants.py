"""Dependants' declarations (扶養親族等申告書) as a demo flow.

Every pensioner of the synthetic register who is not a spouse files a declaration for next year: the
pensioner just before a spouse declares that spouse (by the spouse's dependant key and number), and
everyone declares one to three children or parents with numbers of a third synthetic register of their
own seed. The pension system drops one declaration file (the one kind with numbers in it: the adapter seals
them for the hub at once and deletes the file once published); the hub stores the numbers with the
declaration's retention and acknowledges each declaration.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Final

from adapters.jlis import SyntheticPopulation
from adapters.jlis.population import SPOUSE_EVERY
from adapters.pension.dependants import DeclarationRow, DependantEntry
from adapters.pension.simulator_kinds import PensionRequestsSimulator
from contracts.messages.dependants import DependantRelation
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.demo.data import DEMO_ASSOCIATION, DEMO_SEED
from hub.demo.flow import FlowResult

if TYPE_CHECKING:
    from hub.demo.deployment import LocalDeployment

__all__ = ["DependantsFlow", "declaration_rows", "filing_deadline", "relatives"]

MAX_RELATIVES: Final = 3
_RELATIONS: Final = (DependantRelation.CHILD, DependantRelation.PARENT, DependantRelation.OTHER_RELATIVE)


def filing_deadline(tax_year: int) -> date:
    """The deadline of a declaration for ``tax_year``: the day before the year's first payment (15 Feb)."""
    return date(tax_year, 2, 14)


def relatives(index: int) -> int:
    """How many children or parents pensioner ``index`` declares (1 to 3, a function of the index)."""
    return 1 + hashlib.sha256(f"relatives/{index}".encode()).digest()[0] % MAX_RELATIVES


def declaration_rows(
    population: SyntheticPopulation, relatives_register: SyntheticPopulation, records: int
) -> Iterator[DeclarationRow]:
    """The declarations of the first ``records`` people of ``population`` (spouses do not declare)."""
    submitted = date.today()
    for index in range(records):
        if population.is_spouse(index):
            continue
        dependants: list[DependantEntry] = []
        spouse = index + 1
        if spouse < records and population.is_spouse(spouse):
            dependants.append(
                DependantEntry(
                    1,
                    population.spouse_usage_number(spouse),
                    DependantRelation.SPOUSE,
                    population.individual_number(spouse),
                )
            )
        for k in range(relatives(index)):
            seq = len(dependants) + 1
            dependants.append(
                DependantEntry(
                    seq,
                    UsageNumber(kind=UsageNumberKind.DEPENDANT, value=f"D{index:010d}-{k + 1}"),
                    _RELATIONS[k % len(_RELATIONS)],
                    relatives_register.individual_number(index * MAX_RELATIVES + k),
                )
            )
        yield DeclarationRow(index + 1, population.usage_number(index), submitted, tuple(dependants))


def declarations_in(records: int) -> int:
    """How many declarations the first ``records`` people file."""
    return records - records // SPOUSE_EVERY


class DependantsFlow:
    """Drops one dependants' declaration file for next year."""

    name = "dependants_declaration"

    def __init__(self) -> None:
        self.batch_id = f"dec-{datetime.now(UTC):%Y%m%d%H%M%S%f}"
        self.tax_year = date.today().year + 1
        self._sent = 0
        self._pension: PensionRequestsSimulator | None = None

    def prepare(self, hub: LocalDeployment, records: int) -> None:
        """Nothing to seed: the declarations bring their numbers."""

    def start(self, hub: LocalDeployment, records: int) -> None:
        """Write the declaration file the way the pension system does (temporary name, manifest last)."""
        population = hub.population(records)
        relatives_register = SyntheticPopulation(size=records * MAX_RELATIVES, seed=DEMO_SEED + 2)
        self._sent = declarations_in(records)
        self._pension = PensionRequestsSimulator(hub.settings.wire_dir / "pension")
        self._pension.drop_dependants_declarations(
            declaration_rows(population, relatives_register, records),
            tax_year=self.tax_year,
            filing_deadline=filing_deadline(self.tax_year),
            batch_id=self.batch_id,
            actor=DEMO_ASSOCIATION,  # 事務(2) is a 構成組合's alone
        )

    def sent(self) -> int:
        """Declarations filed."""
        return self._sent

    def completed(self) -> int:
        """Declarations acknowledged (stored or refused)."""
        return self._pension.acknowledged_declarations(self.batch_id) if self._pension else 0

    def finish(self) -> FlowResult:
        """Read the acknowledgement files: distinct declarations, repeated rows, statuses."""
        outcomes: Counter[str] = Counter()
        seen: set[int] = set()
        rows = 0
        for ack in self._pension.dependants_acks(self.batch_id) if self._pension else ():
            rows += 1
            seen.add(ack.record_seq)
            outcomes[ack.status.value] += 1
            outcomes["dependants_stored"] += ack.dependants_stored
        return FlowResult(
            sent=self._sent, completed=len(seen), duplicates=rows - len(seen), outcomes=dict(outcomes)
        )
