"""Walking one hash chain: recompute every record's hash and link, stop at the first bad record.

Records and their subject tokens are streamed in ``seq`` order (two cursors merged), so memory stays
bounded however long the chain. The values are read as stored (timestamps as raw text on SQLite), so that
any change to a stored byte shows.

When a record does not fit, a small window around it is read again to tell *how* the chain was tampered
with: a record whose content hashes correctly at another position has been moved, which tells a swap
(reordered) from a removal (deleted) or an insertion (inserted) with renumbering.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import Connection, Row, String, select, type_coerce

from hub.infra.audit.codec import RECORD_FIELDS, record_hash, stored_at_text
from hub.infra.db.tables.audit import access_record_subjects, access_records, audit_chains

__all__ = ["ChainHead", "ChainOutcome", "Problem", "ProblemKind", "walk_chain"]

_PAGE: Final = 1_000
_WINDOW: Final = 16

RecordSink = Callable[[int, str | None], None]
"""Called with ``(seq, details text)`` for every record that verified."""


class ProblemKind(StrEnum):
    """How the stored access record differs from what was written."""

    MODIFIED = "modified"
    DELETED = "deleted"
    INSERTED = "inserted"
    REORDERED = "reordered"
    BAD_CHECKPOINT = "bad_checkpoint"
    BAD_SIGNATURE = "bad_signature"


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding of the verifier, naming the first bad record (``chain_id``, ``seq``) where it can."""

    kind: ProblemKind
    message: str
    chain_id: str | None = None
    seq: int | None = None
    checkpoint_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "kind": self.kind.value,
            "chain_id": self.chain_id,
            "seq": self.seq,
            "checkpoint_id": self.checkpoint_id,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class ChainOutcome:
    """What walking one chain found."""

    last_seq: int
    """The last record that verified (records 1..last_seq are intact)."""
    checked: int
    problem: Problem | None


def _text(value: object) -> str | None:
    # Anything but text (a number or blob written into a text column) can never hash like the original.
    if value is None or isinstance(value, str):
        return value
    return f"\x00{type(value).__name__}:{value!r}"


_COLUMNS: Final = [
    type_coerce(access_records.c.at, String).label("at") if name == "at" else access_records.c[name]
    for name in RECORD_FIELDS
]


@dataclass(frozen=True, slots=True)
class _Stored:
    seq: object
    fields: list[str | None]
    prev_hash: str | None
    hash: str | None
    details: str | None

    @classmethod
    def of(cls, row: Row[Any]) -> _Stored:
        m = row._mapping
        fields = [stored_at_text(m["at"]) if n == "at" else _text(m[n]) for n in RECORD_FIELDS]
        return cls(m["seq"], fields, _text(m["prev_hash"]), _text(m["hash"]), _text(m["details"]))

    def hash_at(self, chain_id: str, seq: int, subjects: Sequence[str]) -> str:
        return record_hash(chain_id, seq, self.fields, subjects, self.prev_hash or "")

    def fits(self, chain_id: str, seq: int, subjects: Sequence[str]) -> bool:
        return self.fields[0] is not None and self.hash_at(chain_id, seq, subjects) == self.hash


def _records(conn: Connection, chain_id: str, lo: int | None = None, hi: int | None = None) -> Any:
    query = select(access_records.c.seq, *_COLUMNS, access_records.c.prev_hash, access_records.c.hash).where(
        access_records.c.chain_id == chain_id
    )
    if lo is not None and hi is not None:
        query = query.where(access_records.c.seq.between(lo, hi))
    return conn.execution_options(yield_per=_PAGE).execute(query.order_by(access_records.c.seq))


def _subjects(conn: Connection, chain_id: str, lo: int | None = None, hi: int | None = None) -> Any:
    s = access_record_subjects
    query = select(s.c.seq, s.c.subject_token).where(s.c.chain_id == chain_id)
    if lo is not None and hi is not None:
        query = query.where(s.c.seq.between(lo, hi))
    return conn.execution_options(yield_per=_PAGE * 4).execute(query.order_by(s.c.seq))


class _SubjectMerge:
    """Hands out the subject tokens of each record from one stream ordered by seq."""

    def __init__(self, rows: Iterator[Any]) -> None:
        self._rows = rows
        self._next: Any = next(rows, None)

    def take(self, seq: int) -> list[str]:
        # Rows for seqs with no record (orphans) are skipped here and reported by the orphan check.
        while self._next is not None and type(self._next[0]) is int and self._next[0] < seq:
            self._next = next(self._rows, None)
        out = []
        while self._next is not None and self._next[0] == seq:
            out.append(_text(self._next[1]) or "")
            self._next = next(self._rows, None)
        return out


@dataclass(frozen=True, slots=True)
class ChainHead:
    """A chain as its ``audit_chains`` row describes it."""

    chain_id: str
    genesis: str
    """:func:`~hub.infra.audit.codec.chain_genesis` of the row: what the first record must follow."""
    head_seq: int
    head_hash: str


def walk_chain(conn: Connection, head: ChainHead, on_record: RecordSink | None = None) -> ChainOutcome:
    """Verify one chain against its row; stop at the first bad record."""
    records, subjects = _records(conn, head.chain_id), _subjects(conn, head.chain_id)
    try:
        return _walk(
            conn,
            head,
            records=iter(records),
            subjects=_SubjectMerge(iter(subjects)),
            on_record=on_record,
        )
    finally:
        records.close()
        subjects.close()


def _walk(
    conn: Connection,
    head: ChainHead,
    *,
    records: Iterator[Row[Any]],
    subjects: _SubjectMerge,
    on_record: RecordSink | None,
) -> ChainOutcome:
    chain_id, head_seq = head.chain_id, head.head_seq
    expected, prev = 1, head.genesis

    def stop(kind: ProblemKind, seq: int, message: str) -> ChainOutcome:
        problem = Problem(kind, f"chain {chain_id} seq {seq}: {message}", chain_id, seq)
        return ChainOutcome(expected - 1, expected - 1, problem)

    for raw in records:
        row = _Stored.of(raw)
        seq = row.seq
        if type(seq) is not int:
            return stop(ProblemKind.MODIFIED, expected, "the next record's sequence number is not a number")
        if seq != expected:
            if expected <= head_seq:
                return stop(ProblemKind.DELETED, expected, f"missing (the next record is seq {seq})")
            return stop(ProblemKind.INSERTED, seq, f"lies beyond the chain head ({head_seq})")
        if seq > head_seq:
            if _head_now(conn, chain_id) >= seq:
                break  # appended and committed since the head was read: newer than this verification
            return stop(ProblemKind.INSERTED, seq, f"lies beyond the chain head ({head_seq})")
        tokens = subjects.take(seq)
        if row.fits(chain_id, seq, tokens) and row.prev_hash == prev:
            prev = row.hash or ""
            expected += 1
            if on_record is not None:
                on_record(seq, row.details)
            continue
        kind, bad_seq, message = _classify(conn, chain_id, seq, row, tokens)
        return stop(kind, bad_seq, message)
    last = expected - 1
    if last < head_seq:
        return stop(
            ProblemKind.DELETED,
            expected,
            f"missing: the chain head says {head_seq} records, only {last} remain",
        )
    if prev != head.head_hash:
        if last == 0:
            message = f"chain {chain_id}: its row (writer, creation time or head) was changed"
            return ChainOutcome(0, 0, Problem(ProblemKind.MODIFIED, message, chain_id))
        return stop(ProblemKind.MODIFIED, last, "the chain head's hash does not match this record")
    return ChainOutcome(last, last, None)


def _head_now(conn: Connection, chain_id: str) -> int:
    # Read again: without a snapshot (READ COMMITTED), a writer may have committed since the first read.
    value = conn.execute(select(audit_chains.c.head_seq).where(audit_chains.c.chain_id == chain_id)).scalar()
    return value if type(value) is int else -1


def _window(conn: Connection, chain_id: str, lo: int, hi: int) -> dict[int, tuple[_Stored, list[str]]]:
    tokens: dict[object, list[str]] = {}
    for seq, token in _subjects(conn, chain_id, lo, hi):
        tokens.setdefault(seq, []).append(_text(token) or "")
    rows = {}
    for raw in _records(conn, chain_id, lo, hi):
        row = _Stored.of(raw)
        if type(row.seq) is int:
            rows[row.seq] = (row, tokens.get(row.seq, []))
    return rows


def _classify(
    conn: Connection, chain_id: str, p: int, row: _Stored, tokens: list[str]
) -> tuple[ProblemKind, int, str]:
    """Name the first bad record and how it came to be, given that record ``p`` does not fit."""
    if row.fits(chain_id, p, tokens):  # its content is intact but it names another predecessor
        if p == 1:
            return (
                ProblemKind.MODIFIED,
                1,
                "does not follow its chain's row (this record or the row was changed)",
            )
        return ProblemKind.MODIFIED, p - 1, f"altered and re-hashed: record {p} still names its original hash"
    window: Mapping[int, tuple[_Stored, list[str]]] = _window(
        conn, chain_id, max(1, p - _WINDOW), p + _WINDOW
    )
    moved_from = next(
        (t for t in range(max(1, p - _WINDOW), p + _WINDOW + 1) if t != p and row.fits(chain_id, t, tokens)),
        None,
    )
    if moved_from is None:
        following = window.get(p + 1)
        if following is not None and following[0].fits(chain_id, p, following[1]):
            return ProblemKind.INSERTED, p, "not written by the hub; the records after it were renumbered"
        return ProblemKind.MODIFIED, p, "does not match its hash (a stored value was changed)"
    if moved_from > p:
        if any(q > p and other.fits(chain_id, p, subs) for q, (other, subs) in window.items()):
            return ProblemKind.REORDERED, p, f"holds the record written as seq {moved_from}"
        return (
            ProblemKind.DELETED,
            p,
            f"missing; the records after it were renumbered (seq {moved_from} is here)",
        )
    return (
        ProblemKind.INSERTED,
        moved_from,
        f"not written by the hub: records were inserted here and the record written as seq {moved_from} "
        f"now sits at seq {p}",
    )
