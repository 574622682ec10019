"""Property: any single-character change to any stored field of the access record is caught.

One database is sealed per backend (two chains, subjects, a 情報提供等記録, two checkpoints). Each example
picks a stored value (every column of every row of every protected table), changes one character of it as
stored (SQLite keeps timestamps as text, so the raw text is changed), runs the verifier on the same
connection and rolls back. Changes the database refuses (an invalid timestamp on PostgreSQL, a duplicate
key) or that leave the stored value equal (the same instant written differently) are not tampering and are
discarded. ``audit_coverage`` is excluded on purpose: it only schedules checkpoints and is never trusted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Connection, Engine, String, Table, select, text, type_coerce
from sqlalchemy.exc import DBAPIError

from hub.infra.audit.checkpoint import write_checkpoint
from hub.infra.audit.provision import SqlProvisionLog
from hub.infra.audit.sql import ChainWriter, SqlAuditLog
from hub.infra.audit.verify import verify
from hub.infra.crypto.signing import Ed25519Signer
from hub.infra.db.tables.audit import (
    access_record_subjects,
    access_records,
    audit_chains,
    audit_checkpoints,
    provision_records,
)
from tests.integration.test_audit_fixtures import backend_engine, make_record, reset_tables
from tests.integration.test_audit_store import provision

PROTECTED: tuple[Table, ...] = (
    audit_chains,
    access_records,
    access_record_subjects,
    audit_checkpoints,
    provision_records,
)
INDEXES = st.integers(min_value=0, max_value=10_000)  # which stored value (modulo their number)
POSITIONS = st.integers(min_value=0, max_value=400)  # which character (modulo the value's length)
REPLACEMENTS = st.sampled_from("0123456789abcdefABCDEF-_:. ZTx{}[]\",'/+あ生存確認年金")


@dataclass(frozen=True, eq=False)
class Cell:
    """One stored value: its table, the row's primary key, the column and the value as stored."""

    table: Table
    key: dict[str, Any]
    column: Column[Any]
    stored: Any


class Sealed:
    """The sealed database of one backend, with every stored value in it.

    Not a dataclass: Hypothesis prints a failing example's fixtures, and would print every field of one.
    """

    def __init__(self, engine: Engine, signer: Ed25519Signer, cells: list[Cell]) -> None:
        self.engine, self.signer, self.cells = engine, signer, cells

    def __repr__(self) -> str:
        return f"Sealed({self.engine.dialect.name}, {len(self.cells)} stored values)"


def _raw(column: Column[Any]) -> Any:
    # Dates and times as stored (SQLite text) rather than parsed.
    kind = type(column.type).__name__
    return type_coerce(column, String).label(column.name) if kind in {"DateTime", "Date"} else column


def stored_cells(conn: Connection) -> list[Cell]:
    cells = []
    for table in PROTECTED:
        pk = [c.name for c in table.primary_key.columns]
        query = select(*[_raw(c) for c in table.columns]).order_by(*table.primary_key.columns)
        for row in conn.execute(query).mappings():
            for column in table.columns:
                if row[column.name] is not None and row[column.name] != "":
                    cells.append(Cell(table, {k: row[k] for k in pk}, column, row[column.name]))
    return cells


def _as_text(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def tamper(conn: Connection, cell: Cell, position: int, replacement: str) -> bool:
    """Change one character of ``cell`` as stored; False when it is no real change or refused."""
    if isinstance(cell.stored, bool):
        new: Any = not cell.stored
    else:
        old = _as_text(cell.stored)
        i = position % len(old)
        if old[i] == replacement:
            return False
        new = old[:i] + replacement + old[i + 1 :]
    dialect = conn.dialect
    target = f"CAST(:new AS {cell.column.type.compile(dialect)})" if dialect.name == "postgresql" else ":new"
    where = " AND ".join(f"{k} = :k_{k}" for k in cell.key)
    params = {"new": new, **{f"k_{k}": v for k, v in cell.key.items()}}
    moved = dict(cell.key)
    if cell.column.name in cell.key:
        is_int = isinstance(cell.stored, int) and new.lstrip("-").isdigit()
        moved[cell.column.name] = int(new) if is_int else new
    try:
        with conn.begin_nested():
            conn.execute(
                text(f"UPDATE {cell.table.name} SET {cell.column.name} = {target} WHERE {where}"), params
            )
            where_after = " AND ".join(f"{k} = :k_{k}" for k in moved)
            stmt = select(_raw(cell.column)).select_from(cell.table).where(text(where_after))
            after = conn.execute(stmt, {f"k_{k}": v for k, v in moved.items()}).scalar_one()
    except DBAPIError:
        return False  # the database refused the value: not a stored change
    return bool(after != cell.stored)


class AuditPropertyContract:
    backend: ClassVar[str]
    examples: ClassVar[int]

    @pytest.fixture(scope="class")
    @classmethod
    def sealed(cls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sealed]:
        signer = Ed25519Signer.generate()
        with backend_engine(cls.backend, tmp_path_factory.mktemp("audit")) as engine:
            reset_tables(engine)
            a, b = ChainWriter("writer a", chain_id="chain-a"), ChainWriter("writer b", chain_id="chain-b")
            with engine.begin() as conn:
                SqlAuditLog(conn, a).append([make_record(i) for i in range(3)])
                SqlAuditLog(conn, b).append([make_record(i) for i in range(3, 5)])
                write_checkpoint(conn, signer)
            with engine.begin() as conn:
                SqlAuditLog(conn, a).append([make_record(i) for i in range(5, 7)])
                SqlProvisionLog(conn, b).record([(provision(1), make_record(7))])
                write_checkpoint(conn, signer)
            with engine.connect() as conn, conn.begin():
                report = verify(conn, signer.public_key)
                assert report.ok, report.problems
                cells = stored_cells(conn)
            yield Sealed(engine, signer, cells)

    def check_single_change_is_caught(
        self, sealed: Sealed, index: int, position: int, replacement: str
    ) -> None:
        engine, signer, cells = sealed.engine, sealed.signer, sealed.cells
        cell = cells[index % len(cells)]
        with engine.connect() as conn:
            tx = conn.begin()
            try:
                assume(tamper(conn, cell, position, replacement))
                report = verify(conn, signer.public_key)
                assert not report.ok, f"{cell.table.name}.{cell.column.name} of {cell.key} changed unnoticed"
            finally:
                tx.rollback()

    def test_every_stored_field_is_covered(self, sealed: Sealed) -> None:
        covered = {(c.table.name, c.column.name) for c in sealed.cells}
        assert covered == {(t.name, c.name) for t in PROTECTED for c in t.columns}


class TestSqliteProperty(AuditPropertyContract):
    backend = "sqlite"

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(index=INDEXES, position=POSITIONS, replacement=REPLACEMENTS)
    def test_any_single_change_is_caught(
        self, sealed: Sealed, index: int, position: int, replacement: str
    ) -> None:
        self.check_single_change_is_caught(sealed, index, position, replacement)


@pytest.mark.postgres
class TestPostgresProperty(AuditPropertyContract):
    backend = "postgresql"

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(index=INDEXES, position=POSITIONS, replacement=REPLACEMENTS)
    def test_any_single_change_is_caught(
        self, sealed: Sealed, index: int, position: int, replacement: str
    ) -> None:
        self.check_single_change_is_caught(sealed, index, position, replacement)
