"""The NTA adapter with the simulator in process: a file of slips out, the Agency's receipt back."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from adapters.nta import (
    NUMBER_MISSING,
    PAYER_UNKNOWN,
    NtaFieldRefused,
    NtaFileError,
    NtaSimulator,
    check_pairing,
    parse_slips,
    receipt_file_name,
    submission_file_name,
)
from adapters.nta.receipt import ReceiptFile, write_receipt
from contracts.errors import UnknownMessageType
from contracts.link import Adapter, CounterpartFile, Simulator
from contracts.messages.eltax import ReceiptStatus
from contracts.messages.nta import NtaReceipt
from contracts.registry import decode, encode
from tests.adapter_links import NtaGateway
from tests.nta_fixtures import RECEIVED, Sealing, decoded, simulator, submission, submission_record


@pytest.fixture
def sealing() -> Sealing:
    return Sealing()


def _receipt(sealing: Sealing, answers: list[CounterpartFile]) -> NtaReceipt:
    (answer,) = answers
    (message,) = sealing.adapter().from_counterpart(answer).to_hub
    payload = decode(encode(message)).payload
    assert isinstance(payload, NtaReceipt)
    return payload


def test_adapter_and_simulator_have_the_link_shapes(sealing):
    adapter: Adapter = sealing.adapter()  # checked by mypy against the protocols
    sim: Simulator = NtaSimulator()
    assert adapter.name == sim.name == "nta"


def test_a_submission_becomes_one_file_and_its_receipt_a_message(sealing):
    envelope = submission(sealing, 3)
    output = sealing.adapter().from_hub(decoded(envelope))
    (file,) = output.to_counterpart
    assert file.name == submission_file_name(envelope.message_id)
    assert file.correlation_id == str(envelope.correlation_id)
    assert len(parse_slips(file.content).records) == 3
    assert output.details == {"files": 1, "records": 3}
    answers = NtaGateway(simulator()).exchange(file)
    assert [a.name for a in answers] == [receipt_file_name(file.name)]
    result = sealing.adapter().from_counterpart(answers[0])
    (message,) = result.to_hub
    assert (message.message_type, message.source, message.destination) == ("nta.receipt", "nta", "hub")
    assert message.correlation_id == envelope.correlation_id
    assert message.causation_id == envelope.message_id
    assert result.details == {"accepted": 3}
    receipt = _receipt(sealing, answers)
    assert (receipt.submission, receipt.tax_year, receipt.received_on) == (file.name, 2026, RECEIVED)
    assert (receipt.status, receipt.slips, receipt.errors) == (ReceiptStatus.ACCEPTED, 3, ())


def test_a_rejected_files_receipt_names_the_item_and_the_code(sealing):
    sim = simulator(reject_every=1)
    (file,) = sealing.adapter().from_hub(decoded(submission(sealing, 2))).to_counterpart
    receipt = _receipt(sealing, NtaGateway(sim).exchange(file))
    assert receipt.status is ReceiptStatus.REJECTED
    assert [(e.line, e.field, e.code) for e in receipt.errors] == [
        (None, "payer_corporate_number", PAYER_UNKNOWN)
    ]
    assert sim.slips == {"rejected": 2}


def test_every_seventh_file_is_refused_by_default_and_a_redelivery_gets_the_same_answer(sealing):
    sim = NtaSimulator(clock=lambda: RECEIVED)
    adapter, gateway = sealing.adapter(), NtaGateway(sim)
    files = [adapter.from_hub(decoded(submission(sealing, 1))).to_counterpart[0] for _ in range(8)]
    answers = [gateway.exchange(f)[0] for f in files]
    statuses = [_receipt(sealing, [a]).status for a in answers]
    assert statuses.count(ReceiptStatus.REJECTED) == 1
    assert statuses[6] is ReceiptStatus.REJECTED
    assert gateway.exchange(files[6]) == [answers[6]]  # the same receipt, byte for byte
    assert gateway.exchange(files[0]) == [answers[0]]
    assert sim.files_received == 10
    assert sim.slips == {"accepted": 8, "rejected": 2}


def test_a_slip_without_the_recipients_number_is_refused_with_its_line(sealing):
    mid = uuid.uuid4()
    records = (
        submission_record(sealing, mid, 0),
        submission_record(sealing, mid, 1).model_copy(update={"individual_number": None}),
    )
    envelope = submission(sealing, 2, message_id=mid, records=records)
    (file,) = sealing.adapter().from_hub(decoded(envelope)).to_counterpart
    receipt = _receipt(sealing, NtaGateway(simulator()).exchange(file))
    assert receipt.status is ReceiptStatus.REJECTED
    assert [(e.line, e.field, e.code) for e in receipt.errors] == [(2, "individual_number", NUMBER_MISSING)]


def test_a_file_that_breaks_the_layout_is_refused_with_each_problem(sealing):
    (file,) = sealing.adapter().from_hub(decoded(submission(sealing, 3))).to_counterpart
    lines = file.content.split(b"\r\n")
    lines[2] = lines[2].replace(b"377,", b"378,", 1)
    broken = dataclasses.replace(file, content=b"\r\n".join(lines))
    receipt = _receipt(sealing, NtaGateway(simulator()).exchange(broken))
    assert receipt.status is ReceiptStatus.REJECTED
    assert [(e.line, e.field, e.code) for e in receipt.errors] == [(3, "document_kind", "E010")]
    empty = dataclasses.replace(file, content=b"")
    receipt = _receipt(sealing, NtaGateway(simulator()).exchange(empty))
    assert (receipt.slips, [(e.line, e.code) for e in receipt.errors]) == (0, [(None, "E010")])


def test_a_redelivered_submission_writes_the_same_file_and_a_redelivered_receipt_the_same_message(sealing):
    envelope = decoded(submission(sealing, 3))
    first, second = sealing.adapter().from_hub(envelope), sealing.adapter().from_hub(envelope)
    assert first.to_counterpart == second.to_counterpart
    (answer,) = NtaGateway(simulator()).exchange(first.to_counterpart[0])
    once, twice = sealing.adapter().from_counterpart(answer), sealing.adapter().from_counterpart(answer)
    assert once.to_hub[0].message_id == twice.to_hub[0].message_id


def test_a_field_the_layout_forbids_is_caught_before_anything_leaves(sealing):
    mid = uuid.uuid4()
    record = submission_record(sealing, mid, 0).model_copy(update={"name": "𠮷田　茂"})
    with pytest.raises(NtaFieldRefused) as caught:
        sealing.adapter().from_hub(decoded(submission(sealing, 1, message_id=mid, records=(record,))))
    assert (caught.value.record_no, caught.value.field) == (1, "name (支払を受ける者 氏名)")


def test_a_receipt_whose_control_line_names_another_file_is_refused(sealing):
    (file,) = sealing.adapter().from_hub(decoded(submission(sealing, 1))).to_counterpart
    other = submission_file_name(uuid.uuid4())
    content = write_receipt(ReceiptFile(other, 2026, RECEIVED, ReceiptStatus.ACCEPTED, 1))
    forged = CounterpartFile("nta", receipt_file_name(file.name), content, file.correlation_id)
    with pytest.raises(NtaFileError, match="another file"):
        sealing.adapter().from_counterpart(forged)


@pytest.mark.parametrize(
    ("name", "counterpart", "correlation", "reason"),
    [
        ("submission", "nta", None, "does not receive"),
        ("evil.csv", "nta", None, "not an NTA file name"),
        ("receipt", "eltax", None, "not from the NTA link"),
        ("receipt", "nta", "x'; DROP TABLE", "not a UUID"),
    ],
)
def test_files_the_agency_does_not_send_are_refused(sealing, name, counterpart, correlation, reason):
    (file,) = sealing.adapter().from_hub(decoded(submission(sealing, 1))).to_counterpart
    names = {"submission": file.name, "receipt": receipt_file_name(file.name)}
    odd = CounterpartFile(counterpart, names.get(name, name), b"x", correlation or file.correlation_id)
    with pytest.raises(NtaFileError, match=reason):
        sealing.adapter().from_counterpart(odd)


def test_the_simulator_takes_only_submissions_and_answers_pair_with_them(sealing):
    (file,) = sealing.adapter().from_hub(decoded(submission(sealing, 1))).to_counterpart
    (answer,) = NtaSimulator().handle(file)
    check_pairing(file, answer)
    with pytest.raises(NtaFileError):
        NtaSimulator().handle(answer)
    (other,) = sealing.adapter().from_hub(decoded(submission(sealing, 1))).to_counterpart
    with pytest.raises(NtaFileError, match="another file"):
        check_pairing(other, answer)
    with pytest.raises(NtaFileError, match="correlation"):
        check_pairing(file, dataclasses.replace(answer, correlation_id=str(uuid.uuid4())))
    with pytest.raises(ValueError, match="reject_every"):
        NtaSimulator(reject_every=0)


def test_another_message_type_is_refused(sealing):
    envelope = decoded(submission(sealing, 1))
    other = dataclasses.replace(envelope, envelope=envelope.envelope.model_copy(update={"schema_version": 2}))
    with pytest.raises(UnknownMessageType):
        sealing.adapter().from_hub(other)
