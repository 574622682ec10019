"""A transient fault goes through a delayed-retry tier and the message completes once, on attempt 2."""

from __future__ import annotations

import pytest

from contracts.errors import StoreUnavailable
from hub.core.runtime import headers as h
from hub.core.runtime.routing import to_outgoing
from hub.infra.runner import ServiceGroup
from hub.ports.transport import Delivery
from tests.e2e.test_dlq_support import consumer_options, eventually, renkei, running_hub
from tests.unit.test_dlq_fixtures import INQUIRY, FlakyHandler, inquiry

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e]


@pytest.mark.timeout(60)
def test_a_transient_fault_is_retried_through_a_tier_and_completes_once(e2e_settings, monkeypatch):
    # The fault: the vault's database is unavailable the first time the message is handled.
    flaky = FlakyHandler(error=lambda: StoreUnavailable("injected: database restarting"), failures=1)
    monkeypatch.setattr("hub.bootstrap.hub_worker.HANDLERS", {INQUIRY: flaky})
    seen: list[Delivery] = []

    def services(hub):
        group, transport = ServiceGroup(), hub.transport("hub")
        worker = hub.hub_worker(transport)

        def observed(deliveries):
            seen.extend(deliveries)
            return worker(deliveries)

        options = consumer_options(e2e_settings)
        group.consume("hub", transport, hub.names.ingress_queue, observed, **options)
        group.consume(
            "dead-letters",
            hub.transport("dlq"),
            hub.names.dead_letter_queue,
            hub.dead_letter_consumer(),
            **options,
        )
        return group

    envelope = inquiry()
    mid = str(envelope.message_id)
    with running_hub(e2e_settings, services) as hub:
        hub.transport("test").publish([to_outgoing(envelope, hub.exchanges)])
        eventually(lambda: _assert(flaky.completed == [mid]))
        tier = hub.names.retry_queue(e2e_settings.retry.delays_ms[0])

    assert flaky.calls == [mid, mid]
    first, second = seen
    assert (h.attempt_of(first.headers), h.attempt_of(second.headers)) == (1, 2)
    assert second.headers[h.FAILURE_CODE] == "store_unavailable"
    deaths = second.headers["x-death"]
    assert isinstance(deaths, list)
    [death] = deaths  # it waited in the first retry tier, which expired it back
    assert (death["queue"], death["reason"]) == (tier, "expired")
    assert renkei(e2e_settings, "dlq", "list", "--status", "all") == []


def _assert(condition: bool) -> None:
    assert condition
