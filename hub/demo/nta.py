"""The withholding slips to the National Tax Agency (公的年金等の源泉徴収票) as a demo flow.

The demo stands in for the pension system, as the payment report flow does (:mod:`hub.demo.eltax`): it asks
as the pension system does in production, with request files of kind ``withholding_slip`` dropped in the
exchange directory (:meth:`adapters.pension.simulator_kinds.PensionRequestsSimulator.drop_withholding_slips`),
for every pensioner of last year, with the spouse and dependants of some (one in ten a grandchild under 16,
named on the slip without a number). The slips are the payment reports' records
(:meth:`hub.demo.eltax.PaymentReportFlow.record`); the payer names its 法人番号, which a slip requires. One
file holds :data:`SLIPS_PER_FILE` slips (each its own batch); the pension adapter makes each a
``pension.withholding_slip.requested`` message, the hub adds the numbers sealed for ``nta``, the NTA adapter
writes one file per message, and the simulated Agency acknowledges each file as a whole, refusing every
seventh (:class:`adapters.nta.NtaSimulator`). The Agency's receipt names no person, so a slip counts as
completed when the outcome of the file that carried it (accepted or rejected) reaches the pension system as
``pension.nta.outcomes``; the outcomes count files.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Final

from adapters.pension.mapping import kind_correlation_id
from adapters.pension.simulator_kinds import PensionRequestsSimulator
from adapters.pension.tax_reports import WITHHOLDING_SLIP_KIND
from contracts.ids import random_letters
from contracts.messages.nta import NtaOutcomes
from contracts.purpose_table import FEDERATION
from hub.demo._eltax_common import FlowResult, PensionInbox, chunks, enrol_households
from hub.demo.eltax import PAYER, PaymentReportFlow

if TYPE_CHECKING:
    from hub.demo.deployment import LocalDeployment

__all__ = ["REQUEST_TYPE", "SLIP_PAYER", "WithholdingSlipFlow", "corporate_number"]

REQUEST_TYPE: Final = "pension.withholding_slip.requested"
OUTCOMES_TYPE: Final = "pension.nta.outcomes"
SLIPS_PER_FILE: Final = 100
"""Slips per request file, hence per submitted file (below the adapter's ``chunk_records``): a demo of 1,000
pensioners submits ten files, enough for the simulated Agency to refuse one (every seventh file,
:data:`adapters.nta.DEFAULT_REJECT_EVERY`)."""


def corporate_number(base: str) -> str:
    """The 法人番号 of a 12-digit ``base``: its check digit in front (法人番号の指定等に関する省令 第2条).

    The check digit is 9 minus the sum of each digit of the base, counted from the right and weighted 1 at
    odd places and 2 at even ones, modulo 9.

    Raises:
        ValueError: ``base`` is not twelve digits.
    """
    if len(base) != 12 or not base.isascii() or not base.isdigit():
        raise ValueError("a corporate number's base is twelve digits")
    weighted = sum(int(d) * (1 if place % 2 else 2) for place, d in enumerate(reversed(base), start=1))
    return f"{9 - weighted % 9}{base}"


SLIP_PAYER: Final = PAYER.model_copy(update={"corporate_number": corporate_number("999900000001")})
"""The payer of the demo's slips: the payment report's, with a synthetic 法人番号 (8999900000001), chosen so
that neither of its twelve-digit windows is an Individual Number with a valid check digit."""


class WithholdingSlipFlow:
    """Every pensioner's withholding slip for last year, to the National Tax Agency."""

    name = "withholding_slip"

    def __init__(self) -> None:
        self.batch_id = f"withholding-slip-{datetime.now(UTC):%Y%m%d%H%M%S}-{random_letters(4)}"
        self.tax_year = date.today().year - 1
        self._records = 0
        self._inbox: PensionInbox | None = None

    def prepare(self, hub: LocalDeployment, records: int) -> None:
        """Enrol the pensioners and their relatives (usage numbers and numbers) in the vault."""
        enrol_households(hub, records, tax_year=self.tax_year)

    def start(self, hub: LocalDeployment, records: int) -> None:
        """Drop one request file per :data:`SLIPS_PER_FILE` pensioners (temporary name, manifest last)."""
        population = hub.population(records)
        self._records = records
        pension = PensionRequestsSimulator(hub.settings.wire_dir / "pension")
        rows = [PaymentReportFlow.record(population, i) for i in range(records)]
        batches = [f"{self.batch_id}-{i:04d}" for i, _, _ in chunks(rows, SLIPS_PER_FILE)]
        self._inbox = PensionInbox(hub, *(kind_correlation_id(WITHHOLDING_SLIP_KIND, b) for b in batches))
        for batch_id, (_, _, part) in zip(batches, chunks(rows, SLIPS_PER_FILE), strict=True):
            pension.drop_withholding_slips(
                part,
                tax_year=self.tax_year,
                payer=SLIP_PAYER,
                batch_id=batch_id,
                actor=FEDERATION,  # 事務(4) is the federation's alone
            )

    def outcomes(self) -> list[NtaOutcomes]:
        """The Agency's outcomes of the flow's files that reached the pension system so far."""
        if self._inbox is None:
            return []
        found: list[NtaOutcomes] = self._inbox.read(OUTCOMES_TYPE, NtaOutcomes)
        return found

    def _answered(self) -> list[tuple[str, int]]:
        # The receipt names no person: a file's outcome answers each of its slips, by file and line.
        return [(o.submission, line) for o in self.outcomes() for line in range(1, o.slips + 1)]

    def sent(self) -> int:
        """Slips sent."""
        return self._records

    def completed(self) -> int:
        """Slips whose file's outcome reached the pension system."""
        return len(set(self._answered()))

    def finish(self) -> FlowResult:
        """Final counts: slips completed and twice, files accepted and rejected."""
        files = Counter(f"files_{o.status.value}" for o in self.outcomes())
        return FlowResult.counted(self._records, self._answered(), files)
