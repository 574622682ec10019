"""Replay and discard on the in-memory broker and SQLite: provenance, once-only, claims, fail closed."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from contracts.errors import AuditWriteFailed, BrokerUnavailable, ConfigurationError
from contracts.individual_number import synthetic_individual_number
from contracts.redaction import find_numbers
from hub.core.operator.dead_letter_replay import ActionOutcome, DeadLetterOperations
from hub.core.operator.rate_limit import TokenBucket
from hub.core.runtime import headers as h
from hub.core.runtime.senders import ReplayRoutes
from hub.infra.broker.credentials import replay_routes
from hub.infra.db.tables.dead_letters import dead_letters as table
from hub.infra.memory.transport import InMemoryTransport
from hub.ports.dead_letters import DeadLetterQuery, DeadLetterStatus
from hub.ports.transport import OutgoingMessage
from tests.unit.test_dlq_fixtures import INQUIRY, DlqEnv, FlakyHandler, inquiry, make_env

PENDING = DeadLetterQuery()


def ROUTES(env: DlqEnv) -> ReplayRoutes:  # noqa: N802 - reads like the constant it stands for
    return replay_routes(env.settings, env.hub.exchanges)


@pytest.fixture
def env(tmp_path):
    env = make_env(tmp_path)
    yield env
    env.hub.close()


def dead_lettered(env: DlqEnv, flaky: FlakyHandler, count: int = 1) -> list[str]:
    """Send ``count`` inquiries that ``flaky`` fails the first time; returns their message ids."""
    envelopes = [inquiry() for _ in range(count)]
    for envelope in envelopes:
        env.send(envelope)
    env.run(env.worker({INQUIRY: flaky}))
    assert len(env.dead_letters()) == count
    return [str(e.message_id) for e in envelopes]


def by_id(dead_letter_id: int) -> DeadLetterQuery:
    return DeadLetterQuery(ids=(dead_letter_id,), statuses=())


def test_a_replay_carries_its_provenance_the_same_id_and_a_fresh_attempt(env):
    flaky = FlakyHandler()
    [mid] = dead_lettered(env, flaky)
    [dead] = env.dead_letters()

    report = env.operations().replay(by_id(dead.id), operator="alice", reason="handler fixed")

    [result] = report.results
    assert result.outcome is ActionOutcome.REPLAYED
    [replayed] = env.mem.ready(env.names.ingress_queue)
    # Through the ingress exchange its type takes, never the default exchange or a queue a header names.
    assert (replayed.message_id, replayed.body) == (mid, dead.body)
    assert (replayed.exchange, replayed.routing_key) == (env.names.ingress_exchange, "hub")
    assert replayed.headers[h.REPLAY_OF] == str(dead.id)
    assert replayed.headers[h.REPLAY_ID] == result.replay_id
    assert replayed.headers[h.REPLAY_OPERATOR] == "alice"
    assert replayed.headers[h.ATTEMPT] == 1
    assert not {h.FAILURE_CODE, h.FAILED_STAGE, h.FAILURE_AT, h.FAILURE_TYPE} & set(replayed.headers)


def test_a_replayed_message_completes_once_and_the_replay_is_in_the_access_record(env):
    flaky = FlakyHandler()
    [mid] = dead_lettered(env, flaky)
    [dead] = env.dead_letters()

    report = env.operations().replay(by_id(dead.id), operator="alice", reason="handler fixed")
    env.run(env.worker({INQUIRY: flaky}))

    assert flaky.completed == [mid]
    [row] = env.dead_letters()
    assert (row.status, row.replay_count, row.last_operator) == (DeadLetterStatus.REPLAYED, 1, "alice")
    assert row.last_replay_id == report.results[0].replay_id
    [record] = env.records("replayed")
    assert (record.actor, record.outcome, record.reason, record.message_id) == (
        "operator:alice",
        "ok",
        "handler fixed",
        mid,
    )
    assert record.destination == env.names.ingress_queue
    assert record.details["replay_id"] == row.last_replay_id
    assert record.details["dead_letter_id"] == str(dead.id)
    assert record.details["operation_id"] == report.operation_id
    # Replaying it again is refused: it is no longer pending.
    again = env.operations().replay(by_id(dead.id), operator="bob", reason="again")
    assert [r.outcome for r in again.results] == [ActionOutcome.SKIPPED]
    assert env.mem.ready(env.names.ingress_queue) == []


def test_a_message_replayed_twice_is_processed_once(env):
    flaky = FlakyHandler()
    [mid] = dead_lettered(env, flaky)
    [dead] = env.dead_letters()
    operations = env.operations()
    operations.replay(by_id(dead.id), operator="alice", reason="fixed")
    # The process died after publishing, before marking the row replayed: the claim goes stale...
    with env.hub.engine.begin() as conn:
        stale = datetime.now(UTC) - timedelta(hours=1)
        conn.execute(update(table).values(status="replaying", claimed_at=stale))
    # ...and a second operator replays it again: two copies reach the hub.
    second = operations.replay(
        DeadLetterQuery(statuses=(DeadLetterStatus.REPLAYING,)), operator="bob", reason="stuck"
    )
    assert [r.outcome for r in second.results] == [ActionOutcome.REPLAYED]
    assert len(env.mem.ready(env.names.ingress_queue)) == 2

    env.run(env.worker({INQUIRY: flaky}))
    assert flaky.completed == [mid]  # the hub's inbox drops the second copy
    assert len(env.records("replayed")) == 2


def test_two_operators_replaying_the_same_dead_letters_at_once_replay_each_once(env):
    dead_lettered(env, FlakyHandler(), count=3)
    barrier = threading.Barrier(2)
    reports = []

    def replay(name):
        operations = DeadLetterOperations(env.hub.uow_factory(), env.mem, routes=ROUTES(env))
        barrier.wait(timeout=10)
        reports.append(operations.replay(PENDING, operator=name, reason="both at once"))

    threads = [threading.Thread(target=replay, args=(name,)) for name in ("alice", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    replayed = [r for report in reports for r in report.results if r.outcome is ActionOutcome.REPLAYED]
    assert sorted(r.dead_letter_id for r in replayed) == [d.id for d in env.dead_letters()]
    assert len(env.mem.ready(env.names.ingress_queue)) == 3
    assert len(env.records("replayed")) == 3


def test_a_discarded_dead_letter_is_archived_with_its_reason_and_recorded(env):
    dead_lettered(env, FlakyHandler())
    [dead] = env.dead_letters()
    number = synthetic_individual_number().reveal()

    report = env.operations().discard(by_id(dead.id), operator="carol", reason=f"sender error, see {number}")

    assert [r.outcome for r in report.results] == [ActionOutcome.DISCARDED]
    assert env.dead_letters(PENDING) == []
    [row] = env.dead_letters()  # kept, not deleted
    assert (row.status, row.last_operator) == (DeadLetterStatus.DISCARDED, "carol")
    assert row.discarded_at is not None
    assert row.discard_reason is not None
    assert row.discard_reason.startswith("sender error")
    assert not find_numbers(row.discard_reason)
    [record] = env.records("discarded")
    assert (record.actor, record.message_id) == ("operator:carol", dead.message_id)
    assert not find_numbers(record.reason or "")
    replay = env.operations().replay(by_id(dead.id), operator="carol", reason="oops")
    assert [r.outcome for r in replay.results] == [ActionOutcome.SKIPPED]


def test_a_dry_run_changes_nothing_and_publishes_nothing(env):
    dead_lettered(env, FlakyHandler(), count=2)
    report = env.operations().replay(PENDING, operator="alice", reason="look", dry_run=True)
    assert [r.outcome for r in report.results] == [ActionOutcome.WOULD_REPLAY] * 2
    discard = env.operations().discard(PENDING, operator="alice", reason="look", dry_run=True)
    assert [r.outcome for r in discard.results] == [ActionOutcome.WOULD_DISCARD] * 2
    assert env.mem.ready(env.names.ingress_queue) == []
    assert {d.status for d in env.dead_letters()} == {DeadLetterStatus.PENDING}
    assert env.records("replayed") == env.records("discarded") == []


def test_nothing_is_published_when_the_access_record_cannot_be_written(env, monkeypatch):
    dead_lettered(env, FlakyHandler())
    factory = env.hub.uow_factory()

    def fail(self: object, records: object) -> None:
        raise AuditWriteFailed("audit store down")

    with factory() as probe:
        audit_log = type(probe.audit)  # every unit of work's access record is of this class
    monkeypatch.setattr(audit_log, "append", fail)

    with pytest.raises(AuditWriteFailed):
        DeadLetterOperations(factory, env.mem, routes=ROUTES(env)).replay(
            PENDING, operator="alice", reason="fixed"
        )
    assert env.mem.ready(env.names.ingress_queue) == []
    assert [d.status for d in env.dead_letters()] == [DeadLetterStatus.PENDING]


def test_a_failed_publish_gives_the_rows_back_and_records_the_failure(env):
    dead_lettered(env, FlakyHandler(), count=2)

    class Down(InMemoryTransport):
        def publish(self, messages: Sequence[OutgoingMessage]) -> None:
            raise BrokerUnavailable("broker down")

    report = DeadLetterOperations(env.hub.uow_factory(), Down(), routes=ROUTES(env)).replay(
        PENDING, operator="alice", reason="fixed"
    )
    assert report.error is not None
    assert [r.outcome for r in report.results] == [ActionOutcome.FAILED] * 2
    assert {d.status for d in env.dead_letters()} == {DeadLetterStatus.PENDING}
    records = env.records("replayed")
    assert [r.outcome for r in records] == ["ok", "ok", "failed", "failed"]
    assert records[-1].reason == "publish failed: broker_unavailable"
    assert records[-1].details["operator_reason"] == "fixed"


def test_limit_and_rate_bound_a_replay(env):
    dead_lettered(env, FlakyHandler(), count=5)
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds):
        sleeps.append(seconds)
        now[0] += seconds

    operations = env.operations(sleep=sleep, monotonic=lambda: now[0])
    limited = operations.replay(PENDING, operator="alice", reason="first two", limit=2)
    assert limited.counts() == {"replayed": 2}
    paced = operations.replay(PENDING, operator="alice", reason="the rest", rate=2)
    assert paced.counts() == {"replayed": 3}
    assert sum(sleeps) == pytest.approx(0.5)  # a burst of 2, then the 3rd waits for its token
    assert len(env.mem.ready(env.names.ingress_queue)) == 5


def test_the_token_bucket_paces_to_its_rate():
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    bucket = TokenBucket(10, clock=lambda: now[0], sleep=sleep)
    for _ in range(30):
        bucket.take()
    assert now[0] == pytest.approx(2.0)  # 10 at once, then 20 at 10 per second
    with pytest.raises(ConfigurationError):
        TokenBucket(0)


@pytest.mark.parametrize(("operator", "reason"), [("", "fixed"), ("alice", "   "), ("a" * 101, "fixed")])
def test_an_operator_and_a_reason_are_required(env, operator, reason):
    with pytest.raises(ConfigurationError):
        env.operations().replay(PENDING, operator=operator, reason=reason)
    with pytest.raises(ConfigurationError):
        env.operations().discard(PENDING, operator=operator, reason=reason)


def test_a_dead_letter_whose_sealed_numbers_retention_destroyed_is_never_replayed(env):
    dead_lettered(env, FlakyHandler())
    [dead] = env.dead_letters()
    with env.hub.engine.begin() as conn:
        conn.execute(
            update(table)
            .where(table.c.id == dead.id)
            .values(erased_at=datetime.now(UTC), erasure_note="retention: 1 sealed value(s) destroyed")
        )
    [row] = env.dead_letters()
    assert row.erased

    report = env.operations().replay(by_id(dead.id), operator="alice", reason="try anyway")

    [result] = report.results
    assert result.outcome is ActionOutcome.SKIPPED
    assert "retention" in result.detail
    assert env.mem.ready(env.names.ingress_queue) == []
    assert [d.status for d in env.dead_letters()] == [DeadLetterStatus.PENDING]  # left for a discard
