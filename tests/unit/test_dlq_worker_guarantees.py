"""What the hub's worker promises (issue item 2), checked on the in-memory broker and SQLite.

Idempotent consumer: a redelivered or replayed message id is handled once. Transactional outbox: what a
handler produces is published only after its transaction commits, and a broker outage only defers it.
One bad message spoils nothing but itself.

The last four tests pin defects found in review and fixed in ``hub/core/runtime/worker.py``: an overlong AMQP
type, one message's transient failure exhausting its neighbours, the outbox sweep racing a batch's own
relay, and an unroutable outbox row blocking the relay forever.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from contracts.envelope import Envelope, Party, new_envelope
from contracts.errors import BrokerUnavailable, StoreUnavailable
from hub.core.flows.context import HandlerContext
from hub.ports.transport import OutgoingMessage
from tests.unit.test_dlq_fixtures import INQUIRY, FlakyHandler, inquiry, make_env


@pytest.fixture
def env(tmp_path):
    env = make_env(tmp_path, delivery_limit=2)
    yield env
    env.hub.close()


def forward_to(destination: Party):
    """A handler that sends one message on, to ``destination``."""

    def handler(message, ctx: HandlerContext) -> list[Envelope]:
        return [
            new_envelope(
                message_type="jlis.survival_change.inquiry",
                schema_version=1,
                source="hub",
                destination=destination,
                purpose=message.envelope.purpose,
                payload={},
                causation_id=message.envelope.message_id,
            )
        ]

    return handler


def test_a_message_delivered_twice_is_handled_once(env):
    flaky = FlakyHandler(failures=0)
    envelope = inquiry()
    env.send(envelope)
    env.send(envelope)  # a publisher's retry after a lost confirm
    env.run(env.worker({INQUIRY: flaky}))
    env.send(envelope)  # and again, in a later batch
    env.run(env.worker({INQUIRY: flaky}))
    assert flaky.completed == [str(envelope.message_id)]
    assert env.dead_letters() == []


def test_outgoing_messages_leave_only_after_the_commit_and_a_broker_outage_only_defers_them(env):
    jlis = env.names.adapter_queue("jlis")
    committed: list[int] = []
    worker = env.worker({INQUIRY: forward_to("jlis")})

    def check_nothing_left_before_commit() -> None:
        committed.append(len(env.mem.ready(jlis)))

    worker._d = dataclasses.replace(worker._d, after_commit=check_nothing_left_before_commit)
    publish = env.mem.publish

    def down(messages):
        raise BrokerUnavailable("broker restarting")

    env.send(inquiry())
    env.mem.publish = down
    try:
        env.mem.drain(env.names.ingress_queue, worker)
    finally:
        env.mem.publish = publish
    assert committed == [0]
    assert env.mem.ready(jlis) == []  # deferred, kept in the outbox
    assert worker.relay_pending() == 0  # too young: the batch that wrote it may still be relaying it
    assert worker.relay_pending(grace=timedelta(0)) == 1  # the sweep publishes it once the broker is back
    assert len(env.mem.ready(jlis)) == 1
    assert worker.relay_pending(grace=timedelta(0)) == 0


def test_a_crash_rolls_back_only_its_own_message(env):
    good, bad = inquiry(), inquiry()

    def handler(message, ctx):
        if message.envelope.message_id == bad.message_id:
            raise RuntimeError("a bug")
        return forward_to("jlis")(message, ctx)

    env.send(good)
    env.send(bad)
    env.run(env.worker({INQUIRY: handler}))
    assert len(env.mem.ready(env.names.adapter_queue("jlis"))) == 1
    [dead] = env.dead_letters()
    assert (dead.message_id, dead.failure.reason_code) == (str(bad.message_id), "delivery_limit")


def test_an_overlong_message_type_does_not_take_its_batch_neighbours_down(env):
    ok = FlakyHandler(failures=0)
    good = inquiry()
    env.mem.publish([OutgoingMessage(env.names.ingress_exchange, "hub", b"garbage", "bad", "x" * 250, "bad")])
    env.send(good)
    env.run(env.worker({INQUIRY: ok}))
    assert [d.message_id for d in env.dead_letters()] == ["bad"]


def test_a_transient_failure_of_one_message_does_not_exhaust_its_neighbours(env):
    bad, innocent = inquiry(), inquiry()
    done: list[str] = []

    def handler(message, ctx):
        if message.envelope.message_id == bad.message_id:
            raise StoreUnavailable("this one keeps failing")
        done.append(str(message.envelope.message_id))
        return []

    env.send(bad)
    env.send(innocent)
    for _ in range(6):  # bounded: max_attempts is 2, tiers of 100 and 200 ms
        env.run(env.worker({INQUIRY: handler}))
        env.clock.advance(1)
    assert done == [str(innocent.message_id)]


def test_the_outbox_sweep_does_not_publish_what_a_batch_is_about_to_relay(env):
    worker = env.worker({INQUIRY: forward_to("jlis")})
    # The sweep's timer fires between the batch's commit and its relay.
    worker._d = dataclasses.replace(worker._d, after_commit=worker.relay_pending)
    env.send(inquiry())
    env.mem.drain(env.names.ingress_queue, worker)
    assert len(env.mem.ready(env.names.adapter_queue("jlis"))) == 1


def test_an_unroutable_outbox_message_does_not_block_the_relay(env):
    worker = env.worker({INQUIRY: forward_to("operator")})  # no queue is bound for "operator"
    env.send(inquiry())
    env.run(worker)
    assert worker.relay_pending(grace=timedelta(0)) == 0
