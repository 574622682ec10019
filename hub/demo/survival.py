"""The survival/change inquiry (生存異動照会) as a demo flow: every pensioner, and spouses by their key.

Every tenth person of the synthetic register is a pensioner's spouse (加給年金額の対象): the pension
system asks about them by their dependant key (``S`` and ten digits), which the flow links in the vault to
the same subject as their number, and the answer comes back under that key.

The request also names, by mistake, one dependant in every :data:`DEPENDANT_ONLY_EVERY` pensioners: a
grandchild the federation holds only from a 扶養親族等申告書 (a tax purpose). J-LIS may not be asked about
them (seed Ⅲ(1) リスク1); the hub answers them ``not_permitted`` and their numbers never reach J-LIS.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from itertools import chain
from typing import TYPE_CHECKING, Final

from adapters.jlis import SyntheticPopulation
from adapters.jlis.population import SPOUSE_EVERY
from adapters.pension import PensionSystemSimulator
from contracts.messages.eltax import DependantKind
from contracts.purpose_table import FEDERATION
from contracts.usage_number import UsageNumber
from hub.core.operator.holds import jlis_grounds
from hub.demo._eltax_common import Relative, enrol_relatives, household
from hub.demo.flow import FlowResult

if TYPE_CHECKING:
    from hub.demo.deployment import LocalDeployment

__all__ = ["DEPENDANT_ONLY_EVERY", "SurvivalFlow", "dependant_only", "next_payment_cycle"]

DEPENDANT_ONLY_EVERY: Final = 50
"""One dependant-only person (a declared grandchild) joins the inquiry per this many pensioners."""


def dependant_only(population: SyntheticPopulation, records: int) -> list[Relative]:
    """The declared grandchildren the demo's inquiry wrongly names: one per :data:`DEPENDANT_ONLY_EVERY`."""
    found: list[Relative] = []
    for index in range(0, records, DEPENDANT_ONLY_EVERY):
        found.extend(r for r in household(population, index) if r.kind is DependantKind.UNDER_16)
    return found


def next_payment_cycle(today: date) -> str:
    """The next even payment month (pensions are paid in even months), ``YYYY-MM``."""
    month = today.month + 1 + (today.month + 1) % 2
    year = today.year + (month > 12)
    return f"{year}-{(month - 1) % 12 + 1:02d}"


class SurvivalFlow:
    """Drops a request file of every pensioner into the pension system's outbound directory."""

    name = "survival_inquiry"

    def __init__(self, *, mistaken_dependants: bool = True) -> None:
        """``mistaken_dependants``: also name dependants J-LIS may not be asked about (not in the bench)."""
        self._name_dependants = mistaken_dependants
        self.batch_id = f"demo-{datetime.now(UTC):%Y%m%d%H%M%S%f}"
        self.cycle = next_payment_cycle(date.today())
        self._records = 0
        self.mistaken: tuple[UsageNumber, ...] = ()
        """The dependants named by mistake, in request order after the ``records`` pensioners and spouses."""
        self._pension: PensionSystemSimulator | None = None

    def prepare(self, hub: LocalDeployment, records: int) -> None:
        """Load the synthetic 個人番号管理ファイル (usage number ↔ number) and the spouses' keys."""
        population = hub.population(records)
        hub.enrol_population(population, records)
        factory = hub.uow_factory()
        step = 2_000 * SPOUSE_EVERY
        for start in range(SPOUSE_EVERY - 1, records, step):
            part = range(start, min(records, start + step), SPOUSE_EVERY)
            with factory() as uow:
                keys = {population.spouse_usage_number(i): population.usage_number(i) for i in part}
                known = uow.vault.subjects_by_usage(list(keys))
                subjects = uow.vault.subjects_by_usage(list(keys.values()))
                fresh = [(subjects[u], k) for k, u in keys.items() if k not in known and u in subjects]
                if fresh:
                    uow.vault.add_usage_numbers(fresh)
                    # A 加給年金額対象配偶者, asked about at J-LIS by the dependant key.
                    jlis_grounds(uow.vault, fresh, source="demo-spouses")
                uow.commit()
        if self._name_dependants:
            # The declared grandchildren (扶養控除対象者, held for tax only), from a 扶養親族等申告書.
            enrol_relatives(hub, dependant_only(population, records), tax_year=date.today().year - 1)

    def start(self, hub: LocalDeployment, records: int) -> None:
        """Write the request file the way the pension system does (temporary name, manifest last)."""
        population = hub.population(records)
        extra = [r.usage for r in dependant_only(population, records)] if self._name_dependants else []
        self._records = records
        self.mistaken = tuple(extra)
        self._pension = hub.pension_system()
        usage = chain((population.roster_usage_number(i) for i in range(records)), extra)
        self._pension.drop_survival_request(
            usage, cycle=self.cycle, as_of=date.today(), batch_id=self.batch_id, actor=FEDERATION
        )

    def sent(self) -> int:
        """People asked about (the pensioners and spouses, and the dependants named by mistake)."""
        return self._records + len(self.mistaken)

    def completed(self) -> int:
        """People with an outcome row."""
        return self._pension.completed(self.batch_id) if self._pension else 0

    def finish(self) -> FlowResult:
        """Read the outcome files: distinct people, duplicated rows, outcomes."""
        rows = self._pension.read_outcomes(self.batch_id) if self._pension else []
        return FlowResult.counted(
            self._records + len(self.mistaken),
            [row.record_seq for row in rows],
            Counter(str(row.outcome) for row in rows),
        )
