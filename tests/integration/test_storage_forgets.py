"""The disk forgets: SQLite zeroes deleted rows and empties its WAL; PostgreSQL rewrites the tables.

Each test first shows the leftover the storage step exists for (with the step left out), then that the step
removes it: a marker deleted from a table must not be readable in the database's files afterwards.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from hub.infra.db.engine import make_engine
from hub.infra.db.scratch import drop_database
from hub.infra.db.storage import forget_deleted
from tests._availability import unavailable

MARKER = b"FORENSIC-MARKER-"


def _value(i: int) -> bytes:
    return MARKER + b"%06d" % i + b"x" * 80


def _fill(conn, rows: int = 200) -> None:
    conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)"))
    for i in range(rows):
        conn.execute(
            text("INSERT INTO t (id, v) VALUES (:i, :v)"), {"i": i, "v": MARKER + b"%06d" % i + b"x" * 80}
        )


def _markers(*paths: Path) -> int:
    return sum(p.read_bytes().count(MARKER) for p in paths if p.exists())


def test_sqlite_connections_zero_what_they_delete(tmp_path: Path) -> None:
    db = tmp_path / "plain.db"
    plain = sqlite3.connect(db, isolation_level=None)  # what a build without secure_delete by default does
    plain.execute("PRAGMA secure_delete=0")
    plain.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)")
    plain.executemany("INSERT INTO t VALUES (?, ?)", [(i, MARKER + b"%06d" % i) for i in range(200)])
    plain.execute("DELETE FROM t")
    plain.close()
    assert _markers(db) > 0, "without secure_delete, deleted rows stay in the file"

    engine = make_engine(f"sqlite:///{tmp_path / 'renkei.db'}")
    try:
        with engine.begin() as conn:
            assert conn.exec_driver_sql("PRAGMA secure_delete").scalar_one() == 1
            _fill(conn)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM t WHERE id % 2 = 0"))
        report = forget_deleted(engine, ["t"])
        assert report.complete
        assert report.action == "wal_checkpoint(TRUNCATE)"
        assert (tmp_path / "renkei.db-wal").stat().st_size == 0
        assert _markers(tmp_path / "renkei.db") == 100  # the odd rows only
    finally:
        engine.dispose()


def test_sqlite_says_when_a_reader_keeps_the_wal(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'renkei.db'}")
    reader = None
    try:
        with engine.begin() as conn:
            _fill(conn)
        reader = sqlite3.connect(tmp_path / "renkei.db", isolation_level=None)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM t").fetchone()  # a read transaction on the current snapshot
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM t"))
        busy = forget_deleted(engine, ["t"])
        assert not busy.complete
        assert busy.wal_frames_left > 0
        assert "run `renkei retention run` again" in busy.note
        reader.execute("COMMIT")
        done = forget_deleted(engine, ["t"])
        assert done.complete
        assert _markers(tmp_path / "renkei.db", tmp_path / "renkei.db-wal") == 0
    finally:
        if reader is not None:
            reader.close()
        engine.dispose()


@pytest.fixture
def pg_engine() -> Iterator[tuple[Engine, Path | None]]:
    admin_url = os.environ.get("RENKEI_TEST_PG_URL", "")
    if not admin_url:
        unavailable("RENKEI_TEST_PG_URL is not set", tests="PostgreSQL tests")
    name = f"renkei_storage_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(admin_url).set(database=name).render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            major = (
                int(conn.execute(text("SELECT current_setting('server_version_num')")).scalar_one()) // 10_000
            )
        root = Path(os.environ.get("RENKEI_TEST_PG_DATA_DIR", f"/var/lib/postgresql/{major}/main"))
        yield engine, root if os.access(root, os.R_OK | os.X_OK) else None
    finally:
        engine.dispose()
        drop_database(admin, name)
        admin.dispose()


def _relation_file(engine: Engine, root: Path) -> Path:
    with engine.connect() as conn:
        relative: str = conn.execute(text("SELECT pg_relation_filepath('t')")).scalar_one()
        return root / relative


def test_postgresql_rewrites_the_tables_so_deleted_rows_leave_the_files(pg_engine) -> None:
    engine, root = pg_engine
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v BYTEA)"))
        for i in range(300):
            conn.execute(
                text("INSERT INTO t VALUES (:i, :v)"), {"i": i, "v": MARKER + b"%06d" % i + b"x" * 80}
            )
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM t WHERE id % 3 = 0"))
    plain = forget_deleted(engine, ["t"], rewrite=False)
    assert (plain.vacuumed, plain.rewritten, plain.complete) == (["t"], [], False)
    report = forget_deleted(engine, ["t"])
    assert (report.rewritten, report.vacuumed, report.complete) == (["t"], [], True)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 200
        dead = conn.execute(text("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 't'")).scalar()
    assert not dead
    if root is None:
        pytest.skip("the server's data directory is not readable here: the files themselves are not checked")
    # A rewrite writes the new file at once: it holds exactly the live rows.
    assert _markers(_relation_file(engine, root)) == 200


def test_postgresql_falls_back_to_vacuum_when_the_lock_does_not_come(pg_engine, monkeypatch) -> None:
    engine, _ = pg_engine
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
    monkeypatch.setattr("hub.infra.db.storage.LOCK_TIMEOUT", "100ms")
    blocker = engine.connect()
    try:
        blocker.begin()
        blocker.execute(text("SELECT count(*) FROM t"))  # an ACCESS SHARE lock held by an open transaction
        report = forget_deleted(engine, ["t"])
    finally:
        blocker.rollback()
        blocker.close()
    assert (report.rewritten, report.vacuumed, report.complete) == ([], ["t"], False)
    assert "only vacuumed" in report.note


def test_postgresql_waits_for_an_older_snapshot_and_says_when_it_stays(pg_engine, monkeypatch) -> None:
    # VACUUM FULL copies the rows another transaction may still see: a snapshot older than the deletion (a
    # long report, autovacuum's ANALYZE) keeps the deleted rows in the new file, with no lock conflict at all.
    engine, root = pg_engine
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE other (id INTEGER PRIMARY KEY)"))
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v BYTEA)"))
        for i in range(300):
            conn.execute(text("INSERT INTO t VALUES (:i, :v)"), {"i": i, "v": _value(i)})
    monkeypatch.setattr("hub.infra.db.storage.SNAPSHOT_WAIT_S", 0.5)
    reader = engine.connect().execution_options(isolation_level="REPEATABLE READ")
    try:
        reader.begin()
        reader.execute(text("SELECT count(*) FROM other"))  # a snapshot, and no lock on t
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM t WHERE id % 3 = 0"))
        held = forget_deleted(engine, ["t"])
    finally:
        reader.rollback()
        reader.close()
    assert (held.rewritten, held.complete) == (["t"], False)
    assert "older than the deletion" in held.note
    if root is not None:
        assert _markers(_relation_file(engine, root)) == 300, "the rewrite kept the rows the snapshot sees"

    report = forget_deleted(engine, ["t"])
    assert (report.rewritten, report.complete, report.note) == (["t"], True, "")
    if root is None:
        pytest.skip("the server's data directory is not readable here: the files themselves are not checked")
    assert _markers(_relation_file(engine, root)) == 200
