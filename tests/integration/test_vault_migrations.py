"""Alembic migrations: they run to head on SQLite and PostgreSQL and agree with the tables in code."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, Table

from hub.infra.db.migrate import current_revision, head_revision, schema_drift, upgrade
from hub.infra.db.tables import messaging as messaging_tables
from hub.infra.db.tables import vault as vault_tables
from hub.infra.db.tables.schema import TABLE_MODULES
from tests import vault_fixtures as fx

pg_url = fx.pg_url
postgres_engine = fx.postgres_engine
sqlite_engine = fx.sqlite_engine

FIRST_REVISION_TABLES = {
    t.name
    for module in (messaging_tables, vault_tables)
    for t in vars(module).values()
    if isinstance(t, Table)
}


def _table_of(diff: Any) -> str:
    """The table a diff from ``compare_metadata`` is about."""
    if isinstance(diff, list):  # column changes come as a list of tuples
        return _table_of(diff[0])
    kind, *rest = diff
    if kind in {"add_table", "remove_table"}:
        return str(rest[0].name)
    if kind in {"add_index", "remove_index"}:
        return str(rest[0].table.name)
    if kind in {"add_constraint", "remove_constraint"}:
        return str(rest[0].table.name)
    if kind in {"add_fk", "remove_fk"}:
        return str(rest[0].parent.name)
    return str(rest[1])  # add_column / remove_column: (schema, table, column)


class MigrationContract:
    @pytest.fixture
    def engine(self) -> Engine:
        raise NotImplementedError

    def test_the_database_is_at_the_newest_revision_and_upgrading_again_is_harmless(
        self, engine: Engine
    ) -> None:
        assert current_revision(engine) == head_revision()
        upgrade(engine)
        assert current_revision(engine) == head_revision()

    def test_the_messaging_and_vault_tables_match_their_migration(self, engine: Engine) -> None:
        assert {
            "subjects",
            "subject_keys",
            "numbers",
            "usage_numbers",
            "tokens",
            "deletion_log",
        } <= FIRST_REVISION_TABLES
        drift = [d for d in schema_drift(engine) if _table_of(d) in FIRST_REVISION_TABLES]
        assert drift == []

    def test_every_table_in_code_has_a_migration_like_alembic_check(self, engine: Engine) -> None:
        # Fails when a table module in hub.infra.db.tables.schema has no revision yet: write one.
        assert len(TABLE_MODULES) >= 3
        drift = schema_drift(engine)
        assert drift == [], sorted({_table_of(d) for d in drift})


class TestSqliteMigrations(MigrationContract):
    @pytest.fixture
    def engine(self, sqlite_engine: Engine) -> Engine:
        return sqlite_engine


@pytest.mark.postgres
class TestPostgresMigrations(MigrationContract):
    @pytest.fixture
    def engine(self, postgres_engine: Engine) -> Engine:
        return postgres_engine
