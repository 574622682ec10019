"""A malformed message on ingress is dead-lettered with its reason, and the hub keeps consuming.

The hub's dead-letter consumer keeps every dead letter in its store; the test reads them there. Every
message id here is a UUID whose last group is twelve digits with a valid check digit (as about one random
UUID in 3,100 is): the id must come back whole, so the test no longer fails when it draws one by chance.
"""

from __future__ import annotations

import json
import random
import time
import uuid

import pika
import pytest

from contracts.individual_number import check_digit, synthetic_individual_number
from hub.demo.deployment import LocalDeployment, local_deployment
from hub.infra.broker.credentials import url_user
from hub.ports.dead_letters import DeadLetter, DeadLetterQuery

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e]


def id_with_a_valid_group(rng: random.Random) -> str:
    """A version-4 UUID whose last group passes the 個人番号 check digit (a redactor's worst case)."""
    base = "".join(rng.choice("0123456789") for _ in range(11))
    group = base + str(check_digit(base))
    head = uuid.UUID(int=rng.getrandbits(128), version=4)
    return f"{str(head)[:24]}{group}"


RNG = random.Random()


def _publish(url: str, exchange: str, body: bytes, message_type: str = "garbage") -> str:
    message_id = id_with_a_valid_group(RNG)
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(
            exchange,
            "hub",
            body,
            pika.BasicProperties(
                delivery_mode=2, message_id=message_id, type=message_type, user_id=url_user(url)
            ),
            mandatory=True,
        )
    finally:
        connection.close()
    return message_id


def _stored(hub: LocalDeployment, expected: int, timeout_s: float = 20) -> list[DeadLetter]:
    """Dead letters the hub's dead-letter consumer has kept in its store (bounded wait)."""
    deadline = time.monotonic() + timeout_s
    found: list[DeadLetter] = []
    while time.monotonic() < deadline:
        with hub.uow_factory()() as uow:
            found = uow.dead_letters.find(DeadLetterQuery())
        if len(found) >= expected:
            break
        time.sleep(0.2)
    return found


@pytest.mark.timeout(90)
def test_malformed_messages_reach_the_dead_letter_queue_with_reasons(e2e_settings):
    hub = local_deployment(e2e_settings)
    hub.prepare()
    services = hub.hub_services()
    services.start()
    url, names = e2e_settings.amqp_url, hub.names
    number = synthetic_individual_number().reveal()
    try:
        sent = {
            _publish(url, names.ingress_exchange, b"\xff\xfe not utf-8"): "undecodable",
            _publish(
                url, names.ingress_exchange, json.dumps({"note": f"number {number}"}).encode()
            ): "validation_failed",
            _publish(
                url,
                names.ingress_exchange,
                json.dumps(
                    {
                        "message_id": id_with_a_valid_group(RNG),
                        "correlation_id": id_with_a_valid_group(RNG),
                        "message_type": "no.such.type",
                        "schema_version": 1,
                        "source": "pension",
                        "destination": "hub",
                        "purpose": {"code": "x", "legal_basis": [{"law": "l", "article": "a"}]},
                        "created_at": "2026-11-26T00:00:00+09:00",
                        "payload": {},
                    }
                ).encode(),
            ): "unknown_message_type",
        }
        dead = _stored(hub, expected=3)
        assert not services.failures, "the hub's consumers must survive bad input"
    finally:
        services.shutdown()
        hub.close()

    reasons = {d.message_id: d.failure.reason_code for d in dead}
    assert reasons == sent, "each dead letter keeps its message id whole, a valid-looking group and all"
    for d in dead:
        assert d.failure.stage == "decode"
        assert d.failure.reason_text
        assert number.encode() not in d.body, "a number in bad input must be redacted before dead-lettering"
