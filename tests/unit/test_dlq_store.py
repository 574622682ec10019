"""The dead-letter store on SQLite: merge, queries, groups, conditional claims and discards."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from hub.core.runtime.dead_letter_entry import fingerprint, group_label
from hub.infra.db.engine import make_engine
from hub.infra.db.migrate import schema_drift, upgrade
from hub.infra.stores.dead_letters import SqlDeadLetterStore
from hub.ports.dead_letters import (
    DeadLetterEntry,
    DeadLetterQuery,
    DeadLetterStatus,
    Failure,
    FailureOrigin,
)

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
ANY = ()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'dlq.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def entry(
    key: str = "d1",
    message: str = "m1",
    *,
    at: datetime = T0,
    exception: str = "ValidationFailed",
    stage: str = "decode",
    message_type: str = "pension.x",
    queue: str = "t.hub.ingress",
    attempts: int = 1,
    headers=None,
) -> DeadLetterEntry:
    return DeadLetterEntry(
        death_key=key,
        message_key=message,
        message_id=message,
        correlation_id="c",
        message_type=message_type,
        failure=Failure(
            "validation_failed",
            "payload.x: missing",
            exception,
            stage,
            queue,
            attempts,
            at,
            FailureOrigin.HUB,
        ),
        fingerprint=fingerprint(exception, stage, message_type),
        group_label=group_label(exception, stage, message_type),
        headers=headers or {"x-renkei-stage": stage},
        body=b'{"a": 1}',
        body_redacted=False,
    )


def store_of(engine: Engine):
    conn = engine.connect()
    conn.begin()
    return conn, SqlDeadLetterStore(conn)


def test_the_dead_letter_table_matches_its_migration(engine):
    assert [d for d in schema_drift(engine) if "dead_letters" in repr(d)] == []


def test_a_dead_letter_is_stored_and_read_back_with_utc_times(engine):
    conn, store = store_of(engine)
    with conn:
        dead_letter_id, created = store.add(
            entry(headers={"x-renkei-stage": "decode", "x-n": 3, "x-list": [1]})
        )
        got = store.get(dead_letter_id)
    assert created
    assert got is not None
    assert (got.status, got.occurrences, got.replay_count) == (DeadLetterStatus.PENDING, 1, 0)
    assert got.first_failed_at == got.last_failed_at == T0
    assert got.received_at.tzinfo is not None
    assert got.headers == {"x-renkei-stage": "decode", "x-n": 3}  # scalars only
    assert got.body == b'{"a": 1}'


def test_another_dead_lettering_of_a_pending_message_widens_its_row_instead_of_adding_one(engine):
    conn, store = store_of(engine)
    with conn:
        first, _ = store.add(entry("d1", at=T0 + timedelta(minutes=5), attempts=1))
        merged, created = store.add(entry("d2", at=T0, attempts=3))
        other, other_created = store.add(entry("d3", stage="handle"))
        row = store.get(first)
    assert (merged, created) == (first, False)
    assert other_created
    assert other != first
    assert row is not None
    assert (row.occurrences, row.failure.attempts) == (2, 3)
    assert (row.first_failed_at, row.last_failed_at) == (T0, T0 + timedelta(minutes=5))


def test_a_failure_after_a_replay_is_a_new_row(engine):
    conn, store = store_of(engine)
    with conn:
        first, _ = store.add(entry("d1"))
        assert store.claim(first, replay_id="r1", operator="alice", now=T0, stale_before=T0)
        assert store.complete_replay(first, replay_id="r1", now=T0)
        second, created = store.add(entry("d2"))
    assert created
    assert second != first


def test_queries_filter_by_group_type_queue_time_and_status(engine):
    conn, store = store_of(engine)
    with conn:
        a, _ = store.add(entry("a", "m1", at=T0))
        b, _ = store.add(entry("b", "m2", at=T0 + timedelta(hours=1), message_type="jlis.y"))
        c, _ = store.add(
            entry("c", "m3", at=T0 + timedelta(hours=2), queue="t.adapter.jlis", stage="jlis.from_hub")
        )
        store.discard(c, operator="bob", reason="known bad", now=T0)

        def ids(**kwargs: Any) -> list[int]:
            return [d.id for d in store.find(DeadLetterQuery(**kwargs))]

        assert ids() == [a, b]
        assert ids(statuses=ANY) == [a, b, c]
        assert ids(statuses=(DeadLetterStatus.DISCARDED,)) == [c]
        assert ids(message_type="jlis.y") == [b]
        assert ids(fingerprint=fingerprint("ValidationFailed", "decode", "pension.x")) == [a]
        assert ids(source_queue="t.adapter.jlis", statuses=ANY) == [c]
        assert ids(since=T0 + timedelta(minutes=30)) == [b]
        assert ids(until=T0 + timedelta(minutes=30)) == [a]
        assert ids(ids=(a, c), statuses=ANY) == [a, c]
        assert ids(after_id=a, limit=1) == [b]


def test_groups_count_dead_letters_with_first_and_last_seen(engine):
    conn, store = store_of(engine)
    with conn:
        store.add(entry("a", "m1", at=T0))
        store.add(entry("b", "m2", at=T0 + timedelta(hours=1)))
        store.add(entry("c", "m2", at=T0 + timedelta(hours=2)))  # merged into m2's row
        store.add(entry("d", "m3", stage="handle"))
        groups = store.groups()
        assert store.count() == 3
    top = groups[0]
    assert (top.fingerprint, top.count, top.occurrences) == (
        fingerprint("ValidationFailed", "decode", "pension.x"),
        2,
        3,
    )
    assert (top.first_failed_at, top.last_failed_at) == (T0, T0 + timedelta(hours=2))
    assert top.label == "ValidationFailed at decode on pension.x"
    assert [g.count for g in groups] == [2, 1]


def test_a_claim_is_taken_once_until_it_is_stale_and_only_its_owner_completes_or_releases_it(engine):
    conn, store = store_of(engine)
    with conn:
        dl, _ = store.add(entry())
        assert store.claim(
            dl, replay_id="r1", operator="alice", now=T0, stale_before=T0 - timedelta(minutes=10)
        )
        assert not store.claim(
            dl, replay_id="r2", operator="bob", now=T0, stale_before=T0 - timedelta(minutes=10)
        )
        assert not store.complete_replay(dl, replay_id="r2", now=T0)
        assert not store.release(dl, replay_id="r2")
        later = T0 + timedelta(minutes=11)
        assert store.claim(
            dl, replay_id="r3", operator="bob", now=later, stale_before=later - timedelta(minutes=10)
        )
        assert not store.complete_replay(dl, replay_id="r1", now=later)  # the stale claim lost it
        assert store.release(dl, replay_id="r3")
        assert store.get(dl).status is DeadLetterStatus.PENDING
        assert not store.discard(dl + 99, operator="bob", reason="x", now=later)
        assert store.discard(dl, operator="bob", reason="known bad", now=later)
        assert not store.claim(dl, replay_id="r4", operator="bob", now=later, stale_before=later)
        row = store.get(dl)
    assert (row.status, row.discard_reason, row.last_operator) == (
        DeadLetterStatus.DISCARDED,
        "known bad",
        "bob",
    )


def test_two_operators_claiming_the_same_row_at_once_get_it_once(engine):
    conn, store = store_of(engine)
    with conn:
        dl, _ = store.add(entry())
        conn.commit()
    barrier = threading.Barrier(2)
    won: list[bool] = []

    def claim(replay_id: str) -> None:
        with engine.connect() as c:
            barrier.wait(timeout=10)
            with c.begin():
                won.append(
                    SqlDeadLetterStore(c).claim(
                        dl, replay_id=replay_id, operator=replay_id, now=T0, stale_before=T0
                    )
                )

    threads = [threading.Thread(target=claim, args=(f"r{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(won) == [False, True]
