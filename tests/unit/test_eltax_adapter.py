"""The eLTAX adapter with the simulator in process: files out, receipts and notices back, numbers sealed."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.eltax import (
    EltaxFieldRefused,
    EltaxFileError,
    EltaxSimulator,
    parse_notice,
    parse_report,
    receipt_file_name,
    report_file_name,
)
from contracts.envelope import Envelope
from contracts.errors import SealError, UnknownMessageType, WireFormatError
from contracts.link import Adapter, CounterpartFile, Simulator
from contracts.messages.eltax import (
    EltaxReceipt,
    EltaxTokuchoInbound,
    ReceiptStatus,
    TokuchoNoticeCode,
    notice_number_field,
)
from contracts.redaction import find_numbers
from contracts.registry import Decoded, decode, encode
from tests.adapter_links import EltaxGateway
from tests.eltax_fixtures import Sealing, decoded, notice, number, simulator, submission


@pytest.fixture
def sealing() -> Sealing:
    return Sealing()


def test_adapter_and_simulator_have_the_link_shapes(sealing):
    adapter: Adapter = sealing.adapter()  # checked by mypy against the protocols
    sim: Simulator = simulator()
    assert adapter.name == sim.name == "eltax"


def test_a_submission_becomes_one_file_per_municipality_with_the_numbers_opened(sealing):
    envelope = submission(sealing, 6)
    output = sealing.adapter().from_hub(decoded(envelope))
    names = [f.name for f in output.to_counterpart]
    assert names == [report_file_name(m, envelope.message_id) for m in ("01100", "13101", "27100")]
    assert not output.to_hub
    for file in output.to_counterpart:
        report = parse_report(file.content)
        assert len(report.records) == 2
        assert file.correlation_id == str(envelope.correlation_id)
        first = report.records[0]
        assert first.individual_number is not None
        assert first.spouse is not None
        assert first.spouse.individual_number is not None
        assert len(first.dependants) == 1
        assert len(first.minors) == 1
        assert first.elderly_dependants == 1
        assert first.under_16_dependants == 1
    assert number(100) in {
        r.individual_number for f in output.to_counterpart for r in parse_report(f.content).records
    }


def test_the_same_message_gives_the_same_files(sealing):
    envelope = decoded(submission(sealing, 3))
    first, second = sealing.adapter().from_hub(envelope), sealing.adapter().from_hub(envelope)
    assert first.to_counterpart == second.to_counterpart


def test_a_field_the_layout_forbids_is_caught_before_anything_leaves(sealing):
    envelope = submission(sealing, 6, name="𠮷田　茂")  # the last record: U+20BB7 is not in CP932
    with pytest.raises(EltaxFieldRefused) as caught:
        sealing.adapter().from_hub(decoded(envelope))
    error = caught.value
    assert error.field == "name (支払を受ける者 氏名)"
    assert error.record_no == 2  # the second row of 27100's file
    assert "payment report record #2, field name (支払を受ける者 氏名)" in str(error)
    assert "𠮷" not in str(error)
    assert not find_numbers(str(error))
    assert error.code == "eltax_field_refused"
    assert isinstance(error, WireFormatError)  # permanent: the host dead-letters the message


def test_a_number_sealed_for_someone_else_is_refused(sealing):
    envelope = submission(sealing, 1)
    payload = envelope.payload
    mid = envelope.message_id
    payload["records"][0]["individual_number"] = sealing.sealer.seal(
        number(1), recipient="jlis", message_id=mid, field="records.0.individual_number"
    )
    with pytest.raises(SealError):
        sealing.adapter().from_hub(decode(encode(envelope.model_copy(update={"payload": payload}))))


def test_a_number_moved_to_another_field_is_refused(sealing):
    envelope = submission(sealing, 1)
    payload = envelope.payload
    record = payload["records"][0]
    record["individual_number"], record["spouse"]["individual_number"] = (
        record["spouse"]["individual_number"],
        record["individual_number"],
    )
    with pytest.raises(SealError):
        sealing.adapter().from_hub(decode(encode(envelope.model_copy(update={"payload": payload}))))


def test_other_message_types_are_refused(sealing):
    message = decoded(submission(sealing, 1))
    other = Decoded(
        message.envelope.model_copy(update={"message_type": "jlis.survival_change.inquiry"}), message.payload
    )
    with pytest.raises(UnknownMessageType):
        sealing.adapter().from_hub(other)


def _round(sealing: Sealing, envelope: Envelope, sim: EltaxSimulator | None = None) -> list[Envelope]:
    adapter, gateway = sealing.adapter(), EltaxGateway(sim or simulator())
    messages: list[Envelope] = []
    for file in adapter.from_hub(decoded(envelope)).to_counterpart:
        for answer in gateway.exchange(file):
            messages.extend(adapter.from_counterpart(answer).to_hub)
    return messages


def test_a_receipt_reaches_the_hub_by_usage_number_with_per_record_errors(sealing):
    envelope = submission(sealing, 30)
    messages = _round(sealing, envelope, simulator(non_resident=0.3))
    payloads = [decode(encode(m)).payload for m in messages]
    receipts = [r for r in payloads if isinstance(r, EltaxReceipt)]
    assert receipts == payloads, "every message is a receipt"
    assert len(receipts) == 3
    records = [r for receipt in receipts for r in receipt.records]
    assert len(records) == 30
    rejected = [r for r in records if r.status is ReceiptStatus.REJECTED]
    assert rejected, "with a 30% non-resident rate some record is rejected"
    assert all(r.errors[0].field == "recipient_number" and r.errors[0].code == "E100" for r in rejected)
    assert {r.usage_number.value if r.usage_number else None for r in records} == {
        f"P{i:010d}" for i in range(30)
    }
    assert all(m.causation_id == envelope.message_id for m in messages)
    assert all(m.correlation_id == envelope.correlation_id for m in messages)


def test_a_target_notice_brings_requests_whose_numbers_are_sealed_for_the_hub(sealing):
    envelope = notice(sealing, TokuchoNoticeCode.TARGET, 6)
    messages = [decode(encode(m)) for m in _round(sealing, envelope)]
    inbound = [(m.envelope, m.payload) for m in messages if isinstance(m.payload, EltaxTokuchoInbound)]
    assert {payload.notice_code for _, payload in inbound} == {TokuchoNoticeCode.REQUEST}
    assert sum(len(payload.records) for _, payload in inbound) == 6
    for envelope_in, payload in inbound:
        assert "sealed:v2:hub:" in encode(envelope_in).decode()
        for record in payload.records:
            opened = sealing.for_hub.unseal(
                record.individual_number,
                message_id=envelope_in.message_id,
                field=notice_number_field(record.record_seq),
            )
            assert opened in {number(500 + i) for i in range(6)}
        assert not find_numbers(encode(envelope_in).decode())


def test_redelivered_files_give_the_same_message_ids(sealing):
    envelope = notice(sealing, TokuchoNoticeCode.TARGET, 2)
    first = [m.message_id for m in _round(sealing, envelope)]
    second = [m.message_id for m in _round(sealing, envelope)]
    assert first == second


def test_a_receipt_under_another_name_is_refused(sealing):
    envelope = submission(sealing, 3)
    adapter, sim = sealing.adapter(), simulator()
    file = adapter.from_hub(decoded(envelope)).to_counterpart[0]
    receipt = sim.handle(file)[0]
    other = receipt_file_name(report_file_name(file.name.split("-")[2], uuid.uuid4()))
    with pytest.raises(EltaxFileError):
        adapter.from_counterpart(CounterpartFile("eltax", other, receipt.content, receipt.correlation_id))


def test_the_adapter_refuses_files_that_go_the_other_way(sealing):
    file = sealing.adapter().from_hub(decoded(submission(sealing, 1))).to_counterpart[0]
    with pytest.raises(EltaxFileError):
        sealing.adapter().from_counterpart(file)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=3_000), kind=st.sampled_from(["RC-PR331", "TK01", "TK41", "TK61"]))
def test_random_files_from_the_link_only_ever_raise_wire_format_errors(sealing, content, kind):
    ext = "dat" if kind.startswith("TK") else "csv"
    name = f"ELTAX-{kind}-13101-{'a' * 32}.{ext}"
    with pytest.raises(WireFormatError):
        sealing.adapter().from_counterpart(CounterpartFile("eltax", name, content, str(uuid.uuid4())))


def test_collection_results_bring_losses_and_changes(sealing):
    envelope = notice(sealing, TokuchoNoticeCode.COLLECTION_RESULT, 40, created_on=date(2026, 11, 10))
    messages = [
        decode(encode(m)).payload
        for m in _round(sealing, envelope, simulator(loss=0.2, provisional_change=0.3))
    ]
    codes = {p.notice_code for p in messages if isinstance(p, EltaxTokuchoInbound)}
    assert codes == {TokuchoNoticeCode.LOSS, TokuchoNoticeCode.PROVISIONAL_CHANGE}
    losses = [
        r
        for p in messages
        if isinstance(p, EltaxTokuchoInbound) and p.notice_code is TokuchoNoticeCode.LOSS
        for r in p.records
    ]
    assert all(r.category in {"01", "02", "03", "04"} and r.event_date is not None for r in losses)
    assert all(r.individual_number is None for r in losses)


def test_the_notice_files_hold_the_numbers_only_in_a_target_notice(sealing):
    for code in (TokuchoNoticeCode.TARGET, TokuchoNoticeCode.REQUEST_RESULT):
        files = sealing.adapter().from_hub(decoded(notice(sealing, code, 4))).to_counterpart
        numbers = [r.individual_number for f in files for r in parse_notice(f.content).records]
        assert all(n is not None for n in numbers) == (code is TokuchoNoticeCode.TARGET)
