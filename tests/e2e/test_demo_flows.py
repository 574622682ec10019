"""`renkei demo`: the survival inquiry, number acquisition and dependants' declarations lose nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from hub.demo.deployment import local_deployment
from hub.demo.registry import FLOWS as ALL_FLOWS
from hub.demo.runner import run_demo
from hub.infra.db.tables.actors import message_actors
from hub.infra.db.tables.audit import access_records

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e]

FLOWS = ["survival_inquiry", "number_acquisition", "dependants_declaration"]


@pytest.mark.timeout(150)
def test_the_three_flows_complete_every_record_once(e2e_settings) -> None:
    report = run_demo(e2e_settings, 300, timeout_s=100, console=None, flows=FLOWS)
    summary = report.as_json()
    assert summary["lost"] == 0, summary
    assert summary["duplicates"] == 0
    assert summary["dead_lettered"] == 0
    assert summary["flows"] == {
        "survival_inquiry": {"sent": 306, "completed": 306},  # 6 dependants named by mistake
        "number_acquisition": {"sent": 300, "completed": 300},
        "dependants_declaration": {"sent": 270, "completed": 270},
    }
    acquisition = summary["outcomes"]["number_acquisition"]
    assert acquisition["linked"] > 200
    assert acquisition["held:multiple_candidates"] > 0
    assert acquisition["held:no_match"] > 0
    declarations = summary["outcomes"]["dependants_declaration"]
    assert declarations["stored"] == 270
    assert declarations["dependants_stored"] >= 270 + 30  # a spouse for every tenth, and 1-3 relatives each
    survival = summary["outcomes"]["survival_inquiry"]
    assert sum(survival.values()) == 306
    assert survival["not_permitted"] == 6


@pytest.mark.timeout(240)
def test_every_flows_messages_carry_an_actor(e2e_settings) -> None:
    # Every message the hub handled or produced, in every flow, ran on behalf of an actor it established
    # (the pension system's, checked against the seed's split of 事務, or its flow's): each access record
    # the hub wrote for a message names it, and each flow has exactly one.
    report = run_demo(e2e_settings, 120, timeout_s=200, console=None, flows=list(ALL_FLOWS))
    assert report.as_json()["lost"] == 0
    hub = local_deployment(e2e_settings, configure_logs=False)
    try:
        with hub.engine.connect() as conn:
            rows = conn.execute(
                select(
                    access_records.c.correlation_id, access_records.c.message_type, access_records.c.details
                ).where(
                    access_records.c.actor.like("hub:%"),
                    access_records.c.action.in_(["received", "routed", "enriched"]),
                )
            ).all()
            flows = dict(conn.execute(select(message_actors.c.correlation_id, message_actors.c.actor)).all())
        assert rows
        missing = sorted({r.message_type for r in rows if "on_behalf_of" not in json.loads(r.details)})
        assert not missing, f"messages without an actor: {missing}"
        by_type: dict[str, set[str]] = {}
        for r in rows:
            by_type.setdefault(r.message_type, set()).add(json.loads(r.details)["on_behalf_of"])
        # The seed's split: 情報照会 and dependants' declarations by a 構成組合; payment reports, special
        # collection and withholding slips by the federation alone.
        assert by_type["pension.info_query.requested"] == {"m130001"}
        assert by_type["intermediate_server.info_query.result"] == {"m130001"}
        assert by_type["pension.dependants_declaration.submitted"] == {"m130001"}
        assert by_type["pension.payment_report.requested"] == {"federation"}
        assert by_type["eltax.receipt"] == {"federation"}
        assert by_type["pension.tokucho.notice_requested"] == {"federation"}
        assert by_type["pension.withholding_slip.requested"] == {"federation"}
        assert by_type["nta.receipt"] == {"federation"}
        # 事務 (6), forwarding claims to the other implementing bodies, is a 構成組合's alone.
        assert by_type["pension.claim_forwarding.requested"] == {"m130001"}
        assert by_type["implementing_bodies.receipt"] == {"m130001"}
        assert by_type["jlis.survival_change.result"] == {"federation"}
        assert set(flows.values()) == {"federation", "m130001"}
    finally:
        hub.close()
