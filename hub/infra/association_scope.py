"""Which 構成組合 (constituent association) a message or an access record belongs to.

A console user of an association sees and acts on its own members' messages and records only. The hub's
messages and records name people by audit-scope tokens (``access_record_subjects``), never by number; the
vault maps each token to a subject (``tokens``), and ``association_members`` maps a subject to its
association. A correlation (one business exchange, every message of it) belongs to association A when
**every** person any of its records touched is a member of A. Anything else belongs to the federation
alone: a correlation mixing members of two associations, one touching a person of no association (or an
erased one, whose tokens are gone), and one that touched nobody (for example a message dead-lettered
before the hub could read it). The rule errs towards hiding: an association never sees a record that
names someone else's member, at the price of the federation handling mixed batches.

Membership is loaded from the pension system's member list (usage number → association code) with
:func:`load_members`; usage numbers the vault does not know are reported, not guessed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import Connection, and_, delete, insert, select
from sqlalchemy.sql.elements import ColumnElement

from contracts.usage_number import UsageNumber
from hub.infra.db.association_tables import association_members
from hub.infra.db.audit_tables import access_record_subjects, access_records
from hub.infra.db.vault_tables import tokens
from hub.ports.vault import Vault

__all__ = ["AUDIT_SCOPE", "AssociationScope", "load_members"]

AUDIT_SCOPE: Final = "audit"
"""The token scope in which access records name people."""

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


def _owner(codes: set[str | None]) -> str | None:
    """The one association of a set of people's codes, or ``None`` (someone is of none, or of another)."""
    if len(codes) != 1:
        return None
    return next(iter(codes))


class AssociationScope:
    """Attribution queries on one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def _codes(self, key: ColumnElement[str | None], values: Sequence[str]) -> dict[str, set[str | None]]:
        r, s, t, m = access_records, access_record_subjects, tokens, association_members
        found: dict[str, set[str | None]] = defaultdict(set)
        unique = sorted(set(values))
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            query = (
                select(key, m.c.association_code)
                .select_from(
                    r.join(s, and_(s.c.chain_id == r.c.chain_id, s.c.seq == r.c.seq))
                    .outerjoin(t, and_(t.c.scope == AUDIT_SCOPE, t.c.token == s.c.subject_token))
                    .outerjoin(m, m.c.subject_id == t.c.subject_id)
                )
                .where(key.in_(chunk))
                .group_by(key, m.c.association_code)
            )
            for value, code in self._conn.execute(query):
                found[value].add(code)
        return found

    def owners_of_correlations(self, correlation_ids: Iterable[str]) -> dict[str, str | None]:
        """Association of each correlation (``None``: the federation's alone)."""
        ids = [c for c in correlation_ids if c]
        codes = self._codes(access_records.c.correlation_id, ids)
        return {c: _owner(codes.get(c, set())) for c in ids}

    def owners_of_messages(self, message_ids: Iterable[str]) -> dict[str, str | None]:
        """Association of each message by its own records (for messages without a correlation)."""
        ids = [m for m in message_ids if m]
        codes = self._codes(access_records.c.message_id, ids)
        return {m: _owner(codes.get(m, set())) for m in ids}

    def owner_of_tokens(self, subject_tokens: Sequence[str]) -> str | None:
        """Association of a set of people named by audit tokens (``None`` if empty or mixed)."""
        if not subject_tokens:
            return None
        t, m = tokens, association_members
        codes: set[str | None] = set()
        seen: set[str] = set()
        unique = sorted(set(subject_tokens))
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            query = (
                select(t.c.token, m.c.association_code)
                .select_from(t.outerjoin(m, m.c.subject_id == t.c.subject_id))
                .where(t.c.scope == AUDIT_SCOPE, t.c.token.in_(chunk))
            )
            for token, code in self._conn.execute(query):
                seen.add(token)
                codes.add(code)
        if len(seen) != len(unique):
            codes.add(None)  # a token the vault no longer knows (an erased person)
        return _owner(codes)

    def owner(self, *, correlation_id: str | None, message_id: str | None) -> str | None:
        """Association of one message: by its correlation, else by its own records."""
        if correlation_id:
            return self.owners_of_correlations([correlation_id]).get(correlation_id)
        if message_id:
            return self.owners_of_messages([message_id]).get(message_id)
        return None
