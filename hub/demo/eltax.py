"""The eLTAX exchanges as demo flows: the January payment reports and a special collection cycle.

The demo stands in for the pension system, and asks as the pension system asks in production: a request
file dropped in the exchange directory, of kind ``payment_report``
(:meth:`adapters.pension.simulator_kinds.PensionRequestsSimulator.drop_payment_reports`) or, one per
notice, ``special_collection`` (its ``drop_special_collection_notice``), which the pension adapter turns
into ``pension.payment_report.requested`` and ``pension.tokucho.notice_requested`` messages.
What comes back reaches the pension system through the pension adapter, which writes each message as a JSON
file (:mod:`adapters.pension.messages`). The flows count completion from those files only, so a record counts
once it reached the pension system, by usage number.

* ``payment_report``: every pensioner's 公的年金等支払報告書 for last year, with the spouse and dependants
  of some (their usage numbers of kind ``dependant`` and numbers are enrolled in the vault first). The hub
  adds the numbers, the adapter writes one file per municipality, the simulated municipalities reject the
  people they do not know (E100). A record completes when its receipt outcome (accepted or rejected)
  reaches the pension system.
* ``special_collection``: the yearly cycle 00 (May) → 01 (July, from the municipalities) → 02 and 22 (from
  the federation) → 41 and 61 (from the municipalities) → 42 and 62. Every record of every notice counts
  once: the federation's when their receipt outcome arrives, the municipalities' when their instruction
  does. What the simulated municipalities answer is computed ahead from their register, so ``sent`` is
  known from the start and a notice that never arrives shows as lost.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Final

from adapters.jlis import SyntheticPopulation
from adapters.pension.mapping import kind_correlation_id
from adapters.pension.simulator_kinds import PensionRequestsSimulator
from adapters.pension.tax_reports import PAYMENT_REPORT_KIND
from contracts.ids import random_letters
from contracts.messages.eltax import (
    EltaxDocument,
    EltaxOutcomes,
    PaymentAmounts,
    PaymentReportDeductions,
    PaymentReportPayer,
    PaymentReportRecord,
    ReportDependant,
    ReportSpouse,
)
from contracts.purpose_table import FEDERATION
from hub.demo._eltax_common import FlowResult, PensionInbox, enrol_households, household
from hub.demo._eltax_cycle import SpecialCollectionFlow
from hub.demo._kana import reading

if TYPE_CHECKING:
    from hub.demo.deployment import LocalDeployment

__all__ = ["FlowResult", "PaymentReportFlow", "SpecialCollectionFlow", "household"]

PAYER: Final = PaymentReportPayer(
    name="全国市町村職員共済組合連合会", address="東京都千代田区（デモ用所在地）", phone="03-0000-0000"
)
"""The payer of the demo's reports (a placeholder address: the demo's data are synthetic)."""


class PaymentReportFlow:
    """Every pensioner's payment report for last year, to the municipality of their 1 January address."""

    name = "payment_report"

    def __init__(self) -> None:
        self.batch_id = f"payment-report-{datetime.now(UTC):%Y%m%d%H%M%S}-{random_letters(4)}"
        self.tax_year = date.today().year - 1
        self._correlation = kind_correlation_id(PAYMENT_REPORT_KIND, self.batch_id)
        self._records = 0
        self._inbox: PensionInbox | None = None

    def prepare(self, hub: LocalDeployment, records: int) -> None:
        """Enrol the pensioners and their relatives (usage numbers and numbers) in the vault."""
        enrol_households(hub, records, tax_year=self.tax_year)

    @staticmethod
    def record(population: SyntheticPopulation, index: int) -> PaymentReportRecord:
        """The report of pensioner ``index`` (synthetic amounts)."""
        person = population.person(index)
        relatives = household(population, index)
        spouse = next((r for r in relatives if r.kind is None), None)
        paid = 1_800_000 + (index % 50) * 20_000
        return PaymentReportRecord(
            record_seq=index,
            usage_number=person.usage_number,
            destination_municipality_code=person.municipality_code,
            name=person.name,
            kana_name=reading(person.name),
            address=person.address,
            birth_date=person.birth_date,
            sections=(PaymentAmounts(paid=paid, withheld=paid * 5 // 100), None, None),
            deductions=PaymentReportDeductions(
                spouse_status=1 if spouse else None, social_insurance=paid // 12
            ),
            spouse=ReportSpouse(usage_number=spouse.usage, name=spouse.name) if spouse else None,
            dependants=tuple(
                ReportDependant(usage_number=r.usage, name=r.name, kana_name=reading(r.name), kind=r.kind)
                for r in relatives
                if r.kind is not None
            ),
        )

    def start(self, hub: LocalDeployment, records: int) -> None:
        """Drop one request file of every pensioner's report (temporary name, manifest last)."""
        population = hub.population(records)
        self._records = records
        self._inbox = PensionInbox(hub, self._correlation)
        PensionRequestsSimulator(hub.settings.wire_dir / "pension").drop_payment_reports(
            (self.record(population, i) for i in range(records)),
            tax_year=self.tax_year,
            payer=PAYER,
            batch_id=self.batch_id,
            actor=FEDERATION,  # 事務(5) is the federation's alone
        )

    def outcomes(self) -> list[EltaxOutcomes]:
        """The receipt outcomes of the flow's submissions that reached the pension system so far."""
        if self._inbox is None:
            return []
        found = self._inbox.read("pension.eltax.outcomes", EltaxOutcomes)
        return [o for o in found if o.document is EltaxDocument.PAYMENT_REPORT]

    def sent(self) -> int:
        """Reports sent."""
        return self._records

    def completed(self) -> int:
        """Reports with a receipt outcome at the pension system."""
        return len({r.usage_number for o in self.outcomes() for r in o.records})

    def finish(self) -> FlowResult:
        """Final counts: accepted and rejected reports, duplicates."""
        rows = [r for o in self.outcomes() for r in o.records]
        return FlowResult.counted(
            self._records, [r.usage_number for r in rows], Counter(r.status.value for r in rows)
        )
