"""The SQLAlchemy unit of work: one connection, one transaction, every store bound to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import KW_ONLY, dataclass
from typing import Self, TypeVar

from sqlalchemy import Connection, Engine, RootTransaction
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from contracts.errors import StoreUnavailable
from hub.infra.audit.sql import SqlAuditLog
from hub.infra.db.messaging import SqlInbox, SqlOutbox
from hub.infra.stores.actors import SqlMessageActors
from hub.infra.stores.approvals import SqlApprovalStore
from hub.infra.stores.codes import SqlPendingQueries
from hub.infra.stores.dead_letters import SqlDeadLetterStore
from hub.infra.stores.holds import SqlHoldStore
from hub.infra.vault.memo import MemoisingVault
from hub.ports.audit import AuditLog, ProvisionLog
from hub.ports.codes import CodeStore
from hub.ports.store import UnitOfWork, or_unwired
from hub.ports.vault import Vault

__all__ = ["SqlAlchemyUnitOfWork", "SqlUnitOfWorkFactory"]

VaultFactory = Callable[[Connection], Vault]
AuditFactory = Callable[[Connection], AuditLog]
CodesFactory = Callable[[Connection], CodeStore]
ProvisionsFactory = Callable[[Connection], ProvisionLog]
_Store = TypeVar("_Store")


def _built(factory: Callable[[Connection], _Store] | None, conn: Connection) -> _Store | None:
    """The store ``factory`` builds on ``conn``; ``None`` when the unit of work was built without one."""
    return None if factory is None else factory(conn)


class SqlAlchemyUnitOfWork(UnitOfWork):
    """One transaction over inbox, outbox, vault, access record and dead-letter store."""

    def __init__(self, wiring: SqlUnitOfWorkFactory) -> None:
        self._wiring = wiring
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
            self._conn = self._wiring.engine.connect()
            self._tx = self._conn.begin()
        except StoreUnavailable:
            self._close()
            raise
        except (OperationalError, DBAPIError) as exc:
            self._close()
            raise StoreUnavailable("the database cannot be reached; the message will be retried") from exc
        self.inbox = SqlInbox(self._conn)
        self.outbox = SqlOutbox(self._conn)
        w, conn = self._wiring, self._conn
        self.vault = or_unwired(_built(w.vault_factory, conn), "a vault (the vault's keys)")
        self.audit = w.audit_factory(self._conn)
        if isinstance(self.audit, SqlAuditLog):
            self.audit.defer()  # one write per transaction, at commit; see commit() and savepoint()
        self.dead_letters = SqlDeadLetterStore(self._conn)
        self.pending_queries = SqlPendingQueries(self._conn)
        self.holds = SqlHoldStore(self._conn)
        self.actors = SqlMessageActors(self._conn)
        self.approvals = SqlApprovalStore(self._conn)
        self.codes = or_unwired(_built(w.codes_factory, conn), "a code store (the keyring)")
        self.provisions = or_unwired(
            _built(w.provisions_factory, conn), "a provision log (the access record's chain)"
        )
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._tx is not None and self._tx.is_active:
                self._tx.rollback()
        except (DBAPIError, StoreUnavailable):  # the connection is gone; nothing to roll back
            pass
        finally:
            self._close()

    def commit(self) -> None:
        """Write the access records held back, then commit.

        Raises:
            AuditWriteFailed: the access records could not be written (nothing is committed).
            StoreUnavailable: the database did not commit (retried later).
        """
        if self._tx is None:
            raise RuntimeError("the unit of work is not open")
        if isinstance(self.audit, SqlAuditLog):
            self.audit.flush()
        try:
            self._tx.commit()
        except IntegrityError:
            raise
        except DBAPIError as exc:
            raise StoreUnavailable("the database did not commit; the batch will be retried") from exc

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: an exception inside rolls back only the work inside.

        A database failure while opening, rolling back or releasing the savepoint becomes
        :class:`StoreUnavailable`, so the caller's ack policy sees a transient failure, not a crash.
        """
        try:
            nested = self.connection.begin_nested()
        except DBAPIError as exc:
            raise StoreUnavailable("the database refused a savepoint") from exc
        audit = self.audit if isinstance(self.audit, SqlAuditLog) else None
        mark = audit.pending if audit is not None else 0
        try:
            yield
        except BaseException:
            try:
                nested.rollback()
            except DBAPIError as exc:
                raise StoreUnavailable("the database could not roll back a savepoint") from exc
            finally:
                if audit is not None:
                    audit.discard_after(mark)  # records held back inside it go with it
                if isinstance(self.vault, MemoisingVault):
                    self.vault.forget()  # what it recorded inside (tokens) is gone from the database
            raise
        try:
            nested.commit()
        except DBAPIError as exc:
            raise StoreUnavailable("the database could not release a savepoint") from exc

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        self._tx = None


@dataclass(frozen=True, slots=True)
class SqlUnitOfWorkFactory:
    """Opens :class:`SqlAlchemyUnitOfWork` instances on one engine.

    Each unit of work builds its stores on its own connection with these factories; ``vault_factory``,
    ``codes_factory`` and ``provisions_factory`` are optional (the vault needs keys): a unit of work
    without one fails closed when it is used (``ConfigurationError``).
    """

    engine: Engine
    vault_factory: VaultFactory | None
    audit_factory: AuditFactory
    _: KW_ONLY
    codes_factory: CodesFactory | None = None
    provisions_factory: ProvisionsFactory | None = None

    def __call__(self) -> SqlAlchemyUnitOfWork:
        """Open a new unit of work (the transaction begins on ``with``)."""
        return SqlAlchemyUnitOfWork(self)
