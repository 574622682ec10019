"""One contract for every unit of work (with its inbox and outbox): the SQL one (SQLite, PostgreSQL) and
the in-memory twin (:mod:`hub.infra.memory.store`).

Each subclass supplies ``factory`` (units of work over a store of this test's own, access records on chain
``CHAIN``) and ``chain`` (the committed access records of that chain). Units of work commit, so the SQL
ones get a fresh migrated database per test (``sqlite_engine``, ``postgres_engine`` in ``conftest.py``).
The stores under the unit of work have contracts of their own; these tests ask what the unit of work adds:
nothing kept without a commit, a failed savepoint undoing only its own work (access records included), and
the inbox and outbox that make consumers idempotent and publishing reliable.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from contracts.errors import ConfigurationError, StoreUnavailable
from hub.infra.audit.provision import SqlProvisionLog
from hub.infra.audit.query import iter_records
from hub.infra.audit.rows import StoredRecord
from hub.infra.audit.sql import ChainWriter, SqlAuditLog
from hub.infra.db.uow import SqlUnitOfWorkFactory
from hub.infra.memory.audit import InMemoryAuditLog
from hub.infra.memory.store import InMemoryStores, InMemoryUnitOfWorkFactory
from hub.ports.actors import MessageActor
from hub.ports.audit import AccessRecord, AuditAction
from hub.ports.store import UnitOfWork, UnitOfWorkFactory
from hub.ports.transport import OutgoingMessage

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
CHAIN = "contract-store"
CONSUMER = "hub.worker"
Chain = Callable[[], list[StoredRecord]]


class Boom(Exception):
    """A handler's failure inside a savepoint."""


def message(n: int, **changes: Any) -> OutgoingMessage:
    fields: dict[str, Any] = {
        "exchange": "renkei.contract",
        "routing_key": "jlis",
        "body": f'{{"n":{n}}}'.encode(),
        "message_id": f"out{n}",
        "message_type": "jlis.survival_change",
        "correlation_id": "c1",
        "headers": {"x-renkei-attempt": n, "x-renkei-reason": "none"},
    }
    fields.update(changes)
    return OutgoingMessage(**fields)


def access(message_id: str) -> AccessRecord:
    return AccessRecord(
        actor="hub", action=AuditAction.ROUTED, message_id=message_id, message_type="jlis.survival_change"
    )


def write(uow: UnitOfWork, n: int) -> None:
    """What a handler writes for message ``m<n>``: inbox mark, outbox message, actor, access record."""
    uow.inbox.mark(CONSUMER, [f"m{n}"])
    uow.outbox.add([message(n)])
    uow.actors.record([MessageActor(f"m{n}", "c1", "kumiai01")])
    uow.audit.append([access(f"m{n}")])


def seen(
    factory: UnitOfWorkFactory, chain: Chain, upto: int = 6
) -> tuple[set[str], list[str], dict[str, str]]:
    """What a new unit of work sees of ``write``: handled ids, pending outbox ids, actors."""
    ids = [f"m{n}" for n in range(1, upto + 1)]
    with factory() as uow:
        handled = uow.inbox.handled(CONSUMER, ids)
        pending = [m.message_id for _, m in uow.outbox.pending(100)]
        actors = uow.actors.of_messages(ids)
    assert sorted(r.message_id for r in chain() if r.message_id) == sorted(handled)
    return handled, pending, actors


def fail_in_savepoint(uow: UnitOfWork, n: int) -> None:
    """A handler that writes for ``m<n>`` in a savepoint, then fails."""
    with uow.savepoint():
        write(uow, n)
        raise Boom


def fail_in_unit_of_work(factory: UnitOfWorkFactory, n: int) -> None:
    """A batch that writes for ``m<n>``, then fails before its commit."""
    with factory() as uow:
        write(uow, n)
        raise Boom


def mark_in_savepoint(uow: UnitOfWork, ids: list[str]) -> None:
    with uow.savepoint():
        uow.inbox.mark(CONSUMER, ids)


class UnitOfWorkContract:
    """Behaviour every unit of work shows. Subclasses provide ``factory`` and ``chain``."""

    @pytest.fixture
    def factory(self) -> UnitOfWorkFactory:
        raise NotImplementedError

    @pytest.fixture
    def chain(self) -> Chain:
        raise NotImplementedError

    def test_committed_work_is_seen_by_the_next_unit_of_work(
        self, factory: UnitOfWorkFactory, chain: Chain
    ) -> None:
        with factory() as uow:
            write(uow, 1)
            write(uow, 2)
            uow.commit()
        assert seen(factory, chain) == ({"m1", "m2"}, ["out1", "out2"], {"m1": "kumiai01", "m2": "kumiai01"})
        with factory() as uow:
            assert uow.inbox.handled("another.consumer", ["m1", "m2"]) == set()

    def test_without_a_commit_nothing_is_kept(self, factory: UnitOfWorkFactory, chain: Chain) -> None:
        with factory() as uow:
            write(uow, 1)
            uow.commit()
        with factory() as uow:
            write(uow, 2)  # left without a commit
        with pytest.raises(Boom):
            fail_in_unit_of_work(factory, 3)
        with factory() as uow:
            write(uow, 4)
            uow.commit()
        assert seen(factory, chain) == ({"m1", "m4"}, ["out1", "out4"], {"m1": "kumiai01", "m4": "kumiai01"})

    def test_a_failed_savepoint_rolls_back_its_own_work_only(
        self, factory: UnitOfWorkFactory, chain: Chain
    ) -> None:
        with factory() as uow:
            write(uow, 1)
            with pytest.raises(Boom):
                fail_in_savepoint(uow, 2)
            with uow.savepoint():
                write(uow, 3)
                with pytest.raises(Boom):  # nested: the inner one alone goes
                    fail_in_savepoint(uow, 4)
                write(uow, 5)
            uow.commit()
        handled, pending, actors = seen(factory, chain)
        assert handled == {"m1", "m3", "m5"}
        assert pending == ["out1", "out3", "out5"]
        assert actors == {"m1": "kumiai01", "m3": "kumiai01", "m5": "kumiai01"}
        assert [r.message_id for r in chain()] == ["m1", "m3", "m5"]  # in the order appended

    def test_a_message_is_marked_handled_once(self, factory: UnitOfWorkFactory, chain: Chain) -> None:
        with factory() as uow:
            uow.inbox.mark(CONSUMER, ["m1"])
            uow.inbox.mark(CONSUMER, [])
            uow.commit()
        with factory() as uow, pytest.raises(StoreUnavailable):  # another consumer handled it first
            uow.inbox.mark(CONSUMER, ["m2", "m1"])
        with factory() as uow:
            uow.inbox.mark("another.consumer", ["m1"])  # each consumer has its own record
            uow.inbox.mark(CONSUMER, ["m2"])
            with pytest.raises(StoreUnavailable):  # the worker's careful path: a savepoint per message
                mark_in_savepoint(uow, ["m1"])
            with pytest.raises(StoreUnavailable):
                mark_in_savepoint(uow, ["m3", "m3"])
            uow.inbox.mark(CONSUMER, ["m4"])
            uow.commit()
        with factory() as uow:
            assert uow.inbox.handled(CONSUMER, ["m1", "m2", "m3", "m4"]) == {"m1", "m2", "m4"}
            assert uow.inbox.handled("another.consumer", ["m1", "m2"]) == {"m1"}
            assert uow.inbox.handled(CONSUMER, []) == set()

    def test_the_outbox_gives_unsent_messages_oldest_first_until_marked_sent(
        self, factory: UnitOfWorkFactory
    ) -> None:
        with factory() as uow:
            first = uow.outbox.add([message(1), message(2)])
            assert uow.outbox.add([]) == []
            uow.commit()
        with factory() as uow:
            [third] = uow.outbox.add([message(3, headers={})])
            uow.commit()
        assert first[0] < first[1] < third
        with factory() as uow:
            assert uow.outbox.pending(100) == [
                (first[0], message(1)),
                (first[1], message(2)),
                (third, message(3, headers={})),
            ]
            assert [i for i, _ in uow.outbox.pending(2)] == first
            assert uow.outbox.pending(100, older_than=timedelta(days=1)) == []  # all were written just now
            uow.outbox.mark_sent([first[0], third])
            uow.commit()
        with factory() as uow:
            assert uow.outbox.pending(100) == [(first[1], message(2))]
            assert [i for i, _ in uow.outbox.pending(100, older_than=timedelta(0))] == [first[1]]
            uow.outbox.mark_sent([first[1]])  # left without a commit: still pending
        with factory() as uow:
            assert [i for i, _ in uow.outbox.pending(100)] == [first[1]]

    def test_a_store_it_was_built_without_fails_closed(self, factory: UnitOfWorkFactory) -> None:
        with factory() as uow:
            with pytest.raises(ConfigurationError):
                uow.vault.numbers_of([])
            with pytest.raises(ConfigurationError):
                uow.codes.atena_numbers([])


class _SqlUnitOfWork(UnitOfWorkContract):
    @pytest.fixture
    def engine(self) -> Engine:
        raise NotImplementedError

    @pytest.fixture
    def factory(self, engine: Engine) -> UnitOfWorkFactory:
        writer = ChainWriter("contract tests", chain_id=CHAIN, clock=lambda: T0)
        return SqlUnitOfWorkFactory(
            engine,
            None,
            SqlAuditLog.factory(writer),
            provisions_factory=lambda conn: SqlProvisionLog(conn, writer),
        )

    @pytest.fixture
    def chain(self, engine: Engine) -> Chain:
        def read() -> list[StoredRecord]:
            with engine.connect() as conn:
                return sorted((r for r in iter_records(conn) if r.chain_id == CHAIN), key=lambda r: r.seq)

        return read


class TestSqlUnitOfWorkOnSqlite(_SqlUnitOfWork):
    @pytest.fixture
    def engine(self, sqlite_engine: Engine) -> Engine:
        return sqlite_engine


@pytest.mark.postgres
class TestSqlUnitOfWorkOnPostgres(_SqlUnitOfWork):
    @pytest.fixture
    def engine(self, postgres_engine: Engine) -> Engine:
        return postgres_engine


class TestInMemoryUnitOfWork(UnitOfWorkContract):
    @pytest.fixture
    def stores(self) -> InMemoryStores:
        return InMemoryStores(audit=InMemoryAuditLog("contract tests", chain_id=CHAIN, clock=lambda: T0))

    @pytest.fixture
    def factory(self, stores: InMemoryStores) -> UnitOfWorkFactory:
        return InMemoryUnitOfWorkFactory(stores.with_provisions())

    @pytest.fixture
    def chain(self, stores: InMemoryStores) -> Chain:
        return lambda: stores.audit.records
