"""The access record on SQLAlchemy: hash chains written inside the unit of work's transaction.

Every writer (a hub worker, an operator console, a CLI command) appends to its own chain, named by a
:class:`ChainWriter`, so that concurrent writers never race on "the previous hash". The head of a chain
lives in its ``audit_chains`` row, which an append reads under a row lock (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite transactions already hold the database write lock, see ``hub.infra.db.engine``) and
updates in the same transaction as the records. The head therefore moves exactly when the records commit,
and a rolled-back transaction leaves both untouched: there is no in-memory head to fall out of step.

The lock is held until the caller's transaction ends, so two transactions appending to *one* chain take
turns; give each concurrent worker its own :class:`ChainWriter` (chains are cheap; checkpoints cover all).

Cost per write: one SELECT, one bulk write of the records and one of their subjects, one UPDATE, whatever
the number of records. Inside a unit of work the appends of a whole transaction make one write, just before
the commit (:meth:`SqlAuditLog.defer`). The bulk writes are ``COPY ... FROM STDIN`` on PostgreSQL (on
the same connection, inside the same transaction; about three times the rate of a pipelined
``executemany``, which matters when one record names a chunk of a thousand people) and chunked
``executemany`` on SQLite, with rows handed to the driver as tuples (:mod:`hub.infra.db.bulk`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Final

import psycopg
from sqlalchemy import Connection, Engine, Table, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from contracts.errors import AuditWriteFailed, StoreUnavailable
from contracts.ids import random_letters
from hub.infra.audit.codec import canonical_at, chain_genesis, record_hash, to_utc
from hub.infra.audit.rows import hashed_fields, record_values
from hub.infra.db.bulk import insert_rows
from hub.infra.db.tables.audit import access_record_subjects, access_records, audit_chains
from hub.ports.audit import AccessRecord

__all__ = ["ChainWriter", "SqlAuditLog", "append_durably"]

_RECORD_CHUNK: Final = 1_000
_SUBJECT_CHUNK: Final = 5_000


class ChainWriter:
    """Names the hash chain one writer appends to. Thread-safe; holds no head (the database does).

    Args:
        writer: who writes (``"hub worker 2 on host-a"``); stored with the chain for auditors.
        chain_id: a stable id (for example ``"host-a.worker-2"``) to continue the same chain after a
            restart; by default a new random chain per writer. Two processes may share a chain id safely:
            the row lock serialises them.
        clock: where record times come from when a record has none.
    """

    def __init__(
        self, writer: str, *, chain_id: str | None = None, clock: Callable[[], datetime] | None = None
    ) -> None:
        chain_id = chain_id or random_letters(26)
        if not 0 < len(chain_id) <= 64 or not chain_id.isprintable():
            raise ValueError("a chain id is 1 to 64 printable characters")
        if not 0 < len(writer) <= 200:
            raise ValueError("a writer description is 1 to 200 characters")
        self.chain_id: Final = chain_id
        self.writer: Final = writer
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._appended = 0

    @property
    def appended(self) -> int:
        """Records appended through this writer (committed or not): a hint for checkpoint scheduling."""
        with self._lock:
            return self._appended

    def now(self) -> datetime:
        """The current time, from the writer's clock."""
        return self._clock()

    def lock_head(self, conn: Connection) -> tuple[int, str]:
        """Lock this chain's row for the rest of the transaction and return its head ``(seq, hash)``.

        Creates the row on first use (``INSERT ... ON CONFLICT DO NOTHING``, so two transactions creating
        it at once both succeed).
        """
        head = self._select_head(conn)
        if head is None:
            created_at = to_utc(self.now())
            row = {
                "chain_id": self.chain_id,
                "writer": self.writer,
                "created_at": created_at,
                "head_seq": 0,
                "head_hash": chain_genesis(self.chain_id, self.writer, canonical_at(created_at)),
            }
            conn.execute(_insert_ignore(conn, row))
            head = self._select_head(conn)
            if head is None:  # pragma: no cover - the row was just inserted or already existed
                raise AuditWriteFailed("the audit chain row could not be created")
        return head

    def advance(self, conn: Connection, seq: int, head_hash: str, count: int) -> None:
        """Move the head (in the caller's transaction, with the row still locked)."""
        conn.execute(
            update(audit_chains)
            .where(audit_chains.c.chain_id == self.chain_id)
            .values(head_seq=seq, head_hash=head_hash)
        )
        with self._lock:
            self._appended += count

    def _select_head(self, conn: Connection) -> tuple[int, str] | None:
        row = conn.execute(
            select(audit_chains.c.head_seq, audit_chains.c.head_hash)
            .where(audit_chains.c.chain_id == self.chain_id)
            .with_for_update()
        ).first()
        return None if row is None else (int(row[0]), str(row[1]))

    def __repr__(self) -> str:
        return f"ChainWriter(chain_id={self.chain_id!r}, writer={self.writer!r})"


def _insert_ignore(conn: Connection, row: dict[str, Any]) -> Any:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(audit_chains).values(**row).on_conflict_do_nothing(index_elements=["chain_id"])
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(audit_chains).values(**row).on_conflict_do_nothing(index_elements=["chain_id"])
    return insert(audit_chains).values(**row)


class SqlAuditLog:
    """:class:`hub.ports.audit.AuditLog` on the unit of work's connection. Never commits by itself.

    By default every :meth:`append` writes at once. A unit of work calls :meth:`defer` instead: records are
    then checked when appended (so a refused record still fails the handler that made it) but written by
    :meth:`flush`, which the unit of work calls just before it commits: one lock of the chain head and one
    bulk write per transaction, however many handlers appended. :meth:`pending` and :meth:`discard_after`
    let a savepoint that rolls back drop the records appended inside it.

    Args:
        conn: the connection whose transaction the records join.
        chain: the chain this log appends to.
    """

    def __init__(self, conn: Connection, chain: ChainWriter) -> None:
        self._conn = conn
        self._chain = chain
        self._deferred = False
        self._pending: list[tuple[dict[str, Any], tuple[str, ...]]] = []

    @classmethod
    def factory(cls, chain: ChainWriter) -> Callable[[Connection], SqlAuditLog]:
        """An ``audit_factory`` for :class:`hub.infra.db.uow.SqlUnitOfWorkFactory`."""
        return lambda conn: cls(conn, chain)

    @property
    def chain(self) -> ChainWriter:
        """The chain this log appends to."""
        return self._chain

    def defer(self) -> None:
        """Hold appended records until :meth:`flush` (whoever calls this must flush before committing)."""
        self._deferred = True

    @property
    def pending(self) -> int:
        """Records appended and not yet written."""
        return len(self._pending)

    def discard_after(self, mark: int) -> None:
        """Drop the records appended since :attr:`pending` was ``mark`` (a savepoint rolled back)."""
        del self._pending[mark:]

    def flush(self) -> None:
        """Write the records held back, in the order they were appended.

        Raises:
            AuditWriteFailed: the database refused or failed (the transaction must be rolled back).
        """
        if self._pending:
            pending, self._pending = self._pending, []
            self._write(pending)

    def append(self, records: Sequence[AccessRecord]) -> None:
        """Append ``records`` to the chain, in order, within the caller's transaction.

        Raises:
            AuditWriteFailed: the database refused or failed (the transaction must be rolled back).
            PolicyRefused: a subject is an Individual Number.
            ValidationFailed: a value does not fit its column.
        """
        if not records:
            return
        now = self._chain.now()
        prepared = [record_values(record, now) for record in records]  # validation before any I/O
        if self._deferred:
            self._pending.extend(prepared)
        else:
            self._write(prepared)

    def append_positions(self, records: Sequence[AccessRecord]) -> list[tuple[str, int]]:
        """Like :meth:`append`, returning each record's ``(chain_id, seq)``.

        Always written at once, so ahead of records still held back (flushing those here would put them
        in a savepoint they were not appended in, and a rollback of that savepoint would lose them).
        """
        if not records:
            return []
        now = self._chain.now()
        prepared = [record_values(record, now) for record in records]  # validation before any I/O
        return self._write(prepared)

    def _write(self, prepared: Sequence[tuple[dict[str, Any], tuple[str, ...]]]) -> list[tuple[str, int]]:
        chain_id = self._chain.chain_id
        try:
            seq, prev = self._chain.lock_head(self._conn)
            rows: list[dict[str, Any]] = []
            subject_rows: list[dict[str, Any]] = []
            for values, subjects in prepared:
                seq += 1
                digest = record_hash(chain_id, seq, hashed_fields(values), subjects, prev)
                rows.append({**values, "chain_id": chain_id, "seq": seq, "prev_hash": prev, "hash": digest})
                subject_rows.extend({"chain_id": chain_id, "seq": seq, "subject_token": t} for t in subjects)
                prev = digest
            _bulk_insert(self._conn, access_records, rows, _RECORD_CHUNK)
            _bulk_insert(self._conn, access_record_subjects, subject_rows, _SUBJECT_CHUNK)
            self._chain.advance(self._conn, seq, prev, len(rows))
        except (SQLAlchemyError, psycopg.Error, StoreUnavailable) as exc:
            raise AuditWriteFailed(
                "the access record could not be written; nothing that depends on it may proceed"
            ) from exc
        return [(chain_id, row["seq"]) for row in rows]


def _bulk_insert(conn: Connection, table: Table, rows: list[dict[str, Any]], chunk: int) -> None:
    if not rows:
        return
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        # The names come from our own table definition, never from data.
        columns = [c.name for c in table.columns]
        driver = conn.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row([row[c] for c in columns])
        return
    if conn.dialect.name == "sqlite":
        insert_rows(conn, table, rows)  # compiled once, rows as driver tuples
        return
    for start in range(0, len(rows), chunk):
        conn.execute(insert(table), rows[start : start + chunk])


@contextmanager
def _durable_commit(conn: Connection) -> Iterator[None]:
    # The default commit settings trade the last moments before a power cut for speed (SQLite WAL with
    # synchronous=NORMAL; PostgreSQL may run with synchronous_commit=off). A record that must exist before
    # a number leaves the hub is committed with a full sync instead.
    if conn.dialect.name == "sqlite":
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.execute("PRAGMA synchronous=FULL")
        try:
            yield
        finally:
            driver.execute("PRAGMA synchronous=NORMAL")
    else:
        yield


def append_durably(engine: Engine, chain: ChainWriter, records: Sequence[AccessRecord]) -> None:
    """Write ``records`` in a transaction of their own and return only once it is durably committed.

    For releases outside the outbox (fail closed, like Vault's audit devices): call this *before* a number
    leaves the hub, and release nothing if it raises.

    Raises:
        AuditWriteFailed: the records are not durably written.
    """
    try:
        with engine.connect() as conn, _durable_commit(conn), conn.begin():
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO on")
            SqlAuditLog(conn, chain).append(records)
    except (SQLAlchemyError, StoreUnavailable) as exc:
        raise AuditWriteFailed("the access record could not be committed; release refused") from exc
