"""Engine creation with the pragmas each backend needs, and what the CLI and the console use of a database.

The CLI and the console hold an :class:`Engine` (or one of its connections) only to hand it to the stores and
queries of ``hub.infra``; they never write SQL nor import SQLAlchemy (an import-linter contract). What they
catch when the database fails is :data:`DATABASE_FAILURES`; what they ask to see that it answers is
:func:`ping`.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from contracts.errors import StoreUnavailable
from hub.infra.db.unavailable import translate_passing_failures

__all__ = ["DATABASE_FAILURES", "Connection", "Engine", "make_engine", "ping"]

DATABASE_FAILURES: Final = (SQLAlchemyError, StoreUnavailable)
"""What a failing database raises: SQLAlchemy's errors, and :class:`StoreUnavailable` for one that passes."""


def ping(conn: Connection) -> None:
    """Ask the database to answer (``SELECT 1``); raises one of :data:`DATABASE_FAILURES` if it does not."""
    conn.execute(text("SELECT 1"))


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url``.

    SQLite runs in WAL mode with a busy timeout, so that several processes (hub, adapters, console) can
    share the embedded file; its directory is created with owner-only permissions and the file itself
    owner-only (0600; SQLite gives its ``-wal`` and ``-shm`` files the database file's permissions). Every
    connection sets ``secure_delete``: SQLite then overwrites deleted rows with zeros in the file and the WAL
    instead of leaving them in free space (some builds default to it, renkei does not rely on that). A
    failure that passes (a lost connection, a lock held too long) raises
    :class:`~contracts.errors.StoreUnavailable` (:mod:`hub.infra.db.unavailable`).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_file(Path(parsed.database))
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the sqlite3 module, run transactions, so SAVEPOINT works.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # Deleted rows are overwritten with zeros (in the file and, until a checkpoint, in the WAL's new
            # frames), so that an erasure leaves no bytes behind (docs/retention.md).
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            # 32 MiB of page cache per connection instead of 2 MB: the vault's and the access record's
            # indexes are probed and extended at random keys (tokens, blind indexes), so a bulk inquiry
            # touches far more pages than the default keeps.
            cursor.execute("PRAGMA cache_size=-32768")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            # Take the write lock up front: a deferred transaction that reads, then writes, fails with
            # "database is locked" when another process committed in between.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    else:
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
    translate_passing_failures(engine)
    return engine


def _private_file(path: Path) -> None:
    """Create the database file owner-only before SQLite does (SQLite would follow the umask).

    A file of this user left open to others by an earlier version (and its ``-wal`` and ``-shm``) is made
    owner-only: it is renkei's own file, unlike the directory it is in.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for existing in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            with contextlib.suppress(OSError):  # missing, or another user's: SQLite says what is wrong
                if existing.stat().st_mode & 0o077 and existing.stat().st_uid == os.getuid():
                    existing.chmod(0o600)
        return
    os.close(fd)
