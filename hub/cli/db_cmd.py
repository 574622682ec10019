"""``renkei db``: the database schema."""

from __future__ import annotations

import typer
from rich.console import Console

from hub.infra.db.engine import make_engine
from hub.infra.db.migrate import upgrade
from hub.settings import Settings

app = typer.Typer(help="Database schema (Alembic migrations).")


@app.command("upgrade")
def upgrade_cmd() -> None:
    """Migrate the database to the newest schema (idempotent)."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    Console().print("database schema is current")
