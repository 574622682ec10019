"""The access record in memory: one hash chain, built with the very codec the SQL chains use.

Each append checks and redacts its records with :func:`~hub.infra.audit.rows.record_values` and links them
with :func:`~hub.infra.audit.codec.record_hash`, as :class:`~hub.infra.audit.sql.SqlAuditLog` does, so a
record here hashes exactly as it would in the database. A batch is checked whole before any of it is
appended. The log itself never forgets a record; an in-memory unit of work (:mod:`hub.infra.memory.store`)
rolls it back with the rest of its work, as the SQL chain's records go with their transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from contracts.ids import random_letters
from hub.infra.audit.codec import canonical_at, chain_genesis, record_hash, to_utc
from hub.infra.audit.rows import StoredRecord, hashed_fields, parse_details, record_values
from hub.ports.audit import AccessRecord

__all__ = ["InMemoryAuditLog"]


class InMemoryAuditLog:
    """:class:`hub.ports.audit.AuditLog` in memory: one writer's chain.

    Args:
        writer: who writes (stored with the chain, sealed into its first hash).
        chain_id: the chain's id (a new random one by default).
        clock: where record times come from when a record has none.
    """

    def __init__(
        self,
        writer: str = "memory",
        *,
        chain_id: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.chain_id = chain_id or random_letters(26)
        self.writer = writer
        self._clock = clock or (lambda: datetime.now(UTC))
        self._records: list[StoredRecord] = []
        self._genesis: str | None = None

    @property
    def records(self) -> list[StoredRecord]:
        """The chain so far, oldest first."""
        return list(self._records)

    def append(self, records: Sequence[AccessRecord]) -> None:
        """Append ``records`` to the chain, in order.

        Raises:
            PolicyRefused: a subject is an Individual Number.
            ValidationFailed: a value does not fit the SQL store's column.
        """
        if not records:
            return
        now = self._clock()
        prepared = [
            record_values(record, now) for record in records
        ]  # every record checked before any is kept
        if self._genesis is None:
            self._genesis = chain_genesis(self.chain_id, self.writer, canonical_at(to_utc(now)))
        prev = self._records[-1].hash if self._records else self._genesis
        for values, subjects in prepared:
            seq = len(self._records) + 1
            digest = record_hash(self.chain_id, seq, hashed_fields(values), subjects, prev)
            self._records.append(_stored(values, subjects, chain=(self.chain_id, seq, prev, digest)))
            prev = digest


def _stored(
    values: dict[str, Any], subjects: tuple[str, ...], *, chain: tuple[str, int, str, str]
) -> StoredRecord:
    chain_id, seq, prev, digest = chain
    return StoredRecord(
        chain_id=chain_id,
        seq=seq,
        at=values["at"],
        actor=values["actor"],
        action=values["action"],
        message_id=values["message_id"],
        correlation_id=values["correlation_id"],
        message_type=values["message_type"],
        source=values["source"],
        destination=values["destination"],
        purpose=values["purpose"],
        legal_basis=values["legal_basis"],
        outcome=values["outcome"],
        reason=values["reason"],
        details=parse_details(values["details"]),
        subjects=subjects,
        prev_hash=prev,
        hash=digest,
    )
