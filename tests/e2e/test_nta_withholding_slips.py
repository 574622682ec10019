"""Withholding slips end to end on the real broker: sealed for the NTA adapter, plain only inside the line.

A spy queue receives a copy of every message of the flow (the hub's ingress, the routes to the NTA and
pension adapters, both directions of the NTA line). Nothing is lost or done twice; every file the
simulated Agency acknowledged reaches the pension system; no body or header holds a number, on its own or
written as the slip writes it ("0" and twelve digits); as a control, the slip files opened with the line's
key do hold numbers in that form. (A scan of every twelve-digit window of longer runs would also flag
usage numbers and ids that merely contain a valid window, so the slip's own form is what is looked for.)
"""

from __future__ import annotations

import re

import pytest

from contracts.individual_number import is_valid_individual_number
from contracts.messages.eltax import ReceiptStatus
from contracts.messages.nta import NtaOutcomes
from contracts.redaction import find_numbers
from hub.demo.deployment import local_deployment
from hub.demo.nta import SLIPS_PER_FILE
from hub.demo.runner import run_demo
from tests.e2e.eltax_helpers import bind_spy, drain, pension_messages

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e]

RECORDS = 250


SLIP_FORM = re.compile(r"(?<![0-9])0([0-9]{12})(?![0-9])")
"""A number as the slip writes it: "0" and the twelve digits (a run of thirteen)."""


def _leaks(data: bytes) -> int:
    """Numbers in ``data``: on their own (as every scan of the suite looks), or in the slip's form."""
    text = data.decode("utf-8", errors="ignore")
    slip_form = [m for m in SLIP_FORM.finditer(text) if is_valid_individual_number(m.group(1))]
    return len(find_numbers(text)) + len(slip_form)


@pytest.mark.timeout(60)
def test_slips_reach_the_agency_sealed_and_every_receipt_reaches_the_pension_system(e2e_settings):
    hub = local_deployment(e2e_settings, configure_logs=False)
    try:
        hub.prepare_broker()
        link = hub.link_cipher("nta")
    finally:
        hub.close()
    spy = bind_spy(
        e2e_settings,
        {"ingress": ["hub"], "route": ["nta", "pension"], "counterpart": ["nta.outbound", "nta.inbound"]},
    )
    report = run_demo(e2e_settings, RECORDS, timeout_s=45, console=None, flows=["withholding_slip"])
    summary = report.as_json()
    assert (summary["lost"], summary["dead_lettered"], summary["duplicates"]) == (0, 0, 0)
    assert summary["flows"]["withholding_slip"] == {"sent": RECORDS, "completed": RECORDS}

    files = -(-RECORDS // SLIPS_PER_FILE)
    # The pension system asked through its exchange directory: one request file per submission, processed.
    processed = e2e_settings.wire_dir / "pension" / "processed"
    assert len(list(processed.glob("withholding_slip.*.csv"))) == files
    outcomes = [
        NtaOutcomes.model_validate(e.payload) for e in pension_messages(e2e_settings, "pension.nta.outcomes")
    ]
    assert len({o.submission for o in outcomes}) == files
    assert sum(o.slips for o in outcomes) == RECORDS
    assert all(o.status is ReceiptStatus.ACCEPTED for o in outcomes)  # the simulator refuses the 7th file

    captured = drain(e2e_settings, spy)
    types = {properties.type for properties, _ in captured}
    assert {
        "pension.withholding_slip.requested",
        "nta.withholding_slip.submission",
        "nta.file",
        "nta.receipt",
        "pension.nta.outcomes",
    } <= types
    for properties, body in captured:
        assert _leaks(body) == 0, f"a plain number in a {properties.type} body"
        headers = repr(properties.headers or {}).encode()
        assert _leaks(headers) == 0, f"a plain number in {properties.type} headers"

    # Control: inside the line's encryption the slips carry numbers, as "0" and twelve digits.
    opened = [link.open(body) for properties, body in captured if properties.type == "nta.file"]
    slips = [f for f in opened if f.name.startswith("NTA-377dat01-")]
    assert len(slips) == files
    assert all(_leaks(f.content) for f in slips)
