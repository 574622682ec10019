"""Databases for the contract tests: one migrated SQLite file and one PostgreSQL database per session.

Each test gets one connection inside a transaction that is rolled back afterwards: the SQL stores never
commit (the unit of work does), so a test sees exactly what one unit of work would, and migrating once per
session keeps the contract tests fast. The unit of work commits, so its tests get a database of their own
instead (``sqlite_engine``, ``postgres_engine``): a copy of a migrated one, made per test. PostgreSQL
comes from ``RENKEI_TEST_PG_URL`` as in :mod:`tests.vault_fixtures` (skipped without it on a developer
machine, failed under ``CI``).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url

from hub.infra.db.engine import make_engine
from hub.infra.db.migrate import upgrade
from hub.infra.db.scratch import drop_database
from tests import vault_fixtures
from tests._databases import own_database

__all__ = [
    "pg_url",
    "postgres_connection",
    "postgres_database",
    "postgres_engine",
    "sqlite_connection",
    "sqlite_database",
    "sqlite_engine",
]

pg_url = vault_fixtures.pg_url


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One SQLite file for the session, migrated to the newest revision."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('contract') / 'renkei.db'}")
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_database(pg_url: str) -> Iterator[Engine]:
    """One PostgreSQL database for the session, migrated to the newest revision; dropped at the end."""
    name = f"renkei_contract_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(pg_url).set(database=name).render_as_string(hide_password=False))
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        drop_database(admin, name)
        admin.dispose()


def _rolled_back(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            yield conn
        finally:
            transaction.rollback()


@pytest.fixture
def sqlite_connection(sqlite_database: Engine) -> Iterator[Connection]:
    """A connection in a transaction on the session's SQLite file, rolled back after the test."""
    yield from _rolled_back(sqlite_database)


@pytest.fixture
def postgres_connection(postgres_database: Engine) -> Iterator[Connection]:
    """A connection in a transaction on the session's PostgreSQL database, rolled back after the test."""
    yield from _rolled_back(postgres_database)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("contract-template") / "renkei.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return path


@pytest.fixture
def sqlite_engine(_sqlite_template: Path, tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite file of this test's own (a copy of one migrated per session); commits stay in it."""
    path = tmp_path / "renkei.db"
    shutil.copyfile(_sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def _postgres_template(pg_url: str) -> Iterator[str]:
    name = f"renkei_contract_tpl_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(pg_url).set(database=name).render_as_string(hide_password=False))
    try:
        upgrade(engine)
        engine.dispose()  # a template has no connections while it is copied
        yield name
    finally:
        engine.dispose()
        drop_database(admin, name)
        admin.dispose()


@pytest.fixture
def postgres_engine(pg_url: str, _postgres_template: str) -> Iterator[Engine]:
    """A migrated PostgreSQL database of this test's own (copied from a template); dropped afterwards."""
    with own_database(pg_url, "renkei_contract", template=_postgres_template) as engine:
        yield engine
