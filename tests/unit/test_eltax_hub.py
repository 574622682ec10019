"""The hub's eLTAX handlers on SQLite and the in-memory broker: numbers added, sealed, checked by policy."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest

from contracts.envelope import Envelope, new_envelope
from contracts.errors import PolicyRefused
from contracts.individual_number import IndividualNumber
from contracts.messages.common import ChunkInfo
from contracts.messages.eltax import (
    NOTICE_PURPOSE,
    PAYMENT_REPORT_PURPOSE,
    DependantKind,
    EltaxOutcomes,
    EltaxPaymentReportSubmission,
    EltaxReceipt,
    EltaxTokuchoInbound,
    EltaxTokuchoNotice,
    EltaxTokuchoRecord,
    InstructionKind,
    NumberCheck,
    PaymentReportRecord,
    PaymentReportRequested,
    ReceiptError,
    ReceiptRecord,
    ReceiptStatus,
    TokuchoAmounts,
    TokuchoInstructions,
    TokuchoNoticeCode,
    TokuchoNoticeRequested,
    TokuchoRecord,
    notice_number_field,
    recipient_number_field,
    report_dependant_number_field,
    spouse_number_field,
)
from contracts.redaction import find_numbers
from contracts.registry import encode, payload_dict
from hub.core.flows.eltax import (
    handle_eltax_receipt,
    handle_payment_report_request,
    handle_tokucho_inbound,
    handle_tokucho_notice_request,
)
from hub.core.rules.policy import NumberPolicy
from hub.demo.deployment import LocalDeployment
from hub.infra.crypto.sealing import HpkeSealer, HpkeUnsealer
from tests.eltax_fixtures import CONTRACT_PAYER, certificate, number
from tests.tax_report_hub import enrolled_hub, report_record, run


@pytest.fixture
def hub(tmp_path):
    yield from enrolled_hub(tmp_path)


def report_request(*records: PaymentReportRecord) -> Envelope:
    payload = PaymentReportRequested(
        chunk=ChunkInfo(batch_id="pr", chunk_index=0, chunk_count=1, total_records=len(records)),
        tax_year=2026,
        payer=CONTRACT_PAYER,
        records=records,
    )
    return new_envelope(
        message_type="pension.payment_report.requested",
        schema_version=1,
        source="pension",
        actor="federation",
        destination="hub",
        purpose=PAYMENT_REPORT_PURPOSE,
        payload=payload_dict(payload),
    )


def test_a_report_gets_every_number_sealed_for_eltax_in_its_own_field(hub):
    request = report_request(
        report_record(
            0, certificate(0), spouse=0, dependants=[(1, DependantKind.ELDERLY), (2, DependantKind.UNDER_16)]
        ),
        report_record(1, certificate(9)),  # no number in the vault
        report_record(2, certificate(77)),  # unknown to the vault
    )
    [out] = run(hub, handle_payment_report_request, request)
    assert (out.message_type, out.destination, out.source) == (
        "eltax.payment_report.submission",
        "eltax",
        "hub",
    )
    assert out.causation_id == request.message_id
    assert not find_numbers(encode(out).decode())
    payload = EltaxPaymentReportSubmission.model_validate(out.payload)
    eltax = HpkeUnsealer(hub.keyring.unsealing("eltax"))
    first = payload.records[0]
    mid = out.message_id
    assert first.individual_number is not None
    assert eltax.unseal(first.individual_number, message_id=mid, field=recipient_number_field(0)) == number(0)
    assert first.spouse is not None
    assert first.spouse.individual_number is not None
    assert eltax.unseal(
        first.spouse.individual_number, message_id=mid, field=spouse_number_field(0)
    ) == number(100)
    for k, index in enumerate((1, 2)):
        field = report_dependant_number_field(0, k)
        sealed = first.dependants[k].individual_number
        assert sealed is not None
        assert eltax.unseal(sealed, message_id=mid, field=field) == number(100 + index)
    assert payload.records[1].individual_number is None
    assert payload.records[2].individual_number is None
    assert '"kind":"dependant"' not in encode(out).decode()  # dependants' usage numbers stay in the hub


def test_the_same_request_gives_the_same_message_id(hub):
    request = report_request(report_record(0, certificate(0)))
    assert (
        run(hub, handle_payment_report_request, request)[0].message_id
        == run(hub, handle_payment_report_request, request)[0].message_id
    )


def test_without_a_policy_rule_no_number_leaves(hub):
    with pytest.raises(PolicyRefused):
        run(
            hub,
            handle_payment_report_request,
            report_request(report_record(0, certificate(0))),
            NumberPolicy([]),
        )


def notice_request(code: TokuchoNoticeCode, **extra) -> Envelope:
    records = tuple(
        TokuchoRecord(
            record_seq=i,
            municipality_code="01100",
            usage_number=certificate(i),
            basic_pension_number=f"{1_000_000_000 + i}",
            pension_code="1150",
            birth_date=date(1945, 5, 5),
            sex="male",
            kana_name="サトウ　シゲル",
            name="佐藤　茂",
            address="北海道札幌市本町三丁目",
            **extra,
        )
        for i in range(3)
    )
    payload = TokuchoNoticeRequested(
        chunk=ChunkInfo(batch_id="tk", chunk_index=0, chunk_count=1, total_records=3),
        notice_code=code,
        fiscal_year=2026,
        created_on=date(2026, 5, 20),
        records=records,
    )
    return new_envelope(
        message_type="pension.tokucho.notice_requested",
        schema_version=1,
        source="pension",
        actor="federation",
        destination="hub",
        purpose=NOTICE_PURPOSE,
        payload=payload_dict(payload),
    )


def test_only_a_target_notice_carries_numbers(hub):
    [target] = run(
        hub,
        handle_tokucho_notice_request,
        notice_request(
            TokuchoNoticeCode.TARGET, category="01", amounts=TokuchoAmounts(annual_pension=2_000_000)
        ),
    )
    payload = EltaxTokuchoNotice.model_validate(target.payload)
    assert target.purpose.code == "eltax.tokucho.target_notice"
    assert all(r.individual_number for r in payload.records)
    eltax = HpkeUnsealer(hub.keyring.unsealing("eltax"))
    field = notice_number_field(2)
    sealed = payload.records[2].individual_number
    assert sealed is not None
    assert eltax.unseal(sealed, message_id=target.message_id, field=field) == number(2)
    [result] = run(
        hub, handle_tokucho_notice_request, notice_request(TokuchoNoticeCode.REQUEST_RESULT, result="00")
    )
    assert result.purpose.code == "eltax.tokucho.notice"
    assert not any(r.individual_number for r in EltaxTokuchoNotice.model_validate(result.payload).records)


def test_a_receipt_reaches_the_pension_system_by_usage_number(hub):
    receipt = EltaxReceipt(
        submission="ELTAX-PR331-13101-" + "a" * 32 + ".csv",
        document="payment_report",
        municipality_code="13101",
        received_on=date(2027, 1, 20),
        file_status=ReceiptStatus.ACCEPTED,
        records=(
            ReceiptRecord(line=1, usage_number=certificate(0), status=ReceiptStatus.ACCEPTED),
            ReceiptRecord(
                line=2,
                usage_number=certificate(1),
                status=ReceiptStatus.REJECTED,
                errors=(ReceiptError(field="recipient_number", code="E100"),),
            ),
            ReceiptRecord(line=3, status=ReceiptStatus.REJECTED, errors=(ReceiptError(code="E010"),)),
        ),
    )
    envelope = new_envelope(
        message_type="eltax.receipt",
        schema_version=1,
        source="eltax",
        destination="hub",
        purpose=PAYMENT_REPORT_PURPOSE,
        payload=payload_dict(receipt),
    )
    [out] = run(hub, handle_eltax_receipt, envelope)
    assert (out.message_type, out.destination) == ("pension.eltax.outcomes", "pension")
    outcomes = EltaxOutcomes.model_validate(out.payload)
    assert [(r.usage_number, r.status) for r in outcomes.records] == [
        (certificate(0), ReceiptStatus.ACCEPTED),
        (certificate(1), ReceiptStatus.REJECTED),
    ]
    assert outcomes.records[1].errors[0].code == "E100"
    assert outcomes.unmatched_lines == (3,)


def inbound(
    hub: LocalDeployment, code: TokuchoNoticeCode, numbers: dict[int, IndividualNumber | None], **extra: Any
) -> Envelope:
    mid = uuid.uuid4()
    sealer = HpkeSealer(hub.keyring.sealing_for())
    records = tuple(
        EltaxTokuchoRecord(
            record_seq=seq,
            municipality_code="01100",
            usage_number=certificate(index),
            basic_pension_number=f"{1_000_000_000 + index}",
            pension_code="1150",
            birth_date=date(1945, 5, 5),
            sex="male",
            kana_name="サトウ　シゲル",
            name="佐藤　茂",
            individual_number=None
            if value is None
            else sealer.seal(value, recipient="hub", message_id=mid, field=notice_number_field(seq)),
            **extra,
        )
        for seq, (index, value) in enumerate(numbers.items(), start=1)
    )
    payload = EltaxTokuchoInbound(
        source_file="ELTAX-TK01-01100-" + "b" * 32 + ".dat",
        notice_code=code,
        municipality_code="01100",
        created_on=date(2026, 7, 31),
        records=records,
    )
    return new_envelope(
        message_type="eltax.tokucho.inbound",
        schema_version=1,
        source="eltax",
        destination="hub",
        purpose=NOTICE_PURPOSE,
        payload=payload_dict(payload),
        message_id=mid,
    )


def test_a_request_becomes_instructions_and_its_numbers_are_checked_never_linked(hub):
    envelope = inbound(
        hub,
        TokuchoNoticeCode.REQUEST,
        {0: number(0), 1: number(55), 2: None, 77: number(77)},
        category="01",
        amounts=TokuchoAmounts(main_october=10_000),
    )
    [out] = run(hub, handle_tokucho_inbound, envelope)
    assert not find_numbers(encode(out).decode())
    instructions = TokuchoInstructions.model_validate(out.payload)
    assert [r.number_check for r in instructions.records] == [
        NumberCheck.MATCH,
        NumberCheck.MISMATCH,
        NumberCheck.ABSENT,
        NumberCheck.UNKNOWN_PERSON,
    ]
    assert {r.instruction for r in instructions.records} == {InstructionKind.START_DEDUCTION}
    assert instructions.records[0].amounts.main_october == 10_000
    with hub.uow_factory()() as uow:
        subject = uow.vault.subjects_by_usage([certificate(1)])[certificate(1)]
        assert uow.vault.numbers_of([subject])[subject] == number(1)  # the mismatch changed nothing


@pytest.mark.parametrize(
    ("code", "extra", "kind"),
    [
        (TokuchoNoticeCode.REQUEST, {"category": "03"}, InstructionKind.NO_DEDUCTION),
        (
            TokuchoNoticeCode.LOSS,
            {"category": "01", "event_date": date(2026, 11, 3)},
            InstructionKind.STOP_DEDUCTION,
        ),
        (
            TokuchoNoticeCode.PROVISIONAL_CHANGE,
            {"event_date": date(2027, 4, 1), "amounts": TokuchoAmounts(provisional_april=7_000)},
            InstructionKind.CHANGE_PROVISIONAL,
        ),
    ],
)
def test_each_notice_gives_its_instruction(hub, code, extra, kind):
    [out] = run(hub, handle_tokucho_inbound, inbound(hub, code, {0: None}, **extra))
    assert TokuchoInstructions.model_validate(out.payload).records[0].instruction is kind
