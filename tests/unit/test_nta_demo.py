"""The withholding-slip demo flow: its payer's 法人番号, and how it counts slips from file-level outcomes."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from contracts.individual_number import is_valid_individual_number
from contracts.messages.common import ChunkInfo
from contracts.messages.eltax import DependantKind, ReceiptStatus
from contracts.messages.nta import NtaOutcomes, SlipError, WithholdingSlipRequested
from hub.demo._eltax_common import PensionInbox
from hub.demo.data import demo_population
from hub.demo.eltax import PaymentReportFlow
from hub.demo.nta import SLIP_PAYER, WithholdingSlipFlow, corporate_number
from hub.demo.registry import FLOWS


def test_the_check_digit_is_the_published_rule() -> None:
    # 国税庁's own 法人番号, as its 法人番号公表サイト publishes it.
    assert corporate_number("000012050002") == "7000012050002"
    with pytest.raises(ValueError, match="twelve digits"):
        corporate_number("12345")


def test_the_demo_payer_names_a_corporate_number_that_holds_no_individual_number() -> None:
    number = SLIP_PAYER.corporate_number
    assert number is not None
    assert corporate_number(number[1:]) == number
    assert not any(is_valid_individual_number(number[i : i + 12]) for i in (0, 1))


class _Inbox(PensionInbox):
    """The pension system's inbox, holding the outcomes a test gives it."""

    def __init__(self, outcomes: list[NtaOutcomes]) -> None:
        self.outcomes = outcomes

    def read(self, message_type: str, model: type[Any]) -> list[NtaOutcomes]:
        assert (message_type, model) == ("pension.nta.outcomes", NtaOutcomes)
        return self.outcomes


def _outcome(name: str, slips: int, *, rejected: bool = False) -> NtaOutcomes:
    return NtaOutcomes(
        submission=name,
        tax_year=2026,
        received_on=date(2027, 1, 20),
        status=ReceiptStatus.REJECTED if rejected else ReceiptStatus.ACCEPTED,
        slips=slips,
        errors=(SlipError(line=1, field="recipient_number", code="E101"),) if rejected else (),
    )


def test_a_slip_completes_with_its_files_outcome_and_counts_once() -> None:
    flow = WithholdingSlipFlow()
    flow._records = 5
    first, second = _outcome("NTA-a.csv", 3), _outcome("NTA-b.csv", 2, rejected=True)
    flow._inbox = _Inbox([first])
    assert (flow.sent(), flow.completed()) == (5, 3)
    flow._inbox = _Inbox([first, second, first])  # one outcome twice
    result = flow.finish()
    assert (result.sent, result.completed, result.duplicates) == (5, 5, 3)
    assert result.outcomes == {"files_accepted": 2, "files_rejected": 1}


def test_the_demo_runs_the_flow_and_its_slips_are_a_valid_request() -> None:
    assert FLOWS["withholding_slip"] is WithholdingSlipFlow
    population = demo_population(20)
    records = tuple(PaymentReportFlow.record(population, i) for i in range(20))
    request = WithholdingSlipRequested(
        chunk=ChunkInfo(batch_id="withholding-slip-test", chunk_index=0, chunk_count=1, total_records=20),
        tax_year=2026,
        payer=SLIP_PAYER,
        records=records,
    )
    kinds = [d.kind for r in request.records for d in r.dependants]
    assert DependantKind.UNDER_16 in kinds, "some slips name a child under 16 (who travels without a number)"
    assert sum(r.spouse is not None for r in request.records) > 0
