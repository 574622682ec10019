"""The hub's withholding-slip handlers: numbers sealed for the NTA adapter, none for a dependant under 16."""

from __future__ import annotations

from datetime import date

import pytest

from contracts.envelope import Envelope, new_envelope
from contracts.errors import PolicyRefused, SealError
from contracts.messages.common import ChunkInfo
from contracts.messages.eltax import (
    DependantKind,
    PaymentReportPayer,
    PaymentReportRecord,
    ReceiptStatus,
    recipient_number_field,
    report_dependant_number_field,
    spouse_number_field,
)
from contracts.messages.nta import (
    WITHHOLDING_SLIP_PURPOSE,
    NtaOutcomes,
    NtaReceipt,
    NtaWithholdingSlipSubmission,
    SlipError,
    WithholdingSlipRequested,
)
from contracts.messages.purpose import NotPermittedOutcomes
from contracts.redaction import find_numbers
from contracts.registry import encode, payload_dict
from hub.core.flows.nta import handle_nta_receipt, handle_withholding_slip_request
from hub.core.rules.policy import NumberPolicy
from hub.infra.audit.query import search
from hub.infra.crypto.sealing import HpkeUnsealer
from hub.ports.audit import AuditAction
from hub.ports.vault import Ground, Retention
from tests.eltax_fixtures import CONTRACT_PAYER, certificate, number
from tests.tax_report_hub import dependant, enrolled_hub, report_record, run

PAYER = PaymentReportPayer.model_validate(
    {**CONTRACT_PAYER.model_dump(), "corporate_number": "1234567890123"}
)


@pytest.fixture
def hub(tmp_path):
    yield from enrolled_hub(tmp_path)


def slip_request(*records: PaymentReportRecord) -> Envelope:
    payload = WithholdingSlipRequested(
        chunk=ChunkInfo(batch_id="ws", chunk_index=0, chunk_count=1, total_records=len(records)),
        tax_year=2026,
        payer=PAYER,
        records=records,
    )
    return new_envelope(
        message_type="pension.withholding_slip.requested",
        schema_version=1,
        source="pension",
        actor="federation",
        destination="hub",
        purpose=WITHHOLDING_SLIP_PURPOSE,
        payload=payload_dict(payload),
    )


def test_a_slip_gets_the_numbers_it_carries_sealed_for_nta_and_none_for_a_child_under_16(hub):
    request = slip_request(
        report_record(
            0, certificate(0), spouse=0, dependants=[(1, DependantKind.SPECIFIC), (2, DependantKind.UNDER_16)]
        ),
        report_record(1, certificate(9)),  # no number in the vault
    )
    [out] = run(hub, handle_withholding_slip_request, request)
    assert (out.message_type, out.destination, out.purpose.code) == (
        "nta.withholding_slip.submission",
        "nta",
        "nta.withholding_slip",
    )
    assert not find_numbers(encode(out).decode())
    slips = NtaWithholdingSlipSubmission.model_validate(out.payload)
    assert slips.payer.corporate_number == "1234567890123"
    nta = HpkeUnsealer(hub.keyring.unsealing("nta"))
    first, mid = slips.records[0], out.message_id
    assert first.individual_number is not None
    assert nta.unseal(first.individual_number, message_id=mid, field=recipient_number_field(0)) == number(0)
    assert first.spouse is not None
    assert first.spouse.individual_number is not None
    assert nta.unseal(first.spouse.individual_number, message_id=mid, field=spouse_number_field(0)) == number(
        100
    )
    deductible, child = first.dependants
    assert deductible.individual_number is not None
    field = report_dependant_number_field(0, 0)
    assert nta.unseal(deductible.individual_number, message_id=mid, field=field) == number(101)
    assert child.kind is DependantKind.UNDER_16
    assert child.individual_number is None  # the slip has no item for it: the hub seals none
    assert slips.records[1].individual_number is None
    # The numbers were sealed for the NTA adapter alone: eLTAX's key does not open them.
    eltax = HpkeUnsealer(hub.keyring.unsealing("eltax"))
    with pytest.raises(SealError):
        eltax.unseal(first.individual_number, message_id=mid, field=recipient_number_field(0))
    with hub.engine.connect() as conn:
        enriched = [r for r in search(conn, message_id=str(mid)) if r.action == AuditAction.ENRICHED.value]
    assert [r.details["numbers"] for r in enriched] == ["3"]


def test_a_child_under_16_held_only_as_same_address_does_not_stop_the_slip(hub):
    # The child's number is not sent, so the purpose table is not asked about it: a number the slip does
    # not carry cannot make the slip unlawful.
    with hub.uow_factory()() as uow:
        subjects = uow.vault.enrol(
            [(dependant(7), number(107))], retention=Retention(basis="test"), source="test"
        )
        uow.vault.add_grounds([(subjects[dependant(7)], Ground("same_address", "jlis"))], source="test")
        uow.commit()
    under_16 = slip_request(report_record(0, certificate(0), dependants=[(7, DependantKind.UNDER_16)]))
    [out] = run(hub, handle_withholding_slip_request, under_16)
    assert out.message_type == "nta.withholding_slip.submission"
    deductible = slip_request(report_record(0, certificate(1), dependants=[(7, DependantKind.OTHER)]))
    [refused] = run(hub, handle_withholding_slip_request, deductible)
    assert refused.message_type == "pension.purpose.refused"
    outcome = NotPermittedOutcomes.model_validate(refused.payload)
    assert [r.usage_number for r in outcome.records] == [certificate(1)]


def test_without_a_policy_rule_no_slip_leaves(hub):
    with pytest.raises(PolicyRefused):
        run(
            hub,
            handle_withholding_slip_request,
            slip_request(report_record(0, certificate(0))),
            NumberPolicy([]),
        )


def test_a_request_without_the_payers_corporate_number_is_refused_at_the_door():
    with pytest.raises(ValueError, match="法人番号"):
        WithholdingSlipRequested(
            chunk=ChunkInfo(batch_id="ws", chunk_index=0, chunk_count=1, total_records=1),
            tax_year=2026,
            payer=CONTRACT_PAYER,
            records=(report_record(0, certificate(0)),),
        )


def test_the_agencys_receipt_reaches_the_pension_system(hub):
    receipt = NtaReceipt(
        submission="377dat-" + "a" * 32 + ".txt",
        tax_year=2026,
        received_on=date(2027, 1, 20),
        status=ReceiptStatus.REJECTED,
        slips=12,
        errors=(SlipError(line=3, field="recipient_individual_number", code="E101"),),
    )
    env = new_envelope(
        message_type="nta.receipt",
        schema_version=1,
        source="nta",
        destination="hub",
        purpose=WITHHOLDING_SLIP_PURPOSE,
        payload=payload_dict(receipt),
    )
    [out] = run(hub, handle_nta_receipt, env)
    assert (out.message_type, out.destination, out.purpose.code) == (
        "pension.nta.outcomes",
        "pension",
        "pension.nta",
    )
    outcomes = NtaOutcomes.model_validate(out.payload)
    assert (outcomes.status, outcomes.slips, outcomes.errors) == (ReceiptStatus.REJECTED, 12, receipt.errors)
    with hub.engine.connect() as conn:
        [received] = search(conn, message_id=str(env.message_id), action=AuditAction.RECEIVED.value)
    assert received.details["status"] == "rejected"
    assert received.details["errors"] == "1"
