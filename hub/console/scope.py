"""Applying a user's association scope to dead letters and access records (see ``association_scope``).

Each function takes the caller's connection: on SQLite a second connection in the same thread would wait
for the first one's lock.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import Request
from sqlalchemy import Connection

from hub.console.auth import Principal
from hub.console.context import state_of
from hub.infra.association_scope import AssociationScope
from hub.infra.audit_rows import StoredRecord
from hub.ports.dead_letters import DeadLetter

__all__ = ["dead_letter_owner", "visible_dead_letters", "visible_records"]


def dead_letter_owner(request: Request, row: DeadLetter) -> str | None:
    """The association a dead letter belongs to (``None``: the federation's alone)."""
    with state_of(request).root.engine.connect() as conn:
        return AssociationScope(conn).owner(correlation_id=row.correlation_id, message_id=row.message_id)


def visible_dead_letters(
    conn: Connection, principal: Principal, rows: Sequence[DeadLetter]
) -> list[DeadLetter]:
    """The rows the principal may see: all for the federation, its members' for an association."""
    user = principal.user
    if user.federation:
        return list(rows)
    scope = AssociationScope(conn)
    by_correlation = scope.owners_of_correlations([r.correlation_id for r in rows if r.correlation_id])
    by_message = scope.owners_of_messages(
        [r.message_id for r in rows if not r.correlation_id and r.message_id]
    )
    kept = []
    for row in rows:
        if row.correlation_id:
            owner = by_correlation.get(row.correlation_id)
        else:
            owner = by_message.get(row.message_id or "")
        if owner == user.org:
            kept.append(row)
    return kept


def visible_records(
    conn: Connection, principal: Principal, records: Sequence[StoredRecord]
) -> list[StoredRecord]:
    """The access records the principal may see (an association: those of its members' correlations)."""
    user = principal.user
    if user.federation:
        return list(records)
    scope = AssociationScope(conn)
    owners = scope.owners_of_correlations([r.correlation_id for r in records if r.correlation_id])
    kept = []
    for record in records:
        if record.correlation_id:
            owner = owners.get(record.correlation_id)
        else:
            owner = scope.owner_of_tokens(record.subjects)
        if owner == user.org:
            kept.append(record)
    return kept
