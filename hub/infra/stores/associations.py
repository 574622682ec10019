"""Which 構成組合 (constituent association) a message, a dead letter or an access record belongs to.

A console user of an association sees and acts on its own association's messages only. The association is
read from the **message**, never from the people its records touched: the hub establishes the actor of every
message it handles or produces (the pension system's, checked against the seed's split of 事務, or its flow's)
and records it in ``message_actors``; dead letters keep it (``dead_letters.actor``) and access records name it
(``on_behalf_of`` in their details). A correlation belongs to association A when every message of it the hub
recorded ran on behalf of A. Anything else belongs to the federation alone: a message of the federation, a
mixed correlation, and a message whose actor the hub never established (one dead-lettered before it could be
read, or one planted on the broker): the rule errs towards hiding.

The member list (usage number → association code, :func:`load_members`) is kept for reference; it decides
no scope any more.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import Connection, delete, insert

from contracts.purpose_table import FEDERATION
from contracts.usage_number import UsageNumber
from hub.infra.db.tables.associations import association_members
from hub.infra.stores.actors import SqlMessageActors
from hub.ports.vault import Vault

__all__ = ["AssociationScope", "load_members", "record_owner"]

_CHUNK: Final = 500


def load_members(
    conn: Connection, vault: Vault, members: Sequence[tuple[UsageNumber, str]], *, now: datetime | None = None
) -> tuple[int, list[UsageNumber]]:
    """Store each person's association (replacing an earlier one); returns ``(stored, unknown usage)``."""
    moment = now or datetime.now(UTC)
    stored, unknown = 0, []
    for start in range(0, len(members), _CHUNK):
        chunk = members[start : start + _CHUNK]
        subjects = vault.subjects_by_usage([u for u, _ in chunk])
        rows = {}
        for usage, code in chunk:
            subject = subjects.get(usage)
            if subject is None:
                unknown.append(usage)
            else:
                rows[str(subject)] = code
        if rows:
            conn.execute(delete(association_members).where(association_members.c.subject_id.in_(list(rows))))
            conn.execute(
                insert(association_members),
                [{"subject_id": s, "association_code": c, "updated_at": moment} for s, c in rows.items()],
            )
            stored += len(rows)
    return stored, unknown


def _owner(actors: frozenset[str] | set[str]) -> str | None:
    """The one association a set of actors names, or ``None`` (the federation, none, or several)."""
    if len(actors) != 1:
        return None
    actor = next(iter(actors))
    return None if actor == FEDERATION else actor


def record_owner(details: Mapping[str, str]) -> str | None:
    """The association an access record belongs to by its own details (``on_behalf_of``), if it names one."""
    return _owner({details["on_behalf_of"]}) if details.get("on_behalf_of") else None


class AssociationScope:
    """Attribution queries on one connection (the actors the hub recorded)."""

    def __init__(self, conn: Connection) -> None:
        self._actors = SqlMessageActors(conn)

    def owners_of_correlations(self, correlation_ids: Iterable[str]) -> dict[str, str | None]:
        """Association of each correlation (``None``: the federation's alone)."""
        ids = [c for c in correlation_ids if c]
        found = self._actors.of_correlations(ids)
        return {c: _owner(found.get(c, frozenset())) for c in ids}

    def owners_of_messages(self, message_ids: Iterable[str]) -> dict[str, str | None]:
        """Association of each message (``None``: the federation's alone, or never established)."""
        ids = [m for m in message_ids if m]
        found = self._actors.of_messages(ids)
        return {m: _owner({found[m]}) if m in found else None for m in ids}

    def owner(self, *, correlation_id: str | None, message_id: str | None) -> str | None:
        """Association of one message: by its correlation, else by its own id."""
        if correlation_id:
            return self.owners_of_correlations([correlation_id]).get(correlation_id)
        if message_id:
            return self.owners_of_messages([message_id]).get(message_id)
        return None
