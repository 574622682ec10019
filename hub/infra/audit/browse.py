"""Browsing the access record newest first, page by page (the console's audit search and flow trace).

:func:`hub.infra.audit.query.search` answers "oldest first, at most N"; a screen wants the newest first and a
way to go on. A page is at most ``limit`` records before a ``(at, chain_id, seq)`` cursor.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, and_, or_, select, tuple_

from hub.infra.audit.codec import to_utc
from hub.infra.audit.query import RecordFilter
from hub.infra.audit.rows import StoredRecord, stored_record
from hub.infra.db.tables.audit import access_record_subjects, access_records

__all__ = ["Cursor", "newest_first"]

Cursor = tuple[datetime, str, int]
"""A position in the record: ``(at, chain_id, seq)`` of the last record seen."""

_PAGE: Final = 200


def _subjects(conn: Connection, keys: list[tuple[str, int]]) -> dict[tuple[str, int], list[str]]:
    s = access_record_subjects
    found: dict[tuple[str, int], list[str]] = {}
    for start in range(0, len(keys), _PAGE):
        chunk = keys[start : start + _PAGE]
        query = select(s.c.chain_id, s.c.seq, s.c.subject_token).where(
            tuple_(s.c.chain_id, s.c.seq).in_(chunk)
        )
        for chain_id, seq, token in conn.execute(query):
            found.setdefault((chain_id, seq), []).append(token)
    return found


def newest_first(
    conn: Connection, record_filter: RecordFilter, *, before: Cursor | None = None, max_pages: int = 50
) -> Iterator[StoredRecord]:
    """Matching records, newest first, from ``before`` on; at most ``max_pages`` pages are read."""
    r = access_records
    cursor = before
    for _ in range(max_pages):
        query: Any = record_filter.apply(select(r))
        if cursor is not None:
            at, chain_id, seq = cursor
            at = to_utc(at)
            query = query.where(
                or_(
                    r.c.at < at,
                    and_(r.c.at == at, r.c.chain_id < chain_id),
                    and_(r.c.at == at, r.c.chain_id == chain_id, r.c.seq < seq),
                )
            )
        rows = conn.execute(query.order_by(r.c.at.desc(), r.c.chain_id.desc(), r.c.seq.desc()).limit(_PAGE))
        page = rows.mappings().all()
        if not page:
            return
        tokens = _subjects(conn, [(row["chain_id"], row["seq"]) for row in page])
        for row in page:
            yield stored_record(row, tokens.get((row["chain_id"], row["seq"]), []))
        last = page[-1]
        cursor = (last["at"], last["chain_id"], last["seq"])
        if len(page) < _PAGE:
            return
