"""The code store and the pending-query store on SQLAlchemy Core, bound to the unit of work's connection.

:class:`SqlCodeStore` keeps each subject's 団体内統合宛名番号 and, once the network issued it, its code
(符号), encrypted by :class:`~hub.infra.crypto.code_cipher.CodeCipher`. :class:`SqlPendingQueries` keeps
the queries sent until their answers settle them. Both work in chunks and never commit.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from contracts.errors import StoreUnavailable
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.infra.crypto.code_cipher import CodeCipher
from hub.infra.db.tables.codes import is_codes, is_pending_queries
from hub.infra.keys.bundles import VaultKeys
from hub.infra.vault.store import DEFAULT_CHUNK, among, aware, chunked
from hub.ports.codes import DuplicateRecordId, PendingQuery, PendingStatus
from hub.ports.vault import SubjectId, UnknownSubject

__all__ = ["ATENA_DIGITS", "SqlCodeStore", "SqlPendingQueries", "format_atena"]

ATENA_DIGITS: Final = 15
_ATENA_LOW: Final = 10 ** (ATENA_DIGITS - 1)


def format_atena(value: int) -> str:
    """The wire form of a 宛名番号: fifteen digits, zero-padded."""
    return f"{value:0{ATENA_DIGITS}d}"


def _parse_atena(text: str) -> int | None:
    if len(text) != ATENA_DIGITS or not text.isascii() or not text.isdigit():
        return None
    return int(text)


@contextmanager
def _retry_on_race(what: str) -> Iterator[None]:
    try:
        yield
    except IntegrityError as exc:
        raise StoreUnavailable(
            f"a concurrent transaction wrote the same {what}; the batch will be retried"
        ) from exc


class SqlCodeStore:
    """:class:`~hub.ports.codes.CodeStore` on one connection.

    Args:
        conn: the unit of work's connection.
        keys: the vault's keys (the codes' key is derived from the current KEK).
        clock: the time source (tests).
        chunk_size: records per statement.
    """

    def __init__(
        self,
        conn: Connection,
        keys: VaultKeys,
        *,
        clock: Callable[[], datetime] | None = None,
        chunk_size: int = DEFAULT_CHUNK,
    ) -> None:
        self._conn = conn
        self._cipher = CodeCipher(keys.kek)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._chunk = chunk_size

    def _rows(self, subjects: Sequence[SubjectId]) -> dict[SubjectId, Any]:
        rows: dict[SubjectId, Any] = {}
        for part in chunked(list(dict.fromkeys(subjects)), self._chunk):
            for row in self._conn.execute(
                select(is_codes).where(among(self._conn, is_codes.c.subject_id, part))
            ):
                rows[SubjectId(row.subject_id)] = row
        return rows

    def atena_numbers(self, subjects: Sequence[SubjectId], *, allocate: bool = False) -> dict[SubjectId, str]:
        """The 宛名番号 of each subject; with ``allocate``, new random ones for subjects without."""
        rows = self._rows(subjects)
        found = {s: format_atena(int(r.atena_no)) for s, r in rows.items()}
        missing = [s for s in dict.fromkeys(subjects) if s not in found]
        if allocate and missing:
            now = self._clock()
            fresh = self._fresh_numbers(len(missing))
            with _retry_on_race("宛名番号"):
                for part in chunked(list(zip(missing, fresh, strict=True)), self._chunk):
                    self._conn.execute(
                        insert(is_codes),
                        [{"subject_id": s, "atena_no": n, "created_at": now} for s, n in part],
                    )
            found.update({s: format_atena(n) for s, n in zip(missing, fresh, strict=True)})
        return found

    def _fresh_numbers(self, count: int) -> list[int]:
        # Random, not sequential: a 宛名番号 says nothing about when or in which order people were seen.
        chosen: set[int] = set()
        for _ in range(100):
            wanted = count - len(chosen)
            if wanted <= 0:
                break
            draws = {_ATENA_LOW + secrets.randbelow(9 * _ATENA_LOW) for _ in range(wanted)} - chosen
            taken: set[int] = set()
            for part in chunked(sorted(draws), self._chunk):
                query = select(is_codes.c.atena_no).where(among(self._conn, is_codes.c.atena_no, part))
                taken.update(int(v) for v in self._conn.execute(query).scalars())
            chosen |= draws - taken
        if len(chosen) < count:
            raise StoreUnavailable("could not draw free 宛名番号; the batch will be retried")
        fresh = list(chosen)
        secrets.SystemRandom().shuffle(
            fresh
        )  # a set's order follows the values: handing them out sorted would not do
        return fresh

    def subjects_by_atena(self, atena_numbers: Sequence[str]) -> dict[str, SubjectId]:
        """The subjects of 宛名番号; unknown or malformed ones are absent."""
        values = {v: n for v in atena_numbers if (n := _parse_atena(v)) is not None}
        found: dict[str, SubjectId] = {}
        for part in chunked(sorted(set(values.values())), self._chunk):
            query = select(is_codes.c.subject_id, is_codes.c.atena_no).where(
                among(self._conn, is_codes.c.atena_no, part)
            )
            for row in self._conn.execute(query):
                found[format_atena(int(row.atena_no))] = SubjectId(row.subject_id)
        return found

    def codes_of(self, subjects: Sequence[SubjectId]) -> dict[SubjectId, str]:
        """The codes held, decrypted in memory."""
        return {
            s: self._cipher.decrypt(s, int(r.atena_no), r.key_id, bytes(r.code_ciphertext))
            for s, r in self._rows(subjects).items()
            if r.code_ciphertext is not None
        }

    def store_codes(self, links: Sequence[tuple[SubjectId, str]]) -> None:
        """Keep the codes the network issued (re-encrypted under the current key).

        Raises:
            UnknownSubject: a subject was never given a 宛名番号.
        """
        rows = self._rows([s for s, _ in links])
        unknown = [s for s, _ in links if s not in rows]
        if unknown:
            raise UnknownSubject("a code arrived for a subject without a 宛名番号", subjects=unknown)
        now = self._clock()
        for subject, code in links:
            key_id, blob = self._cipher.encrypt(subject, int(rows[subject].atena_no), code)
            self._conn.execute(
                update(is_codes)
                .where(is_codes.c.subject_id == subject)
                .values(key_id=key_id, code_ciphertext=blob, acquired_at=now)
            )

    def erase(self, subjects: Sequence[SubjectId]) -> int:
        """Delete the subjects' rows; returns how many were held."""
        erased = 0
        for part in chunked(list(dict.fromkeys(subjects)), self._chunk):
            erased += self._conn.execute(
                delete(is_codes).where(among(self._conn, is_codes.c.subject_id, part))
            ).rowcount
        return erased


def _pending(row: Any) -> PendingQuery:
    return PendingQuery(
        record_id=row.record_id,
        subject=SubjectId(row.subject_id),
        usage_number=UsageNumber(kind=UsageNumberKind(row.usage_kind), value=row.usage_value),
        query_ref=row.query_ref,
        info_kind=row.info_kind,
        spi_code=row.spi_code,
        spi_text=row.spi_text,
        jimu_text=row.jimu_text,
        basis_current=row.basis_current,
        basis_legacy=row.basis_legacy,
        provider_org_code=row.provider_org_code,
        correlation_id=row.correlation_id,
        requested_at=aware(row.requested_at),
        status=PendingStatus(row.status),
        settled_at=None if row.settled_at is None else aware(row.settled_at),
    )


class SqlPendingQueries:
    """:class:`~hub.ports.codes.PendingQueryStore` on one connection."""

    def __init__(self, conn: Connection, *, chunk_size: int = DEFAULT_CHUNK) -> None:
        self._conn = conn
        self._chunk = chunk_size

    def add(self, queries: Sequence[PendingQuery]) -> None:
        """Keep queries as they leave.

        Raises:
            DuplicateRecordId: a record id repeats or is already held; nothing of the batch is written.
        """
        ids = [q.record_id for q in queries]
        if len(set(ids)) != len(ids) or self.get(ids):
            raise DuplicateRecordId("a query with this record identification number was already sent")
        for part in chunked(list(queries), self._chunk):
            rows = [
                {
                    "record_id": q.record_id,
                    "subject_id": q.subject,
                    "usage_kind": q.usage_number.kind.value,
                    "usage_value": q.usage_number.value,
                    "query_ref": q.query_ref,
                    "info_kind": q.info_kind,
                    "spi_code": q.spi_code,
                    "spi_text": q.spi_text,
                    "jimu_text": q.jimu_text,
                    "basis_current": q.basis_current,
                    "basis_legacy": q.basis_legacy,
                    "provider_org_code": q.provider_org_code,
                    "correlation_id": q.correlation_id,
                    "requested_at": q.requested_at,
                    "status": q.status.value,
                    "settled_at": q.settled_at,
                }
                for q in part
            ]
            with _retry_on_race("record identification number"):
                self._conn.execute(insert(is_pending_queries), rows)

    def get(self, record_ids: Sequence[str]) -> dict[str, PendingQuery]:
        """The queries of these record ids."""
        found: dict[str, PendingQuery] = {}
        for part in chunked(sorted(set(record_ids)), self._chunk):
            query = select(is_pending_queries).where(among(self._conn, is_pending_queries.c.record_id, part))
            for row in self._conn.execute(query):
                found[row.record_id] = _pending(row)
        return found

    def settle(self, record_ids: Sequence[str], *, status: PendingStatus, at: datetime) -> None:
        """Mark queries settled."""
        for part in chunked(sorted(set(record_ids)), self._chunk):
            self._conn.execute(
                update(is_pending_queries)
                .where(among(self._conn, is_pending_queries.c.record_id, part))
                .values(status=status.value, settled_at=at)
            )
