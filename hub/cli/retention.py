"""``renkei retention run``: erase every number whose retention has ended, by crypto-shredding.

A number is due the day after its ``purge_after`` (for example 11 January, seven years and a day after the
year following a 扶養親族等申告書's deadline). The run deletes the data keys, ciphertexts, blind indexes,
tokens and usage links of subjects whose every number is due, re-keys subjects that keep some numbers,
and writes one deletion-log row per subject, all in one transaction. ``--dry-run`` only reports. Output
counts subjects and numbers: never a number, never a subject id.
"""

from __future__ import annotations

import getpass
import json
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Final

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from contracts.errors import ConfigurationError, StoreUnavailable
from hub.bootstrap.common import open_database
from hub.infra.crypto.service_keys import operator_keys
from hub.infra.vault_lifecycle import ErasureReport, erase_due
from hub.settings import Settings

__all__ = ["JST", "app", "report_json", "run_retention", "today_in_japan"]

JST: Final = timezone(timedelta(hours=9), "JST")
"""Japan Standard Time (no daylight saving): retention periods run by Japanese calendar days."""

app = typer.Typer(help="Retention of numbers: erase what is due (crypto-shredding).", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Retention of numbers: erase what is due (crypto-shredding)."""


def today_in_japan() -> date:
    """Today's date in Japan."""
    return datetime.now(JST).date()


def _default_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a bare container
        return "cli:unknown"


def run_retention(
    settings: Settings, *, as_of: date | None = None, dry_run: bool = False, actor: str | None = None
) -> ErasureReport:
    """Erase (or with ``dry_run`` list) what is due on ``as_of`` (default: today in Japan)."""
    keys = operator_keys(settings).vault
    engine = open_database(settings)
    try:
        with engine.begin() as conn:
            return erase_due(
                conn, keys, as_of or today_in_japan(), dry_run=dry_run, actor=actor or _default_actor()
            )
    finally:
        engine.dispose()


def report_json(report: ErasureReport) -> dict[str, object]:
    """The summary printed by ``--json`` (counts only)."""
    return {
        "as_of": report.as_of.isoformat(),
        "dry_run": report.dry_run,
        "subjects_erased": report.subjects_erased,
        "subjects_rekeyed": report.subjects_rekeyed,
        "numbers_erased": report.numbers_erased,
        "subjects_by_basis": report.by_basis(),
    }


@app.command("run")
def run_cmd(
    ctx: typer.Context,
    *,
    as_of: Annotated[
        datetime | None,
        typer.Option("--as-of", formats=["%Y-%m-%d"], help="The day of the run (default: today in Japan)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only report what is due.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
    actor: Annotated[str | None, typer.Option("--actor", help="Who runs it, for the deletion log.")] = None,
) -> None:
    """Erase every number due on the day (crypto-shredding) and log one deletion per subject."""
    console = Console()
    settings = ctx.obj if isinstance(ctx.obj, Settings) else Settings()
    try:
        report = run_retention(settings, as_of=as_of.date() if as_of else None, dry_run=dry_run, actor=actor)
    except ConfigurationError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    except (SQLAlchemyError, StoreUnavailable) as exc:
        console.print(
            f"[red]error:[/red] the database failed ({type(exc).__name__}); nothing was erased. "
            "Is the schema current (`renkei db upgrade`)?"
        )
        raise typer.Exit(code=1) from exc
    if as_json:
        typer.echo(json.dumps(report_json(report), indent=2))
        return
    erase, rekey = ("to erase", "to re-key") if report.dry_run else ("erased", "re-keyed")
    title = f"retention run as of {report.as_of.isoformat()}{' (dry run)' if report.dry_run else ''}"
    table = Table(title=title)
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row(f"subjects {erase} entirely", str(report.subjects_erased))
    table.add_row(f"subjects {rekey} (some numbers kept)", str(report.subjects_rekeyed))
    table.add_row(f"numbers {erase}", str(report.numbers_erased))
    for basis, count in sorted(report.by_basis().items()):
        table.add_row(f"  subjects, basis {basis}", str(count))
    console.print(table)
