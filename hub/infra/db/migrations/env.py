"""Alembic environment of the hub: the whole schema, on a connection passed in code or the settings' URL.

:func:`hub.infra.db.migrate.upgrade` passes an open connection in ``config.attributes["connection"]``; the
``alembic`` command line has none, and then the URL comes from the settings (``RENKEI_DB_URL`` or the
embedded SQLite file). SQLite runs in batch mode, so that later revisions can alter tables there.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from hub.infra.db.engine import make_engine
from hub.infra.db.tables.schema import metadata
from hub.settings import Settings

config = context.config
target_metadata = metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Write the SQL of the migrations instead of running them (``alembic upgrade --sql``)."""
    url = config.get_main_option("sqlalchemy.url") or Settings().database_url
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the connection given in code, or on the settings' database."""
    given = config.attributes.get("connection")
    if isinstance(given, Connection):
        _run(given)
        return
    url = config.get_main_option("sqlalchemy.url") or Settings().database_url
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
