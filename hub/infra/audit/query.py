"""Searching and exporting the access record and the 情報提供等記録.

"Who touched this person's number, when and why" is :func:`search` with ``subject_token``: every record that
names the person's audit-scope token, with actor, time, action, purpose, legal basis, outcome and reason.

Exports stream (bounded memory) as JSON lines or CSV. CSV cells that a spreadsheet would run as a formula
(``= + - @``, tab, carriage return) are prefixed with ``'``, as is a cell that already starts with ``'``;
:func:`uncsv_cell` undoes it exactly.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Final, TextIO

from sqlalchemy import ColumnElement, Connection, Select, and_, exists, select, tuple_

from hub.infra.audit.codec import DESCRIBING_FIELDS, to_utc
from hub.infra.audit.provision import DIGEST_FIELDS, provision_json
from hub.infra.audit.rows import StoredRecord, stored_record
from hub.infra.db.tables.audit import access_record_subjects, access_records, provision_records

__all__ = [
    "ExportFormat",
    "RecordFilter",
    "export_provisions",
    "export_records",
    "iter_records",
    "search",
    "uncsv_cell",
]

_CHUNK: Final = 500
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r", "'")

RECORD_COLUMNS: Final = (*DESCRIBING_FIELDS, "subjects", "details", "chain_id", "seq", "prev_hash", "hash")
PROVISION_COLUMNS: Final = (
    *("subject" if name == "subject_token" else name for name in DIGEST_FIELDS),
    "access_chain_id",
    "access_seq",
)
"""The digested fields (the subject's token exported as ``subject``) and the access record they belong to."""


class ExportFormat(StrEnum):
    """Export file formats."""

    JSONL = "jsonl"
    CSV = "csv"


@dataclass(frozen=True, slots=True)
class RecordFilter:
    """Conditions on access records; ``None`` means any. ``since`` is inclusive, ``until`` exclusive."""

    subject_token: str | None = None
    message_id: str | None = None
    correlation_id: str | None = None
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, query: Select[Any]) -> Select[Any]:
        """``query`` restricted to matching records."""
        r, s = access_records, access_record_subjects
        conditions: list[ColumnElement[bool]] = []
        if self.subject_token is not None:
            conditions.append(
                exists().where(
                    s.c.chain_id == r.c.chain_id, s.c.seq == r.c.seq, s.c.subject_token == self.subject_token
                )
            )
        for column, value in (
            (r.c.message_id, self.message_id),
            (r.c.correlation_id, self.correlation_id),
            (r.c.actor, self.actor),
            (r.c.action, self.action),
        ):
            if value is not None:
                conditions.append(column == value)
        if self.since is not None:
            conditions.append(r.c.at >= to_utc(self.since))
        if self.until is not None:
            conditions.append(r.c.at < to_utc(self.until))
        return query.where(and_(*conditions)) if conditions else query


def _with_subjects(conn: Connection, rows: Sequence[Mapping[Any, Any]]) -> list[StoredRecord]:
    s = access_record_subjects
    keys = [(row["chain_id"], row["seq"]) for row in rows]
    tokens: dict[tuple[str, int], list[str]] = {}
    if keys:
        query = select(s.c.chain_id, s.c.seq, s.c.subject_token).where(
            tuple_(s.c.chain_id, s.c.seq).in_(keys)
        )
        for chain_id, seq, token in conn.execute(query):
            tokens.setdefault((chain_id, seq), []).append(token)
    return [stored_record(row, tokens.get(key, [])) for row, key in zip(rows, keys, strict=True)]


def _ordered(record_filter: RecordFilter) -> Select[Any]:
    r = access_records
    return record_filter.apply(select(r)).order_by(r.c.at, r.c.chain_id, r.c.seq)


def search(
    conn: Connection,
    *,
    subject_token: str | None = None,
    message_id: str | None = None,
    correlation_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
) -> list[StoredRecord]:
    """Matching access records, oldest first, at most ``limit``."""
    record_filter = RecordFilter(subject_token, message_id, correlation_id, actor, action, since, until)
    rows = conn.execute(_ordered(record_filter).limit(limit)).mappings().all()
    return _with_subjects(conn, rows)


def iter_records(conn: Connection, record_filter: RecordFilter | None = None) -> Iterator[StoredRecord]:
    """Stream matching records, oldest first, in chunks (a server-side cursor on PostgreSQL)."""
    result = conn.execution_options(yield_per=_CHUNK).execute(_ordered(record_filter or RecordFilter()))
    try:
        for chunk in result.mappings().partitions():
            yield from _with_subjects(conn, chunk)
    finally:
        result.close()


def _csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def uncsv_cell(text: str) -> str:
    """Undo the formula guard of an exported CSV cell."""
    return text[1:] if text.startswith("'") else text


def _write(out: TextIO, fmt: ExportFormat, header: Sequence[str], rows: Iterator[dict[str, Any]]) -> int:
    count = 0
    if fmt is ExportFormat.CSV:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([_csv_cell(row[name]) for name in header])
            count += 1
    else:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, default=_json_default) + "\n")
            count += 1
    return count


def _json_default(value: object) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"cannot export a {type(value).__name__}")


def export_records(
    conn: Connection, out: TextIO, fmt: ExportFormat, record_filter: RecordFilter | None = None
) -> int:
    """Write matching access records to ``out``; returns how many were written.

    JSON lines carry ``subjects`` as a list and ``details`` as an object; CSV carries subjects separated by
    spaces and details as JSON text. Both carry ``chain_id``, ``seq``, ``prev_hash`` and ``hash``.
    """

    def rows() -> Iterator[dict[str, Any]]:
        for record in iter_records(conn, record_filter):
            data = record.to_json()
            if fmt is ExportFormat.CSV:
                data["subjects"] = " ".join(record.subjects)
                data["details"] = json.dumps(data["details"], ensure_ascii=False, sort_keys=True)
            yield data

    return _write(out, fmt, RECORD_COLUMNS, rows())


def export_provisions(
    conn: Connection,
    out: TextIO,
    fmt: ExportFormat,
    *,
    subject_token: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Write 情報提供等記録 (oldest request first) to ``out``; returns how many were written.

    Columns: record_id, role (requester 情報照会者 / provider 情報提供者), requester, provider, requested_at
    (照会日時), provided_at (提供日時), items (利用特定個人情報の項目), jimu (事務), legal_basis_current
    (命令第2条表), legal_basis_legacy (別表第二), non_disclosure (不開示), subject, retention_until and the
    sealing access record (access_chain_id, access_seq). CSV carries items as a JSON list.
    """
    p = provision_records
    query = select(p)
    if subject_token is not None:
        query = query.where(p.c.subject_token == subject_token)
    if since is not None:
        query = query.where(p.c.requested_at >= to_utc(since))
    if until is not None:
        query = query.where(p.c.requested_at < to_utc(until))
    result = conn.execution_options(yield_per=_CHUNK).execute(query.order_by(p.c.requested_at, p.c.record_id))

    def rows() -> Iterator[dict[str, Any]]:
        try:
            for row in result.mappings():
                data = provision_json(row)
                if fmt is ExportFormat.CSV:
                    data["items"] = json.dumps(data["items"], ensure_ascii=False)
                    data["non_disclosure"] = "1" if data["non_disclosure"] else "0"
                yield data
        finally:
            result.close()

    return _write(out, fmt, PROVISION_COLUMNS, rows())
