"""A malformed message on ingress is dead-lettered with its reason, and the hub keeps consuming."""

from __future__ import annotations

import json
import time
import uuid

import pika
import pytest

from contracts.individual_number import synthetic_individual_number
from hub.bootstrap import bootstrap
from hub.core import headers as h

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e]


def _publish(url: str, exchange: str, body: bytes, message_type: str = "garbage") -> str:
    message_id = str(uuid.uuid4())
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(
            exchange,
            "hub",
            body,
            pika.BasicProperties(delivery_mode=2, message_id=message_id, type=message_type),
            mandatory=True,
        )
    finally:
        connection.close()
    return message_id


def _drain(
    url: str, queue: str, expected: int, timeout_s: float = 20
) -> list[tuple[pika.BasicProperties, bytes]]:
    got: list[tuple[pika.BasicProperties, bytes]] = []
    deadline = time.monotonic() + timeout_s
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        while len(got) < expected and time.monotonic() < deadline:
            method, props, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                time.sleep(0.1)
                continue
            got.append((props, body))
    finally:
        connection.close()
    return got


@pytest.mark.timeout(90)
def test_malformed_messages_reach_the_dead_letter_queue_with_reasons(e2e_settings):
    hub = bootstrap(e2e_settings)
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
                        "message_id": str(uuid.uuid4()),
                        "correlation_id": str(uuid.uuid4()),
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
        dead = _drain(url, names.dead_letter_queue, expected=3)
        assert not services.failures, "the hub's consumer must survive bad input"
    finally:
        services.shutdown()
        hub.close()

    reasons = {props.message_id: props.headers[h.FAILURE_CODE] for props, _ in dead}
    assert reasons == sent
    for props, body in dead:
        assert props.headers[h.FAILED_STAGE] == "decode"
        assert props.headers[h.FAILURE_REASON]
        assert number.encode() not in body, "a number in bad input must be redacted before dead-lettering"
