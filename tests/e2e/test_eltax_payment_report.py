"""Payment reports end to end on the real broker: per-municipality submissions, rejections by usage number,
and a field the layout forbids caught before anything leaves."""

from __future__ import annotations

from datetime import date

import pytest

from contracts.envelope import Purpose
from contracts.ids import new_id
from contracts.messages.common import ChunkInfo
from contracts.messages.eltax import (
    PAYMENT_REPORT_PURPOSE,
    EltaxOutcomes,
    PaymentReportRequested,
    ReceiptStatus,
)
from hub.demo._eltax_common import as_pension
from hub.demo.data import demo_municipalities, demo_population
from hub.demo.deployment import local_deployment
from hub.demo.eltax import PAYER, PaymentReportFlow
from hub.demo.runner import run_demo
from hub.ports.dead_letters import DeadLetterQuery
from tests.e2e.eltax_helpers import bind_spy, drain, pension_messages, wait_for

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e]

RECORDS = 300


@pytest.mark.timeout(60)
def test_reports_go_per_municipality_and_rejections_reach_the_pension_system_by_usage_number(e2e_settings):
    report = run_demo(e2e_settings, RECORDS, timeout_s=45, console=None, flows=["payment_report"])
    summary = report.as_json()
    assert summary["lost"] == 0
    assert summary["flows"]["payment_report"] == {"sent": RECORDS, "completed": RECORDS}
    assert summary["dead_lettered"] == 0
    assert summary["duplicates"] == 0
    # The pension system asked through its exchange directory: one payment_report file, processed whole.
    processed = e2e_settings.wire_dir / "pension" / "processed"
    assert len(list(processed.glob("payment_report.*.csv"))) == 1

    register = demo_municipalities()
    population = demo_population(RECORDS)
    people = {population.usage_number(i): population.person(i) for i in range(RECORDS)}
    outcomes = [
        EltaxOutcomes.model_validate(e.payload)
        for e in pension_messages(e2e_settings, "pension.eltax.outcomes")
    ]

    # One submission per municipality, each answered for exactly its own residents.
    assert {o.municipality_code for o in outcomes} == {p.municipality_code for p in people.values()}
    for outcome in outcomes:
        assert outcome.submission.startswith(f"ELTAX-PR331-{outcome.municipality_code}-")
        assert {people[r.usage_number].municipality_code for r in outcome.records} == {
            outcome.municipality_code
        }

    # The municipalities' per-record rejections reach the pension system by usage number: exactly the people
    # the simulated municipalities do not know, each with the field and the code, never a value.
    rejected = {r.usage_number: r for o in outcomes for r in o.records if r.status is ReceiptStatus.REJECTED}
    foreseen = {u for u, p in people.items() if not register.resident(p.municipality_code, u.value)}
    assert rejected.keys() == foreseen
    assert rejected, "the seeded register rejects some people"
    assert all(
        [(e.field, e.code) for e in r.errors] == [("recipient_number", "E100")] for r in rejected.values()
    )
    assert summary["outcomes"]["payment_report"] == {
        "accepted": RECORDS - len(foreseen),
        "rejected": len(foreseen),
    }


@pytest.mark.timeout(60)
def test_a_field_the_layout_forbids_is_caught_before_it_leaves_with_the_field_named(e2e_settings):
    hub = local_deployment(e2e_settings, configure_logs=False)
    services = None
    try:
        hub.prepare()
        flow = PaymentReportFlow()
        flow.prepare(hub, 10)
        spy = bind_spy(e2e_settings, {"counterpart": ["eltax.outbound"]})
        population = hub.population(10)
        records = [flow.record(population, i) for i in range(10)]
        records[3] = records[3].model_copy(update={"name": "𠮷田\u3000茂"})  # 𠮷 (U+20BB7) is not in CP932
        correlation = new_id()
        request = PaymentReportRequested(
            chunk=ChunkInfo(batch_id="forbidden", chunk_index=0, chunk_count=1, total_records=10),
            tax_year=date.today().year - 1,
            payer=PAYER,
            records=tuple(records),
        )
        purpose = Purpose(code="pension.payment_report", legal_basis=PAYMENT_REPORT_PURPOSE.legal_basis)
        services = hub.services(simulators=True, population=population)
        services.start()
        hub.publish_as_pension(
            [as_pension("pension.payment_report.requested", purpose, request, correlation)]
        )

        def dead_letters():
            with hub.uow_factory()() as uow:
                return uow.dead_letters.find(DeadLetterQuery(message_type="eltax.payment_report.submission"))

        found = wait_for(dead_letters, seconds=30)
    finally:
        if services is not None:
            services.shutdown()
        hub.close()
    assert len(found) == 1
    failure = found[0].failure
    assert failure.reason_code == "eltax_field_refused"
    assert failure.stage == "eltax.from_hub"
    assert "field name (支払を受ける者 氏名)" in failure.reason_text
    assert "record #" in failure.reason_text
    assert "𠮷" not in failure.reason_text
    # Nothing left for eLTAX, and nothing came back to the pension system for this submission.
    assert drain(e2e_settings, spy) == []
    assert [
        e for e in pension_messages(e2e_settings, "pension.eltax.outcomes") if e.correlation_id == correlation
    ] == []
