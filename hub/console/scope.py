"""A user's association scope (:mod:`hub.infra.stores.associations`) on dead letters and access records.

Each function that filters rows takes the caller's connection: on SQLite a second connection in the same
thread would wait for the first one's lock.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import HTTPException, Request

from contracts.purpose_table import FEDERATION
from hub.console.auth import Principal, check_scope
from hub.console.context import state_of
from hub.console.i18n import LazyText
from hub.infra.audit.rows import StoredRecord
from hub.infra.db.engine import Connection
from hub.infra.stores.associations import AssociationScope, record_owner
from hub.infra.stores.dead_letters import SqlDeadLetterStore
from hub.ports.dead_letters import DeadLetter

__all__ = ["dead_letter_owner", "scoped_dead_letter", "visible_dead_letters", "visible_records"]


def dead_letter_owner(request: Request, row: DeadLetter) -> str | None:
    """The association a dead letter belongs to: its established actor (``None``: the federation's alone).

    Read from the dead letter itself (the actor the hub established for its message), never from the people
    its correlation touched: a dead letter planted in a member's correlation has no established actor.
    """
    del request
    return _association(row.actor)


def scoped_dead_letter(request: Request, principal: Principal, dead_letter_id: int) -> DeadLetter:
    """Dead letter ``dead_letter_id``: 404 if none, refused (and recorded) outside the user's scope."""
    with state_of(request).root.engine.connect() as conn:
        row = SqlDeadLetterStore(conn).get(dead_letter_id)
    if row is None:
        raise HTTPException(404, LazyText("no dead letter %(id)s", id=dead_letter_id))
    check_scope(
        request,
        principal,
        dead_letter_owner(request, row),
        message_id=row.message_id,
        correlation_id=row.correlation_id,
    )
    return row


def _association(actor: str | None) -> str | None:
    return None if actor in (None, FEDERATION) else actor


def visible_dead_letters(
    conn: Connection, principal: Principal, rows: Sequence[DeadLetter]
) -> list[DeadLetter]:
    """The rows the principal may see: all for the federation, its own association's for an association."""
    del conn
    user = principal.user
    if user.federation:
        return list(rows)
    return [row for row in rows if _association(row.actor) == user.org]


def visible_records(
    conn: Connection, principal: Principal, records: Sequence[StoredRecord]
) -> list[StoredRecord]:
    """The access records the principal may see (an association: those of its own messages).

    A record's association is the actor it names (``on_behalf_of``), else the actor the hub recorded for its
    message; a record naming neither (a console sign-in, a dead letter nobody could read) is the federation's.
    """
    user = principal.user
    if user.federation:
        return list(records)
    scope = AssociationScope(conn)
    unnamed = [r.message_id for r in records if r.message_id and not r.details.get("on_behalf_of")]
    by_message = scope.owners_of_messages(unnamed)
    kept = []
    for record in records:
        owner = record_owner(record.details) if record.details.get("on_behalf_of") else None
        if owner is None and not record.details.get("on_behalf_of") and record.message_id:
            owner = by_message.get(record.message_id)
        if owner == user.org:
            kept.append(record)
    return kept
