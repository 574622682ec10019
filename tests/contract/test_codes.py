"""One contract for every CodeStore and PendingQueryStore: SQL (SQLite, PostgreSQL) and the in-memory twins.

``CodesContract`` holds the tests; each subclass supplies ``codes``, ``queries`` and ``subjects`` (subjects
the stores may refer to: the SQL tables reference the vault's subjects). That codes rest encrypted, bound
to their row, and survive a key rotation, only the SQL store can show; see
``tests/integration/test_code_store.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection

from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.infra.keys.keyring import Keyring
from hub.infra.memory.codes import InMemoryCodeStore, InMemoryPendingQueries
from hub.infra.stores.codes import SqlCodeStore, SqlPendingQueries
from hub.infra.vault.sql import SqlVault
from hub.ports.codes import CodeStore, DuplicateRecordId, PendingQuery, PendingQueryStore, PendingStatus
from hub.ports.vault import Retention, SubjectId, UnknownSubject
from tests import vault_fixtures as fx

keyring = fx.keyring
COUNT = 12


def pending(record_id: str, subject: SubjectId) -> PendingQuery:
    return PendingQuery(
        record_id=record_id,
        subject=subject,
        usage_number=UsageNumber(kind=UsageNumberKind.BASIC_PENSION, value="1234"),
        query_ref="ref-1",
        info_kind="local_tax",
        spi_code="TM00000000000021",
        spi_text="TM00000000000021 地方税関係情報",
        jimu_text="J084 事務",
        basis_current="第2条の表 84の項（第86条）",
        basis_legacy=None,
        provider_org_code="131016",
        correlation_id="c",
        requested_at=datetime(2026, 11, 26, 1, 2, 3, tzinfo=UTC),
    )


class CodesContract:
    """Behaviour every code store and pending-query store shows."""

    @pytest.fixture
    def codes(self) -> CodeStore:
        raise NotImplementedError

    @pytest.fixture
    def queries(self) -> PendingQueryStore:
        raise NotImplementedError

    @pytest.fixture
    def subjects(self) -> list[SubjectId]:
        return [SubjectId(chr(ord("a") + i) * 26) for i in range(COUNT)]

    def test_atena_numbers_are_random_fifteen_digits_and_stable(
        self, codes: CodeStore, subjects: list[SubjectId]
    ) -> None:
        assert codes.atena_numbers(subjects) == {}
        given = codes.atena_numbers([*subjects, subjects[0]], allocate=True)
        assert list(given) == subjects
        assert codes.atena_numbers(subjects) == given
        assert codes.atena_numbers(subjects[:1], allocate=True) == {subjects[0]: given[subjects[0]]}
        assert codes.subjects_by_atena([*given.values(), "000000000000000", "bad", "１２３"]) == {
            a: s for s, a in given.items()
        }
        assert len(set(given.values())) == COUNT
        assert all(len(a) == 15 and a.isdigit() and a[0] != "0" for a in given.values())
        assert sorted(given.values()) != [given[s] for s in subjects], "not handed out in order"

    def test_codes_are_kept_replaced_and_read_back(self, codes: CodeStore, subjects: list[SubjectId]) -> None:
        a, b = subjects[:2]
        codes.atena_numbers([a, b], allocate=True)
        codes.store_codes([(a, "CODEFORPERSONA")])
        assert codes.codes_of([a, b, SubjectId("nobody")]) == {a: "CODEFORPERSONA"}
        codes.store_codes([(a, "NEWCODEFORA"), (b, "CODEFORPERSONB")])
        assert codes.codes_of([a, b]) == {a: "NEWCODEFORA", b: "CODEFORPERSONB"}

    def test_a_code_needs_a_atena_number_and_erase_forgets_both(
        self, codes: CodeStore, subjects: list[SubjectId]
    ) -> None:
        a, b = subjects[:2]
        with pytest.raises(UnknownSubject) as caught:
            codes.store_codes([(a, "NOATENAYET")])
        assert caught.value.subjects == (a,)
        given = codes.atena_numbers([a, b], allocate=True)
        codes.store_codes([(a, "ERASEDCODE")])
        assert codes.erase([a, a, SubjectId("nobody")]) == 1
        assert codes.codes_of([a, b]) == {}
        assert list(codes.atena_numbers([a, b])) == [b]
        assert codes.subjects_by_atena([given[a]]) == {}
        assert codes.erase([a]) == 0

    def test_pending_queries_wait_for_their_answer(
        self, queries: PendingQueryStore, subjects: list[SubjectId]
    ) -> None:
        a = subjects[0]
        queries.add([pending("R0001", a), pending("R0002", a)])
        with pytest.raises(DuplicateRecordId):
            queries.add([pending("R0003", a), pending("R0001", a)])
        with pytest.raises(DuplicateRecordId):
            queries.add([pending("R0004", a), pending("R0004", a)])
        assert set(queries.get(["R0001", "R0002", "R0003", "R0004"])) == {"R0001", "R0002"}
        at = datetime(2026, 11, 27, tzinfo=UTC)
        queries.settle(["R0001", "R0009"], status=PendingStatus.NO_DATA, at=at)
        got = queries.get(["R0001", "R0002"])
        assert got["R0001"].status is PendingStatus.NO_DATA
        assert got["R0001"].settled_at == at
        assert got["R0002"] == pending("R0002", a)


def _enrolled(conn: Connection, keyring: Keyring) -> list[SubjectId]:
    usage = [UsageNumber(kind=UsageNumberKind.BASIC_PENSION, value=f"{i:010d}") for i in range(COUNT)]
    enrolled = SqlVault(conn, keyring.vault).enrol(
        [(u, None) for u in usage], retention=Retention("t"), source="t"
    )
    return [enrolled[u] for u in usage]


class TestSqlCodesOnSqlite(CodesContract):
    @pytest.fixture
    def codes(self, sqlite_connection: Connection, keyring: Keyring) -> CodeStore:
        return SqlCodeStore(sqlite_connection, keyring.vault, chunk_size=5)

    @pytest.fixture
    def queries(self, sqlite_connection: Connection) -> PendingQueryStore:
        return SqlPendingQueries(sqlite_connection, chunk_size=3)

    @pytest.fixture
    def subjects(self, sqlite_connection: Connection, keyring: Keyring) -> list[SubjectId]:
        return _enrolled(sqlite_connection, keyring)


@pytest.mark.postgres
class TestSqlCodesOnPostgres(CodesContract):
    @pytest.fixture
    def codes(self, postgres_connection: Connection, keyring: Keyring) -> CodeStore:
        return SqlCodeStore(postgres_connection, keyring.vault, chunk_size=5)

    @pytest.fixture
    def queries(self, postgres_connection: Connection) -> PendingQueryStore:
        return SqlPendingQueries(postgres_connection, chunk_size=3)

    @pytest.fixture
    def subjects(self, postgres_connection: Connection, keyring: Keyring) -> list[SubjectId]:
        return _enrolled(postgres_connection, keyring)


class TestInMemoryCodes(CodesContract):
    @pytest.fixture
    def codes(self) -> CodeStore:
        return InMemoryCodeStore()

    @pytest.fixture
    def queries(self) -> PendingQueryStore:
        return InMemoryPendingQueries()
