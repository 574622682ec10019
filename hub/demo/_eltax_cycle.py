"""The special collection cycle (年金特徴) as a demo flow: 00 → 01 → 02 and 22 → 41 and 61 → 42 and 62.

Part of :mod:`hub.demo.eltax`, which describes the flows and re-exports this one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from adapters.eltax import payment_day
from adapters.jlis import SyntheticPopulation
from adapters.pension.mapping import kind_correlation_id
from adapters.pension.simulator_kinds import PensionRequestsSimulator
from adapters.pension.special_collection import KIND
from contracts.ids import random_letters
from contracts.messages.eltax import (
    FROM_FEDERATION,
    EltaxDocument,
    EltaxOutcomes,
    Sex,
    TokuchoAmounts,
    TokuchoInstructions,
    TokuchoNoticeCode,
    TokuchoRecord,
)
from contracts.purpose_table import FEDERATION
from contracts.usage_number import UsageNumber
from hub.demo._eltax_common import FlowResult, PensionInbox
from hub.demo._kana import reading
from hub.demo.data import demo_municipalities

if TYPE_CHECKING:
    from hub.demo.deployment import LocalDeployment

__all__ = ["SpecialCollectionFlow"]

C = TokuchoNoticeCode


class SpecialCollectionFlow:
    """One year of the special collection of resident tax from pensions, both ways."""

    name = "special_collection"

    def __init__(self) -> None:
        self.batch_id = f"special-collection-{datetime.now(UTC):%Y%m%d%H%M%S}-{random_letters(4)}"
        today = date.today()
        self.fiscal_year = today.year if today.month >= 4 else today.year - 1
        self._hub: LocalDeployment | None = None
        self._inbox: PensionInbox | None = None
        self._targets: dict[UsageNumber, TokuchoRecord] = {}
        self._expected: dict[TokuchoNoticeCode, int] = {}
        self._stage = 0

    def prepare(self, hub: LocalDeployment, records: int) -> None:
        """Enrol the pensioners in the vault."""
        hub.enrol_population(hub.population(records), records)

    def _target(self, population: SyntheticPopulation, index: int) -> TokuchoRecord:
        person = population.person(index)
        annual = 1_800_000 + (index % 60) * 25_000
        continuing = index % 3 != 0
        previous = (annual - 1_530_000) // 10 + 5_000 if continuing else None
        return TokuchoRecord(
            record_seq=index,
            municipality_code=person.municipality_code,
            usage_number=person.usage_number,
            basic_pension_number=f"9{index:09d}",
            pension_code="1150",
            birth_date=person.birth_date,
            sex=Sex.FEMALE if person.female else Sex.MALE,
            kana_name=reading(person.name),
            name=person.name,
            postal_code=person.postal_code,
            address=person.address,
            category="02" if continuing else "01",
            amounts=TokuchoAmounts(annual_pension=annual, previous_year_tax=previous),
        )

    def start(self, hub: LocalDeployment, records: int) -> None:
        """Send the target notice (00) of everyone 65 or over on 1 April, and foresee the replies."""
        population = hub.population(records)
        # Each notice is a file of its own batch; the municipalities answer a notice with its correlation id.
        correlations = (kind_correlation_id(KIND, self._batch(code)) for code in sorted(FROM_FEDERATION))
        self._hub, self._inbox = hub, PensionInbox(hub, *correlations)
        cutoff = date(self.fiscal_year - 65, 4, 1)
        targets = [
            self._target(population, i) for i in range(records) if population.person(i).birth_date <= cutoff
        ]
        self._targets = {t.usage_number: t for t in targets}
        self._foresee(hub, targets)
        self._send(C.TARGET, date(self.fiscal_year, 5, 20), targets)

    def _foresee(self, hub: LocalDeployment, targets: list[TokuchoRecord]) -> None:
        """What the simulated municipalities will answer, from their register (the simulator's own)."""
        register = demo_municipalities()
        accepted = [t for t in targets if register.resident(t.municipality_code, t.usage_number.value)]
        collecting = [
            t
            for t in accepted
            if register.request_category(t.municipality_code, t.usage_number.value) != "03"
        ]
        collected_on = payment_day(self.fiscal_year, 10)
        losses = [
            t for t in collecting if register.loss(t.municipality_code, t.usage_number.value, collected_on)
        ]
        changes = [
            t
            for t in collecting
            if t not in losses and register.provisional_change(t.municipality_code, t.usage_number.value, 0)
        ]
        self._expected = {
            C.TARGET: len(targets),
            C.REQUEST: len(accepted),
            C.REQUEST_RESULT: len(accepted),
            C.COLLECTION_RESULT: len(collecting),
            C.LOSS: len(losses),
            C.PROVISIONAL_CHANGE: len(changes),
            C.LOSS_RESULT: len(losses),
            C.PROVISIONAL_CHANGE_RESULT: len(changes),
        }

    def _send(self, code: TokuchoNoticeCode, created_on: date, records: list[TokuchoRecord]) -> None:
        """Drop one notice as the pension system does: a ``special_collection`` request file (事務(7))."""
        if not records or self._hub is None:
            return
        PensionRequestsSimulator(self._hub.settings.wire_dir / "pension").drop_special_collection_notice(
            records,
            notice_code=code,
            fiscal_year=self.fiscal_year,
            created_on=created_on,
            batch_id=self._batch(code),
            actor=FEDERATION,  # 事務(7) is the federation's alone
        )

    def _batch(self, code: TokuchoNoticeCode) -> str:
        return f"{self.batch_id}-{code.value}"

    def _instructions(self, code: TokuchoNoticeCode) -> list[Any]:
        found = self._inbox.read("pension.tokucho.instructions", TokuchoInstructions) if self._inbox else []
        return [r for message in found if message.notice_code is code for r in message.records]

    def _answer(self, source: Sequence[Any], update: Callable[[Any], dict[str, Any]]) -> list[TokuchoRecord]:
        """The federation's records about the people of ``source`` (instructions received), updated."""
        return [
            TokuchoRecord.model_validate(
                {
                    **self._targets[r.usage_number].model_dump(),
                    "record_seq": seq,
                    "category": None,
                    "amounts": {},
                    **update(r),
                }
            )
            for seq, r in enumerate(source)
        ]

    def _advance(self) -> None:
        """Send the federation's next notices once the municipalities' replies they answer are all in."""
        expected, year = self._expected, self.fiscal_year
        if self._stage == 0:
            requests = self._instructions(C.REQUEST)
            if len({r.usage_number for r in requests}) < expected[C.REQUEST]:
                return
            self._stage = 1
            self._send(
                C.REQUEST_RESULT,
                date(year, 8, 20),
                self._answer(requests, lambda r: {"result": "00", "category": r.category}),
            )
            collected_on = payment_day(year, 10)
            self._send(
                C.COLLECTION_RESULT,
                date(year, 11, 10),
                self._answer(
                    [r for r in requests if r.category != "03"],
                    lambda r: {
                        "category": "00",
                        "event_date": collected_on,
                        "amounts": {"collected": r.amounts.main_october or 0},
                    },
                ),
            )
        if self._stage == 1:
            losses, changes = self._instructions(C.LOSS), self._instructions(C.PROVISIONAL_CHANGE)
            arrived = (len({r.usage_number for r in losses}), len({r.usage_number for r in changes}))
            if arrived[0] < expected[C.LOSS] or arrived[1] < expected[C.PROVISIONAL_CHANGE]:
                return
            self._stage = 2
            self._send(
                C.LOSS_RESULT,
                date(year, 11, 20),
                self._answer(losses, lambda r: {"result": "00", "category": r.category}),
            )
            self._send(
                C.PROVISIONAL_CHANGE_RESULT,
                date(year, 11, 20),
                self._answer(changes, lambda r: {"result": "00"}),
            )

    def _done(self) -> Counter[tuple[str, UsageNumber]]:
        """Every (notice, person) that reached the pension system: receipt outcomes and instructions."""
        rows: Counter[tuple[str, UsageNumber]] = Counter()
        if self._inbox is None:
            return rows
        for outcome in self._inbox.read("pension.eltax.outcomes", EltaxOutcomes):
            if outcome.document is EltaxDocument.TOKUCHO_NOTICE and outcome.notice_code is not None:
                rows.update((outcome.notice_code.value, r.usage_number) for r in outcome.records)
        for message in self._inbox.read("pension.tokucho.instructions", TokuchoInstructions):
            rows.update((message.notice_code.value, r.usage_number) for r in message.records)
        return rows

    def sent(self) -> int:
        """Records of every notice of the cycle, both ways (the municipalities' foreseen)."""
        return sum(self._expected.values())

    def completed(self) -> int:
        """Records that reached the pension system so far; sends the next notices when they are due."""
        self._advance()
        return len(self._done())

    def finish(self) -> FlowResult:
        """Final counts, per notice."""
        rows = self._done()
        per_notice = Counter(code for code, _ in rows)
        return FlowResult(
            self.sent(),
            len(rows),
            sum(rows.values()) - len(rows),
            {f"notice_{code}": count for code, count in sorted(per_notice.items())},
        )
