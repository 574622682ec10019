"""``renkei db``: the database schema."""

from __future__ import annotations

import typer
from rich.console import Console

from hub.bootstrap.common import open_database
from hub.bootstrap.prepare import prepare_database
from hub.settings import Settings

app = typer.Typer(help="Database schema (Alembic migrations).")


@app.command("upgrade")
def upgrade_cmd() -> None:
    """Migrate the database to the newest schema (idempotent)."""
    settings = Settings()
    engine = open_database(settings)
    try:
        prepare_database(engine)
    finally:
        engine.dispose()
    Console().print("database schema is current")
