"""The life cycle of the vault's keys: re-wrapping under a new KEK, and erasing what is due.

*Re-wrap* (after ``renkei keys rotate``): every subject's data key is unwrapped with the KEK it was wrapped
by and wrapped again with the newest one. No number is decrypted; ciphertexts are not touched.

*Erasure* (``renkei retention run``): a number row is due the day after its ``purge_after``
(:func:`hub.core.rules.retention.is_due`). For each subject with due rows:

* if every number it has is due, the person is erased. First their wrapped data key is deleted: from then
  on no copy of their ciphertexts can be decrypted with a key the database holds. Then their ciphertexts
  and blind indexes, and every row of every table with a ``subject_id`` column (usage numbers, tokens,
  the intermediate server's 宛名番号 and 符号, pending queries, holds, 構成組合 membership, and any table
  added later: :func:`subject_tables` finds them), and last the ``subjects`` row itself. The subject id is
  the secret the person's tokens derive from (an HMAC of it): once no table holds it, the tokens in the
  access record and the 情報提供等記録 can be neither recomputed nor looked up with any key the
  deployment keeps. The deletion log names the erased person by a fresh reference (``person_ref``), and
  earlier entries of the person are moved to it;
* if some of its numbers must stay, the subject is *re-keyed*: the numbers that stay are re-encrypted under
  a fresh data key, the old data key is destroyed, and the due rows are deleted, so the due ciphertexts are
  shredded as well.

Copies outside the vault go in the same transaction: every dead letter concerning an erased person loses
its sealed values and the person's fields (:mod:`hub.core.rules.erasure`), and a pending hold's candidate
whose number was an erased one loses its sealed value and 4情報. One deletion-log entry is written per person
and kind (:class:`~hub.core.rules.retention_model.Kind`); numbers are never written to the log.

What this leaves to the disk: deleted rows stay in SQLite's WAL until a checkpoint and in PostgreSQL's pages
until a rewrite; :mod:`hub.infra.db.storage` makes both forget, and the backups' window is bounded by key
retirement (docs/retention.md). Whether the erased data key's ciphertexts in older backups stay readable
depends only on whether the KEK that wrapped it is still held.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final

from sqlalchemy import Connection, Table, bindparam, delete, insert, select, update

from contracts.errors import SealError
from contracts.ids import random_letters
from contracts.sealing import Unsealer
from hub.core.operator.holds import candidate_field, hold_seal_id
from hub.core.operator.notices import erasure_notice, stored
from hub.core.rules.erasure import scrub_body, scrub_text
from hub.core.rules.retention_model import Kind, kind_of_basis
from hub.infra.crypto.blind_index import BlindIndexer
from hub.infra.crypto.envelope import EncryptedNumber, KeyWrapper
from hub.infra.db.tables.audit import access_record_subjects, access_records
from hub.infra.db.tables.codes import is_codes, is_pending_queries
from hub.infra.db.tables.dead_letters import dead_letters
from hub.infra.db.tables.holds import number_holds
from hub.infra.db.tables.schema import metadata
from hub.infra.db.tables.vault import deletion_log, numbers, subject_keys, subjects, tokens, usage_numbers
from hub.infra.keys.bundles import VaultKeys
from hub.infra.stores.codes import SqlCodeStore
from hub.infra.vault.store import DEFAULT_CHUNK, among, plan_each_statement
from hub.ports.codes import CodeStore
from hub.ports.vault import SubjectId

__all__ = [
    "DueSubject",
    "ErasureReport",
    "erase_due",
    "new_person_ref",
    "retention_due",
    "rewrap_all",
    "rewrap_chunk",
    "subject_tables",
]

METHOD_SHRED: Final = "crypto_shred"
METHOD_REKEY: Final = "crypto_shred_rekeyed"
METHOD_DELETED: Final = "deleted"
METHOD_SCRUBBED: Final = "scrubbed"
PERSON_REF_PREFIX: Final = "erasure-"
_HOLD_STATUS_PENDING: Final = "pending"


# --- re-wrap ---------------------------------------------------------------------------------------------


def rewrap_all(
    conn: Connection,
    keys: VaultKeys,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    clock: Callable[[], datetime] | None = None,
) -> int:
    """Re-wrap every data key not wrapped by the newest KEK; returns how many were re-wrapped.

    Runs in the caller's transaction, one :func:`rewrap_chunk` after another (``renkei keys rotate`` runs the
    same chunks, one transaction each, with a progress bar).

    Raises:
        ConfigurationError: a data key is wrapped by a KEK the keyring no longer holds.
    """
    plan_each_statement(conn)
    now = (clock or (lambda: datetime.now(UTC)))()
    done, last = 0, ""
    while True:
        count, last = rewrap_chunk(conn, keys, after=last, limit=chunk_size, now=now)
        if not count:
            return done
        done += count


_REWRAP: Final = (
    update(subject_keys)
    .where(subject_keys.c.subject_id == bindparam("b_subject"))
    .values(wrapped_dek=bindparam("b_wrapped"), kek_id=bindparam("b_kek"), updated_at=bindparam("b_at"))
)


def rewrap_chunk(
    conn: Connection, keys: VaultKeys, *, after: str, limit: int, now: datetime
) -> tuple[int, str]:
    """Re-wrap up to ``limit`` data keys not wrapped by the newest KEK, of the subjects after ``after``.

    Walks the keys in subject-id order (keyset pagination): one select and one executemany update, in the
    caller's transaction. Returns how many were re-wrapped and the last subject id, the ``after`` of the
    next chunk (``(0, after)`` when none is left).

    Raises:
        ConfigurationError: a data key is wrapped by a KEK the keyring no longer holds.
    """
    wrapper = KeyWrapper(keys.kek)
    current = wrapper.current_kek_id
    rows = conn.execute(
        select(subject_keys)
        .where(subject_keys.c.kek_id != current, subject_keys.c.subject_id > after)
        .order_by(subject_keys.c.subject_id)
        .limit(limit)
    ).all()
    if not rows:
        return 0, after
    conn.execute(
        _REWRAP,
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
    return len(rows), str(rows[-1].subject_id)


# --- retention -------------------------------------------------------------------------------------------


def new_person_ref() -> str:
    """A fresh reference for an erased person in the deletion log (letters: never a digit, never an id)."""
    return PERSON_REF_PREFIX + random_letters(24)


def subject_tables() -> tuple[Table, ...]:
    """Every table holding rows of a subject (a ``subject_id`` column), in the order erasure deletes them.

    The wrapped data key first (from then on no ciphertext of the person can be decrypted), then the
    ciphertexts, then every other table of the schema with a ``subject_id`` column, found in the metadata
    so that a table added later is erased too. Not the ``subjects`` row (last) nor the deletion log (its
    entries are moved to a reference).
    """
    first = (subject_keys, numbers)
    rest = sorted(
        (
            t
            for t in metadata.tables.values()
            if "subject_id" in t.c and t not in (*first, deletion_log, subjects)
        ),
        key=lambda t: t.name,
    )
    return (*first, *rest)


@dataclass(frozen=True, slots=True)
class DueSubject:
    """A subject with numbers due for erasure (never the numbers themselves).

    ``due_by_basis`` holds, per retention basis of the due rows, how many and the latest ``purge_after``.
    A subject erased by an earlier version of renkei (its ``subjects`` row left with ``erased_at``) comes
    back once with no due rows, so that what remains of it goes too.
    """

    subject_id: SubjectId
    due_rows: tuple[int, ...]
    kept_rows: int
    bases: tuple[str, ...]
    purge_after: date | None
    due_by_basis: tuple[tuple[str, int, date | None], ...] = ()

    @property
    def full(self) -> bool:
        """Whether every number of the subject is due (the subject is erased, not re-keyed)."""
        return self.kept_rows == 0


@dataclass(frozen=True, slots=True)
class ErasureReport:
    """What a retention run erased, or would erase (``dry_run``).

    Attributes:
        as_of: the day of the run.
        dry_run: nothing was written.
        subjects: the subjects with due numbers (and the remains of subjects erased by earlier versions).
        people: per kind, how many people it erased something of (or would).
        rows: per kind, how many rows it deleted or scrubbed (or would).
        tables: the tables it wrote to (for the storage step).
    """

    as_of: date
    dry_run: bool
    subjects: tuple[DueSubject, ...]
    people: Mapping[Kind, int] = field(default_factory=dict)
    rows: Mapping[Kind, int] = field(default_factory=dict)
    tables: frozenset[str] = frozenset()

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
            break
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
        yield [_due_subject(SubjectId(s), due[s], kept[s]) for s in ids]
        last = ids[-1]
    yield from _left_by_earlier_versions(conn, chunk_size)


def _due_subject(subject: SubjectId, rows: Sequence[Any], kept: int) -> DueSubject:
    by_basis: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        by_basis[r.retention_basis].append(r)
    return DueSubject(
        subject_id=subject,
        due_rows=tuple(sorted(r.id for r in rows)),
        kept_rows=kept,
        bases=tuple(sorted(by_basis)),
        purge_after=max(r.purge_after for r in rows),
        due_by_basis=tuple(
            (basis, len(group), max(r.purge_after for r in group))
            for basis, group in sorted(by_basis.items())
        ),
    )


def _left_by_earlier_versions(conn: Connection, chunk_size: int) -> Iterator[list[DueSubject]]:
    """Subjects an earlier version erased but kept (``erased_at``): their remains go now."""
    last = ""
    while True:
        ids = (
            conn.execute(
                select(subjects.c.id)
                .where(subjects.c.erased_at.is_not(None), subjects.c.id > last)
                .order_by(subjects.c.id)
                .limit(chunk_size)
            )
            .scalars()
            .all()
        )
        if not ids:
            return
        yield [DueSubject(SubjectId(s), (), 0, (), None) for s in ids]
        last = ids[-1]


def retention_due(conn: Connection, as_of: date, *, chunk_size: int = DEFAULT_CHUNK) -> list[DueSubject]:
    """Subjects with numbers due on ``as_of`` (``purge_after`` before it), in subject-id order."""
    return [d for chunk in _due_chunks(conn, as_of, chunk_size) for d in chunk if d.due_rows]


@dataclass
class _Traces:
    """What identifies the people being erased in copies outside the vault, each mapped to a person ref."""

    usage: dict[tuple[str, str], str] = field(default_factory=dict)
    atena: dict[str, str] = field(default_factory=dict)
    messages: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    correlations: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    blind: dict[tuple[int, bytes], str] = field(default_factory=dict)
    """(blind-index version, index) of every due number (erased and re-keyed people alike)."""


@dataclass
class _Tally:
    """Per person reference and kind: rows erased (for the deletion log and the report)."""

    rows: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    """ref → "table" (or "kind:what") → count."""
    tables: set[str] = field(default_factory=set)

    def add(self, ref: str, what: str, count: int = 1) -> None:
        if count:
            self.rows[ref][what] += count


def erase_due(
    conn: Connection,
    keys: VaultKeys,
    as_of: date,
    *,
    dry_run: bool = False,
    actor: str,
    unsealer: Unsealer | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    clock: Callable[[], datetime] | None = None,
) -> ErasureReport:
    """Erase every number due on ``as_of``, and every copy of the people erased; log per person and kind.

    Runs in the caller's transaction (commit it to make the erasure durable). With ``dry_run`` nothing is
    written and the report says what would be erased.

    Args:
        conn: an open connection in a transaction.
        keys: the vault's keys (the KEK unwraps data keys of subjects that are re-keyed; the blind-index
            keys recognise erased numbers among held candidates).
        as_of: the day of the run; rows with ``purge_after`` before it are due.
        dry_run: only report.
        actor: who runs the erasure (recorded in the deletion log).
        unsealer: opens numbers sealed for the hub, to find erased numbers among pending holds'
            candidates; without it candidates are not examined (tests of the vault alone).
        chunk_size: subjects per round of statements.
        clock: the time source (tests).
    """
    wrapper = KeyWrapper(keys.kek)
    codes = SqlCodeStore(conn, keys, chunk_size=chunk_size)
    now = (clock or (lambda: datetime.now(UTC)))()
    found: list[DueSubject] = []
    refs: dict[SubjectId, str] = {}
    traces = _Traces()
    tally = _Tally()
    for chunk in _due_chunks(conn, as_of, chunk_size):
        full = [d for d in chunk if d.full]
        partial = [d for d in chunk if not d.full]
        for d in chunk:
            refs[d.subject_id] = new_person_ref() if d.full else d.subject_id
        _collect_traces(conn, full, partial, refs, traces)
        _erase_people(conn, codes, full, refs, traces, tally, dry_run=dry_run)
        if not dry_run:
            _rekey_subjects(conn, wrapper, partial, now)
        found.extend(chunk)
    if found:
        _scrub_dead_letters(conn, traces, tally, now, dry_run=dry_run)
        if unsealer is not None:
            opener = (BlindIndexer(keys.blind_index), unsealer)
            _scrub_hold_candidates(conn, opener, traces, tally, dry_run=dry_run)
    entries = _entries(found, refs, tally)
    if not dry_run and entries:
        conn.execute(insert(deletion_log), _log_rows(entries, refs, now, actor))
        tally.tables.add(deletion_log.name)
    return _report(as_of, dry_run, found, entries, tally)


def _collect_traces(
    conn: Connection,
    full: Sequence[DueSubject],
    partial: Sequence[DueSubject],
    refs: Mapping[SubjectId, str],
    traces: _Traces,
) -> None:
    """Read, before anything is deleted, what names the people of this chunk outside the vault."""
    due_rows = [r for d in (*full, *partial) for r in d.due_rows]
    if due_rows:
        for row in conn.execute(
            select(numbers.c.subject_id, numbers.c.bix_version, numbers.c.blind_index).where(
                among(conn, numbers.c.id, due_rows)
            )
        ):
            traces.blind[(int(row.bix_version), bytes(row.blind_index))] = refs[SubjectId(row.subject_id)]
    ids = [d.subject_id for d in full]
    if not ids:
        return
    for subject, kind, value in conn.execute(
        select(usage_numbers.c.subject_id, usage_numbers.c.kind, usage_numbers.c.value).where(
            among(conn, usage_numbers.c.subject_id, ids)
        )
    ):
        traces.usage[(kind, value)] = refs[SubjectId(subject)]
    for subject, atena_no in conn.execute(
        select(is_codes.c.subject_id, is_codes.c.atena_no).where(among(conn, is_codes.c.subject_id, ids))
    ):
        traces.atena[f"{int(atena_no):015d}"] = refs[SubjectId(subject)]
    owner = {
        token: refs[SubjectId(subject)]
        for token, subject in conn.execute(
            select(tokens.c.token, tokens.c.subject_id).where(among(conn, tokens.c.subject_id, ids))
        )
    }
    if not owner:
        return
    s, r = access_record_subjects, access_records
    query = (
        select(s.c.subject_token, r.c.message_id, r.c.correlation_id)
        .join(r, (r.c.chain_id == s.c.chain_id) & (r.c.seq == s.c.seq))
        .where(among(conn, s.c.subject_token, list(owner)))
    )
    for token, message_id, correlation_id in conn.execute(query):
        if message_id:
            traces.messages[message_id].add(owner[token])
        if correlation_id:
            traces.correlations[correlation_id].add(owner[token])


def _erase_people(  # noqa: PLR0917 - one step of erase_due, with its state
    conn: Connection,
    codes: CodeStore,
    full: Sequence[DueSubject],
    refs: Mapping[SubjectId, str],
    traces: _Traces,
    tally: _Tally,
    *,
    dry_run: bool,
) -> None:
    """Delete the people's rows from every subject table, move their log entries, delete the subjects.

    The intermediate server's codes go through their own store (:meth:`CodeStore.erase`); the people whose
    宛名番号 the traces hold are the ones who had a row there.
    """
    ids = [d.subject_id for d in full]
    if not ids:
        return
    mine = {refs[s] for s in ids}
    for ref in (r for r in traces.atena.values() if r in mine):
        tally.add(ref, is_codes.name)
    if not dry_run and codes.erase(ids):
        tally.tables.add(is_codes.name)
    for table in subject_tables():
        if table is is_codes:
            continue
        column = table.c.subject_id
        if dry_run:
            owners = conn.execute(select(column).where(among(conn, column, ids))).scalars().all()
        else:
            owners = (
                conn.execute(delete(table).where(among(conn, column, ids)).returning(column)).scalars().all()
            )
            if owners:
                tally.tables.add(table.name)
        for subject in owners:
            tally.add(refs[SubjectId(subject)], table.name)
    if dry_run:
        return
    logged = set(
        conn.execute(
            select(deletion_log.c.subject_id).where(among(conn, deletion_log.c.subject_id, ids)).distinct()
        ).scalars()
    )
    if logged:  # earlier entries of the person (a re-keying, say) now name the reference
        conn.execute(
            update(deletion_log)
            .where(deletion_log.c.subject_id == bindparam("b_subject"))
            .values(subject_id=None, person_ref=bindparam("b_ref")),
            [{"b_subject": s, "b_ref": refs[SubjectId(s)]} for s in sorted(logged)],
        )
        tally.tables.add(deletion_log.name)
    conn.execute(delete(subjects).where(among(conn, subjects.c.id, ids)))
    tally.tables.add(subjects.name)
    for subject in ids:
        tally.add(refs[subject], subjects.name)


def _scrub_dead_letters(
    conn: Connection, traces: _Traces, tally: _Tally, now: datetime, *, dry_run: bool
) -> None:
    """Destroy sealed values and erased people's fields in every dead letter that concerns one of them."""
    if not (traces.usage or traces.atena or traces.messages or traces.correlations):
        return
    d = dead_letters
    names = {value: ref for (_, value), ref in traces.usage.items()} | dict(traces.atena)
    last = 0
    while True:
        page = conn.execute(
            select(d.c.id, d.c.message_id, d.c.correlation_id, d.c.body, d.c.reason_text, d.c.group_label)
            .where(d.c.id > last)
            .order_by(d.c.id)
            .limit(200)
        ).all()
        if not page:
            return
        last = int(page[-1].id)
        for row in page:
            by_message = traces.messages.get(row.message_id or "", set())
            by_correlation = traces.correlations.get(row.correlation_id or "", set())
            result = scrub_body(
                bytes(row.body), usage=traces.usage, atena=traces.atena, whole=bool(by_message)
            )
            people = result.people | by_message | by_correlation
            if not people:
                continue
            for ref in people:
                tally.add(ref, dead_letters.name)
            if dry_run:
                continue
            code, params = stored(
                erasure_notice(
                    now.date(), sealed=result.sealed, records=result.records, body_destroyed=result.destroyed
                )
            )
            conn.execute(
                update(d)
                .where(d.c.id == row.id)
                .values(
                    body=result.body,
                    erased_at=now,
                    erasure_code=code,
                    erasure_params=params,
                    erasure_note=None,
                    reason_text=scrub_text(row.reason_text, names),
                    group_label=scrub_text(row.group_label, names)[:400],
                )
            )
            tally.tables.add(d.name)


def _scrub_hold_candidates(
    conn: Connection,
    opener: tuple[BlindIndexer, Unsealer],
    traces: _Traces,
    tally: _Tally,
    *,
    dry_run: bool,
) -> None:
    """Discard, in pending holds, each candidate whose number is one being erased."""
    if not traces.blind:
        return
    indexer, unsealer = opener
    h = number_holds
    for row in conn.execute(
        select(h.c.hold_id, h.c.candidates).where(h.c.status == _HOLD_STATUS_PENDING)
    ).all():
        candidates = json.loads(row.candidates)
        changed = False
        for candidate in candidates:
            sealed = candidate.get("sealed")
            if not sealed:
                continue
            try:
                number = unsealer.unseal(
                    sealed, message_id=hold_seal_id(row.hold_id), field=candidate_field(int(candidate["no"]))
                )
            except (SealError, KeyError, ValueError):
                continue
            ref = next(
                (traces.blind[k] for k in indexer.all_indexes(number).items() if k in traces.blind), None
            )
            if ref is None:
                continue
            tally.add(ref, "hold_candidates")
            candidate["sealed"], candidate["matched"] = None, None
            changed = True
        if changed and not dry_run:
            conn.execute(
                update(h)
                .where(h.c.hold_id == row.hold_id)
                .values(candidates=json.dumps(candidates, ensure_ascii=False))
            )
            tally.tables.add(h.name)


_KIND_OF_TABLE: Final = {
    is_codes.name: Kind.IS_CODES,
    is_pending_queries.name: Kind.IS_PENDING_QUERIES,
    number_holds.name: Kind.HOLDS_ERASED,
    "hold_candidates": Kind.HOLDS_ERASED,
    dead_letters.name: Kind.DEAD_LETTERS_ERASED,
}
"""Tables whose rows are a kind of their own in the deletion log; the others are the person (vault.person)."""
_VAULT_NUMBER_TABLES: Final = frozenset({numbers.name, subject_keys.name})


@dataclass(frozen=True, slots=True)
class _Entry:
    """What one deletion-log entry says (the row adds who, when and by whom)."""

    kind: Kind
    what: str
    basis: str
    purge_after: date | None
    method: str
    rows: int


def _person_entries(d: DueSubject, counts: Counter[str]) -> list[_Entry]:
    """The entries of one person: one per basis of their due numbers, then one per other kind."""
    entries = [
        _Entry(
            kind_of_basis(basis),
            f"individual_numbers={count}; data_key" + ("" if d.full else f" (re-keyed, {d.kept_rows} kept)"),
            basis,
            purge_after,
            METHOD_SHRED if d.full else METHOD_REKEY,
            count,
        )
        for basis, count, purge_after in d.due_by_basis
    ]
    by_kind: dict[Kind, list[tuple[str, int]]] = defaultdict(list)
    for what, count in sorted(counts.items()):
        if what in _VAULT_NUMBER_TABLES and d.due_by_basis:
            continue  # the entries per basis above say it
        by_kind[_KIND_OF_TABLE.get(what, Kind.VAULT_PERSON)].append((what, count))
    basis = ", ".join(d.bases) or "erased by an earlier version"
    for kind, parts in sorted(by_kind.items()):
        entries.append(
            _Entry(
                kind,
                "; ".join(f"{what}={count}" for what, count in parts),
                basis,
                d.purge_after,
                METHOD_SCRUBBED if kind is Kind.DEAD_LETTERS_ERASED else METHOD_DELETED,
                sum(count for what, count in parts if what != subjects.name),
            )
        )
    return entries


def _entries(
    found: Sequence[DueSubject],
    refs: Mapping[SubjectId, str],
    tally: _Tally,
) -> list[tuple[DueSubject, _Entry]]:
    """One deletion-log entry per person and kind (counts only: never a number, never a subject id)."""
    return [(d, e) for d in found for e in _person_entries(d, tally.rows.get(refs[d.subject_id], Counter()))]


def _log_rows(
    entries: Sequence[tuple[DueSubject, _Entry]],
    refs: Mapping[SubjectId, str],
    now: datetime,
    actor: str,
) -> list[dict[str, Any]]:
    return [
        {
            "subject_id": None if d.full else d.subject_id,
            "person_ref": refs[d.subject_id] if d.full else None,
            "kind": e.kind.value,
            "what": e.what[:200],
            "basis": e.basis[:200],
            "purge_after": e.purge_after,
            "erased_at": now,
            "method": e.method,
            "actor": actor[:120],
        }
        for d, e in entries
    ]


def _report(
    as_of: date,
    dry_run: bool,
    found: Sequence[DueSubject],
    entries: Sequence[tuple[DueSubject, _Entry]],
    tally: _Tally,
) -> ErasureReport:
    people: Counter[Kind] = Counter()
    rows: Counter[Kind] = Counter()
    for _, e in entries:
        people[e.kind] += 1
        rows[e.kind] += e.rows
    return ErasureReport(
        as_of=as_of,
        dry_run=dry_run,
        subjects=tuple(found),
        people=dict(people),
        rows=dict(rows),
        tables=frozenset(tally.tables),
    )


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
