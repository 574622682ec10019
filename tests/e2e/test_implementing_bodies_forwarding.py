"""Claims forwarded to the other implementing bodies end to end: sealed on the broker, plain only in the line.

A spy queue receives a copy of every message of the flow (the hub's ingress, the routes to the adapter and
the pension adapter, both directions of the line). Nothing is lost or done twice; every claim gets every
answer it is owed (one per destination, or the hub's refusal of a claim the one-stop service does not
cover); no body or header holds a number; as a control, the forwarding files opened with the line's key do.
The access record names the refusal of the uncovered claims (REFUSED, ``not_one_stop``).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select

from contracts.messages.implementing_bodies import ONE_STOP, ClaimForwardingOutcomes, ForwardingStatus
from contracts.redaction import find_numbers
from hub.demo.deployment import local_deployment
from hub.demo.implementing_bodies import claim
from hub.demo.runner import run_demo
from hub.infra.db.tables.audit import access_records
from tests.e2e.eltax_helpers import bind_spy, drain, pension_messages

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e]

CLAIMS = 40


@pytest.mark.timeout(60)
def test_claims_reach_the_bodies_sealed_and_every_answer_reaches_the_pension_system(e2e_settings):
    hub = local_deployment(e2e_settings, configure_logs=False)
    try:
        hub.prepare_broker()
        link = hub.link_cipher("implementing_bodies")
        population = hub.population(CLAIMS)
    finally:
        hub.close()
    spy = bind_spy(
        e2e_settings,
        {
            "ingress": ["hub"],
            "route": ["implementing_bodies", "pension"],
            "counterpart": ["implementing_bodies.outbound", "implementing_bodies.inbound"],
        },
    )
    report = run_demo(e2e_settings, CLAIMS, timeout_s=45, console=None, flows=["claim_forwarding"])
    summary = report.as_json()
    assert (summary["lost"], summary["dead_lettered"], summary["duplicates"]) == (0, 0, 0)
    assert summary["flows"]["claim_forwarding"] == {"sent": CLAIMS, "completed": CLAIMS}

    claims = [claim(population, CLAIMS, i, date.today()) for i in range(CLAIMS)]
    covered = [c for c in claims if c.kind in ONE_STOP]
    outcomes = [
        o
        for e in pension_messages(e2e_settings, "pension.claim_forwarding.outcomes")
        for o in ClaimForwardingOutcomes.model_validate(e.payload).outcomes
    ]
    statuses = Counter(o.status for o in outcomes)
    assert statuses[ForwardingStatus.REFUSED] == CLAIMS - len(covered) == 4
    assert {o.reason for o in outcomes if o.status is ForwardingStatus.REFUSED} == {"not_one_stop"}
    owed = sum(len(c.destinations) for c in covered)
    assert statuses[ForwardingStatus.FORWARDED] + statuses[ForwardingStatus.RETURNED] == owed
    assert statuses[ForwardingStatus.RETURNED] > 0  # the simulated bodies return one claim in ten

    captured = drain(e2e_settings, spy)
    types = {properties.type for properties, _ in captured}
    assert {
        "pension.claim_forwarding.requested",
        "implementing_bodies.claim.forwarding",
        "implementing_bodies.file",
        "implementing_bodies.receipt",
        "pension.claim_forwarding.outcomes",
    } <= types
    for properties, body in captured:
        assert not find_numbers(body.decode("utf-8", errors="ignore")), (
            f"a number in a {properties.type} body"
        )
        assert not find_numbers(repr(properties.headers or {})), f"a number in {properties.type} headers"

    # Control: inside the line's encryption the forwarding files carry numbers; one file per destination.
    opened = [
        link.open(body) for properties, body in captured if properties.type == "implementing_bodies.file"
    ]
    forwardings = [f for f in opened if f.name.startswith("IB-FWD-")]
    assert len(forwardings) == len({d for c in covered for d in c.destinations}) == 4
    assert all(find_numbers(f.content.decode("cp932")) for f in forwardings)

    hub = local_deployment(e2e_settings, configure_logs=False)
    try:
        with hub.engine.connect() as conn:
            refused = conn.execute(
                select(access_records.c.details).where(
                    access_records.c.message_type == "pension.claim_forwarding.requested",
                    access_records.c.outcome == "refused",
                    access_records.c.reason == "not_one_stop",
                )
            ).all()
    finally:
        hub.close()
    assert [json.loads(r.details)["records"] for r in refused] == ["4"]
