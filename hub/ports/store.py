"""The unit of work and the message stores (inbox, outbox) that make consumers idempotent.

A unit of work is one database transaction. Everything a handler does for a batch of messages (vault
changes, access records, inbox marks, outbox messages, dead-letter entries) is written through it and
commits at once, so that the broker is acknowledged only after the work is durable.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any, Protocol, Self, TypeVar, cast

from contracts.errors import ConfigurationError
from hub.ports.actors import MessageActors
from hub.ports.approvals import ApprovalStore
from hub.ports.audit import AuditLog, ProvisionLog
from hub.ports.codes import CodeStore, PendingQueryStore
from hub.ports.dead_letters import DeadLetterStore
from hub.ports.holds import HoldStore
from hub.ports.transport import OutgoingMessage
from hub.ports.vault import Vault

__all__ = ["Inbox", "Outbox", "UnitOfWork", "UnitOfWorkFactory", "or_unwired"]

_Store = TypeVar("_Store")


class Inbox(Protocol):
    """Message ids each consumer has handled (the idempotency record)."""

    def handled(self, consumer: str, message_ids: Sequence[str]) -> set[str]:
        """Return the ids among ``message_ids`` that ``consumer`` has already handled."""
        ...

    def mark(self, consumer: str, message_ids: Sequence[str]) -> None:
        """Record ``message_ids`` as handled by ``consumer``."""
        ...


class Outbox(Protocol):
    """Messages to publish once the transaction that produced them commits (transactional outbox)."""

    def add(self, messages: Sequence[OutgoingMessage]) -> list[int]:
        """Queue ``messages``; returns their outbox ids."""
        ...

    def pending(self, limit: int, older_than: timedelta | None = None) -> list[tuple[int, OutgoingMessage]]:
        """Unsent messages, oldest first; with ``older_than``, only rows written at least that long ago."""
        ...

    def mark_sent(self, ids: Sequence[int]) -> None:
        """Mark outbox rows as published and confirmed, and delete their bodies (sealed copies)."""
        ...


class UnitOfWork(Protocol):
    """One transaction over every store. Rolls back unless :meth:`commit` was called."""

    inbox: Inbox
    outbox: Outbox
    vault: Vault
    audit: AuditLog
    dead_letters: DeadLetterStore
    provisions: ProvisionLog
    """情報提供等の記録 (番号法 第23条), each sealed by an access record."""
    codes: CodeStore
    """The federation's codes (符号) on the information-provision network, and each subject's 宛名番号."""
    pending_queries: PendingQueryStore
    """Queries sent through the intermediate server, until their answers settle them."""
    holds: HoldStore
    """Links held for an operator (several candidates, none, a number conflict)."""
    actors: MessageActors
    """On whose behalf each message ran (the federation or a 構成組合), as the hub established it."""
    approvals: ApprovalStore
    """Requests for privileged actions and the second person's approval (four eyes)."""

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...

    def commit(self) -> None:
        """Commit everything; raises ``StoreUnavailable`` (transient) when the database fails."""
        ...

    def savepoint(self) -> AbstractContextManager[None]:
        """A nested transaction: an exception inside rolls back only what was done inside."""
        ...


class UnitOfWorkFactory(Protocol):
    """Opens units of work."""

    def __call__(self) -> UnitOfWork:
        """Open a new unit of work."""
        ...


class _Unwired:
    """Stands for a store a unit of work was built without: any use fails closed."""

    def __init__(self, what: str) -> None:
        self._what = what

    def __getattr__(self, name: str) -> Any:
        raise ConfigurationError(f"this unit of work was built without {self._what}")


def or_unwired(store: _Store | None, what: str) -> _Store:
    """``store``, or when a unit of work is built without it (``None``) a stand-in that fails closed.

    Every use of the stand-in raises :class:`ConfigurationError` naming ``what`` was not wired (the vault
    needs keys, the code store a keyring), instead of an ``AttributeError`` on ``None``.
    """
    return store if store is not None else cast(_Store, _Unwired(what))
