"""The dead-letter consumer with the hub's worker on the in-memory broker and SQLite.

Every failure class ends in the store exactly once with one DEAD_LETTERED access record: permanent
failures at once, transient ones after their retry tiers, crash loops through the broker's delivery limit.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from contracts.errors import PolicyRefused, StoreUnavailable, ValidationFailed
from contracts.individual_number import synthetic_individual_number
from contracts.redaction import find_numbers
from hub.core.runtime import headers as h
from hub.core.runtime.dead_letter_consumer import DeadLetterConsumer
from hub.core.runtime.retry import dead_letter_message
from hub.ports.dead_letters import DeadLetterEntry, FailureOrigin
from hub.ports.transport import Delivery, Disposition
from tests.unit.test_dlq_fixtures import INQUIRY, DlqEnv, FlakyHandler, inquiry, make_env


@pytest.fixture
def env(tmp_path):
    env = make_env(tmp_path, delivery_limit=2)
    yield env
    env.hub.close()


def test_a_message_the_hub_dead_letters_is_stored_once_with_the_hubs_own_record(env):
    number = synthetic_individual_number().reveal()
    mid = env.send_raw(json.dumps({"note": f"number {number}"}).encode())
    env.run(env.worker({}))

    [dead] = env.dead_letters()
    f = dead.failure
    assert (dead.message_id, f.origin, f.stage, f.reason_code) == (
        mid,
        FailureOrigin.HUB,
        "decode",
        "validation_failed",
    )
    assert f.source_queue == env.names.ingress_queue
    assert dead.group_label == "validation_failed at decode on unknown"  # hub-side facts only
    assert not find_numbers(dead.body.decode())
    records = env.records("dead_lettered")
    assert [(r.actor, r.message_id) for r in records] == [("hub:test", mid)]  # the hub's, not a second one


def test_a_permanent_failure_in_a_handler_is_stored_with_its_stage_and_exception(env):
    flaky = FlakyHandler(error=lambda: PolicyRefused("not allowed"), failures=99)
    envelope = inquiry()
    env.send(envelope)
    env.run(env.worker({INQUIRY: flaky}))
    [dead] = env.dead_letters()
    assert (dead.failure.stage, dead.failure.exception_type, dead.failure.reason_code) == (
        "handle",
        "PolicyRefused",
        "policy_refused",
    )
    assert dead.message_id == str(envelope.message_id)
    assert len(env.records("dead_lettered")) == 1


def test_a_crash_loop_is_dead_lettered_by_the_delivery_limit_and_recorded_by_the_consumer(env):
    def crash(message, ctx):
        raise RuntimeError("a bug")

    envelope = inquiry()
    env.send(envelope)
    env.run(env.worker({INQUIRY: crash}))

    [dead] = env.dead_letters()
    f = dead.failure
    assert (f.origin, f.reason_code, f.exception_type, f.stage) == (
        FailureOrigin.BROKER,
        "delivery_limit",
        "broker:delivery_limit",
        "hub.ingress",
    )
    assert f.source_queue == env.names.ingress_queue
    [record] = env.records("dead_lettered")
    assert (record.actor, record.reason, record.message_id) == (
        "hub:dead-letters:test",
        "delivery_limit",
        str(envelope.message_id),
    )
    assert record.details["origin"] == "broker"
    assert record.details["dead_letter_id"] == str(dead.id)


def test_transient_failures_go_through_the_retry_tiers_then_dead_letter_with_a_record(env):
    flaky = FlakyHandler(error=lambda: StoreUnavailable("db down"), failures=99)
    env.send(inquiry())
    worker = env.worker({INQUIRY: flaky})
    for _ in range(5):  # bounded: two attempts, one retry tier between them
        env.run(worker)
        env.clock.advance(1)
    [dead] = env.dead_letters()
    assert (dead.failure.stage, dead.failure.reason_code, dead.failure.attempts) == (
        "retry",
        "store_unavailable",
        2,
    )
    assert len(flaky.calls) == 2
    # The worker writes no record for an exhausted retry: the consumer does, once.
    assert [r.actor for r in env.records("dead_lettered")] == ["hub:dead-letters:test"]


def test_a_dead_letter_from_an_adapter_host_is_recorded_by_the_consumer(env):
    failed = Delivery(env.names.adapter_queue("jlis"), b"{}", "m-9", "jlis.x", "c-9", {}, False, 1)
    message = dead_letter_message(
        failed, ValidationFailed("bad"), stage="jlis.from_hub", exchanges=env.hub.exchanges
    )
    env.mem.publish([message])
    env.run(env.worker({}))
    [dead] = env.dead_letters()
    assert (dead.failure.origin, dead.failure.stage) == (FailureOrigin.HOST, "jlis.from_hub")
    assert [r.message_id for r in env.records("dead_lettered")] == ["m-9"]


def test_the_same_dead_lettering_delivered_twice_makes_one_row_and_one_record(env):
    failed = Delivery(env.names.adapter_queue("jlis"), b"{}", "m-9", "jlis.x", "c-9", {}, False, 1)
    message = dead_letter_message(
        failed, ValidationFailed("bad"), stage="jlis.from_hub", exchanges=env.hub.exchanges
    )
    env.mem.publish([message, message])  # at-least-once dead-lettering, or an outbox relayed twice
    env.run(env.worker({}))
    env.mem.publish([message])  # and once more, in a later batch
    env.run(env.worker({}))
    [dead] = env.dead_letters()
    assert dead.occurrences == 1
    assert len(env.records("dead_lettered")) == 1


def test_a_second_dead_lettering_of_a_pending_message_is_merged_and_recorded(env):
    failed = Delivery(env.names.adapter_queue("jlis"), b"{}", "m-9", "jlis.x", "c-9", {}, False, 1)
    for _ in range(2):  # two real failures (a redelivery after a lost ack), each at its own time
        env.mem.publish(
            [
                dead_letter_message(
                    failed, ValidationFailed("bad"), stage="jlis.from_hub", exchanges=env.hub.exchanges
                )
            ]
        )
        env.run(env.worker({}))
    [dead] = env.dead_letters()
    assert dead.occurrences == 2
    assert len(env.records("dead_lettered")) == 2


def test_a_store_failure_hands_the_batch_back_after_a_pause(env):
    pauses: list[float] = []

    class Down:
        def __call__(self):
            raise StoreUnavailable("db down")

    class Broken:
        def __call__(self):
            raise RuntimeError("a driver error nobody translated")

    failed = Delivery("t.hub.ingress", b"{}", "m", "t", "c", {h.FAILED_STAGE: "decode"}, False, 1)
    for factory in (Down(), Broken()):
        consumer = DeadLetterConsumer(factory, env.consumer()._config, actor="x", pause=pauses.append)
        assert consumer([failed, failed]) == [Disposition.REQUEUE, Disposition.REQUEUE]
    assert pauses == [1.0, 1.0]


def test_one_dead_letter_the_store_cannot_take_is_handed_back_alone(
    env: DlqEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = Delivery(
        "t.hub.ingress", b"{}", "good", "t", "c", {h.FAILED_STAGE: "decode", h.FAILURE_AT: "a"}, False, 1
    )
    bad = Delivery(
        "t.hub.ingress", b"{}", "bad", "t", "c", {h.FAILED_STAGE: "decode", h.FAILURE_AT: "b"}, False, 2
    )
    factory = env.hub.uow_factory()
    with factory() as probe:
        store = type(probe.dead_letters)  # every unit of work's dead-letter store is of this class
    add = store.add

    def add_or_fail(self: Any, entry: DeadLetterEntry) -> tuple[int, bool]:
        if entry.message_id == "bad":
            raise ValueError("a bug in the store")
        return add(self, entry)

    monkeypatch.setattr(store, "add", add_or_fail)

    pauses: list[float] = []
    consumer = DeadLetterConsumer(factory, env.consumer()._config, actor="x", pause=pauses.append)
    assert consumer([good, bad]) == [Disposition.ACK, Disposition.REQUEUE]
    assert pauses == [1.0]
    assert [d.message_id for d in env.dead_letters()] == ["good"]
