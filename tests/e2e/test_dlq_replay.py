"""Done when: a message dead-lettered by an injected fault is found with ``renkei dlq list``, replayed with
``renkei dlq replay --reason``, completes once (even replayed twice), and the replay is in the access record.
"""

from __future__ import annotations

import logging

import pytest

from contracts.errors import PolicyRefused
from hub.core.operator.dead_letter_replay import replay_message
from hub.core.runtime import headers as h
from hub.core.runtime.routing import to_outgoing
from hub.infra.broker.credentials import replay_routes
from hub.ports.dead_letters import DeadLetterQuery
from tests.e2e.test_dlq_support import eventually, renkei, running_hub
from tests.unit.test_dlq_fixtures import INQUIRY, FlakyHandler, inquiry

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e]


@pytest.mark.timeout(60)
def test_an_injected_fault_is_found_replayed_once_and_recorded(e2e_settings, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="hub.core.runtime.worker")
    # The fault: the hub's handler refuses the message the first time only (a policy since fixed).
    flaky = FlakyHandler(error=lambda: PolicyRefused("injected: not allowed yet"), failures=1)
    monkeypatch.setattr("hub.bootstrap.hub_worker.HANDLERS", {INQUIRY: flaky})
    envelope = inquiry()
    mid = str(envelope.message_id)

    with running_hub(e2e_settings) as hub:
        hub.transport("test").publish([to_outgoing(envelope, hub.exchanges)])

        def dead_letter_listed():
            rows = renkei(e2e_settings, "dlq", "list")
            assert [r["message_id"] for r in rows] == [mid]
            return rows[0]

        listed = eventually(dead_letter_listed)
        assert (listed["reason_code"], listed["stage"], listed["origin"]) == (
            "policy_refused",
            "handle",
            "hub",
        )
        assert listed["source_queue"] == hub.names.ingress_queue
        [group] = renkei(e2e_settings, "dlq", "groups")
        assert (group["fingerprint"], group["count"]) == (listed["fingerprint"], 1)

        [report] = renkei(
            e2e_settings,
            "dlq",
            "replay",
            str(listed["id"]),
            "--reason",
            "policy fixed",
            "--operator",
            "e2e-op",
        )
        assert report["counts"] == {"replayed": 1}
        replay_id = report["results"][0]["replay_id"]
        eventually(lambda: _assert(flaky.completed == [mid]))

        # A second replay by the CLI is refused (no longer pending)...
        [again] = renkei(
            e2e_settings, "dlq", "replay", str(listed["id"]), "--reason", "twice", "--operator", "e2e-op"
        )
        assert again["counts"] == {"skipped": 1}
        # ...and a duplicate that reaches the queue anyway (a replay published twice) is dropped by the inbox.
        with hub.uow_factory()() as uow:
            [row] = uow.dead_letters.find(DeadLetterQuery(ids=(listed["id"],), statuses=()))
        target = replay_routes(e2e_settings, hub.exchanges).target(row.message_type, row.sender)
        duplicate = replay_message(row, replay_id=replay_id, operator="e2e-op", target=target)
        assert duplicate.headers[h.REPLAY_OF] == str(listed["id"])
        hub.transport("test").publish([duplicate])
        eventually(
            lambda: _assert(any(r.getMessage() == "duplicate delivery skipped" for r in caplog.records))
        )
        eventually(lambda: _assert(hub.transport("depth").queue_depth(hub.names.ingress_queue)[0] == 0))

    assert flaky.completed == [mid]
    assert flaky.calls == [mid, mid]  # the fault, then the replay; the duplicate never reached the handler
    [after] = renkei(e2e_settings, "dlq", "list", "--status", "replayed")
    assert (after["id"], after["replay_count"], after["last_operator"]) == (
        listed["id"],
        1,
        "e2e-op",
    )
    assert renkei(e2e_settings, "dlq", "list") == []

    records = renkei(e2e_settings, "audit", "search", "--action", "replayed", "--message-id", mid)
    [record] = records
    assert (record["actor"], record["reason"], record["outcome"]) == ("operator:e2e-op", "policy fixed", "ok")
    assert record["details"]["replay_id"] == replay_id
    assert record["details"]["dead_letter_id"] == str(listed["id"])


def _assert(condition: bool) -> None:
    assert condition
