"""insert_rows stores exactly what SQLAlchemy's executemany stores, faster (SQLite)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Column, Date, DateTime, Integer, MetaData, String, Table, insert, select
from sqlalchemy.exc import IntegrityError

from hub.infra.db.bulk import insert_rows
from hub.infra.db.engine import make_engine

meta = MetaData()
things = Table(
    "things",
    meta,
    Column("id", Integer, primary_key=True),
    Column("name", String(20), nullable=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("day", Date, nullable=True),
)


def rows(offset: int):
    at = datetime(2026, 11, 26, 9, 14, 45, 208064, tzinfo=UTC)
    return [
        # keys in another order than the table's: the statement's order is the table's
        {
            "at": at,
            "day": date(2026, 12, 1) if j % 2 else None,
            "name": f"n{j}" if j % 3 else None,
            "id": offset + j,
        }
        for j in range(7)
    ]


def test_the_same_values_as_sqlalchemy_and_duplicates_skipped(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'bulk.db'}")
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(things), rows(0))
        insert_rows(conn, things, rows(100))
        insert_rows(conn, things, rows(100), ignore_duplicates=True)  # all there already: no error
        raw = conn.exec_driver_sql("SELECT id, name, at, day FROM things ORDER BY id").all()
        typed = conn.execute(select(things).order_by(things.c.id)).all()
    by_id = {r[0]: r[1:] for r in raw}
    assert [by_id[i] for i in range(7)] == [by_id[i + 100] for i in range(7)]
    assert [r[1:] for r in typed[:7]] == [r[1:] for r in typed[7:]]
    engine.dispose()


def test_a_column_the_table_lacks_is_refused(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'bulk.db'}")
    meta.create_all(engine)
    with engine.begin() as conn, pytest.raises(ValueError, match="nope"):
        insert_rows(conn, things, [{"id": 1, "at": datetime.now(UTC), "nope": 1}])
    engine.dispose()


def test_each_call_gets_the_statement_of_its_own_columns_and_conflict_rule(tmp_path):
    # The compiled statement is kept per dialect, table, columns and conflict rule: a later call with
    # other columns, or without ignoring duplicates, must not reuse an earlier call's statement.
    engine = make_engine(f"sqlite:///{tmp_path / 'bulk.db'}")
    meta.create_all(engine)
    at = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    with engine.begin() as conn:
        insert_rows(conn, things, [{"id": 1, "at": at}], ignore_duplicates=True)
        insert_rows(conn, things, [{"id": 2, "at": at, "name": "two"}], ignore_duplicates=True)
        insert_rows(conn, things, [{"id": 3, "at": at, "day": date(2026, 12, 8)}])
        insert_rows(conn, things, [{"id": 1, "at": at, "name": "again"}], ignore_duplicates=True)
        stored = conn.execute(select(things.c.id, things.c.name, things.c.day).order_by(things.c.id)).all()
    assert [tuple(r) for r in stored] == [(1, None, None), (2, "two", None), (3, None, date(2026, 12, 8))]
    with engine.begin() as conn, pytest.raises(IntegrityError):
        insert_rows(
            conn, things, [{"id": 3, "at": at, "day": None}]
        )  # the same columns, duplicates not ignored
    engine.dispose()
