"""Running the hub's Alembic migrations from code, and checking that they match the tables in code.

``upgrade(engine_or_url)`` brings a database to the newest revision; the hub runs it at start-up
(idempotent: an up-to-date database is left as it is). ``schema_drift`` lists what differs between the
tables declared in code and a migrated database, like ``alembic check``.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from contracts.errors import StoreUnavailable
from hub.infra.db.engine import make_engine
from hub.infra.db.tables.schema import metadata

__all__ = ["alembic_config", "current_revision", "head_revision", "schema_drift", "upgrade"]


def alembic_config() -> Config:
    """The Alembic configuration shipped inside the package (no URL in it)."""
    ini = resources.files("hub.infra.db.migrations").joinpath("alembic.ini")
    config = Config(str(ini))
    config.set_main_option("script_location", "hub.infra.db:migrations")
    return config


def _engine(engine_or_url: Engine | str) -> tuple[Engine, bool]:
    if isinstance(engine_or_url, Engine):
        return engine_or_url, False
    return make_engine(engine_or_url), True


def upgrade(engine_or_url: Engine | str, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (default: the newest).

    Raises:
        StoreUnavailable: the database cannot be reached.
    """
    engine, owned = _engine(engine_or_url)
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except DBAPIError as exc:
        raise StoreUnavailable("the database could not be migrated; is it reachable?") from exc
    finally:
        if owned:
            engine.dispose()


def head_revision() -> str | None:
    """The newest revision of the migrations."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None`` before the first migration)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def schema_drift(engine: Engine) -> list[Any]:
    """What differs between the tables in code and the database (empty when they agree).

    The same comparison as ``alembic check``: each item is an Alembic diff tuple such as
    ``("add_table", Table)`` or ``("add_column", schema, table, Column)``.
    """
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))
