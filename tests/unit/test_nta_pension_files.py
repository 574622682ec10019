"""What reaches the pension system from the National Tax Agency: one JSON file per receipt, written once."""

from __future__ import annotations

from datetime import date

import pytest

from adapters.pension import ExchangeDirectory, PensionAdapter
from adapters.pension.messages import read_hub_messages
from adapters.pension.service import FROM_HUB
from contracts.envelope import Party, new_envelope
from contracts.errors import ValidationFailed
from contracts.messages.eltax import ReceiptStatus
from contracts.messages.nta import WITHHOLDING_SLIP_PURPOSE, NtaOutcomes, SlipError
from contracts.registry import payload_dict
from tests.eltax_fixtures import decoded

OUTCOMES = NtaOutcomes(
    submission="NTA-WS-" + "d" * 32 + ".csv",
    tax_year=2026,
    received_on=date(2027, 1, 20),
    status=ReceiptStatus.REJECTED,
    slips=3,
    errors=(SlipError(line=2, field="recipient_number", code="E101"), SlipError(code="E001")),
)


def outcomes_envelope(destination: Party = "pension"):
    return new_envelope(
        message_type="pension.nta.outcomes",
        schema_version=1,
        source="hub",
        destination=destination,
        purpose=WITHHOLDING_SLIP_PURPOSE,
        payload=payload_dict(OUTCOMES),
    )


def test_the_pension_adapter_routes_the_agencys_outcomes() -> None:
    assert ("pension.nta.outcomes", 1) in FROM_HUB


def test_a_receipt_outcome_is_written_once_as_json_and_read_back(tmp_path) -> None:
    adapter = PensionAdapter(ExchangeDirectory(tmp_path / "pension"), chunk_records=100)
    envelope = outcomes_envelope()
    first = adapter.from_hub(decoded(envelope))
    again = adapter.from_hub(decoded(envelope))
    assert first.details["message_files_written"] == 1
    assert again.details == {"message_files_written": 0, "message_files_unchanged": 1}
    [back] = read_hub_messages(tmp_path / "pension" / "outbound", "pension.nta.outcomes")
    assert back.message_id == envelope.message_id
    assert NtaOutcomes.model_validate(back.payload) == OUTCOMES


def test_an_outcome_addressed_elsewhere_is_refused_and_not_written(tmp_path) -> None:
    adapter = PensionAdapter(ExchangeDirectory(tmp_path / "pension"), chunk_records=100)
    with pytest.raises(ValidationFailed, match="not to pension"):
        adapter.from_hub(decoded(outcomes_envelope(destination="nta")))
    assert list(read_hub_messages(tmp_path / "pension" / "outbound", "pension.nta.outcomes")) == []
