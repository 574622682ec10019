"""Bulk inserts without SQLAlchemy's per-row work: one compiled statement, rows as driver tuples.

``conn.execute(insert(table), rows)`` with a list of dicts runs SQLAlchemy's parameter processing for
every row (key lookups, defaults, type processors, through several Python layers) before the driver's
``executemany``. For the bulk writes of a survival chunk (a token per person and scope, an access-record
subject row per person and record) that was a tenth of the hub's time. Here the statement is compiled
once for the dialect, each column's bind processor is looked up once, and the rows go to the driver as
tuples: the same SQL, the same stored values, a fraction of the Python.

Only for plain inserts of columns the caller gives in every row (no server defaults to fill in, no
``RETURNING``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, Table, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

__all__ = ["insert_rows"]

_CHUNK = 5_000  # rows per executemany: bounds the tuples built at once


def _statement(dialect: str, table: Table, ignore_duplicates: bool) -> Any:
    if ignore_duplicates and dialect == "postgresql":
        return pg_insert(table).on_conflict_do_nothing()
    if ignore_duplicates and dialect == "sqlite":
        return sqlite_insert(table).on_conflict_do_nothing()
    return insert(table)


@functools.lru_cache(maxsize=256)
def _compiled(
    dialect: Dialect, table: Table, ignore_duplicates: bool, columns: tuple[str, ...]
) -> tuple[str, tuple[Callable[[Any], Any] | None, ...]]:
    """The statement's SQL and each column's bind processor, made once per dialect, table and columns.

    The hub inserts a few rows per message (a token, a message's actor): compiling the statement each
    time was about a tenth of its time on single-person requests (py-spy, ``renkei bench --phase hub``).
    """
    sql = str(
        _statement(dialect.name, table, ignore_duplicates).compile(dialect=dialect, column_keys=list(columns))
    )
    processors = tuple(table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns)
    return sql, processors


def insert_rows(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    ignore_duplicates: bool = False,
) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` on ``conn``, in its transaction.

    Args:
        conn: the connection; the fast path is for drivers with positional ``?`` parameters (sqlite3).
        table: the table.
        rows: the rows; each has exactly the keys of the first.
        ignore_duplicates: skip rows whose key exists (``ON CONFLICT DO NOTHING``).

    Raises:
        sqlalchemy.exc.DBAPIError: as ``conn.execute`` would.
    """
    if not rows:
        return
    given = set(rows[0])
    columns = [c.name for c in table.columns if c.name in given]  # the compiled statement's order
    if len(columns) != len(given):
        raise ValueError(f"{table.name} has no column(s) {sorted(given - set(columns))}")
    if conn.dialect.paramstyle != "qmark":
        # psycopg takes named parameters: let SQLAlchemy bind them (PostgreSQL's big writes use COPY).
        conn.execute(_statement(conn.dialect.name, table, ignore_duplicates), list(rows))
        return
    sql, processors = _compiled(conn.dialect, table, ignore_duplicates, tuple(columns))
    plain = all(p is None for p in processors)
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        if plain:
            params = [tuple(row[c] for c in columns) for row in chunk]
        else:
            params = [
                tuple(
                    value if (p := processors[i]) is None or value is None else p(value)
                    for i, value in enumerate(row[c] for c in columns)
                )
                for row in chunk
            ]
        conn.exec_driver_sql(sql, params)
