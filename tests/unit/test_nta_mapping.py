"""Contract -> slip: numbers open only where they were sealed, only for the slip's purpose, never shown."""

from __future__ import annotations

import logging
import uuid
from datetime import date

import pytest

from adapters.nta import NtaMappingError, NtaPurposeRefused, NtaSimulator, NtaWireError
from adapters.nta.mapping import receipt_payload, slip_file
from adapters.nta.receipt import ReceiptFile
from adapters.nta.slip import parse_slips
from contracts.envelope import Envelope
from contracts.errors import SealError
from contracts.individual_number import IndividualNumber
from contracts.messages.eltax import (
    PAYMENT_REPORT_PURPOSE,
    DependantKind,
    ReceiptStatus,
    SealedDependant,
    recipient_number_field,
    report_dependant_number_field,
    spouse_number_field,
)
from contracts.messages.nta import WITHHOLDING_SLIP_PURPOSE, NtaWithholdingSlipSubmission
from contracts.redaction import find_numbers
from contracts.registry import encode
from tests.adapter_links import NtaGateway
from tests.nta_fixtures import Sealing, decoded, number, submission, submission_record


@pytest.fixture
def sealing() -> Sealing:
    return Sealing()


class Recording:
    """An unsealer that remembers which fields it was asked to open (and opens them)."""

    def __init__(self, inner: Sealing) -> None:
        self._inner = inner.for_nta
        self.fields: list[str] = []

    def unseal(self, sealed: str, *, message_id: uuid.UUID, field: str) -> IndividualNumber:
        self.fields.append(field)
        return self._inner.unseal(sealed, message_id=message_id, field=field)


def _payload(envelope: Envelope) -> NtaWithholdingSlipSubmission:
    payload = decoded(envelope).payload
    assert isinstance(payload, NtaWithholdingSlipSubmission)
    return payload


def _with_recipient_sealed(
    sealing: Sealing, mid: uuid.UUID, *, recipient: str, message_id: uuid.UUID, field: str
):
    record = submission_record(sealing, mid, 0)
    sealed = sealing.seal(number(100), message_id, field, recipient=recipient)
    return submission(
        sealing, 1, message_id=mid, records=(record.model_copy(update={"individual_number": sealed}),)
    )


@pytest.mark.parametrize("case", ["another recipient", "another message", "another field"])
def test_a_number_sealed_for_anything_else_does_not_open(sealing, case):
    mid = uuid.uuid4()
    recipient, message_id, field = "nta", mid, recipient_number_field(0)
    if case == "another recipient":
        recipient = "eltax"
    elif case == "another message":
        message_id = uuid.uuid4()
    else:
        field = spouse_number_field(0)
    envelope = _with_recipient_sealed(sealing, mid, recipient=recipient, message_id=message_id, field=field)
    with pytest.raises(SealError) as caught:
        sealing.adapter().from_hub(decoded(envelope))
    assert not find_numbers(str(caught.value))


def test_the_numbers_open_into_their_own_items(sealing):
    envelope = submission(sealing, 2)
    file = slip_file(envelope.message_id, envelope.purpose, _payload(envelope), sealing.for_nta)
    second = file.records[1]
    assert second.individual_number == number(101)
    assert second.spouse is not None
    assert second.spouse.individual_number == number(201)
    assert second.dependants[0].individual_number == number(301)
    assert second.spouse.kana_name is None  # not in the contract: the standard lets it be empty


def test_another_purpose_is_refused_before_any_number_is_opened(sealing):
    envelope = submission(sealing, 2, purpose=PAYMENT_REPORT_PURPOSE)
    recording = Recording(sealing)
    with pytest.raises(NtaPurposeRefused) as caught:
        slip_file(envelope.message_id, envelope.purpose, _payload(envelope), recording)
    assert recording.fields == []
    assert caught.value.code == "nta_purpose_refused"
    with pytest.raises(NtaPurposeRefused):  # the registry decodes it; the adapter refuses it
        sealing.adapter().from_hub(decoded(envelope))


def test_under_16_dependants_are_named_without_a_number_and_counted(sealing):
    envelope = submission(sealing, 1)
    recording = Recording(sealing)
    file = slip_file(envelope.message_id, WITHHOLDING_SLIP_PURPOSE, _payload(envelope), recording)
    slip = file.records[0]
    assert [m.name for m in slip.minors] == ["佐藤　明"]
    assert slip.under_16_dependants == 1
    assert (slip.elderly_dependants, slip.specific_dependants, slip.other_dependants) == (1, 1, None)
    assert report_dependant_number_field(0, 1) not in recording.fields  # the minor's index: nothing to open


def test_the_contract_refuses_a_number_for_a_dependant_under_16(sealing):
    mid = uuid.uuid4()
    record = submission_record(sealing, mid, 0, minors=0)
    minor = SealedDependant(
        name="佐藤　明",
        kana_name="サトウ　アキラ",
        kind=DependantKind.UNDER_16,
        individual_number=sealing.seal(number(9), mid, report_dependant_number_field(0, 2)),
    )
    with pytest.raises(ValueError, match="under 16"):
        submission(
            sealing,
            1,
            message_id=mid,
            records=(record.model_copy(update={"dependants": (*record.dependants, minor)}),),
        )


def test_dependants_beyond_the_slips_two_are_counted_not_named_and_not_opened(sealing):
    mid = uuid.uuid4()
    record = submission_record(sealing, mid, 0, minors=3)
    extra = SealedDependant(
        name="佐藤　次郎",
        kana_name="サトウ　ジロウ",
        kind=DependantKind.OTHER,
        individual_number=sealing.seal(
            number(8), mid, report_dependant_number_field(0, len(record.dependants))
        ),
    )
    envelope = submission(
        sealing,
        1,
        message_id=mid,
        records=(record.model_copy(update={"dependants": (*record.dependants, extra)}),),
    )
    recording = Recording(sealing)
    slip = slip_file(mid, WITHHOLDING_SLIP_PURPOSE, _payload(envelope), recording).records[0]
    assert len(slip.dependants) == 2
    assert len(slip.minors) == 2
    assert (slip.elderly_dependants, slip.specific_dependants, slip.other_dependants) == (1, 1, 1)
    assert slip.under_16_dependants == 3
    assert report_dependant_number_field(0, len(record.dependants)) not in recording.fields
    output = sealing.adapter().from_hub(decoded(envelope))
    assert parse_slips(output.to_counterpart[0].content).records[0] == slip


def test_a_repeated_record_seq_is_refused(sealing):
    mid = uuid.uuid4()
    twice = (submission_record(sealing, mid, 0),) * 2
    envelope = submission(sealing, 2, message_id=mid, records=twice)
    with pytest.raises(NtaMappingError, match="record_seq"):
        sealing.adapter().from_hub(decoded(envelope))


def test_a_receipt_the_contract_refuses_is_a_mapping_error_naming_no_value():
    receipt = ReceiptFile(
        "NTA-377dat01-" + "b" * 32 + ".txt", 2101, date(2027, 1, 20), ReceiptStatus.ACCEPTED, 1
    )
    with pytest.raises(NtaMappingError, match="tax_year"):
        receipt_payload(receipt)


def test_no_number_in_any_log_error_name_or_message(sealing, caplog):
    caplog.set_level(logging.DEBUG)
    gateway = NtaGateway(NtaSimulator(clock=lambda: date(2027, 1, 20), reject_every=1))
    envelope = submission(sealing, 3)
    adapter = sealing.adapter()
    sent = adapter.from_hub(decoded(envelope)).to_counterpart
    texts = [f.name for f in sent]
    for answer in gateway.exchange(sent[0]):
        texts.append(answer.name)
        texts.append(answer.content.decode("cp932"))
        for message in adapter.from_counterpart(answer).to_hub:
            texts.append(encode(message).decode())
    bad = _with_recipient_sealed(sealing, uuid.uuid4(), recipient="eltax", message_id=uuid.uuid4(), field="x")
    with pytest.raises(SealError) as caught:
        adapter.from_hub(decoded(bad))
    texts.append(str(caught.value))
    valid = number(100).reveal()  # the first recipient's, in the file as 0 and twelve digits
    wrong = valid[:11] + str((int(valid[11]) + 1) % 10)
    with pytest.raises(NtaWireError) as refused:
        parse_slips(sent[0].content.replace(f",0{valid},".encode(), f",0{wrong},".encode()))
    texts.append(str(refused.value))
    texts.append(caplog.text)
    assert f",0{valid},".encode() in sent[0].content  # the file itself does hold the numbers
    for text in texts:
        assert not find_numbers(text), text[:200]
