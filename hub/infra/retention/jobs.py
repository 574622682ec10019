"""The jobs of ``renkei retention run``, one per row of the retention model it enforces.

Each job works in the caller's unit of work (one transaction per job), writes what it did to the
deletion log (one entry per person and kind where the data is a person's; one entry per run for data kept
per message or file) and returns a :class:`KindResult` per kind it serves: how much was due on the day,
how much it removed (nothing in a dry run). Periods come from :mod:`hub.core.rules.retention_model`.

The vault's own erasure (numbers, the person, their codes, holds and dead letters) is
:func:`hub.infra.vault.lifecycle.erase_due`; :mod:`hub.infra.retention.run` runs it first, then these.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Final

from sqlalchemy import Connection, delete, func, insert, or_, select, update

from contracts.envelope import Envelope
from contracts.sealing import Unsealer
from hub.core.operator.holds import resolve_hold
from hub.core.operator.notices import erasure_notice, stored
from hub.core.rules.erasure import strip_sealed
from hub.core.rules.retention_model import UNANSWERED_QUERY_DAYS, Kind, days_of
from hub.infra.audit.provision import purge_expired
from hub.infra.db.messaging import SENT_BODY
from hub.infra.db.tables.codes import is_pending_queries
from hub.infra.db.tables.dead_letters import dead_letters
from hub.infra.db.tables.holds import number_holds
from hub.infra.db.tables.messaging import outbox
from hub.infra.db.tables.vault import deletion_log, tokens
from hub.ports.audit import AuditLog
from hub.ports.store import UnitOfWork
from hub.ports.transport import OutgoingMessage

__all__ = [
    "JST",
    "JobOutcome",
    "KindResult",
    "counts_by_kind",
    "cutoff",
    "dead_letter_archive_job",
    "holds_job",
    "log_files_job",
    "outbox_job",
    "pending_queries_job",
    "provision_records_job",
    "rotated_logs",
    "uow_connection",
    "wire_files_job",
]

JST: Final = timezone(timedelta(hours=9), "JST")
"""Japan Standard Time: retention periods run by Japanese calendar days."""
HOLD_EXPIRED_REASON: Final = "expired: no decision within the hold's retention (docs/retention.md)"
_WIRE_KEPT: Final = ("outbound", "processed", "rejected")
"""Directories of an exchange root whose files the job deletes (``inbound/`` is the sender's)."""


@dataclass(frozen=True, slots=True)
class KindResult:
    """What one job did for one kind.

    Attributes:
        kind: the kind of data.
        unit: what ``due`` and ``done`` count (rows, files, people).
        due: how much had reached the end of its retention on the day.
        done: how much was removed or scrubbed (0 in a dry run).
        note: anything the operator should know (nothing personal).
    """

    kind: Kind
    unit: str
    due: int | None
    done: int | None
    note: str = ""

    def as_json(self) -> dict[str, object]:
        """The result for ``--json`` (``None``: renkei does not count it, see ``enforced_by``)."""
        return {"unit": self.unit, "due": self.due, "done": self.done, "note": self.note}


@dataclass
class JobOutcome:
    """A job's results and the tables it wrote to (for the storage step)."""

    results: list[KindResult] = field(default_factory=list)
    tables: set[str] = field(default_factory=set)


def cutoff(as_of: date, days: int) -> datetime:
    """The moment ``days`` before the start of ``as_of`` in Japan: older than that is due."""
    return datetime.combine(as_of, time(), JST) - timedelta(days=days)


def _log(
    conn: Connection,
    entries: Iterable[tuple[str | None, Kind, str]],
    *,
    basis: str,
    now: datetime,
    actor: str,
) -> None:
    """Deletion-log entries ``(subject or None for a per-run entry, kind, what)``."""
    rows = [
        {
            "subject_id": subject,
            "person_ref": None,
            "kind": kind.value,
            "what": what[:200],
            "basis": basis[:200],
            "purge_after": None,
            "erased_at": now,
            "method": "deleted",
            "actor": actor[:120],
        }
        for subject, kind, what in entries
    ]
    if rows:
        conn.execute(insert(deletion_log), rows)


# --- outbox ------------------------------------------------------------------------------------------------


def outbox_job(conn: Connection, as_of: date, *, dry_run: bool, actor: str, now: datetime) -> JobOutcome:
    """Delete bodies left in confirmed rows, and confirmed rows past their retention."""
    o = outbox
    confirmed = o.c.sent_at.is_not(None)
    bodies = int(conn.execute(select(func.count()).where(confirmed, func.length(o.c.body) > 0)).scalar_one())
    old = o.c.sent_at < cutoff(as_of, days_of(Kind.OUTBOX))
    rows = int(conn.execute(select(func.count()).where(old)).scalar_one())
    outcome = JobOutcome(
        [
            KindResult(
                Kind.OUTBOX,
                "rows",
                bodies + rows,
                0 if dry_run else bodies + rows,
                note=f"{bodies} confirmed bodies left, {rows} confirmed rows past 30 days",
            )
        ]
    )
    if dry_run or not (bodies or rows):
        return outcome
    conn.execute(update(o).where(confirmed, func.length(o.c.body) > 0).values(body=SENT_BODY))
    conn.execute(delete(o).where(old))
    outcome.tables.add(o.name)
    _log(
        conn,
        [(None, Kind.OUTBOX, f"confirmed_bodies={bodies}; confirmed_rows={rows}")],
        basis="transactional outbox",
        now=now,
        actor=actor,
    )
    return outcome


# --- dead letters ------------------------------------------------------------------------------------------


def dead_letter_archive_job(
    conn: Connection, as_of: date, *, dry_run: bool, actor: str, now: datetime
) -> JobOutcome:
    """Destroy the sealed values of dead letters replayed or discarded long enough ago."""
    d = dead_letters
    before = cutoff(as_of, days_of(Kind.DEAD_LETTERS_ARCHIVED))
    archived = d.c.status.in_(("replayed", "discarded"))
    ended = or_(d.c.discarded_at < before, d.c.last_replayed_at < before)
    due: list[tuple[int, bytes, int]] = []
    last = 0
    while True:  # keyset pages: bodies may be large
        page = conn.execute(
            select(d.c.id, d.c.body)
            .where(archived, ended, d.c.erased_at.is_(None), d.c.id > last)
            .order_by(d.c.id)
            .limit(200)
        ).all()
        if not page:
            break
        last = int(page[-1].id)
        for row in page:
            body, sealed = strip_sealed(bytes(row.body))
            if sealed:
                due.append((int(row.id), body, sealed))
    outcome = JobOutcome(
        [KindResult(Kind.DEAD_LETTERS_ARCHIVED, "rows", len(due), 0 if dry_run else len(due))]
    )
    if dry_run or not due:
        return outcome
    for row_id, body, sealed in due:
        code, params = stored(
            erasure_notice(now.date(), sealed=sealed, after_days=days_of(Kind.DEAD_LETTERS_ARCHIVED))
        )
        conn.execute(
            update(d)
            .where(d.c.id == row_id)
            .values(body=body, erased_at=now, erasure_code=code, erasure_params=params, erasure_note=None)
        )
    outcome.tables.add(d.name)
    _log(
        conn,
        [(None, Kind.DEAD_LETTERS_ARCHIVED, f"dead_letters={len(due)}")],
        basis="dead-letter archive",
        now=now,
        actor=actor,
    )
    return outcome


# --- holds -------------------------------------------------------------------------------------------------


def holds_job(
    uow: UnitOfWork,
    unsealer: Unsealer,
    address: Callable[[Envelope], OutgoingMessage],
    as_of: date,
    *,
    dry_run: bool,
    actor: str,
    now: datetime,
) -> JobOutcome:
    """Expire unresolved holds (rejected, recorded, the pension system told); empty old resolved ones.

    Args:
        uow: the unit of work (vault, holds, access record, outbox).
        unsealer: what opens the hub's sealed values (never used to link: an expiry links nothing).
        address: turns the answer for the pension system into an outbox message.
        as_of: the day of the run.
        dry_run: only count.
        actor: who runs the job.
        now: the time of the run.
    """
    conn = uow_connection(uow)
    h = number_holds
    pending_before = cutoff(as_of, days_of(Kind.HOLDS_PENDING))
    expired = conn.execute(
        select(h.c.hold_id, h.c.subject_id, h.c.candidate_count).where(
            h.c.status == "pending", h.c.created_at < pending_before
        )
    ).all()
    resolved_before = cutoff(as_of, days_of(Kind.HOLDS_RESOLVED))
    resolved = conn.execute(
        select(h.c.hold_id, h.c.subject_id).where(
            h.c.status == "resolved", h.c.resolved_at < resolved_before, h.c.queried.is_not(None)
        )
    ).all()
    outcome = JobOutcome(
        [
            KindResult(Kind.HOLDS_PENDING, "holds", len(expired), 0 if dry_run else len(expired)),
            KindResult(Kind.HOLDS_RESOLVED, "holds", len(resolved), 0 if dry_run else len(resolved)),
        ]
    )
    if dry_run or not (expired or resolved):
        return outcome
    answers: list[Envelope] = []
    for row in expired:
        answers += resolve_hold(
            uow,
            unsealer,
            hold_id=row.hold_id,
            link_candidate=None,
            operator="retention",
            reason=HOLD_EXPIRED_REASON,
            now=now,
        )
    uow.outbox.add([address(env) for env in answers])
    if resolved:
        conn.execute(update(h).where(h.c.hold_id.in_([r.hold_id for r in resolved])).values(queried=None))
    outcome.tables.update({h.name, outbox.name})
    _log(
        conn,
        [
            (r.subject_id, Kind.HOLDS_PENDING, f"holds=1; candidates={r.candidate_count}; expired")
            for r in expired
        ]
        + [(r.subject_id, Kind.HOLDS_RESOLVED, "holds=1; queried_4info") for r in resolved],
        basis="operator's decision on a link",
        now=now,
        actor=actor,
    )
    return outcome


def uow_connection(uow: UnitOfWork) -> Connection:
    """The connection of a SQL unit of work (the jobs are infrastructure of the SQL stores)."""
    conn = getattr(uow, "connection", None)
    if not isinstance(conn, Connection):
        raise TypeError("the retention jobs need a SQL unit of work")
    return conn


# --- pending queries ---------------------------------------------------------------------------------------


def pending_queries_job(
    conn: Connection, as_of: date, *, dry_run: bool, actor: str, now: datetime
) -> JobOutcome:
    """Delete settled queries past their retention, and queries no answer came for."""
    q = is_pending_queries
    settled = (q.c.status != "pending") & (q.c.settled_at < cutoff(as_of, days_of(Kind.IS_PENDING_QUERIES)))
    unanswered = (q.c.status == "pending") & (q.c.requested_at < cutoff(as_of, UNANSWERED_QUERY_DAYS))
    where = or_(settled, unanswered)
    owners = Counter(conn.execute(select(q.c.subject_id).where(where)).scalars())
    total = sum(owners.values())
    outcome = JobOutcome([KindResult(Kind.IS_PENDING_QUERIES, "rows", total, 0 if dry_run else total)])
    if dry_run or not total:
        return outcome
    conn.execute(delete(q).where(where))
    outcome.tables.add(q.name)
    _log(
        conn,
        [(s, Kind.IS_PENDING_QUERIES, f"is_pending_queries={n}") for s, n in sorted(owners.items())],
        basis="matching answers to queries",
        now=now,
        actor=actor,
    )
    return outcome


# --- 情報提供等記録 ---------------------------------------------------------------------------------------


def provision_records_job(
    conn: Connection, audit: AuditLog, as_of: date, *, dry_run: bool, actor: str, now: datetime
) -> JobOutcome:
    """Delete the 情報提供等記録 whose seven years ended, each named by a ``purged`` access record."""
    per_token = purge_expired(conn, audit, as_of, actor=actor, dry_run=dry_run)
    total = sum(per_token.values())
    outcome = JobOutcome([KindResult(Kind.PROVISION_RECORDS, "rows", total, 0 if dry_run else total)])
    if dry_run or not total:
        return outcome
    outcome.tables.add("provision_records")
    named = [t for t in per_token if t is not None]
    owner = (
        dict(conn.execute(select(tokens.c.token, tokens.c.subject_id).where(tokens.c.token.in_(named))).all())
        if named
        else {}
    )
    per_subject: Counter[str] = Counter()
    unnamed = 0
    for token, count in per_token.items():
        subject = owner.get(token) if token is not None else None
        if subject is None:
            unnamed += count  # an erased person (no table names them any more), or nobody
        else:
            per_subject[subject] += count
    entries: list[tuple[str | None, Kind, str]] = [
        (s, Kind.PROVISION_RECORDS, f"provision_records={n}") for s, n in sorted(per_subject.items())
    ]
    if unnamed:
        entries.append((None, Kind.PROVISION_RECORDS, f"provision_records={unnamed}; people not named"))
    _log(conn, entries, basis="番号法 第23条 (情報提供等の記録)", now=now, actor=actor)
    return outcome


# --- files -------------------------------------------------------------------------------------------------


def _old_files(paths: Iterable[Path], before: datetime) -> list[Path]:
    limit = before.timestamp()
    return sorted(p for p in paths if p.is_file() and not p.is_symlink() and p.stat().st_mtime < limit)


def rotated_logs(log_files: Iterable[Path]) -> list[Path]:
    """The rotated files (``NAME.1`` ... ) of each log file: the live files are never deleted."""
    found: set[Path] = set()
    for log in log_files:
        if log.parent.is_dir():
            found.update(
                p
                for p in log.parent.glob(log.name + ".*")
                if p.name[len(log.name) + 1 :].isascii() and p.name[len(log.name) + 1 :].isdigit()
            )
    return sorted(found)


def log_files_job(
    conn: Connection, log_files: Sequence[Path], as_of: date, *, dry_run: bool, actor: str, now: datetime
) -> JobOutcome:
    """Delete rotated log files older than their retention."""
    due = _old_files(rotated_logs(log_files), cutoff(as_of, days_of(Kind.LOGS)))
    return _delete_files(conn, Kind.LOGS, due, "operations logs", dry_run=dry_run, actor=actor, now=now)


def wire_files_job(
    conn: Connection, wire_dir: Path, as_of: date, *, dry_run: bool, actor: str, now: datetime
) -> JobOutcome:
    """Delete exchange files older than their retention (outbound, processed, rejected)."""
    candidates: list[Path] = []
    if wire_dir.is_dir():
        for root in sorted(p for p in wire_dir.iterdir() if p.is_dir()):
            for kept in _WIRE_KEPT:
                if (root / kept).is_dir():
                    candidates.extend((root / kept).rglob("*"))
    due = _old_files(candidates, cutoff(as_of, days_of(Kind.WIRE_FILES)))
    return _delete_files(conn, Kind.WIRE_FILES, due, "file exchange", dry_run=dry_run, actor=actor, now=now)


def _delete_files(
    conn: Connection,
    kind: Kind,
    due: Sequence[Path],
    basis: str,
    *,
    dry_run: bool,
    actor: str,
    now: datetime,
) -> JobOutcome:
    done = 0
    if not dry_run:
        for path in due:
            try:
                path.unlink()
            except FileNotFoundError:  # taken by its reader in the meantime
                continue
            done += 1
        if done:
            _log(conn, [(None, kind, f"files={done}")], basis=basis, now=now, actor=actor)
    left = 0 if dry_run else len(due) - done
    note = f"{left} file(s) could not be deleted" if left else ""
    return JobOutcome([KindResult(kind, "files", len(due), done, note)])


def counts_by_kind(outcomes: Iterable[JobOutcome]) -> Mapping[Kind, KindResult]:
    """The results of several jobs, one per kind (a kind served by two jobs is summed)."""
    merged: dict[Kind, KindResult] = {}
    for outcome in outcomes:
        for r in outcome.results:
            seen = merged.get(r.kind)
            if seen is None:
                merged[r.kind] = r
            else:
                note = "; ".join(n for n in (seen.note, r.note) if n)
                merged[r.kind] = KindResult(
                    r.kind, r.unit, _plus(seen.due, r.due), _plus(seen.done, r.done), note
                )
    return merged


def _plus(a: int | None, b: int | None) -> int | None:
    return None if a is None and b is None else (a or 0) + (b or 0)
