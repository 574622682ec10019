"""Making the disk forget what was deleted: SQLite's WAL, PostgreSQL's dead rows and page space.

* **SQLite.** Every connection sets ``secure_delete`` (:mod:`hub.infra.db.engine`), so deleted rows and
  freed pages are zeroed in the pages SQLite writes; the WAL still holds the earlier versions of those
  pages until a checkpoint copies the new ones into the file and the WAL is emptied.
  ``PRAGMA wal_checkpoint(TRUNCATE)`` does both, but only when no other connection holds a read
  transaction: it waits up to the busy timeout, and :func:`forget_deleted` tries a few times and reports
  the frames left.
* **PostgreSQL.** A deleted row stays in its page as a dead version; a plain ``VACUUM`` marks its space
  free and leaves the bytes until new rows overwrite them. ``VACUUM FULL`` writes each table (and its
  indexes and TOAST) anew with the live rows only and truncates the old files at once. It needs an
  exclusive lock on the table for the time of the rewrite: taken under ``lock_timeout``, and when it is
  not obtained in time (or with ``rewrite=False``) the table gets a plain ``VACUUM`` and the report says
  so. A rewrite also keeps the rows an older snapshot may still see: it first waits for the database's
  transactions that began before it, and says so when one stays open. ``VACUUM`` runs outside a
  transaction, on a connection of its own.

Neither reaches WAL archives or backups: docs/retention.md says what they hold and for how long.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from contracts.errors import StoreUnavailable

__all__ = ["StorageReport", "forget_deleted"]

_ATTEMPTS: Final = 3
_PAUSE_S: Final = 1.0
_WAIT_MS: Final = 2_000
LOCK_TIMEOUT: Final = "15s"
"""How long ``VACUUM FULL`` waits for its table's lock before falling back to a plain ``VACUUM``."""
SNAPSHOT_WAIT_S: Final = 60.0
"""How long a rewrite waits for the database's transactions that began before it (:func:`_vacuum`)."""
_OLDER: Final = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
    "AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL) AND xact_start < %(since)s ORDER BY pid"
)


@dataclass
class StorageReport:
    """What the storage step did.

    Attributes:
        backend: ``sqlite`` or ``postgresql``.
        action: what ran (``wal_checkpoint(TRUNCATE)``, ``VACUUM FULL``, ``VACUUM``, or ``none``).
        complete: whether deleted bytes left renkei's files (SQLite: the WAL was emptied; PostgreSQL: every
            table was rewritten).
        wal_frames_left: SQLite: frames the checkpoint could not take (another reader held the WAL).
        rewritten: PostgreSQL: tables written anew.
        vacuumed: PostgreSQL: tables that only got a plain ``VACUUM``.
        note: what to do when it is not complete.
    """

    backend: str
    action: str = "none"
    complete: bool = True
    wal_frames_left: int = 0
    rewritten: list[str] = field(default_factory=list)
    vacuumed: list[str] = field(default_factory=list)
    note: str = ""

    def as_json(self) -> dict[str, object]:
        """The report for ``--json``."""
        return {
            "backend": self.backend,
            "action": self.action,
            "complete": self.complete,
            "wal_frames_left": self.wal_frames_left,
            "rewritten": self.rewritten,
            "vacuumed": self.vacuumed,
            "note": self.note,
        }


def forget_deleted(engine: Engine, tables: Iterable[str], *, rewrite: bool = True) -> StorageReport:
    """Make the database's files forget deleted rows of ``tables`` (see the module docstring).

    Args:
        engine: the database.
        tables: the tables written to (PostgreSQL rewrites or vacuums these; SQLite checkpoints all).
        rewrite: PostgreSQL: ``VACUUM FULL`` (default) rather than a plain ``VACUUM``.
    """
    backend = engine.dialect.name
    if backend == "sqlite":
        return _checkpoint(engine)
    if backend == "postgresql":
        return _vacuum(engine, sorted(set(tables)), rewrite=rewrite)
    return StorageReport(backend, note="no storage step for this database")


def _checkpoint(engine: Engine) -> StorageReport:
    report = StorageReport("sqlite", action="wal_checkpoint(TRUNCATE)")
    # The raw DB-API connection: a checkpoint must not run inside the transaction SQLAlchemy would begin.
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        (timeout,) = cursor.execute("PRAGMA busy_timeout").fetchone()
        cursor.execute(f"PRAGMA busy_timeout={_WAIT_MS}")  # each attempt waits this long for readers
        for attempt in range(_ATTEMPTS):
            busy, frames, done = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            report.wal_frames_left = max(0, int(frames) - int(done)) if busy else 0
            if not busy:
                break
            if attempt + 1 < _ATTEMPTS:
                time.sleep(_PAUSE_S)
        cursor.execute(f"PRAGMA busy_timeout={int(timeout)}")
        cursor.close()
    finally:
        raw.close()
    if report.wal_frames_left or busy:
        report.complete = False
        report.note = (
            "another process held a read transaction, so the WAL still holds deleted rows: "
            "run `renkei retention run` again when the services are idle"
        )
    return report


def _wait_for_older_snapshots(conn: Connection) -> list[int]:
    """Wait (at most :data:`SNAPSHOT_WAIT_S`) for the database's transactions that began before now.

    ``VACUUM FULL`` copies every row another transaction may still see, so a snapshot older than the
    deletion (a long report, autovacuum's ``ANALYZE``) keeps the deleted rows in the rewritten file, without
    any lock conflict to tell; so does a writing transaction's own id, snapshot or not. A transaction that
    begins later sees the deletion. Returns the server
    processes still holding such a snapshot when the wait ends (empty: none).
    """
    since = conn.exec_driver_sql("SELECT clock_timestamp()").scalar_one()
    deadline = time.monotonic() + SNAPSHOT_WAIT_S
    while True:
        older = [int(pid) for pid in conn.exec_driver_sql(_OLDER, {"since": since}).scalars()]
        if not older or time.monotonic() >= deadline:
            return older
        time.sleep(min(_PAUSE_S / 4, SNAPSHOT_WAIT_S))


def _vacuum(engine: Engine, tables: list[str], *, rewrite: bool) -> StorageReport:
    report = StorageReport("postgresql", action="VACUUM FULL" if rewrite else "VACUUM")
    if not tables:
        return report
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        quote = conn.dialect.identifier_preparer.quote
        conn.exec_driver_sql(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
        older = _wait_for_older_snapshots(conn) if rewrite else []
        for table in tables:
            name = quote(table)
            if rewrite:
                try:
                    conn.exec_driver_sql(f"VACUUM (FULL, ANALYZE) {name}")
                    report.rewritten.append(table)
                    continue
                except (DBAPIError, StoreUnavailable):  # no lock in time (or a deadlock): free the space
                    pass
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {name}")
            report.vacuumed.append(table)
    if older:
        report.complete = False
        report.note = (
            "a transaction older than the deletion was still open (server process "
            f"{', '.join(map(str, older))}): a rewrite keeps the rows it may still see; end it, then run "
            "`renkei retention run` again"
        )
    if report.vacuumed:
        report.complete = False
        report.note = (
            f"{len(report.vacuumed)} table(s) only vacuumed: deleted bytes may stay in their pages until "
            "rewritten; run `renkei retention run` again in a quiet hour"
            if rewrite
            else "plain VACUUM (--no-rewrite): deleted bytes may stay in pages until they are reused"
        )
    return report
