"""Chunked reads and writes of the vault's rows, beneath :class:`~hub.infra.vault.sql.SqlVault`.

Each method takes a whole batch and issues one statement per chunk of at most ``chunk_size`` records (an
``IN (...)`` select or an executemany insert or update), never one per record. Numbers are encrypted and
decrypted here, with each subject's data key; nothing here decides *what* to link (see
:mod:`hub.infra.vault.plan`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

from sqlalchemy import ARRAY, ColumnElement, Connection, Text, any_, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError

from contracts.errors import StoreUnavailable
from contracts.individual_number import IndividualNumber
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.infra.crypto.blind_index import BlindIndexer
from hub.infra.crypto.envelope import DataKey, EncryptedNumber, KeyWrapper
from hub.infra.db.bulk import insert_rows
from hub.infra.db.tables.vault import numbers, subject_keys, subjects, usage_numbers
from hub.infra.vault.plan import Holding
from hub.ports.vault import NumberRecord, Retention, SubjectId, UnknownSubject

__all__ = [
    "DEFAULT_CHUNK",
    "VaultStore",
    "among",
    "aware",
    "by_kind",
    "chunked",
    "plan_each_statement",
    "translated_integrity",
]

DEFAULT_CHUNK: Final = 500  # records per IN (...) list or executemany; under every backend's parameter limit
T = TypeVar("T")


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of ``items`` of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def among(conn: Connection, column: ColumnElement[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN values``, written so that every backend keeps using the column's index.

    On PostgreSQL this is ``column = ANY(:array)``: one parameter, so one statement text (and one prepared
    statement) whatever the chunk's length, where ``IN`` would give each length its own text of up to 500
    parameters. SQLite gets the same idea with ``IN (SELECT value FROM json_each(:json))`` for text and
    integers (SQLite still searches the column's index for each value): SQLAlchemy no longer renders and
    binds 500 parameters per statement, which was a tenth of the hub's look-ups. Bytes get a plain ``IN``.
    """
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    if conn.dialect.name == "sqlite" and values and isinstance(values[0], str | int):
        listed = func.json_each(bindparam(None, json.dumps(list(values)), type_=Text)).table_valued("value")
        return column.in_(select(listed.c.value))
    return column.in_(values)


def plan_each_statement(conn: Connection) -> None:
    """Make PostgreSQL plan each statement of this transaction with its actual parameters.

    psycopg prepares a statement it has run five times, and PostgreSQL may then keep a generic plan made
    when the table was small (say, the first chunks of a bulk load): a sequential scan that tests every row
    against every value of the array, which stays in use until the table is next analysed (measured: 5 ms
    per 500-record lookup became 70-250 ms at 10,000 rows). Planning each statement costs a fraction of a
    millisecond per chunk. ``SET LOCAL`` ends with the transaction; SQLite needs nothing.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")


def by_kind(usage: Sequence[UsageNumber]) -> dict[str, list[str]]:
    """Usage number values grouped by kind: one ``kind = k AND value IN (...)`` per kind and chunk."""
    groups: dict[str, list[str]] = {}
    for u in usage:
        groups.setdefault(u.kind.value, []).append(u.value)
    return groups


def aware(moment: datetime) -> datetime:
    """``moment`` with a time zone (SQLite returns naive UTC datetimes)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class VaultStore:
    """Row-level access to the vault tables on one connection."""

    def __init__(
        self,
        conn: Connection,
        wrapper: KeyWrapper,
        indexer: BlindIndexer,
        *,
        chunk_size: int = DEFAULT_CHUNK,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._conn = conn
        self._wrapper = wrapper
        self._indexer = indexer
        self._chunk = chunk_size
        self._clock = clock or (lambda: datetime.now(UTC))
        self._planned: object | None = None  # the transaction plan_each_statement ran in

    def execute(self, statement: Any, parameters: Any = None) -> Any:
        """Execute on the connection; the first statement of each transaction sets the planning mode."""
        if self._planned is None or self._planned is not self._conn.get_transaction():
            plan_each_statement(self._conn)
            self._planned = self._conn.get_transaction()
        if parameters is None:
            return self._conn.execute(statement)
        return self._conn.execute(statement, parameters)

    @property
    def conn(self) -> Connection:
        """The connection (inside the unit of work's transaction)."""
        return self._conn

    @property
    def chunk(self) -> int:
        """Records per statement."""
        return self._chunk

    def now(self) -> datetime:
        """The vault's clock."""
        return self._clock()

    def subjects_by_usage(self, usage: Sequence[UsageNumber]) -> dict[UsageNumber, SubjectId]:
        """Subjects of the usage numbers in force (one statement per chunk and kind)."""
        found: dict[UsageNumber, SubjectId] = {}
        for chunk in chunked(list(set(usage)), self._chunk):
            asked = {(u.kind.value, u.value): u for u in chunk}  # answered with the caller's own keys
            for kind, values in by_kind(chunk).items():
                rows = self.execute(
                    select(usage_numbers.c.value, usage_numbers.c.subject_id).where(
                        usage_numbers.c.valid_to.is_(None),
                        usage_numbers.c.kind == kind,
                        among(self._conn, usage_numbers.c.value, values),
                    )
                )
                for value, subject in rows:
                    key = asked.get((kind, value)) or UsageNumber(kind=UsageNumberKind(kind), value=value)
                    found[key] = SubjectId(subject)
        return found

    def to_history(self, row_ids: Sequence[int], now: datetime) -> None:
        """Make the number rows ``row_ids`` earlier numbers."""
        for chunk in chunked(row_ids, self._chunk):
            self.execute(
                update(numbers)
                .where(among(self._conn, numbers.c.id, chunk))
                .values(is_current=False, valid_to=now)
            )

    def live(self, chunk: Sequence[SubjectId]) -> list[SubjectId]:
        """The subjects of ``chunk`` that exist and were not erased (one statement)."""
        rows = self.execute(
            select(subjects.c.id).where(
                among(self._conn, subjects.c.id, chunk), subjects.c.erased_at.is_(None)
            )
        )
        return [SubjectId(s) for s in rows.scalars()]

    def require_live(self, wanted: Sequence[SubjectId]) -> None:
        """Raise :class:`UnknownSubject` unless every subject of ``wanted`` exists and was not erased."""
        live: set[SubjectId] = set()
        for chunk in chunked(wanted, self._chunk):
            live.update(self.live(chunk))
        missing = [s for s in wanted if s not in live]
        if missing:
            raise UnknownSubject(f"{len(missing)} subject(s) are unknown or erased", subjects=missing)

    def holders(self, wanted: Sequence[IndividualNumber]) -> dict[IndividualNumber, Holding]:
        """The stored row of each known number (its current row if it is someone's current number)."""
        versions = max(1, len(self._indexer.versions))
        found: dict[IndividualNumber, Holding] = {}
        for chunk in chunked(list(set(wanted)), max(1, self._chunk // versions)):
            probes = {(v, idx): n for n in chunk for v, idx in self._indexer.all_indexes(n).items()}
            rows = self.execute(
                select(
                    numbers.c.id,
                    numbers.c.subject_id,
                    numbers.c.blind_index,
                    numbers.c.bix_version,
                    numbers.c.is_current,
                    numbers.c.retention_basis,
                    numbers.c.purge_after,
                ).where(among(self._conn, numbers.c.blind_index, [idx for _, idx in probes]))
            )
            for row in rows:
                number = probes.get((row.bix_version, bytes(row.blind_index)))
                if number is None:
                    continue
                holding = _holding(row)
                if number not in found or (holding.is_current and not found[number].is_current):
                    found[number] = holding
        return found

    def current_rows(self, wanted: Sequence[SubjectId]) -> dict[SubjectId, Holding]:
        """The current number row of each subject that has one."""
        found: dict[SubjectId, Holding] = {}
        for chunk in chunked(wanted, self._chunk):
            rows = self.execute(
                select(
                    numbers.c.id,
                    numbers.c.subject_id,
                    numbers.c.is_current,
                    numbers.c.retention_basis,
                    numbers.c.purge_after,
                ).where(numbers.c.is_current, among(self._conn, numbers.c.subject_id, chunk))
            )
            for row in rows:
                found[SubjectId(row.subject_id)] = _holding(row)
        return found

    def data_keys(self, wanted: Sequence[SubjectId]) -> dict[SubjectId, DataKey]:
        """The unwrapped data keys of the subjects."""
        keys: dict[SubjectId, DataKey] = {}
        for chunk in chunked(wanted, self._chunk):
            rows = self.execute(
                select(subject_keys).where(among(self._conn, subject_keys.c.subject_id, chunk))
            )
            for row in rows:
                keys[SubjectId(row.subject_id)] = self._wrapper.unwrap(
                    row.subject_id, row.dek_version, bytes(row.wrapped_dek), row.kek_id
                )
        return keys

    def current_numbers(self, wanted: Sequence[SubjectId]) -> dict[SubjectId, IndividualNumber]:
        """The current number of each subject that has one, decrypted; nothing else read or built."""
        result: dict[SubjectId, IndividualNumber] = {}
        for chunk in chunked(list(set(wanted)), self._chunk):
            rows = self.execute(
                select(
                    numbers.c.subject_id,
                    numbers.c.nonce,
                    numbers.c.ciphertext,
                    subject_keys.c.wrapped_dek,
                    subject_keys.c.kek_id,
                    subject_keys.c.dek_version,
                )
                .join(subject_keys, subject_keys.c.subject_id == numbers.c.subject_id)
                .where(numbers.c.is_current, among(self._conn, numbers.c.subject_id, chunk))
            )
            for subject, nonce, ciphertext, wrapped, kek_id, key_version in rows:
                key = self._wrapper.unwrap(subject, key_version, bytes(wrapped), kek_id)
                result[SubjectId(subject)] = key.decrypt(EncryptedNumber(bytes(nonce), bytes(ciphertext)))
        return result

    def number_rows(
        self, wanted: Sequence[SubjectId], *, current_only: bool
    ) -> dict[SubjectId, list[NumberRecord]]:
        """The subjects' number rows (only current ones if asked), decrypted, oldest first."""
        result: dict[SubjectId, list[NumberRecord]] = {}
        for chunk in chunked(list(set(wanted)), self._chunk):
            query = (
                select(
                    numbers,
                    subject_keys.c.wrapped_dek,
                    subject_keys.c.kek_id,
                    subject_keys.c.dek_version.label("key_version"),
                )
                .join(subject_keys, subject_keys.c.subject_id == numbers.c.subject_id)
                .where(among(self._conn, numbers.c.subject_id, chunk))
                .order_by(numbers.c.valid_from, numbers.c.id)
            )
            if current_only:
                query = query.where(numbers.c.is_current)
            keys: dict[str, DataKey] = {}
            for row in self.execute(query):
                key = keys.get(row.subject_id)
                if key is None:
                    key = self._wrapper.unwrap(
                        row.subject_id, row.key_version, bytes(row.wrapped_dek), row.kek_id
                    )
                    keys[row.subject_id] = key
                number = key.decrypt(EncryptedNumber(bytes(row.nonce), bytes(row.ciphertext)))
                result.setdefault(SubjectId(row.subject_id), []).append(
                    NumberRecord(
                        number=number,
                        is_current=bool(row.is_current),
                        valid_from=aware(row.valid_from),
                        valid_to=aware(row.valid_to) if row.valid_to else None,
                        retention=Retention(row.retention_basis, row.purge_after),
                        source=row.source,
                    )
                )
        return result

    # --- writes --------------------------------------------------------------------------------------------

    def create_subjects(self, new: Sequence[SubjectId], now: datetime) -> dict[SubjectId, DataKey]:
        """Insert new subjects, each with a fresh data key wrapped by the current KEK."""
        keys: dict[SubjectId, DataKey] = {}
        for chunk in chunked(new, self._chunk):
            subject_rows, key_rows = [], []
            for subject in chunk:
                key, wrapped = self._wrapper.new_data_key(subject)
                keys[subject] = key
                subject_rows.append({"id": subject, "created_at": now, "erased_at": None})
                key_rows.append(
                    {
                        "subject_id": subject,
                        "dek_version": key.version,
                        "kek_id": self._wrapper.current_kek_id,
                        "wrapped_dek": wrapped,
                        "updated_at": now,
                    }
                )
            insert_rows(self._conn, subjects, subject_rows)
            insert_rows(self._conn, subject_keys, key_rows)
        return keys

    def insert_usage(self, links: Sequence[tuple[SubjectId, UsageNumber]], now: datetime) -> None:
        """Insert usage numbers in force."""
        for chunk in chunked(links, self._chunk):
            insert_rows(
                self._conn,
                usage_numbers,
                [
                    {
                        "subject_id": s,
                        "kind": u.kind.value,
                        "value": u.value,
                        "valid_from": now,
                        "valid_to": None,
                    }
                    for s, u in chunk
                ],
            )

    def insert_numbers(
        self,
        links: Sequence[tuple[SubjectId, IndividualNumber]],
        keys: Mapping[SubjectId, DataKey],
        retention: Retention,
        source: str,
        now: datetime,
    ) -> None:
        """Insert current number rows, encrypted under each subject's data key (``keys`` or unwrapped)."""
        for chunk in chunked(links, self._chunk):
            missing = [s for s, _ in chunk if s not in keys]
            chunk_keys = {**keys, **self.data_keys(missing)} if missing else keys
            rows = []
            for subject, number in chunk:
                key = chunk_keys[subject]
                sealed = key.encrypt(number)
                rows.append(
                    {
                        "subject_id": subject,
                        "dek_version": key.version,
                        "nonce": sealed.nonce,
                        "ciphertext": sealed.ciphertext,
                        "blind_index": self._indexer.index(number),
                        "bix_version": self._indexer.current_version,
                        "is_current": True,
                        "valid_from": now,
                        "valid_to": None,
                        "retention_basis": retention.basis,
                        "purge_after": retention.purge_after,
                        "source": source,
                    }
                )
            insert_rows(self._conn, numbers, rows)

    def update_retention(self, updates: Mapping[int, Retention]) -> None:
        """Set the retention of number rows by id."""
        items = list(updates.items())
        statement = (
            update(numbers)
            .where(numbers.c.id == bindparam("row_id"))
            .values(retention_basis=bindparam("basis"), purge_after=bindparam("until"))
        )
        for chunk in chunked(items, self._chunk):
            self.execute(
                statement, [{"row_id": i, "basis": r.basis, "until": r.purge_after} for i, r in chunk]
            )


@contextmanager
def translated_integrity() -> Iterator[None]:
    """Turn a unique-constraint race with a concurrent transaction into a retry of the whole batch.

    The plan was made from what this transaction saw; another one may have linked the same usage number or
    number since. Its commit makes ours violate a unique index; retried, the batch finds what it linked.
    """
    try:
        yield
    except IntegrityError as exc:
        raise StoreUnavailable(
            "a concurrent transaction linked the same usage number or number; the batch will be retried"
        ) from exc


def _holding(row: Any) -> Holding:  # a Row of any select that has the holding columns
    return Holding(
        subject=SubjectId(row.subject_id),
        row_id=int(row.id),
        is_current=bool(row.is_current),
        retention=Retention(row.retention_basis, row.purge_after),
    )
