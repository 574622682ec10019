"""``renkei retention run``: every job of the retention model, in order, then the storage step.

1. **vault**: erase the people whose numbers are due, with every copy of them (:func:`erase_due`);
2. **outbox**, **dead letters**, **holds**, **pending queries**, **provision records**: each in a
   transaction of its own (:mod:`hub.infra.retention.jobs`);
3. **logs**, **wire files**: rotated logs and exchange files past their retention;
4. **storage**: make the database's files forget what was deleted (:func:`forget_deleted`): after an
   erasure every table that ever held a person's data is rewritten on PostgreSQL (dead row versions of
   cleared outbox bodies and resolved holds hold erased people's sealed numbers too); SQLite's WAL is
   truncated whenever anything was deleted.

The result has one :class:`~hub.infra.retention.jobs.KindResult` per kind of the model, counts only.
The run ends with one ``purged`` access record of those counts (never a person, never a token).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Final, TypedDict

from sqlalchemy import Engine, func, select

from contracts.envelope import Envelope
from contracts.sealing import Unsealer
from hub.core.rules.retention_model import RETENTION_MODEL, Enforcer, Kind
from hub.infra.db.storage import StorageReport, forget_deleted
from hub.infra.db.tables.vault import deletion_log
from hub.infra.db.uow import SqlUnitOfWorkFactory
from hub.infra.keys.bundles import VaultKeys
from hub.infra.retention.jobs import (
    JobOutcome,
    KindResult,
    counts_by_kind,
    dead_letter_archive_job,
    holds_job,
    log_files_job,
    outbox_job,
    pending_queries_job,
    provision_records_job,
    uow_connection,
    wire_files_job,
)
from hub.infra.vault.lifecycle import ErasureReport, erase_due, subject_tables
from hub.ports.audit import AccessRecord, AuditAction
from hub.ports.transport import OutgoingMessage

__all__ = ["STEPS", "RetentionPlaces", "RetentionReport", "run_all"]

STEPS: Final = (
    "vault",
    "outbox",
    "dead letters",
    "holds",
    "pending queries",
    "provision records",
    "logs",
    "wire files",
    "storage",
)
"""The steps of a run, in order (what the progress bar shows)."""

PERSONAL_TABLES: Final = frozenset({"outbox", "dead_letters", "number_holds", "deletion_log", "subjects"})
"""Tables rewritten after any erasure besides the subject tables: their dead row versions (a cleared body,
discarded candidates) may hold an erased person's sealed number."""


class _Options(TypedDict):
    dry_run: bool
    actor: str
    now: datetime


@dataclass(frozen=True, slots=True)
class RetentionPlaces:
    """Where the files the run looks after are: the log files, and the exchange directories' root."""

    log_files: tuple[Path, ...]
    wire_dir: Path


@dataclass
class RetentionReport:
    """What a run did (or, dry, would do), per kind of the retention model."""

    as_of: date
    dry_run: bool
    erasure: ErasureReport
    kinds: dict[Kind, KindResult]
    storage: StorageReport | None = None
    deletion_log_entries: int = 0
    tables: set[str] = field(default_factory=set)

    def as_json(self) -> dict[str, object]:
        """Counts only: never a number, never a subject id."""
        by_kind: dict[str, object] = {}
        for row in RETENTION_MODEL:
            result = self.kinds.get(row.kind)
            entry = (
                result.as_json() if result is not None else {"unit": None, "due": 0, "done": 0, "note": ""}
            )
            by_kind[row.kind.value] = {**entry, "enforced_by": row.enforcer.value, "job": row.job}
        return {
            "as_of": self.as_of.isoformat(),
            "dry_run": self.dry_run,
            "subjects_erased": self.erasure.subjects_erased,
            "subjects_rekeyed": self.erasure.subjects_rekeyed,
            "numbers_erased": self.erasure.numbers_erased,
            "subjects_by_basis": self.erasure.by_basis(),
            "deletion_log_entries": self.deletion_log_entries,
            "kinds": by_kind,
            "storage": None if self.storage is None else self.storage.as_json(),
        }


def _vault_results(report: ErasureReport, dry_run: bool) -> list[KindResult]:
    def result(kind: Kind, unit: str, due: int, note: str = "") -> KindResult:
        return KindResult(kind, unit, due, 0 if dry_run else due, note)

    people, rows = report.people, report.rows
    numbered = (Kind.VAULT_ENTITLEMENT, Kind.VAULT_DEPENDANTS, Kind.VAULT_OTHER)
    results = [
        result(kind, "numbers", rows.get(kind, 0), f"{people.get(kind, 0)} people") for kind in numbered
    ]
    results += [
        result(Kind.VAULT_PERSON, "people", report.subjects_erased, f"{report.subjects_rekeyed} re-keyed"),
        result(Kind.ACCESS_RECORDS, "people made unlinkable", report.subjects_erased),
    ]
    results += [
        result(kind, "rows", rows.get(kind, 0), f"{people.get(kind, 0)} people")
        for kind in (Kind.IS_CODES, Kind.IS_PENDING_QUERIES, Kind.HOLDS_ERASED, Kind.DEAD_LETTERS_ERASED)
    ]
    return results


def run_all(
    factory: SqlUnitOfWorkFactory,
    keys: VaultKeys,
    unsealer: Unsealer,
    *,
    address: Callable[[Envelope], OutgoingMessage],
    places: RetentionPlaces,
    as_of: date,
    dry_run: bool = False,
    actor: str,
    rewrite: bool = True,
    on_step: Callable[[str], None] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> RetentionReport:
    """Run every job for ``as_of`` (see the module docstring).

    Args:
        factory: the operator's units of work (vault, access record, outbox).
        keys: the vault's keys.
        unsealer: opens what is sealed for the hub (held candidates).
        address: turns an envelope for the pension system into an outbox message.
        places: the log files and the exchange directories.
        as_of: the day of the run.
        dry_run: count only; write nothing, delete nothing.
        actor: who runs it (deletion log, access record).
        rewrite: PostgreSQL: rewrite the tables after an erasure (``VACUUM FULL``) rather than vacuum them.
        on_step: told when each step of :data:`STEPS` is done.
        clock: the time source (tests).
    """
    now = (clock or (lambda: datetime.now(UTC)))()
    step = on_step or (lambda _: None)
    engine: Engine = factory.engine
    before = _log_size(engine)
    with factory() as uow:
        erasure = erase_due(
            uow_connection(uow),
            keys,
            as_of,
            dry_run=dry_run,
            actor=actor,
            unsealer=unsealer,
            clock=lambda: now,
        )
        uow.commit()
    step("vault")
    outcomes = [JobOutcome(_vault_results(erasure, dry_run), set(erasure.tables))]

    def job(name: str, work: Callable[[SqlUnitOfWorkFactory], JobOutcome]) -> None:
        outcomes.append(work(factory))
        step(name)

    def in_uow(run: Callable[..., JobOutcome]) -> Callable[[SqlUnitOfWorkFactory], JobOutcome]:
        def work(f: SqlUnitOfWorkFactory) -> JobOutcome:
            with f() as uow:
                outcome = run(uow)
                uow.commit()
            return outcome

        return work

    options = _Options(dry_run=dry_run, actor=actor, now=now)
    job("outbox", in_uow(lambda uow: outbox_job(uow_connection(uow), as_of, **options)))
    job("dead letters", in_uow(lambda uow: dead_letter_archive_job(uow_connection(uow), as_of, **options)))
    job("holds", in_uow(lambda uow: holds_job(uow, unsealer, address, as_of, **options)))
    job("pending queries", in_uow(lambda uow: pending_queries_job(uow_connection(uow), as_of, **options)))
    job(
        "provision records",
        in_uow(lambda uow: provision_records_job(uow_connection(uow), uow.audit, as_of, **options)),
    )
    job("logs", in_uow(lambda uow: log_files_job(uow_connection(uow), places.log_files, as_of, **options)))
    job(
        "wire files",
        in_uow(lambda uow: wire_files_job(uow_connection(uow), places.wire_dir, as_of, **options)),
    )
    kinds = dict(counts_by_kind(outcomes))
    tables = set().union(*(o.tables for o in outcomes))
    storage = None
    if not dry_run:
        if erasure.subjects:
            tables |= PERSONAL_TABLES | {t.name for t in subject_tables()}
        storage = forget_deleted(engine, tables, rewrite=rewrite) if tables else None
    step("storage")
    kinds.update(_storage_results(engine.dialect.name, storage, tables, dry_run))
    kinds.update(_outside_results())
    report = RetentionReport(as_of, dry_run, erasure, kinds, storage, tables=tables)
    if not dry_run:
        report.deletion_log_entries = _log_size(engine) - before
        _record_run(factory, report, actor)
    return report


def _storage_results(
    backend: str, storage: StorageReport | None, tables: set[str], dry_run: bool
) -> dict[Kind, KindResult]:
    ours = Kind.STORAGE_SQLITE if backend == "sqlite" else Kind.STORAGE_POSTGRESQL
    other = Kind.STORAGE_POSTGRESQL if ours is Kind.STORAGE_SQLITE else Kind.STORAGE_SQLITE
    unit = "wal checkpoints" if ours is Kind.STORAGE_SQLITE else "tables"
    if ours is Kind.STORAGE_SQLITE:
        due = 1 if tables else 0
        done = 0 if storage is None or not storage.complete else due
    else:
        due = len(tables)
        done = 0 if storage is None else len(storage.rewritten)
    note = "" if storage is None else storage.note
    return {
        ours: KindResult(ours, unit, due, 0 if dry_run else done, note),
        other: KindResult(other, "tables", 0, 0, "not this deployment's database"),
    }


def _outside_results() -> dict[Kind, KindResult]:
    """Kinds renkei does not count: enforced by the operator or the broker (see ``enforced_by``)."""
    return {
        row.kind: KindResult(row.kind, "-", None, None, row.enforcer.value)
        for row in RETENTION_MODEL
        if row.enforcer in (Enforcer.OPERATOR, Enforcer.BROKER)
    }


def _log_size(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(deletion_log)).scalar_one())


def _record_run(factory: SqlUnitOfWorkFactory, report: RetentionReport, actor: str) -> None:
    """One ``purged`` access record of the run's counts (no person, no token)."""
    done = {k.value: r.done for k, r in sorted(report.kinds.items()) if r.done}
    if not done:
        return
    details = {kind: str(count) for kind, count in done.items()}
    details["as_of"] = report.as_of.isoformat()
    with factory() as uow:
        uow.audit.append(
            [
                AccessRecord(
                    actor=actor[:200],
                    action=AuditAction.PURGED,
                    message_type="hub.retention.run",
                    source="retention",
                    reason="retention_ended",
                    details=details,
                )
            ]
        )
        uow.commit()


def places_of(log_files: Sequence[Path], wire_dir: Path) -> RetentionPlaces:
    """The places of a run."""
    return RetentionPlaces(tuple(log_files), wire_dir)
