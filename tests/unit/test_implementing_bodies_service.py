"""The adapter of the other implementing bodies with the simulator in process: files out, receipts back.

Also the mapping: numbers open only where the hub sealed them (this adapter, this message, this field), only
for the claim forwarding's purpose; and no number in any log, error or name.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid

import pytest

from adapters.implementing_bodies import (
    PAGES_MISSING,
    IbFileError,
    IbPurposeRefused,
    ImplementingBodiesSimulator,
    ReceiptFile,
    parse_forwarding,
    receipt_file_name,
    write_forwarding,
    write_receipt,
)
from adapters.implementing_bodies.service import FROM_HUB
from contracts.errors import SealError, UnknownMessageType
from contracts.link import Adapter, CounterpartFile, Simulator
from contracts.messages.implementing_bodies import ForwardingReceipt, ImplementingBody
from contracts.messages.nta import WITHHOLDING_SLIP_PURPOSE
from contracts.redaction import find_numbers
from contracts.registry import decode, encode
from tests.adapter_links import ImplementingBodiesGateway
from tests.implementing_bodies_fixtures import (
    ANSWERED,
    Sealing,
    forwarding_file,
    forwarding_message,
    line_file,
    number,
    simulator,
)


@pytest.fixture(scope="module")
def sealing() -> Sealing:
    return Sealing()


def _receipt(sealing: Sealing, answer: CounterpartFile) -> ForwardingReceipt:
    (message,) = sealing.adapter().from_counterpart(answer).to_hub
    payload = decode(encode(message)).payload
    assert isinstance(payload, ForwardingReceipt)
    return payload


def test_adapter_and_simulator_have_the_link_shapes(sealing):
    adapter: Adapter = sealing.adapter()
    sim: Simulator = ImplementingBodiesSimulator()
    assert adapter.name == sim.name == "implementing_bodies"
    assert set(FROM_HUB) == {("implementing_bodies.claim.forwarding", 1)}


def test_a_forwarding_becomes_one_file_and_its_receipt_a_message(sealing, caplog):
    message = forwarding_message(sealing, 4, ImplementingBody.KKR)
    with caplog.at_level(logging.DEBUG):
        out = sealing.adapter().from_hub(message)
    (file,) = out.to_counterpart
    assert file.name == f"IB-FWD-kkr-{message.envelope.message_id.hex}.csv"
    assert file.correlation_id == str(message.envelope.correlation_id)
    written = parse_forwarding(file.content)
    assert written.destination is ImplementingBody.KKR
    assert written.forwarded_by == "m130001"
    assert [c.individual_number for c in written.claims] == [number(i) for i in range(4)]
    assert written.claims[1].deceased_individual_number is not None
    assert not find_numbers(caplog.text)
    assert not find_numbers(file.name)

    (answer,) = ImplementingBodiesGateway(simulator(return_every=10)).exchange(file)
    receipt = _receipt(sealing, answer)
    # record_seq 0..3 at 種別 2: the claim whose seq plus 2 is a multiple of ten is none of them.
    assert (receipt.accepted, receipt.returned, receipt.received_on) == ((0, 1, 2, 3), (), ANSWERED)
    assert receipt.forwarding == file.name
    assert receipt.batch_id == "cf-1"


def test_the_simulated_bodies_return_one_claim_in_ten_the_same_way_every_time(sealing):
    message = forwarding_message(sealing, 12, ImplementingBody.JPS)
    (file,) = sealing.adapter().from_hub(message).to_counterpart
    sim = simulator(return_every=10)
    first, again = sim.handle(file), sim.handle(file)
    assert first == again  # a redelivered file gets the same receipt
    receipt = _receipt(sealing, first[0])
    assert [(r.record_seq, r.field, r.reason) for r in receipt.returned] == [(9, "pages", PAGES_MISSING)]
    assert len(receipt.accepted) == 11
    # and the adapter makes the same message of it twice (same id): the hub's inbox drops the second
    (one,) = sealing.adapter().from_counterpart(first[0]).to_hub
    (two,) = sealing.adapter().from_counterpart(again[0]).to_hub
    assert (one.message_id, one.payload) == (two.message_id, two.payload)


def test_a_broken_claim_line_is_returned_with_its_problem_and_the_others_taken(sealing):
    content = write_forwarding(forwarding_file(3))
    lines = content.split(b"\r\n")
    lines[1] = lines[1].replace(b",12,", b",99,", 1)  # claim 0: a kind with no code
    (answer,) = simulator().handle(line_file(f"IB-FWD-jps-{uuid.uuid4().hex}.csv", b"\r\n".join(lines)))
    receipt = _receipt(sealing, answer)
    assert [(r.record_seq, r.field, r.reason) for r in receipt.returned] == [(0, "kind", "E002")]
    assert receipt.accepted == (1, 2)


def test_a_broken_header_returns_every_claim(sealing):
    content = write_forwarding(forwarding_file(2)).replace(b"H,cf-1,m130001,1,2", b"H,cf-1,m130001,7,2", 1)
    (answer,) = simulator().handle(line_file(f"IB-FWD-jps-{uuid.uuid4().hex}.csv", content))
    receipt = _receipt(sealing, answer)
    assert [(r.record_seq, r.field) for r in receipt.returned] == [(0, "destination"), (1, "destination")]
    assert receipt.accepted == ()


def test_a_number_sealed_for_another_recipient_or_message_does_not_open(sealing):
    with pytest.raises(SealError):
        sealing.adapter().from_hub(forwarding_message(sealing, 1, recipient="nta"))
    message = forwarding_message(sealing, 1)
    moved = dataclasses.replace(
        message, envelope=message.envelope.model_copy(update={"message_id": uuid.uuid4()})
    )
    with pytest.raises(SealError) as caught:
        sealing.adapter().from_hub(moved)
    assert not find_numbers(str(caught.value))


def test_a_forwarding_under_another_purpose_opens_nothing(sealing):
    with pytest.raises(IbPurposeRefused):
        sealing.adapter().from_hub(forwarding_message(sealing, 1, purpose=WITHHOLDING_SLIP_PURPOSE))


def test_what_the_adapter_does_not_take(sealing):
    message = forwarding_message(sealing, 1)
    other = dataclasses.replace(message, envelope=message.envelope.model_copy(update={"schema_version": 2}))
    with pytest.raises(UnknownMessageType):
        sealing.adapter().from_hub(other)
    (file,) = sealing.adapter().from_hub(message).to_counterpart
    with pytest.raises(IbFileError):  # its own forwarding coming back
        sealing.adapter().from_counterpart(file)
    with pytest.raises(IbFileError):  # the bodies take no receipt
        simulator().handle(line_file(receipt_file_name(file.name), b""))
    receipt = ReceiptFile("IB-FWD-jps-" + "b" * 32 + ".csv", "cf-1", ImplementingBody.JPS, ANSWERED, (0,))
    with pytest.raises(IbFileError, match="header answers another file"):
        sealing.adapter().from_counterpart(line_file(receipt_file_name(file.name), write_receipt(receipt)))
