"""A special collection cycle end to end on the real broker: 00 → 01 → 02 and 22 → 41 and 61 → 42 and 62."""

from __future__ import annotations

from collections import Counter

import pytest

from contracts.messages.eltax import (
    EltaxOutcomes,
    InstructionKind,
    NumberCheck,
    ReceiptStatus,
    TokuchoInstructions,
    TokuchoNoticeCode,
)
from hub.demo.runner import run_demo
from tests.e2e.eltax_helpers import pension_messages

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e]

RECORDS = 300
C = TokuchoNoticeCode


@pytest.mark.timeout(60)
def test_a_special_collection_cycle_runs_both_ways_and_every_record_arrives(e2e_settings):
    report = run_demo(e2e_settings, RECORDS, timeout_s=45, console=None, flows=["special_collection"])
    summary = report.as_json()
    assert summary["lost"] == 0
    flow = summary["flows"]["special_collection"]
    assert flow["sent"] == flow["completed"] > RECORDS
    assert summary["dead_lettered"] == 0
    assert summary["duplicates"] == 0
    per_notice = summary["outcomes"]["special_collection"]
    assert set(per_notice) == {
        f"notice_{c.value}"
        for c in (
            C.TARGET,
            C.REQUEST,
            C.REQUEST_RESULT,
            C.COLLECTION_RESULT,
            C.LOSS,
            C.LOSS_RESULT,
            C.PROVISIONAL_CHANGE,
            C.PROVISIONAL_CHANGE_RESULT,
        )
    }
    assert per_notice["notice_01"] == per_notice["notice_02"]
    assert per_notice["notice_41"] == per_notice["notice_42"]
    assert per_notice["notice_61"] == per_notice["notice_62"]

    # The municipalities' notices reached the pension system as instructions, by usage number.
    instructions = [
        TokuchoInstructions.model_validate(e.payload)
        for e in pension_messages(e2e_settings, "pension.tokucho.instructions")
    ]
    kinds = Counter((i.notice_code, r.instruction) for i in instructions for r in i.records)
    assert kinds[(C.REQUEST, InstructionKind.START_DEDUCTION)] > 0
    assert kinds[(C.REQUEST, InstructionKind.NO_DEDUCTION)] > 0
    assert kinds[(C.LOSS, InstructionKind.STOP_DEDUCTION)] == per_notice["notice_41"]
    assert kinds[(C.PROVISIONAL_CHANGE, InstructionKind.CHANGE_PROVISIONAL)] == per_notice["notice_61"]
    requests = [r for i in instructions if i.notice_code is C.REQUEST for r in i.records]
    # The numbers the municipalities sent back were sealed at once and match the vault's (never relinked).
    assert {r.number_check for r in requests} == {NumberCheck.MATCH}
    assert all(
        r.amounts.main_october is not None
        for r in requests
        if r.instruction is InstructionKind.START_DEDUCTION
    )
    losses = [r for i in instructions if i.notice_code is C.LOSS for r in i.records]
    assert all(r.category in {"01", "02", "03", "04"} and r.event_date is not None for r in losses)

    # The federation's notices got their receipts; only the target notice has rejections (people unknown).
    receipts = [
        EltaxOutcomes.model_validate(e.payload)
        for e in pension_messages(e2e_settings, "pension.eltax.outcomes")
    ]
    rejected = Counter(
        o.notice_code for o in receipts for r in o.records if r.status is ReceiptStatus.REJECTED
    )
    assert set(rejected) <= {C.TARGET}
    assert all(o.file_status is ReceiptStatus.ACCEPTED for o in receipts)
