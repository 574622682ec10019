"""The console's association scope reads the actor from the message, never from the people touched.

The review's case: a dead letter planted in a member's correlation (a message the hub never handled, with a
non-member's sealed number) was in the member association's sight, because the correlation's records touched
only its members. Its actor was never established by the hub, so it is the federation's alone.
"""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from contracts.ids import new_id
from hub.infra.crypto.sealing import HpkeSealer
from hub.ports.dead_letters import DeadLetterQuery
from hub.ports.transport import Delivery
from tests.console_fixtures import ConsoleWorld, console_world, token

__all__ = ["console_world"]


def _plant(world: ConsoleWorld) -> tuple[str, str]:
    """Put a dead letter into the dead-letter queue's consumer as a planter with broker access would.

    Its correlation is chiba's; its body is a J-LIS inquiry carrying the number of a saitama person (index
    12), sealed for J-LIS. Returns its message id and the correlation.
    """
    correlation = world.correlations["chiba"]
    message_id = new_id()
    sealer = HpkeSealer(world.hub.keyring.sealing_for())
    number = world.numbers[12]
    body = {
        "message_id": str(message_id),
        "correlation_id": correlation,
        "message_type": "jlis.survival_change.inquiry",
        "schema_version": 1,
        "source": "hub",
        "destination": "jlis",
        "actor": "m120006",  # it may even claim chiba's actor: the hub never established it
        "payload": {
            "cycle": "2026-12",
            "records": [
                {
                    "record_seq": 1,
                    "ref": "ref_1_planted",
                    "individual_number": sealer.seal(
                        number, recipient="jlis", message_id=message_id, field="records.1.individual_number"
                    ),
                }
            ],
        },
    }
    delivery = Delivery(
        queue=world.hub.names.dead_letter_queue,
        body=json.dumps(body).encode(),
        message_id=str(message_id),
        message_type="jlis.survival_change.inquiry",
        correlation_id=correlation,
        headers={
            "x-renkei-stage": "jlis.from_hub",
            "x-renkei-reason": "gateway_rejected",
            "x-renkei-reason-text": "J-LIS refused the file",
            "x-renkei-exception": "GatewayRejected",
            "x-renkei-queue": world.hub.names.adapter_queue("jlis"),
        },
        redelivered=False,
        delivery_tag=1,
    )
    world.hub.dead_letter_consumer()([delivery])
    return str(message_id), correlation


def _planted_id(client: TestClient, message_id: str) -> int:
    every = client.get("/api/dead-letters?limit=500", headers=token("olga")).json()
    return next(int(d["id"]) for d in every if _detail(client, d["id"])["message_id"] == message_id)


def _detail(client: TestClient, dead_letter_id: int) -> dict[str, object]:
    return dict(client.get(f"/api/dead-letters/{dead_letter_id}", headers=token("olga")).json())


def test_the_planted_dead_letter_is_out_of_the_member_associations_sight(console_world):
    world = console_world
    message_id, correlation = _plant(world)
    with TestClient(world.app) as client:
        planted = _planted_id(client, message_id)  # the federation sees it
        assert _detail(client, planted)["correlation_id"] == correlation
        mine = {d["id"] for d in client.get("/api/dead-letters?limit=500", headers=token("chiba-op")).json()}
        assert world.dead_letters["chiba"] in mine  # chiba's own dead letter stays in its sight
        assert planted not in mine
        refused = client.get(f"/api/dead-letters/{planted}", headers=token("chiba-op"))
        assert refused.status_code == 403
        acted = client.post(
            "/api/dead-letters/discard",
            json={"ids": [planted], "reason": "not ours to touch"},
            headers=token("chiba-op"),
        )
        assert acted.status_code == 403
    assert not world.records("discarded")


def test_a_member_cannot_even_ask_to_reveal_the_planted_number(console_world):
    from tests.console_fixtures import session

    world = console_world
    message_id, _ = _plant(world)
    with TestClient(world.app) as client:
        planted = _planted_id(client, message_id)
        asked = client.post(
            "/api/approvals",
            json={
                "action": "reveal_number",
                "dead_letter_id": planted,
                "sealed_index": 1,
                "reason": "which number is this",
            },
            headers=session(client, "chiba-admin"),
        )
        assert asked.status_code == 403
        assert "outside association" in world.records("refused")[-1]["reason"]
    assert not world.records("revealed")


def test_the_dead_letter_store_keeps_the_hub_established_actor_and_nothing_claimed(console_world):
    world = console_world
    message_id, _ = _plant(world)
    with world.hub.uow_factory()() as uow:
        rows = uow.dead_letters.find(DeadLetterQuery(limit=500))
    planted = next(r for r in rows if r.message_id == message_id)
    assert planted.actor is None  # the body's claim is not believed: the hub never handled this message
    assert {r.actor for r in rows if r.message_id != message_id and r.correlation_id} >= {"m120006"}
