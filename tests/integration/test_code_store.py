"""The code store and the pending queries, on SQLite and PostgreSQL: one contract, both backends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from contracts.individual_number import IndividualNumber
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.infra.crypto.envelope import VaultIntegrityError
from hub.infra.db.tables.codes import is_codes
from hub.infra.keys.keyring import Keyring, rotate
from hub.infra.stores.codes import SqlCodeStore, SqlPendingQueries
from hub.infra.vault.sql import SqlVault
from hub.ports.codes import DuplicateRecordId, PendingQuery, PendingStatus
from hub.ports.vault import Retention, SubjectId, UnknownSubject
from tests import vault_fixtures as fx

keyring = fx.keyring
people = fx.people
pg_url = fx.pg_url
postgres_engine = fx.postgres_engine
sqlite_engine = fx.sqlite_engine


def subjects(
    engine: Engine,
    keyring: Keyring,
    people: Callable[[int], list[tuple[UsageNumber, IndividualNumber]]],
    n: int,
) -> list[SubjectId]:
    with engine.begin() as conn:
        enrolled = SqlVault(conn, keyring.vault).enrol(
            people(n), retention=Retention("pension.entitlement"), source="t"
        )
    return list(enrolled.values())


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
        basis_legacy="番号法 別表第二 59の項",
        provider_org_code="131016",
        correlation_id="c",
        requested_at=datetime(2026, 11, 26, 1, 2, 3, tzinfo=UTC),
    )


class CodeStoreContract:
    @pytest.fixture
    def engine(self) -> Engine:
        raise NotImplementedError

    def test_atena_numbers_are_random_fifteen_digits_and_stable(self, engine, keyring, people) -> None:
        who = subjects(engine, keyring, people, 40)
        with engine.begin() as conn:
            store = SqlCodeStore(conn, keyring.vault, chunk_size=7)
            assert store.atena_numbers(who) == {}
            given = store.atena_numbers(who, allocate=True)
            assert store.atena_numbers(who) == given
            assert store.subjects_by_atena([*given.values(), "000000000000000", "bad"]) == {
                a: s for s, a in given.items()
            }
        assert len(set(given.values())) == 40
        assert all(len(a) == 15 and a.isdigit() and a[0] != "0" for a in given.values())
        assert sorted(given.values()) != [given[s] for s in who], "not handed out in order"

    def test_codes_rest_encrypted_bound_to_their_row(self, engine, keyring, people) -> None:
        a, b = subjects(engine, keyring, people, 2)
        with engine.begin() as conn:
            store = SqlCodeStore(conn, keyring.vault)
            store.atena_numbers([a, b], allocate=True)
            store.store_codes([(a, "CODEFORPERSONA"), (b, "CODEFORPERSONB")])
            assert store.codes_of([a, b, SubjectId("nobody")]) == {a: "CODEFORPERSONA", b: "CODEFORPERSONB"}
            raw: list[Any] = list(conn.execute(select(is_codes.c.subject_id, is_codes.c.code_ciphertext)))
        assert all(b"CODEFORPERSON" not in bytes(r.code_ciphertext) for r in raw)
        swapped = {r.subject_id: bytes(r.code_ciphertext) for r in raw}
        with engine.begin() as conn:
            conn.execute(
                update(is_codes).where(is_codes.c.subject_id == a).values(code_ciphertext=swapped[b])
            )
        with engine.begin() as conn, pytest.raises(VaultIntegrityError):
            SqlCodeStore(conn, keyring.vault).codes_of([a])

    def test_codes_stay_readable_after_a_key_rotation(self, engine, keyring, people) -> None:
        (a,) = subjects(engine, keyring, people, 1)
        with engine.begin() as conn:
            store = SqlCodeStore(conn, keyring.vault)
            store.atena_numbers([a], allocate=True)
            store.store_codes([(a, "OLDKEYCODE")])
        with engine.begin() as conn:
            assert SqlCodeStore(conn, rotate(keyring).vault).codes_of([a]) == {a: "OLDKEYCODE"}

    def test_a_code_needs_a_atena_number_and_erase_forgets_both(self, engine, keyring, people) -> None:
        a, b = subjects(engine, keyring, people, 2)
        with engine.begin() as conn:
            store = SqlCodeStore(conn, keyring.vault)
            with pytest.raises(UnknownSubject):
                store.store_codes([(a, "NOATENAYET")])
            store.atena_numbers([a, b], allocate=True)
            store.store_codes([(a, "ERASEDCODE")])
            assert store.erase([a]) == 1
            assert store.codes_of([a, b]) == {}
            assert list(store.atena_numbers([a, b])) == [b]

    def test_pending_queries_wait_for_their_answer(self, engine, keyring, people) -> None:
        (a,) = subjects(engine, keyring, people, 1)
        with engine.begin() as conn:
            queries = SqlPendingQueries(conn, chunk_size=3)
            queries.add([pending("R0001", a), pending("R0002", a)])
            with pytest.raises(DuplicateRecordId):
                queries.add([pending("R0003", a), pending("R0001", a)])
            with pytest.raises(DuplicateRecordId):
                queries.add([pending("R0004", a), pending("R0004", a)])
            assert set(queries.get(["R0001", "R0002", "R0003", "R0004"])) == {"R0001", "R0002"}
            at = datetime(2026, 11, 27, tzinfo=UTC)
            queries.settle(["R0001"], status=PendingStatus.NO_DATA, at=at)
            got = queries.get(["R0001", "R0002"])
        assert got["R0001"].status is PendingStatus.NO_DATA
        assert got["R0001"].settled_at == at
        assert got["R0002"].status is PendingStatus.PENDING
        assert got["R0002"] == pending("R0002", a)


class TestSqliteCodeStore(CodeStoreContract):
    @pytest.fixture
    def engine(self, sqlite_engine: Engine) -> Engine:
        return sqlite_engine


@pytest.mark.postgres
class TestPostgresCodeStore(CodeStoreContract):
    @pytest.fixture
    def engine(self, postgres_engine: Engine) -> Engine:
        return postgres_engine
