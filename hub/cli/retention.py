"""``renkei retention run``: end what renkei keeps about people whose retention ended, every kind of it.

Every job of the retention model (``docs/retention.md``, :mod:`hub.core.rules.retention_model`) runs in turn:
the vault's erasure (numbers, then the whole person with every copy of them), the outbox, dead letters, holds,
pending queries, 情報提供等記録, rotated logs, exchange files, and last the storage step that makes the
database's files forget. ``--dry-run`` only counts. The summary has one line per kind; ``--json`` prints
every kind with its counts. Output counts people, rows and files: never a number, never a subject id.
"""

from __future__ import annotations

import getpass
import json
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Final

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from contracts.errors import ConfigurationError
from hub.bootstrap.common import open_database
from hub.bootstrap.operator import OperatorTools
from hub.cli.invocation import settings_of
from hub.core.rules.retention_model import RETENTION_MODEL
from hub.core.runtime.routing import to_outgoing
from hub.infra.db.engine import DATABASE_FAILURES
from hub.infra.keys.service_keys import operator_keys
from hub.infra.observability.logs import log_file_of
from hub.infra.retention.run import STEPS, RetentionPlaces, RetentionReport, run_all
from hub.progress import counting_bars
from hub.settings import Settings

__all__ = ["JST", "app", "report_json", "run_retention", "today_in_japan"]

JST: Final = timezone(timedelta(hours=9), "JST")
"""Japan Standard Time (no daylight saving): retention periods run by Japanese calendar days."""

app = typer.Typer(
    help="Retention (保存期間): end what renkei keeps about people once its period ended.",
    no_args_is_help=True,
)


@app.callback()
def _group() -> None:
    """Retention (保存期間): end what renkei keeps about people once its period ended (docs/retention.md)."""


def today_in_japan() -> date:
    """Today's date in Japan."""
    return datetime.now(JST).date()


def _default_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a bare container
        return "cli:unknown"


def _places(settings: Settings) -> RetentionPlaces:
    logs = {p for p in (log_file_of(settings, stderr=True), settings.data_dir / "logs" / "renkei.log") if p}
    return RetentionPlaces(tuple(sorted(logs)), settings.wire_dir)


def run_retention(
    settings: Settings,
    *,
    as_of: date | None = None,
    dry_run: bool = False,
    actor: str | None = None,
    rewrite: bool = True,
    progress: Progress | None = None,
) -> RetentionReport:
    """Run (or with ``dry_run`` count) every retention job for ``as_of`` (default: today in Japan)."""
    keys = operator_keys(settings)
    tools = OperatorTools(settings, engine=open_database(settings), keys=keys)
    task = progress.add_task("retention", total=len(STEPS)) if progress is not None else None

    def step(name: str) -> None:
        if progress is not None and task is not None:
            progress.update(task, advance=1, description=name)

    try:
        return run_all(
            tools.uow_factory,
            keys.vault,
            tools.hub_unsealer(),
            address=lambda envelope: to_outgoing(envelope, tools.exchanges),
            places=_places(settings),
            as_of=as_of or today_in_japan(),
            dry_run=dry_run,
            actor=actor or _default_actor(),
            rewrite=rewrite,
            on_step=step,
        )
    finally:
        tools.close()


def report_json(report: RetentionReport) -> dict[str, object]:
    """The summary printed by ``--json`` (counts only): every kind of docs/retention.md."""
    return report.as_json()


@app.command("run")
def run_cmd(
    ctx: typer.Context,
    *,
    as_of: Annotated[
        datetime | None,
        typer.Option("--as-of", formats=["%Y-%m-%d"], help="The day of the run (default: today in Japan)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what is due; change nothing.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print every kind with its counts as JSON.")
    ] = False,
    actor: Annotated[
        str | None, typer.Option("--actor", help="Who runs it, for the deletion log and the access record.")
    ] = None,
    rewrite: Annotated[
        bool,
        typer.Option(
            "--rewrite/--no-rewrite",
            help="PostgreSQL: after an erasure rewrite the tables it touched (VACUUM FULL, a short exclusive "
            "lock each) so deleted bytes leave the files; --no-rewrite only vacuums.",
        ),
    ] = True,
) -> None:
    """Erase what is due on the day: numbers (crypto-shredding), the people, every copy; one log per kind.

    Schedule it daily. Each kind of data of docs/retention.md is counted; exit code 0 even when nothing
    was due, 1 when the database failed (nothing of the failed step was changed), 2 for a configuration
    error, 3 when the storage step could not make the files forget (run again when the services are idle).
    """
    console = Console(stderr=True)
    settings = settings_of(ctx)
    progress = (
        None if as_json else counting_bars(console, description="[bold]{task.description}", transient=True)
    )
    try:
        if progress is not None:
            with progress:
                report = run_retention(
                    settings,
                    as_of=as_of.date() if as_of else None,
                    dry_run=dry_run,
                    actor=actor,
                    rewrite=rewrite,
                    progress=progress,
                )
        else:
            report = run_retention(
                settings, as_of=as_of.date() if as_of else None, dry_run=dry_run, actor=actor, rewrite=rewrite
            )
    except ConfigurationError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    except DATABASE_FAILURES as exc:
        console.print(
            f"[red]error:[/red] the database failed ({type(exc).__name__}); the step that failed changed "
            "nothing. Is the schema current (`renkei db upgrade`)? Run it again."
        )
        raise typer.Exit(code=1) from exc
    if as_json:
        typer.echo(json.dumps(report_json(report), indent=2, ensure_ascii=False))
    else:
        _print(report)
    if report.storage is not None and not report.storage.complete:
        raise typer.Exit(code=3)


def _print(report: RetentionReport) -> None:
    out = Console()
    done = "would remove" if report.dry_run else "removed"
    title = f"retention run as of {report.as_of.isoformat()}{' (dry run)' if report.dry_run else ''}"
    table = Table(title=title)
    for column in ("kind", "unit", "due", done, "note"):
        table.add_column(column, justify="right" if column in ("due", done) else "left")
    for row in RETENTION_MODEL:
        result = report.kinds.get(row.kind)
        if result is None:
            continue
        shown = (
            ("-", "-")
            if result.due is None
            else (str(result.due), str(result.due if report.dry_run else result.done))
        )
        table.add_row(row.kind.value, result.unit, *shown, result.note)
    out.print(table)
    e = report.erasure
    erase, rekey = ("to erase", "to re-key") if report.dry_run else ("erased", "re-keyed")
    out.print(
        f"people {erase} entirely: {e.subjects_erased} · {rekey} (some numbers kept): {e.subjects_rekeyed} · "
        f"numbers {erase}: {e.numbers_erased}"
        + ("" if report.dry_run else f" · deletion-log entries: {report.deletion_log_entries}")
    )
    if report.storage is not None:
        s = report.storage
        out.print(f"storage: {s.backend} {s.action}: {'complete' if s.complete else 'INCOMPLETE'} {s.note}")
