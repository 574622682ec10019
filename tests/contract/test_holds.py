"""One contract for every HoldStore: the SQL store (SQLite, PostgreSQL) and its in-memory twin.

``HoldStoreContract`` holds the tests; each subclass supplies ``store`` and ``subject`` (a subject the
store may refer to: the SQL table's ``subject_id`` references the vault's subjects).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Connection

from contracts.messages.jlis_acquisition import HoldReason
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.infra.keys.keyring import Keyring
from hub.infra.memory.holds import InMemoryHoldStore
from hub.infra.stores.holds import SqlHoldStore
from hub.infra.vault.sql import SqlVault
from hub.ports.holds import (
    HeldCandidate,
    Hold,
    HoldFlow,
    HoldNotPending,
    HoldResolution,
    HoldStatus,
    HoldStore,
    QueriedInfo,
    UnknownHold,
)
from hub.ports.vault import Retention, SubjectId
from tests import vault_fixtures as fx

keyring = fx.keyring

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
ASKED = QueriedInfo(
    name="山田 花子", name_kana="ヤマダ ハナコ", birth_date=date(1960, 4, 1), sex="2", address="東京都"
)


def hold(hold_id: str, subject: SubjectId, *, at: datetime = T0, candidates: int = 2) -> Hold:
    return Hold(
        hold_id=hold_id,
        flow=HoldFlow.NUMBER_ACQUISITION,
        reason=HoldReason.MULTIPLE_CANDIDATES if candidates else HoldReason.NO_MATCH,
        subject=subject,
        usage_number=UsageNumber(kind=UsageNumberKind.BASIC_PENSION, value="0000000001"),
        batch_id="b1",
        chunk_index=0,
        chunk_count=1,
        total_records=3,
        record_seq=7,
        correlation_id="c1",
        source_message_id="m1",
        created_at=at,
        queried=ASKED,
        candidates=tuple(
            HeldCandidate(n, f"sealed-{n}", QueriedInfo(name=f"候補 {n}", birth_date=date(1960, 4, n)))
            for n in range(1, candidates + 1)
        ),
        no_match_reason=None if candidates else "not_found",
    )


class HoldStoreContract:
    """Behaviour every hold store shows. Subclasses provide ``store`` and ``subject``."""

    @pytest.fixture
    def store(self) -> HoldStore:
        raise NotImplementedError

    @pytest.fixture
    def subject(self) -> SubjectId:
        return SubjectId("a" * 26)

    def test_a_hold_is_kept_once_and_read_back_whole(self, store: HoldStore, subject: SubjectId) -> None:
        kept = hold("hold-aaaaaaaaaaaa", subject)
        assert store.add([kept, kept]) == 1
        assert store.add([kept, hold("hold-bbbbbbbbbbbb", subject, candidates=0)]) == 1  # a redelivery
        assert store.get("hold-aaaaaaaaaaaa") == kept
        none_found = store.get("hold-bbbbbbbbbbbb")
        assert none_found is not None
        assert (none_found.candidates, none_found.no_match_reason) == ((), "not_found")
        assert store.get("hold-zzzzzzzzzzzz") is None
        assert store.count_pending() == 2

    def test_pending_holds_come_oldest_first_and_page(self, store: HoldStore, subject: SubjectId) -> None:
        store.add(
            [
                hold("hold-cccccccccccc", subject, at=T0 + timedelta(minutes=1)),
                hold("hold-bbbbbbbbbbbb", subject, at=T0),
                hold("hold-aaaaaaaaaaaa", subject, at=T0),
                hold("hold-dddddddddddd", subject, at=T0 + timedelta(minutes=2)),
            ]
        )
        order = ["hold-aaaaaaaaaaaa", "hold-bbbbbbbbbbbb", "hold-cccccccccccc", "hold-dddddddddddd"]
        assert [h.hold_id for h in store.pending()] == order
        assert [h.hold_id for h in store.pending(limit=2)] == order[:2]
        assert [h.hold_id for h in store.pending(limit=2, after="hold-bbbbbbbbbbbb")] == order[2:]
        assert [h.hold_id for h in store.pending(after="hold-aaaaaaaaaaaa")] == order[1:]
        assert [
            h.hold_id for h in store.pending(after="hold-zzzzzzzzzzzz")
        ] == order  # unknown: from the start

    def test_resolving_records_the_decision_and_discards_the_candidates_data(
        self, store: HoldStore, subject: SubjectId
    ) -> None:
        store.add([hold("hold-aaaaaaaaaaaa", subject), hold("hold-bbbbbbbbbbbb", subject)])
        later = T0 + timedelta(hours=1)
        store.resolve(
            "hold-aaaaaaaaaaaa",
            resolution=HoldResolution.LINKED,
            linked_candidate=2,
            operator="alice",
            reason="checked the address",
            at=later,
        )
        resolved = store.get("hold-aaaaaaaaaaaa")
        assert resolved is not None
        assert (resolved.status, resolved.resolution, resolved.linked_candidate) == (
            HoldStatus.RESOLVED,
            HoldResolution.LINKED,
            2,
        )
        assert (resolved.resolved_by, resolved.resolution_reason, resolved.resolved_at) == (
            "alice",
            "checked the address",
            later,
        )
        assert resolved.candidates == (HeldCandidate(1, None), HeldCandidate(2, None))
        assert (resolved.queried, resolved.usage_number.value, resolved.record_seq) == (
            ASKED,
            "0000000001",
            7,
        )
        assert [h.hold_id for h in store.pending()] == ["hold-bbbbbbbbbbbb"]
        assert store.count_pending() == 1

    def test_a_hold_is_resolved_once_and_an_unknown_one_not_at_all(
        self, store: HoldStore, subject: SubjectId
    ) -> None:
        store.add([hold("hold-aaaaaaaaaaaa", subject)])
        store.resolve(
            "hold-aaaaaaaaaaaa",
            resolution=HoldResolution.REJECTED,
            linked_candidate=None,
            operator="alice",
            reason="nobody fits",
            at=T0,
        )
        with pytest.raises(HoldNotPending):
            store.resolve(
                "hold-aaaaaaaaaaaa",
                resolution=HoldResolution.LINKED,
                linked_candidate=1,
                operator="bob",
                reason="late",
                at=T0,
            )
        with pytest.raises(UnknownHold):
            store.resolve(
                "hold-zzzzzzzzzzzz",
                resolution=HoldResolution.REJECTED,
                linked_candidate=None,
                operator="bob",
                reason="x",
                at=T0,
            )
        kept = store.get("hold-aaaaaaaaaaaa")
        assert kept is not None
        assert (kept.resolution, kept.resolved_by) == (HoldResolution.REJECTED, "alice")
        assert store.add([hold("hold-aaaaaaaaaaaa", subject)]) == 0  # a redelivery does not reopen it
        assert store.count_pending() == 0


def _enrolled(conn: Connection, keyring: Keyring) -> SubjectId:
    usage = UsageNumber(kind=UsageNumberKind.BASIC_PENSION, value="0000000001")
    return SqlVault(conn, keyring.vault).enrol([(usage, None)], retention=Retention("t"), source="t")[usage]


class TestSqlHoldStoreOnSqlite(HoldStoreContract):
    @pytest.fixture
    def store(self, sqlite_connection: Connection) -> HoldStore:
        return SqlHoldStore(sqlite_connection)

    @pytest.fixture
    def subject(self, sqlite_connection: Connection, keyring: Keyring) -> SubjectId:
        return _enrolled(sqlite_connection, keyring)


@pytest.mark.postgres
class TestSqlHoldStoreOnPostgres(HoldStoreContract):
    @pytest.fixture
    def store(self, postgres_connection: Connection) -> HoldStore:
        return SqlHoldStore(postgres_connection)

    @pytest.fixture
    def subject(self, postgres_connection: Connection, keyring: Keyring) -> SubjectId:
        return _enrolled(postgres_connection, keyring)


class TestInMemoryHoldStore(HoldStoreContract):
    @pytest.fixture
    def store(self) -> HoldStore:
        return InMemoryHoldStore()
