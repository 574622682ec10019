"""Fixtures of the vault tests: a fresh database per test (SQLite file or PostgreSQL database), keys, data.

PostgreSQL comes from ``RENKEI_TEST_PG_URL`` (a role that may create databases); each test gets its own
database, migrated to the newest revision and dropped afterwards. When the variable is unset or nobody
answers, PostgreSQL tests are skipped on a developer machine and fail under ``CI``. The migrations run once
per session (per xdist worker) into a template; each test's database, or SQLite file, is a copy of it.

Import the fixtures you use into the test module (``from tests.vault_fixtures import ...``).
"""

from __future__ import annotations

import os
import random
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from contracts.individual_number import IndividualNumber, synthetic_individual_number
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.infra.db.engine import make_engine
from hub.infra.db.migrate import upgrade
from hub.infra.db.scratch import drop_database
from hub.infra.keys.keyring import Keyring, generate_keyring
from tests._availability import unavailable
from tests._databases import own_database

__all__ = [
    "StatementCounter",
    "count_statements",
    "keyring",
    "people",
    "pg_url",
    "postgres_engine",
    "sqlite_engine",
]


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The PostgreSQL server's URL (a database the test role can connect to, to create others)."""
    url = os.environ.get("RENKEI_TEST_PG_URL", "")
    if not url:
        unavailable("RENKEI_TEST_PG_URL is not set", tests="PostgreSQL tests")
    admin = create_engine(url)
    try:
        with admin.connect():
            pass
    except OperationalError:
        unavailable("no PostgreSQL server answers at RENKEI_TEST_PG_URL", tests="PostgreSQL tests")
    finally:
        admin.dispose()
    return url


_templates: dict[str, str] = {}
"""This process's migrated templates: a PostgreSQL server's URL, or ``"sqlite"``, to a database or a file."""


def _postgres_template(pg_url: str, config: pytest.Config) -> str:
    """A database on ``pg_url``'s server migrated to the newest revision, made once per session."""
    name = _templates.get(pg_url)
    if name is None:
        name = f"renkei_vault_tpl_{uuid.uuid4().hex[:12]}"
        admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))

        def drop() -> None:
            drop_database(admin, name)
            admin.dispose()

        config.add_cleanup(drop)
        engine = make_engine(make_url(pg_url).set(database=name).render_as_string(hide_password=False))
        try:
            upgrade(engine)
        finally:
            engine.dispose()  # a template has no connections while it is copied
        _templates[pg_url] = name
    return name


def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the newest revision, made once per session."""
    path = _templates.get("sqlite")
    if path is None:
        path = str(tmp_path_factory.mktemp("vault-template") / "vault.db")
        engine = make_engine(f"sqlite:///{path}")
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        _templates["sqlite"] = path
    return Path(path)


@pytest.fixture
def postgres_engine(pg_url: str, pytestconfig: pytest.Config) -> Iterator[Engine]:
    """A PostgreSQL database of this test's own, migrated to the newest revision (a copy of the session's
    template); dropped after the test."""
    with own_database(pg_url, "renkei_vault", template=_postgres_template(pg_url, pytestconfig)) as engine:
        yield engine


@pytest.fixture
def sqlite_engine(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A SQLite file of this test's own, migrated to the newest revision (a copy of the session's
    template)."""
    path = tmp_path / "vault.db"
    shutil.copyfile(_sqlite_template(tmp_path_factory), path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def keyring() -> Keyring:
    """A fresh in-memory keyring."""
    return generate_keyring()


@pytest.fixture
def people() -> Callable[[int], list[tuple[UsageNumber, IndividualNumber]]]:
    """Make ``n`` synthetic people (basic pension number, number); numbers are distinct."""
    rng = random.Random(20_261_126)
    counter = iter(range(10**9))

    def make(n: int) -> list[tuple[UsageNumber, IndividualNumber]]:
        made: list[tuple[UsageNumber, IndividualNumber]] = []
        seen: set[IndividualNumber] = set()
        while len(made) < n:
            number = synthetic_individual_number(rng)
            if number in seen:
                continue
            seen.add(number)
            made.append(
                (UsageNumber(kind=UsageNumberKind.BASIC_PENSION, value=f"{next(counter):010d}"), number)
            )
        return made

    return make


@dataclass
class StatementCounter:
    """Counts statements sent to the database (an executemany counts once per batch it sends)."""

    statements: list[str] = field(default_factory=list)

    def reset(self) -> None:
        """Forget what was counted."""
        self.statements.clear()

    @property
    def count(self) -> int:
        """Statements counted."""
        return len(self.statements)


@pytest.fixture
def count_statements() -> Iterator[Callable[[Engine], StatementCounter]]:
    """Attach a :class:`StatementCounter` to an engine (detached after the test)."""
    attached: list[tuple[Engine, Callable[..., None]]] = []

    def attach(engine: Engine) -> StatementCounter:
        counter = StatementCounter()

        def listener(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
            counter.statements.append(statement)

        event.listen(engine, "before_cursor_execute", listener)
        attached.append((engine, listener))
        return counter

    yield attach
    for engine, listener in attached:
        event.remove(engine, "before_cursor_execute", listener)
