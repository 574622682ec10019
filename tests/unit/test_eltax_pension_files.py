"""What reaches the pension system from eLTAX: one JSON file per message, written once, by usage number."""

from __future__ import annotations

from datetime import date

from adapters.pension import ExchangeDirectory, PensionAdapter
from adapters.pension.messages import read_hub_messages
from contracts.envelope import new_envelope
from contracts.messages.eltax import (
    PAYMENT_REPORT_PURPOSE,
    EltaxOutcomeRecord,
    EltaxOutcomes,
    ReceiptError,
    ReceiptStatus,
)
from contracts.registry import payload_dict
from tests.eltax_fixtures import certificate, decoded


def test_receipt_outcomes_are_written_once_as_json_and_read_back(tmp_path):
    outcomes = EltaxOutcomes(
        submission="ELTAX-PR331-13101-" + "c" * 32 + ".csv",
        document="payment_report",
        municipality_code="13101",
        received_on=date(2027, 1, 20),
        file_status=ReceiptStatus.ACCEPTED,
        records=(
            EltaxOutcomeRecord(line=1, usage_number=certificate(1), status=ReceiptStatus.ACCEPTED),
            EltaxOutcomeRecord(
                line=2,
                usage_number=certificate(2),
                status=ReceiptStatus.REJECTED,
                errors=(ReceiptError(field="recipient_number", code="E100"),),
            ),
        ),
    )
    envelope = new_envelope(
        message_type="pension.eltax.outcomes",
        schema_version=1,
        source="hub",
        destination="pension",
        purpose=PAYMENT_REPORT_PURPOSE,
        payload=payload_dict(outcomes),
    )
    adapter = PensionAdapter(ExchangeDirectory(tmp_path / "pension"), chunk_records=100)
    first = adapter.from_hub(decoded(envelope))
    again = adapter.from_hub(decoded(envelope))
    assert (first.completed_records, first.details["message_files_written"]) == (2, 1)
    assert again.details["message_files_unchanged"] == 1
    [back] = read_hub_messages(tmp_path / "pension" / "outbound", "pension.eltax.outcomes")
    assert EltaxOutcomes.model_validate(back.payload) == outcomes
