"""情報提供等の記録 (番号法 第23条) on SQLAlchemy, sealed by the hash chain of the access record.

Both the 情報照会者 and the 情報提供者 must record, for every exchange through the information-provision
network: who asked and who provided, when the request was made and when the information was provided, the
items (利用特定個人情報の項目), and whether the item is 不開示情報 (§23②); renkei adds the 事務, both legal
bases (命令第2条表 and the old 別表第二) and the person's audit-scope token.

Each provision row is written with an access record whose details carry the row's id and a SHA-256 digest
of its values (:data:`PROVISION_ID_KEY`, :data:`PROVISION_DIGEST_KEY`). The access record is in a hash
chain, so a changed, deleted or forged provision row is caught by ``renkei audit verify``. Rows are written
once, when the exchange completes or fails, and never updated.

When its ``retention_until`` has passed, the retention job deletes a row (:func:`purge_expired`) and
appends a ``purged`` access record whose details list each deleted row's id and digest
(:data:`PROVISION_PURGED_KEY`): ``renkei audit verify`` accepts a missing row only when such a record,
itself in a hash chain, names it with the digest its sealing record holds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Final

from sqlalchemy import Connection, String, delete, insert, select, type_coerce
from sqlalchemy.exc import SQLAlchemyError

from contracts.errors import AlreadyExists, AuditWriteFailed, StoreUnavailable
from hub.infra.audit.codec import canonical_at
from hub.infra.audit.provision_rows import (
    DIGEST_FIELDS,
    PROVISION_DIGEST_KEY,
    PROVISION_ID_KEY,
    RETENTION_YEARS,
    default_retention,
    provision_digest,
    provision_values_of,
    seal_details,
)
from hub.infra.audit.sql import ChainWriter, SqlAuditLog
from hub.infra.db.tables.audit import provision_records
from hub.ports.audit import AccessRecord, AuditAction, AuditLog, Outcome, ProvisionRecord

__all__ = [
    "DIGEST_FIELDS",
    "PROVISION_DIGEST_KEY",
    "PROVISION_ID_KEY",
    "PROVISION_PURGED_KEY",
    "RETENTION_YEARS",
    "SqlProvisionLog",
    "default_retention",
    "provision_digest",
    "provision_json",
    "purge_expired",
    "record_provision",
]

PROVISION_PURGED_KEY: Final = "renkei.provision.purged"
"""In a ``purged`` access record: JSON ``[[record_id, digest], ...]`` of the rows its run deleted."""
_PURGE_BATCH: Final = 200  # rows named by one purged access record


class SqlProvisionLog:
    """:class:`hub.ports.audit.ProvisionLog` on the unit of work's connection. Never commits by itself."""

    def __init__(self, conn: Connection, chain: ChainWriter) -> None:
        self._conn = conn
        self._audit = SqlAuditLog(conn, chain)

    def record(self, provisions: Sequence[tuple[ProvisionRecord, AccessRecord]]) -> None:
        """Store each provision record with its access record, in the caller's transaction.

        Raises:
            AlreadyExists: a record id is stored already (permanent: a retry cannot succeed); nothing is
                written.
            AuditWriteFailed: the database failed (transient), or another transaction stored the same record
                id meanwhile (the retry then sees it and raises ``AlreadyExists``).
            PolicyRefused: a value holds an Individual Number.
            ValidationFailed: a record id repeats within the call or does not fit.
        """
        if not provisions:
            return
        values = provision_values_of(provisions)
        ids = [v["record_id"] for v in values]
        try:
            taken = self._conn.execute(
                select(provision_records.c.record_id).where(provision_records.c.record_id.in_(ids))
            ).scalars()
            stored = sorted(taken)
        except (SQLAlchemyError, StoreUnavailable) as exc:
            raise AuditWriteFailed("the 情報提供等記録 could not be read") from exc
        if stored:
            raise AlreadyExists(f"情報提供等記録 {', '.join(stored)} stored already; nothing was written")
        sealed = [seal_details(v, access) for v, (_, access) in zip(values, provisions, strict=True)]
        positions = self._audit.append_positions(sealed)
        rows = [
            {**v, "access_chain_id": chain_id, "access_seq": seq}
            for v, (chain_id, seq) in zip(values, positions, strict=True)
        ]
        try:
            self._conn.execute(insert(provision_records), rows)
        except (SQLAlchemyError, StoreUnavailable) as exc:
            raise AuditWriteFailed("the 情報提供等記録 could not be written") from exc


def record_provision(
    conn: Connection, chain: ChainWriter, provision: ProvisionRecord, access: AccessRecord
) -> None:
    """Store one 情報提供等記録 with the access record describing the exchange.

    See :class:`SqlProvisionLog`, which this wraps.
    """
    SqlProvisionLog(conn, chain).record([(provision, access)])


def _stored_values(conn: Connection, where: Any) -> list[dict[str, Any]]:
    """Provision rows as stored, dates and times as their stored text (what the digest was made of)."""
    p = provision_records
    raw = {
        n: type_coerce(p.c[n], String).label(n) for n in ("requested_at", "provided_at", "retention_until")
    }
    columns = [raw.get(n, p.c[n]) for n in DIGEST_FIELDS]
    return [dict(row) for row in conn.execute(select(*columns).where(where)).mappings()]


def purge_expired(
    conn: Connection, audit: AuditLog, as_of: date, *, actor: str, dry_run: bool = False
) -> dict[str | None, int]:
    """Delete the 情報提供等記録 whose ``retention_until`` is before ``as_of``; returns counts per token.

    Each batch of deleted rows is named, with its digests, by a ``purged`` access record in the caller's
    transaction (see the module docstring), so that ``renkei audit verify`` tells this deletion from
    tampering. ``dry_run`` counts only. The token is ``None`` for rows that name nobody.
    """
    p = provision_records
    expired = _stored_values(conn, p.c.retention_until < as_of)
    counts: dict[str | None, int] = {}
    for row in expired:
        counts[row["subject_token"]] = counts.get(row["subject_token"], 0) + 1
    if dry_run or not expired:
        return counts
    for start in range(0, len(expired), _PURGE_BATCH):
        batch = expired[start : start + _PURGE_BATCH]
        listed = [[row["record_id"], provision_digest(row)] for row in batch]
        audit.append(
            [
                AccessRecord(
                    actor=actor[:200],
                    action=AuditAction.PURGED,
                    message_type="hub.retention.provision_records",
                    source="retention",
                    outcome=Outcome.OK,
                    reason="retention_ended",
                    details={
                        "as_of": as_of.isoformat(),
                        "rows": str(len(batch)),
                        PROVISION_PURGED_KEY: json.dumps(listed, separators=(",", ":")),
                    },
                )
            ]
        )
        conn.execute(delete(p).where(p.c.record_id.in_([r for r, _ in listed])))
    return counts


def provision_json(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A stored provision row as a JSON-ready dict, for exports."""
    try:
        items = json.loads(row["items"])
    except ValueError:
        items = row["items"]
    retention = row["retention_until"]
    return {
        "record_id": row["record_id"],
        "role": row["role"],
        "requester": row["requester"],
        "provider": row["provider"],
        "requested_at": canonical_at(row["requested_at"]),
        "provided_at": None if row["provided_at"] is None else canonical_at(row["provided_at"]),
        "items": items,
        "jimu": row["jimu"],
        "legal_basis_current": row["legal_basis_current"],
        "legal_basis_legacy": row["legal_basis_legacy"],
        "non_disclosure": bool(row["non_disclosure"]),
        "subject": row["subject_token"],
        "retention_until": retention.isoformat() if isinstance(retention, date) else str(retention),
        "access_chain_id": row["access_chain_id"],
        "access_seq": row["access_seq"],
    }
