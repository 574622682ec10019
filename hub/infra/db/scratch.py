"""A scratch PostgreSQL database for one run of something (the benchmark), created and dropped whole.

Given a server URL (any database on it that the role can connect to, and a role that may create
databases), :func:`scratch_database` creates ``<prefix>_<random letters>``, yields its URL and drops it
afterwards, so that a measurement never touches a database that holds anything else.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from contracts.errors import ConfigurationError, StoreUnavailable
from contracts.ids import random_letters

__all__ = ["drop_database", "scratch_database"]

_DROP_ATTEMPTS: Final = 10


@contextmanager
def scratch_database(server_url: str, prefix: str, *, template: str | None = None) -> Iterator[str]:
    """Create a fresh database on the server of ``server_url``; yield its URL; drop it afterwards.

    ``template``: the database it is a copy of (PostgreSQL's ``CREATE DATABASE ... TEMPLATE``); empty by
    default.

    Raises:
        ConfigurationError: ``server_url`` is not a PostgreSQL URL.
        StoreUnavailable: the server cannot be reached, or the role may not create databases.
    """
    url = make_url(server_url)
    if url.get_backend_name() != "postgresql":
        raise ConfigurationError(
            "a scratch database needs a PostgreSQL server URL (postgresql+psycopg://...)"
        )
    name = f"{prefix}_{random_letters(8).lower()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            copy = "" if template is None else f' TEMPLATE "{template}"'  # names of ours: letters, digits, _
            conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    except SQLAlchemyError as exc:
        admin.dispose()
        raise StoreUnavailable(
            f"could not create a scratch database on {url.host}: {type(exc).__name__}"
        ) from exc
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        try:
            drop_database(admin, name)
        finally:
            admin.dispose()


def drop_database(admin: Engine | str, name: str) -> None:
    """Drop the database ``name`` (its sessions are ended first), trying again while PostgreSQL refuses.

    ``admin`` is an engine on another database of the server, or its URL (``postgresql://`` URLs are read
    as psycopg's). Used by the benchmark and by every test that makes a database of its own.

    Raises:
        StoreUnavailable: it still could not be dropped after a few attempts.
    """
    if isinstance(admin, str):
        url = make_url(admin)
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            drop_database(engine, name)
        finally:
            engine.dispose()
        return
    # FORCE ends the role's own sessions, but not an autovacuum worker that a bulk load woke up on the new
    # database (ending it needs the superuser's rights: "must be a member of the role whose process is being
    # terminated"): such a worker gives way within moments, so try a few times.
    for attempt in range(_DROP_ATTEMPTS):  # bounded
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        except SQLAlchemyError:
            if attempt == _DROP_ATTEMPTS - 1:
                raise StoreUnavailable(
                    f"the scratch database {name} could not be dropped; drop it by hand"
                ) from None
            time.sleep(1.0)
        else:
            return
