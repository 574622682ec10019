"""The SQLAlchemy unit of work: one connection, one transaction, every store bound to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Self, cast

from sqlalchemy import Connection, Engine, RootTransaction
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from contracts.errors import ConfigurationError, StoreUnavailable
from hub.infra.audit.sql import SqlAuditLog
from hub.infra.db.messaging import SqlInbox, SqlOutbox
from hub.infra.stores.actors import SqlMessageActors
from hub.infra.stores.approvals import SqlApprovalStore
from hub.infra.stores.codes import SqlPendingQueries
from hub.infra.stores.dead_letters import SqlDeadLetterStore
from hub.infra.stores.holds import SqlHoldStore
from hub.infra.vault.memo import MemoisingVault
from hub.ports.actors import MessageActors
from hub.ports.approvals import ApprovalStore
from hub.ports.audit import AuditLog, ProvisionLog
from hub.ports.codes import CodeStore, PendingQueryStore
from hub.ports.dead_letters import DeadLetterStore
from hub.ports.holds import HoldStore
from hub.ports.store import Inbox, Outbox
from hub.ports.vault import Vault

__all__ = ["SqlAlchemyUnitOfWork", "SqlUnitOfWorkFactory"]

VaultFactory = Callable[[Connection], Vault]
AuditFactory = Callable[[Connection], AuditLog]
CodesFactory = Callable[[Connection], CodeStore]
ProvisionsFactory = Callable[[Connection], ProvisionLog]


class _Unwired:
    """Stands for a store the factory was built without: any use fails closed."""

    def __init__(self, what: str) -> None:
        self._what = what

    def __getattr__(self, name: str) -> Any:
        raise ConfigurationError(f"this unit of work was built without {self._what}")


class SqlAlchemyUnitOfWork:
    """One transaction over inbox, outbox, vault, access record and dead-letter store."""

    inbox: Inbox
    outbox: Outbox
    vault: Vault
    audit: AuditLog
    dead_letters: DeadLetterStore
    provisions: ProvisionLog
    codes: CodeStore
    pending_queries: PendingQueryStore
    holds: HoldStore
    actors: MessageActors
    approvals: ApprovalStore

    def __init__(
        self,
        engine: Engine,
        vault_factory: VaultFactory | None,
        audit_factory: AuditFactory,
        *,
        codes_factory: CodesFactory | None = None,
        provisions_factory: ProvisionsFactory | None = None,
    ) -> None:
        self._engine = engine
        self._vault_factory = vault_factory
        self._audit_factory = audit_factory
        self._codes_factory = codes_factory
        self._provisions_factory = provisions_factory
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
        except StoreUnavailable:
            self._close()
            raise
        except (OperationalError, DBAPIError) as exc:
            self._close()
            raise StoreUnavailable("the database cannot be reached; the message will be retried") from exc
        self.inbox = SqlInbox(self._conn)
        self.outbox = SqlOutbox(self._conn)
        self.vault = (
            self._vault_factory(self._conn)
            if self._vault_factory
            else cast(Vault, _Unwired("a vault (the vault's keys)"))
        )
        self.audit = self._audit_factory(self._conn)
        if isinstance(self.audit, SqlAuditLog):
            self.audit.defer()  # one write per transaction, at commit; see commit() and savepoint()
        self.dead_letters = SqlDeadLetterStore(self._conn)
        self.pending_queries = SqlPendingQueries(self._conn)
        self.holds = SqlHoldStore(self._conn)
        self.actors = SqlMessageActors(self._conn)
        self.approvals = SqlApprovalStore(self._conn)
        self.codes = (
            self._codes_factory(self._conn)
            if self._codes_factory
            else cast(CodeStore, _Unwired("a code store (the keyring)"))
        )
        self.provisions = (
            self._provisions_factory(self._conn)
            if self._provisions_factory
            else cast(ProvisionLog, _Unwired("a provision log (the access record's chain)"))
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


class SqlUnitOfWorkFactory:
    """Opens :class:`SqlAlchemyUnitOfWork` instances on one engine."""

    def __init__(
        self,
        engine: Engine,
        vault_factory: VaultFactory | None,
        audit_factory: AuditFactory,
        *,
        codes_factory: CodesFactory | None = None,
        provisions_factory: ProvisionsFactory | None = None,
    ) -> None:
        self.engine = engine
        self._vault_factory = vault_factory
        self._audit_factory = audit_factory
        self._codes_factory = codes_factory
        self._provisions_factory = provisions_factory

    def __call__(self) -> SqlAlchemyUnitOfWork:
        """Open a new unit of work (the transaction begins on ``with``)."""
        return SqlAlchemyUnitOfWork(
            self.engine,
            self._vault_factory,
            self._audit_factory,
            codes_factory=self._codes_factory,
            provisions_factory=self._provisions_factory,
        )
