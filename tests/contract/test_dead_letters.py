"""One contract for every DeadLetterStore: the SQL store (SQLite, PostgreSQL) and its in-memory twin.

``DeadLetterStoreContract`` holds the tests; each subclass supplies ``store``. The schema-drift check and
two operators racing for one row on two connections stay in ``tests/unit/test_dlq_store.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection

from contracts.errors import StoreUnavailable
from contracts.individual_number import synthetic_individual_number
from hub.core.runtime.dead_letter_entry import fingerprint, group_label
from hub.infra.memory.dead_letters import InMemoryDeadLetterStore
from hub.infra.stores.dead_letters import SqlDeadLetterStore
from hub.ports.dead_letters import (
    DeadLetterEntry,
    DeadLetterQuery,
    DeadLetterStatus,
    DeadLetterStore,
    Failure,
    FailureOrigin,
)

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
ANY = ()


def entry(
    key: str = "d1",
    message: str = "m1",
    *,
    at: datetime = T0,
    stage: str = "decode",
    message_type: str = "pension.x",
    queue: str = "t.hub.ingress",
    attempts: int = 1,
    reason: str = "payload.x: missing",
    headers: dict[str, Any] | None = None,
    sender: str | None = None,
) -> DeadLetterEntry:
    return DeadLetterEntry(
        death_key=key,
        message_key=message,
        message_id=message,
        correlation_id="c",
        message_type=message_type,
        failure=Failure(
            "validation_failed", reason, "ValidationFailed", stage, queue, attempts, at, FailureOrigin.HUB
        ),
        fingerprint=fingerprint("ValidationFailed", stage, message_type),
        group_label=group_label("ValidationFailed", stage, message_type),
        headers=headers or {"x-renkei-stage": stage},
        body=b'{"a": 1}',
        body_redacted=False,
        sender=sender,
    )


class DeadLetterStoreContract:
    """Behaviour every dead-letter store shows. Subclasses provide ``store``."""

    @pytest.fixture
    def store(self) -> DeadLetterStore:
        raise NotImplementedError

    def test_a_dead_letter_is_stored_and_read_back_with_utc_times_and_scalar_headers(
        self, store: DeadLetterStore
    ) -> None:
        dead_letter_id, created = store.add(
            entry(headers={"x-renkei-stage": "decode", "x-n": 3, "x-list": [1]})
        )
        got = store.get(dead_letter_id)
        assert created
        assert got is not None
        assert (got.status, got.occurrences, got.replay_count) == (DeadLetterStatus.PENDING, 1, 0)
        assert got.first_failed_at == got.last_failed_at == got.failure.failed_at == T0
        assert got.received_at.tzinfo is not None
        assert got.headers == {"x-renkei-stage": "decode", "x-n": 3}
        assert (got.body, got.message_id, got.failure.source_queue) == (b'{"a": 1}', "m1", "t.hub.ingress")
        assert (got.claimed_at, got.discard_reason, got.erased) == (None, None, False)
        assert store.get(dead_letter_id + 1000) is None

    def test_texts_are_redacted_before_they_are_kept(self, store: DeadLetterStore) -> None:
        digits = synthetic_individual_number().reveal()
        dl, _ = store.add(entry(reason=f"field x was {digits}", headers={"x-note": f"n={digits}"}))
        assert store.discard(dl, operator="bob", reason=f"it held {digits}", now=T0)
        got = store.get(dl)
        assert got is not None
        assert digits not in got.failure.reason_text
        assert digits not in str(got.headers)
        assert got.discard_reason is not None
        assert digits not in got.discard_reason

    def test_another_dead_lettering_of_a_pending_message_widens_its_row(self, store: DeadLetterStore) -> None:
        first, _ = store.add(entry("d1", at=T0 + timedelta(minutes=5), attempts=1))
        merged, created = store.add(entry("d2", at=T0, attempts=3))
        other, other_created = store.add(entry("d3", stage="handle"))
        proven, proven_created = store.add(entry("d4", sender="jlis"))  # never merged into an unproven row
        row = store.get(first)
        assert (merged, created) == (first, False)
        assert other_created
        assert proven_created
        assert len({first, other, proven}) == 3
        assert row is not None
        assert (row.occurrences, row.failure.attempts) == (2, 3)
        assert (row.first_failed_at, row.last_failed_at) == (T0, T0 + timedelta(minutes=5))
        assert store.count() == 3

    def test_a_failure_after_a_replay_is_a_new_row(self, store: DeadLetterStore) -> None:
        first, _ = store.add(entry("d1"))
        assert store.claim(first, replay_id="r1", operator="alice", now=T0, stale_before=T0)
        assert store.complete_replay(first, replay_id="r1", now=T0)
        second, created = store.add(entry("d2"))
        assert created
        assert second != first
        replayed = store.get(first)
        assert replayed is not None
        assert (replayed.status, replayed.replay_count, replayed.last_replayed_at) == (
            DeadLetterStatus.REPLAYED,
            1,
            T0,
        )
        assert replayed.claimed_at is None

    def test_queries_filter_by_group_type_queue_time_status_and_page(self, store: DeadLetterStore) -> None:
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

    def test_groups_count_dead_letters_with_first_and_last_seen(self, store: DeadLetterStore) -> None:
        store.add(entry("a", "m1", at=T0))
        store.add(entry("b", "m2", at=T0 + timedelta(hours=1)))
        store.add(entry("c", "m2", at=T0 + timedelta(hours=2)))  # merged into m2's row
        d, _ = store.add(entry("d", "m3", stage="handle"))
        groups = store.groups()
        assert store.count() == 3
        top = groups[0]
        assert (top.fingerprint, top.count, top.occurrences) == (
            fingerprint("ValidationFailed", "decode", "pension.x"),
            2,
            3,
        )
        assert (top.first_failed_at, top.last_failed_at) == (T0, T0 + timedelta(hours=2))
        assert (top.label, top.stage, top.message_type) == (
            "ValidationFailed at decode on pension.x",
            "decode",
            "pension.x",
        )
        assert [g.count for g in groups] == [2, 1]
        store.discard(d, operator="bob", reason="x", now=T0)
        assert [g.count for g in store.groups()] == [2]
        assert [g.count for g in store.groups(ANY)] == [2, 1]
        assert [g.stage for g in store.groups((DeadLetterStatus.DISCARDED,))] == ["handle"]
        assert (store.count(), store.count(DeadLetterStatus.DISCARDED)) == (2, 1)

    def test_a_claim_is_taken_once_until_stale_and_only_its_owner_completes_or_releases_it(
        self, store: DeadLetterStore
    ) -> None:
        dl, _ = store.add(entry())
        assert store.claim(
            dl, replay_id="r1", operator="alice", now=T0, stale_before=T0 - timedelta(minutes=10)
        )
        assert not store.claim(
            dl, replay_id="r2", operator="bob", now=T0, stale_before=T0 - timedelta(minutes=10)
        )
        claimed = store.get(dl)
        assert claimed is not None
        assert (claimed.status, claimed.claimed_at, claimed.last_replay_id, claimed.last_operator) == (
            DeadLetterStatus.REPLAYING,
            T0,
            "r1",
            "alice",
        )
        assert store.count(DeadLetterStatus.REPLAYING) == 1
        assert not store.complete_replay(dl, replay_id="r2", now=T0)
        assert not store.release(dl, replay_id="r2")
        later = T0 + timedelta(minutes=11)
        assert store.claim(
            dl, replay_id="r3", operator="bob", now=later, stale_before=later - timedelta(minutes=10)
        )
        assert not store.complete_replay(dl, replay_id="r1", now=later)  # the stale claim lost it
        assert not store.discard(dl, operator="bob", reason="x", now=later)  # only a pending row
        assert store.release(dl, replay_id="r3")
        released = store.get(dl)
        assert released is not None
        assert (released.status, released.claimed_at) == (DeadLetterStatus.PENDING, None)
        assert not store.discard(dl + 99, operator="bob", reason="x", now=later)
        assert not store.claim(dl + 99, replay_id="r9", operator="bob", now=later, stale_before=later)
        assert store.discard(dl, operator="bob", reason="known bad", now=later)
        assert not store.claim(dl, replay_id="r4", operator="bob", now=later, stale_before=later)
        row = store.get(dl)
        assert row is not None
        assert (row.status, row.discard_reason, row.last_operator, row.discarded_at) == (
            DeadLetterStatus.DISCARDED,
            "known bad",
            "bob",
            later,
        )

    def test_the_same_dead_lettering_stored_twice_is_refused_as_transient(
        self, store: DeadLetterStore
    ) -> None:
        first, _ = store.add(entry("d1", "m1"))
        store.discard(first, operator="bob", reason="x", now=T0)  # no pending row to merge into
        with pytest.raises(StoreUnavailable):
            store.add(entry("d1", "m1"))


class TestSqlDeadLetterStoreOnSqlite(DeadLetterStoreContract):
    @pytest.fixture
    def store(self, sqlite_connection: Connection) -> DeadLetterStore:
        return SqlDeadLetterStore(sqlite_connection)


@pytest.mark.postgres
class TestSqlDeadLetterStoreOnPostgres(DeadLetterStoreContract):
    @pytest.fixture
    def store(self, postgres_connection: Connection) -> DeadLetterStore:
        return SqlDeadLetterStore(postgres_connection)


class TestInMemoryDeadLetterStore(DeadLetterStoreContract):
    @pytest.fixture
    def store(self) -> DeadLetterStore:
        return InMemoryDeadLetterStore()
