"""The SQLAlchemy unit of work: one connection, one transaction, every store bound to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Self

from sqlalchemy import Connection, Engine, RootTransaction
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from contracts.errors import StoreUnavailable
from hub.infra.db.messaging import SqlInbox, SqlOutbox
from hub.infra.dead_letters_sql import SqlDeadLetterStore
from hub.ports.audit import AuditLog
from hub.ports.dead_letters import DeadLetterStore
from hub.ports.store import Inbox, Outbox
from hub.ports.vault import Vault

__all__ = ["SqlAlchemyUnitOfWork", "SqlUnitOfWorkFactory"]

VaultFactory = Callable[[Connection], Vault]
AuditFactory = Callable[[Connection], AuditLog]


class SqlAlchemyUnitOfWork:
    """One transaction over inbox, outbox, vault, access record and dead-letter store."""

    inbox: Inbox
    outbox: Outbox
    vault: Vault
    audit: AuditLog
    dead_letters: DeadLetterStore

    def __init__(self, engine: Engine, vault_factory: VaultFactory, audit_factory: AuditFactory) -> None:
        self._engine = engine
        self._vault_factory = vault_factory
        self._audit_factory = audit_factory
        self._conn: Connection | None = None
        self._tx: RootTransaction | None = None

    @property
    def connection(self) -> Connection:
        """The open connection (for infrastructure stores added by later components)."""
        if self._conn is None:
            raise RuntimeError("the unit of work is not open")
        return self._conn

    def __enter__(self) -> Self:
        try:
            self._conn = self._engine.connect()
            self._tx = self._conn.begin()
        except (OperationalError, DBAPIError) as exc:
            self._close()
            raise StoreUnavailable("the database cannot be reached; the message will be retried") from exc
        self.inbox = SqlInbox(self._conn)
        self.outbox = SqlOutbox(self._conn)
        self.vault = self._vault_factory(self._conn)
        self.audit = self._audit_factory(self._conn)
        self.dead_letters = SqlDeadLetterStore(self._conn)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._tx is not None and self._tx.is_active:
                self._tx.rollback()
        except DBAPIError:  # the connection is gone; nothing to roll back
            pass
        finally:
            self._close()

    def commit(self) -> None:
        """Commit; a database failure becomes :class:`StoreUnavailable` (retried later)."""
        if self._tx is None:
            raise RuntimeError("the unit of work is not open")
        try:
            self._tx.commit()
        except IntegrityError:
            raise
        except DBAPIError as exc:
            raise StoreUnavailable("the database did not commit; the batch will be retried") from exc

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: an exception inside rolls back only the work inside."""
        nested = self.connection.begin_nested()
        try:
            yield
        except BaseException:
            nested.rollback()
            raise
        nested.commit()

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        self._tx = None


class SqlUnitOfWorkFactory:
    """Opens :class:`SqlAlchemyUnitOfWork` instances on one engine."""

    def __init__(self, engine: Engine, vault_factory: VaultFactory, audit_factory: AuditFactory) -> None:
        self.engine = engine
        self._vault_factory = vault_factory
        self._audit_factory = audit_factory

    def __call__(self) -> SqlAlchemyUnitOfWork:
        """Open a new unit of work (the transaction begins on ``with``)."""
        return SqlAlchemyUnitOfWork(self.engine, self._vault_factory, self._audit_factory)
