"""Fixtures of the vault tests: a fresh database per test (SQLite file or PostgreSQL database), keys, data.

PostgreSQL comes from ``RENKEI_TEST_PG_URL`` (a role that may create databases); each test gets its own
database, migrated to the newest revision and dropped afterwards. When the variable is unset or nobody
answers, PostgreSQL tests are skipped on a developer machine and fail under ``CI``.

Import the fixtures you use into the test module (``from tests.vault_fixtures import ...``).
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError

from contracts.individual_number import IndividualNumber, synthetic_individual_number
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.infra.db.engine import make_engine
from hub.infra.db.migrate import upgrade
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


@pytest.fixture
def postgres_engine(pg_url: str) -> Iterator[Engine]:
    """A fresh PostgreSQL database, migrated to the newest revision; dropped after the test."""
    with own_database(pg_url, "renkei_vault") as engine:
        upgrade(engine)
        yield engine


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A fresh SQLite file, migrated to the newest revision."""
    engine = make_engine(f"sqlite:///{tmp_path / 'vault.db'}")
    try:
        upgrade(engine)
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
