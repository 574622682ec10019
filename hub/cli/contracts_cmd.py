"""``renkei contracts``: the message contracts as JSON Schema."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from contracts.purpose_table import default_table
from contracts.registry import export_schemas
from hub.legal_basis_doc import render

app = typer.Typer(
    help="Message contracts: export them as JSON Schema; print the purpose table as docs/legal-basis.md."
)


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


@app.command("legal-basis")
def legal_basis(
    write: Annotated[
        Path | None, typer.Option("--write", help="write the document here (docs/legal-basis.md)")
    ] = None,
    check: Annotated[
        Path | None, typer.Option("--check", help="exit 1 if this file differs from the purpose table")
    ] = None,
) -> None:
    """Print the purpose table as docs/legal-basis.md (bases, actors, 事務, uses, network rows).

    The table (contracts/purpose_table.toml) is the one source; the document is generated from it and a test
    fails when the committed copy differs.
    """
    text = render(default_table())
    if check is not None:
        if not check.exists() or check.read_text(encoding="utf-8") != text:
            Console(stderr=True).print(f"{check} differs from the purpose table: run with --write {check}")
            raise typer.Exit(1)
        Console().print(f"{check} is the purpose table's")
        return
    if write is not None:
        write.write_text(text, encoding="utf-8")
        Console().print(f"wrote {write}")
        return
    typer.echo(text, nl=False)
