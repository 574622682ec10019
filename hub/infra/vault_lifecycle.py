"""The life cycle of the vault's keys: re-wrapping under a new KEK, and crypto-shredding what is due.

*Re-wrap* (after ``renkei keys rotate``): every subject's data key is unwrapped with the KEK it was wrapped
by and wrapped again with the newest one. No number is decrypted; ciphertexts are not touched.

*Erasure* (``renkei retention run``): a number row is due the day after its ``purge_after``
(:func:`hub.core.retention.is_due`). For each subject with due rows:

* if every number it has is due, the subject is erased: its wrapped data key is deleted (so every copy of
  its ciphertexts, in the table, in dead tuples or in backups taken after the KEK that wrapped the key is
  retired, is unreadable: crypto-shredding), then its ciphertexts and blind indexes, its tokens (audit
  entries holding them become unlinkable) and its usage links; the ``subjects`` row stays with
  ``erased_at`` for the deletion log;
* if some of its numbers must stay, the subject is *re-keyed*: the numbers that stay are re-encrypted under
  a fresh data key, the old data key is destroyed, and the due rows are deleted, so the due ciphertexts are
  shredded as well.

Either way one ``deletion_log`` row is written per subject. Numbers are never written to the log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from hub.infra.crypto.bundles import VaultKeys
from hub.infra.crypto.envelope import EncryptedNumber, KeyWrapper
from hub.infra.db.vault_tables import (
    deletion_log,
    number_grounds,
    numbers,
    subject_keys,
    subjects,
    tokens,
    usage_numbers,
)
from hub.infra.vault_store import DEFAULT_CHUNK, among, plan_each_statement
from hub.ports.vault import SubjectId

__all__ = ["DueSubject", "ErasureReport", "erase_due", "retention_due", "rewrap_all"]

METHOD_SHRED: Final = "crypto_shred"
METHOD_REKEY: Final = "crypto_shred_rekeyed"


# --- re-wrap ---------------------------------------------------------------------------------------------


def rewrap_all(
    conn: Connection,
    keys: VaultKeys,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    clock: Callable[[], datetime] | None = None,
) -> int:
    """Re-wrap every data key not wrapped by the newest KEK; returns how many were re-wrapped.

    Runs in the caller's transaction. Walks the keys in subject-id order (keyset pagination), one select
    and one executemany update per chunk.

    Raises:
        ConfigurationError: a data key is wrapped by a KEK the keyring no longer holds.
    """
    plan_each_statement(conn)
    wrapper = KeyWrapper(keys.kek)
    current = wrapper.current_kek_id
    now = (clock or (lambda: datetime.now(UTC)))()
    statement = (
        update(subject_keys)
        .where(subject_keys.c.subject_id == bindparam("b_subject"))
        .values(wrapped_dek=bindparam("b_wrapped"), kek_id=bindparam("b_kek"), updated_at=bindparam("b_at"))
    )
    done, last = 0, ""
    while True:
        rows = conn.execute(
            select(subject_keys)
            .where(subject_keys.c.kek_id != current, subject_keys.c.subject_id > last)
            .order_by(subject_keys.c.subject_id)
            .limit(chunk_size)
        ).all()
        if not rows:
            return done
        conn.execute(
            statement,
            [
                {
                    "b_subject": row.subject_id,
                    "b_wrapped": wrapper.rewrap(
                        row.subject_id, row.dek_version, bytes(row.wrapped_dek), row.kek_id
                    ),
                    "b_kek": current,
                    "b_at": now,
                }
                for row in rows
            ],
        )
        done += len(rows)
        last = rows[-1].subject_id


# --- retention -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DueSubject:
    """A subject with numbers due for erasure (never the numbers themselves)."""

    subject_id: SubjectId
    due_rows: tuple[int, ...]
    kept_rows: int
    bases: tuple[str, ...]
    purge_after: date

    @property
    def full(self) -> bool:
        """Whether every number of the subject is due (the subject is erased, not re-keyed)."""
        return self.kept_rows == 0


@dataclass(frozen=True, slots=True)
class ErasureReport:
    """What a retention run erased, or would erase (``dry_run``)."""

    as_of: date
    dry_run: bool
    subjects: tuple[DueSubject, ...]

    @property
    def subjects_erased(self) -> int:
        """Subjects erased entirely."""
        return sum(1 for s in self.subjects if s.full)

    @property
    def subjects_rekeyed(self) -> int:
        """Subjects that keep some numbers under a new data key."""
        return sum(1 for s in self.subjects if not s.full)

    @property
    def numbers_erased(self) -> int:
        """Number rows erased."""
        return sum(len(s.due_rows) for s in self.subjects)

    def by_basis(self) -> dict[str, int]:
        """Subjects per retention basis of the numbers erased."""
        counts: dict[str, int] = {}
        for s in self.subjects:
            for basis in s.bases:
                counts[basis] = counts.get(basis, 0) + 1
        return counts


def _due_chunks(conn: Connection, as_of: date, chunk_size: int) -> Iterator[list[DueSubject]]:
    # Keyset pagination over subject ids: each round starts after the last id seen, so it ends.
    plan_each_statement(conn)
    last = ""
    while True:
        ids = (
            conn.execute(
                select(numbers.c.subject_id)
                .where(numbers.c.purge_after < as_of, numbers.c.subject_id > last)
                .group_by(numbers.c.subject_id)
                .order_by(numbers.c.subject_id)
                .limit(chunk_size)
            )
            .scalars()
            .all()
        )
        if not ids:
            return
        rows = conn.execute(
            select(
                numbers.c.id, numbers.c.subject_id, numbers.c.purge_after, numbers.c.retention_basis
            ).where(among(conn, numbers.c.subject_id, ids))
        ).all()
        due: dict[str, list[Any]] = {s: [] for s in ids}
        kept: dict[str, int] = dict.fromkeys(ids, 0)
        for row in rows:
            if row.purge_after is not None and row.purge_after < as_of:
                due[row.subject_id].append(row)
            else:
                kept[row.subject_id] += 1
        yield [
            DueSubject(
                subject_id=SubjectId(s),
                due_rows=tuple(sorted(r.id for r in due[s])),
                kept_rows=kept[s],
                bases=tuple(sorted({r.retention_basis for r in due[s]})),
                purge_after=max(r.purge_after for r in due[s]),
            )
            for s in ids
        ]
        last = ids[-1]


def retention_due(conn: Connection, as_of: date, *, chunk_size: int = DEFAULT_CHUNK) -> list[DueSubject]:
    """Subjects with numbers due on ``as_of`` (``purge_after`` before it), in subject-id order."""
    return [d for chunk in _due_chunks(conn, as_of, chunk_size) for d in chunk]


def erase_due(
    conn: Connection,
    keys: VaultKeys,
    as_of: date,
    *,
    dry_run: bool = False,
    actor: str,
    chunk_size: int = DEFAULT_CHUNK,
    clock: Callable[[], datetime] | None = None,
) -> ErasureReport:
    """Erase every number due on ``as_of`` by crypto-shredding, and log one deletion per subject.

    Runs in the caller's transaction (commit it to make the erasure durable). With ``dry_run`` nothing is
    written and the report says what would be erased.

    Args:
        conn: an open connection in a transaction.
        keys: the vault's keys (the KEK unwraps data keys of subjects that are re-keyed).
        as_of: the day of the run; rows with ``purge_after`` before it are due.
        dry_run: only report.
        actor: who runs the erasure (recorded in the deletion log).
        chunk_size: subjects per round of statements.
        clock: the time source (tests).
    """
    wrapper = KeyWrapper(keys.kek)
    now = (clock or (lambda: datetime.now(UTC)))()
    erased: list[DueSubject] = []
    for chunk in _due_chunks(conn, as_of, chunk_size):
        if not dry_run:
            _erase_subjects(conn, [d for d in chunk if d.full], now)
            _rekey_subjects(conn, wrapper, [d for d in chunk if not d.full], now)
            _log(conn, chunk, now, actor)
        erased.extend(chunk)
    return ErasureReport(as_of=as_of, dry_run=dry_run, subjects=tuple(erased))


def _erase_subjects(conn: Connection, due: Sequence[DueSubject], now: datetime) -> None:
    if not due:
        return
    ids = [d.subject_id for d in due]
    # The data key first: from here on no copy of the ciphertexts can be decrypted.
    conn.execute(delete(subject_keys).where(among(conn, subject_keys.c.subject_id, ids)))
    conn.execute(delete(numbers).where(among(conn, numbers.c.subject_id, ids)))
    conn.execute(delete(tokens).where(among(conn, tokens.c.subject_id, ids)))
    conn.execute(delete(usage_numbers).where(among(conn, usage_numbers.c.subject_id, ids)))
    conn.execute(delete(number_grounds).where(among(conn, number_grounds.c.subject_id, ids)))
    conn.execute(update(subjects).where(among(conn, subjects.c.id, ids)).values(erased_at=now))


def _rekey_subjects(conn: Connection, wrapper: KeyWrapper, due: Sequence[DueSubject], now: datetime) -> None:
    if not due:
        return
    ids = [d.subject_id for d in due]
    due_rows = [r for d in due for r in d.due_rows]
    old_keys = {
        row.subject_id: wrapper.unwrap(row.subject_id, row.dek_version, bytes(row.wrapped_dek), row.kek_id)
        for row in conn.execute(select(subject_keys).where(among(conn, subject_keys.c.subject_id, ids)))
    }
    new_keys = {s: wrapper.new_data_key(s, old_keys[s].version + 1) for s in ids}
    rows = conn.execute(
        select(numbers.c.id, numbers.c.subject_id, numbers.c.nonce, numbers.c.ciphertext).where(
            among(conn, numbers.c.subject_id, ids)
        )
    ).all()
    shredded = set(due_rows)
    renewed = []
    for row in (r for r in rows if r.id not in shredded):
        number = old_keys[row.subject_id].decrypt(EncryptedNumber(bytes(row.nonce), bytes(row.ciphertext)))
        key, _ = new_keys[row.subject_id]
        sealed = key.encrypt(number)
        renewed.append(
            {"b_id": row.id, "b_nonce": sealed.nonce, "b_ct": sealed.ciphertext, "b_v": key.version}
        )
    conn.execute(
        update(subject_keys)
        .where(subject_keys.c.subject_id == bindparam("b_subject"))
        .values(
            wrapped_dek=bindparam("b_wrapped"),
            dek_version=bindparam("b_v"),
            kek_id=bindparam("b_kek"),
            updated_at=bindparam("b_at"),
        ),
        [
            {
                "b_subject": s,
                "b_wrapped": wrapped,
                "b_v": key.version,
                "b_kek": wrapper.current_kek_id,
                "b_at": now,
            }
            for s, (key, wrapped) in new_keys.items()
        ],
    )
    if renewed:  # every re-keyed subject keeps a row; the guard only spares executemany an empty list
        conn.execute(
            update(numbers)
            .where(numbers.c.id == bindparam("b_id"))
            .values(nonce=bindparam("b_nonce"), ciphertext=bindparam("b_ct"), dek_version=bindparam("b_v")),
            renewed,
        )
    for start in range(0, len(due_rows), DEFAULT_CHUNK):
        conn.execute(
            delete(numbers).where(among(conn, numbers.c.id, due_rows[start : start + DEFAULT_CHUNK]))
        )


def _log(conn: Connection, due: Sequence[DueSubject], now: datetime, actor: str) -> None:
    conn.execute(
        insert(deletion_log),
        [
            {
                "subject_id": d.subject_id,
                "what": (
                    f"individual_numbers={len(d.due_rows)}; data_key; tokens; usage_numbers"
                    if d.full
                    else f"individual_numbers={len(d.due_rows)}; data_key (re-keyed, {d.kept_rows} kept)"
                ),
                "basis": ", ".join(d.bases)[:200],
                "purge_after": d.purge_after,
                "erased_at": now,
                "method": METHOD_SHRED if d.full else METHOD_REKEY,
                "actor": actor[:120],
            }
            for d in due
        ],
    )
