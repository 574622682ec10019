"""The unit of work in memory: the inbox, the outbox and one transaction over every twin.

:class:`InMemoryStores` is the "database": one twin per store, shared by the units of work that
:class:`InMemoryUnitOfWorkFactory` opens. A unit of work works on the twins themselves and keeps a copy of
their data from when it began (and from when each savepoint began); leaving without :meth:`commit`, or an
exception inside a savepoint, puts that copy back, as the SQL unit of work's rollback does. One unit of work
is open at a time (the others wait, then get ``StoreUnavailable`` as from a locked database), so a
rollback never undoes another's committed work.

What a copy holds: each twin's attributes that are plain data (dicts, lists, sets, tuples, strings, numbers
and the mutable rows in them), copied down to the immutable values. Collaborators (a tokenizer, a clock)
and id counters are left alone, so ids are not handed out twice after a rollback (PostgreSQL's sequences do
not roll back either).

The inbox and the outbox keep what :class:`~hub.infra.db.messaging.SqlInbox` and
:class:`~hub.infra.db.messaging.SqlOutbox` keep: an outbox message comes back with its headers as JSON
gives them back and without ``content_type`` or ``user_id`` (the SQL table stores neither).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Self

from contracts.errors import StoreUnavailable
from hub.infra.memory.actors import InMemoryMessageActors
from hub.infra.memory.approvals import InMemoryApprovalStore
from hub.infra.memory.audit import InMemoryAuditLog
from hub.infra.memory.codes import InMemoryPendingQueries
from hub.infra.memory.dead_letters import InMemoryDeadLetterStore
from hub.infra.memory.holds import InMemoryHoldStore
from hub.infra.memory.provisions import InMemoryProvisionLog
from hub.ports.actors import MessageActors
from hub.ports.approvals import ApprovalStore
from hub.ports.audit import ProvisionLog
from hub.ports.codes import CodeStore, PendingQueryStore
from hub.ports.dead_letters import DeadLetterStore
from hub.ports.holds import HoldStore
from hub.ports.store import UnitOfWork, or_unwired
from hub.ports.transport import OutgoingMessage
from hub.ports.vault import Vault

__all__ = [
    "InMemoryInbox",
    "InMemoryOutbox",
    "InMemoryStores",
    "InMemoryUnitOfWork",
    "InMemoryUnitOfWorkFactory",
]

SENT_BODY: Final = b""
"""An outbox body once the broker confirmed it: deleted, as in the SQL outbox."""
_DATA: Final = (dict, list, set, tuple, frozenset, str, bytes, int, float, bool, type(None))


class InMemoryInbox:
    """:class:`hub.ports.store.Inbox` in memory: handled message ids per consumer."""

    def __init__(self) -> None:
        self._handled: dict[str, set[str]] = {}

    def handled(self, consumer: str, message_ids: Sequence[str]) -> set[str]:
        """Return the ids among ``message_ids`` that ``consumer`` has already handled."""
        seen = self._handled.get(consumer, set())
        return {m for m in message_ids if m in seen}

    def mark(self, consumer: str, message_ids: Sequence[str]) -> None:
        """Record ``message_ids`` as handled by ``consumer``.

        Raises:
            StoreUnavailable: an id is handled already or repeats in the call (nothing is marked), as the
                SQL inbox's primary key refuses it.
        """
        seen = self._handled.setdefault(consumer, set())
        if len(set(message_ids)) != len(message_ids) or any(m in seen for m in message_ids):
            raise StoreUnavailable("a message was marked handled twice; the batch will be retried")
        seen.update(message_ids)


@dataclass(slots=True)
class _OutboxRow:
    message: OutgoingMessage
    created_at: datetime
    sent_at: datetime | None = None


class InMemoryOutbox:
    """:class:`hub.ports.store.Outbox` in memory.

    Args:
        clock: when rows are written and marked sent (and what ``older_than`` counts from).
    """

    def __init__(self, *, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        self._ids = itertools.count(1)
        self._rows: dict[int, _OutboxRow] = {}

    def add(self, messages: Sequence[OutgoingMessage]) -> list[int]:
        """Queue ``messages``; returns their outbox ids in order."""
        now, ids = self._clock(), []
        for m in messages:
            row_id = next(self._ids)
            self._rows[row_id] = _OutboxRow(_as_stored(m), now)
            ids.append(row_id)
        return ids

    def pending(self, limit: int, older_than: timedelta | None = None) -> list[tuple[int, OutgoingMessage]]:
        """Unsent messages, oldest first; with ``older_than``, only rows written at least that long ago."""
        cutoff = None if older_than is None else self._clock() - older_than
        chosen = [
            (row_id, row.message)
            for row_id, row in sorted(self._rows.items())
            if row.sent_at is None and (cutoff is None or row.created_at <= cutoff)
        ]
        return chosen[:limit]

    def mark_sent(self, ids: Sequence[int]) -> None:
        """Mark rows as published and confirmed, and delete their bodies."""
        now = self._clock()
        for row_id in ids:
            row = self._rows.get(row_id)
            if row is not None:
                row.sent_at = now
                row.message = dataclasses.replace(row.message, body=SENT_BODY)


def _as_stored(m: OutgoingMessage) -> OutgoingMessage:
    """``m`` as the SQL outbox gives it back: JSON headers, default content type, no ``user_id``."""
    return OutgoingMessage(
        exchange=m.exchange,
        routing_key=m.routing_key,
        body=bytes(m.body),
        message_id=m.message_id,
        message_type=m.message_type,
        correlation_id=m.correlation_id,
        headers=json.loads(json.dumps(dict(m.headers), sort_keys=True)),
    )


@dataclass
class InMemoryStores:
    """Every twin a unit of work reaches: the in-memory database.

    ``vault``, ``codes`` and ``provisions`` are optional as in the SQL factory (the vault needs keys): a
    unit of work without one fails closed when it is used (``ConfigurationError``).
    """

    vault: Vault | None = None
    codes: CodeStore | None = None
    audit: InMemoryAuditLog = field(default_factory=InMemoryAuditLog)
    provisions: ProvisionLog | None = None
    inbox: InMemoryInbox = field(default_factory=InMemoryInbox)
    outbox: InMemoryOutbox = field(default_factory=InMemoryOutbox)
    dead_letters: DeadLetterStore = field(default_factory=InMemoryDeadLetterStore)
    pending_queries: PendingQueryStore = field(default_factory=InMemoryPendingQueries)
    holds: HoldStore = field(default_factory=InMemoryHoldStore)
    actors: MessageActors = field(default_factory=InMemoryMessageActors)
    approvals: ApprovalStore = field(default_factory=InMemoryApprovalStore)

    def with_provisions(self) -> Self:
        """Give the stores a provision log sealed on their access record (the usual wiring)."""
        self.provisions = InMemoryProvisionLog(self.audit)
        return self

    def twins(self) -> list[object]:
        """Every store present, each once."""
        present = [getattr(self, f.name) for f in dataclasses.fields(self)]
        return list({id(s): s for s in present if s is not None}.values())


_Snapshot = list[tuple[object, dict[str, Any]]]


def _clone(value: Any) -> Any:
    """A copy of plain data down to its immutable values (mutable dataclass rows are copied too)."""
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clone(v) for v in value]
    if isinstance(value, set):
        return {_clone(v) for v in value}
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_clone(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        params = getattr(value, "__dataclass_params__", None)
        if params is not None and not params.frozen:
            copied = {f.name: _clone(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
            return dataclasses.replace(value, **copied)
    return value


def _snapshot(twins: Sequence[object]) -> _Snapshot:
    taken: _Snapshot = []
    for twin in twins:
        state = getattr(twin, "__dict__", None)
        if state is None:
            continue  # nothing to roll back that this can see (a store with slots keeps its changes)
        taken.append((twin, {k: _clone(v) for k, v in state.items() if isinstance(v, _DATA)}))
    return taken


def _restore(snapshot: _Snapshot) -> None:
    for twin, state in snapshot:
        for name, value in state.items():
            setattr(twin, name, _clone(value))


class InMemoryUnitOfWork(UnitOfWork):
    """:class:`hub.ports.store.UnitOfWork` over :class:`InMemoryStores`. Rolls back unless committed."""

    def __init__(self, stores: InMemoryStores, lock: threading.Lock, wait: float) -> None:
        self._stores = stores
        self._lock = lock
        self._wait = wait
        self._began: _Snapshot | None = None

    def __enter__(self) -> Self:
        if not self._lock.acquire(timeout=self._wait):
            raise StoreUnavailable(
                "another unit of work holds the in-memory store; the batch will be retried"
            )
        s = self._stores
        self._began = _snapshot(s.twins())
        self.inbox, self.outbox, self.audit = s.inbox, s.outbox, s.audit
        self.dead_letters, self.pending_queries, self.holds = s.dead_letters, s.pending_queries, s.holds
        self.actors, self.approvals = s.actors, s.approvals
        self.vault = or_unwired(s.vault, "a vault (the vault's keys)")
        self.codes = or_unwired(s.codes, "a code store (the keyring)")
        self.provisions = or_unwired(s.provisions, "a provision log (the access record's chain)")
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._began is not None:
                _restore(self._began)
        finally:
            self._began = None
            self._lock.release()

    def commit(self) -> None:
        """Keep everything done so far; what is done after it is rolled back on exit unless committed."""
        if self._began is None:
            raise RuntimeError("the unit of work is not open")
        self._began = _snapshot(self._stores.twins())

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: an exception inside rolls back only the work inside."""
        if self._began is None:
            raise RuntimeError("the unit of work is not open")
        mark = _snapshot(self._stores.twins())
        try:
            yield
        except BaseException:
            _restore(mark)
            raise


class InMemoryUnitOfWorkFactory:
    """Opens :class:`InMemoryUnitOfWork` instances over one :class:`InMemoryStores`.

    Args:
        stores: the twins (new empty ones with a provision log by default).
        wait: how long a unit of work waits for the one open before it gives up (seconds).
    """

    def __init__(self, stores: InMemoryStores | None = None, *, wait: float = 5.0) -> None:
        self.stores = stores if stores is not None else InMemoryStores().with_provisions()
        self._lock = threading.Lock()
        self._wait = wait

    def __call__(self) -> InMemoryUnitOfWork:
        """Open a new unit of work (it begins on ``with``)."""
        return InMemoryUnitOfWork(self.stores, self._lock, self._wait)
