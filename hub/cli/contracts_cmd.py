"""``renkei contracts``: the message contracts as JSON Schema."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from contracts.registry import export_schemas

app = typer.Typer(help="Message contracts: export them as JSON Schema for counterparts and reviews.")


@app.command("export")
def export(
    directory: Annotated[
        Path, typer.Argument(help="directory to write one <type>.v<version>.json per contract")
    ],
) -> None:
    """Write one JSON Schema per message type and version.

    The committed copy lives in contracts/schemas; a test fails when a schema changes without a new
    schema_version, so that a breaking change can never slip out under an old version.
    """
    written = export_schemas(directory)
    Console().print(f"wrote {len(written)} schemas to {directory}")
