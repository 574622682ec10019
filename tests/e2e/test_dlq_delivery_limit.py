"""A message that keeps crashing its consumer is dead-lettered by the delivery limit, and kept."""

from __future__ import annotations

import pytest

from hub.core.runtime.routing import to_outgoing
from hub.settings import RetrySettings
from tests.e2e.test_dlq_support import eventually, renkei, running_hub
from tests.unit.test_dlq_fixtures import INQUIRY, inquiry

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e]


@pytest.mark.timeout(60)
def test_a_crash_loop_ends_in_the_store_with_reason_delivery_limit(e2e_settings, monkeypatch):
    limit = 2
    retry = e2e_settings.retry
    settings = e2e_settings.model_copy(
        update={
            "retry": RetrySettings(
                max_attempts=retry.max_attempts, delays_ms=retry.delays_ms, delivery_limit=limit
            )
        }
    )
    calls: list[str] = []

    def crash(message, ctx):  # a bug: every delivery crashes the handler
        calls.append(str(message.envelope.message_id))
        raise RuntimeError("injected crash")

    monkeypatch.setattr("hub.bootstrap.hub_worker.HANDLERS", {INQUIRY: crash})
    envelope = inquiry()
    mid = str(envelope.message_id)
    with running_hub(settings) as hub:
        hub.transport("test").publish([to_outgoing(envelope, hub.exchanges)])

        def stored():
            rows = renkei(settings, "dlq", "list")
            assert [r["message_id"] for r in rows] == [mid]
            return rows[0]

        row = eventually(stored)
        ingress = hub.names.ingress_queue
        assert hub.transport("depth").queue_depth(ingress)[0] == 0  # not redelivered any more

    assert (row["reason_code"], row["exception_type"], row["origin"]) == (
        "delivery_limit",
        "broker:delivery_limit",
        "broker",
    )
    assert (row["source_queue"], row["stage"]) == (ingress, "hub.ingress")
    assert calls == [mid] * (limit + 1)  # delivered once, then redelivered up to the limit
    [record] = renkei(settings, "audit", "search", "--action", "dead_lettered", "--message-id", mid)
    assert (record["reason"], record["details"]["origin"]) == ("delivery_limit", "broker")
    assert record["details"]["dead_letter_id"] == str(row["id"])
