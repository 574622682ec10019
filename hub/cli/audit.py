"""``renkei audit``: verify, search and export the access record (アクセス記録) and the 情報提供等記録.

``renkei audit search --subject TOKEN`` answers "who touched this person's number, when and why" in one
command. ``renkei audit verify`` exits 1 and names the first bad record when anything was changed,
deleted, inserted or reordered, or a checkpoint does not match; 2 when it cannot run (configuration).

Times given on the command line are ISO 8601; without an offset they are UTC (``2025-04-01T09:00+09:00``
for Japan time). Times shown are UTC.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, TextIO

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from rich.console import Console
from rich.table import Table

from contracts.errors import ConfigurationError
from hub.bootstrap.operator import checkpoint_now, checkpoint_signer
from hub.cli.failures import database_errors
from hub.cli.invocation import settings_of
from hub.infra.audit.anchor import append_anchor, newest_anchor, read_anchors
from hub.infra.audit.codec import canonical_at
from hub.infra.audit.query import ExportFormat, RecordFilter, export_provisions, export_records, search
from hub.infra.audit.verify import VerifyReport, verify_engine
from hub.infra.crypto.signing import load_public_key, load_signer, public_key_pem
from hub.infra.db.engine import Engine, make_engine
from hub.ports.audit import AuditAction
from hub.settings import Settings

__all__ = ["app"]

app = typer.Typer(
    help="The access record: verify its hash chains and signed checkpoints, search it, export it.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

_out = Console()
_err = Console(stderr=True)

SubjectOpt = Annotated[str | None, typer.Option("--subject", help="audit-scope token of a person")]
SinceOpt = Annotated[str | None, typer.Option(help="from this time (inclusive; ISO 8601, UTC if no offset)")]
UntilOpt = Annotated[
    str | None, typer.Option(help="before this time (exclusive; ISO 8601, UTC if no offset)")
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    _err.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


def _time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise _fail(f"--{name} is not an ISO 8601 time: {value!r}") from None


@contextmanager
def _engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url)
    try:
        with database_errors(_fail, ConfigurationError):
            yield engine
    finally:
        engine.dispose()


def _trusted_keys(settings: Settings, files: list[Path] | None) -> list[Ed25519PublicKey]:
    if files:
        return [load_public_key(path) for path in files]
    if settings.audit_key_path.exists():
        return [load_signer(settings.audit_key_path).public_key]
    _err.print(
        f"[yellow]warning:[/yellow] no audit signing key at {settings.audit_key_path} and no --public-key: "
        "no checkpoint signature can be trusted",
        highlight=False,
    )
    return []


@app.command("verify")
def verify_cmd(
    ctx: typer.Context,
    *,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    public_key: Annotated[
        list[Path] | None,
        typer.Option("--public-key", help="trusted checkpoint key (PEM); repeat for rotated keys"),
    ] = None,
    anchors: Annotated[
        Path | None,
        typer.Option(
            "--anchors",
            metavar="FILE",
            help="the file of `renkei audit anchor`: each checkpoint in it must be found unchanged",
        ),
    ] = None,
) -> None:
    """Recompute every hash chain, checkpoint and 情報提供等記録 seal; exit 1 naming the first bad record.

    With --anchors, also require every checkpoint anchored outside the database to be there unchanged: this
    catches the newest records cut away together with their checkpoints, which nothing inside the database
    can show.
    """
    settings = settings_of(ctx)
    try:
        keys = _trusted_keys(settings, public_key)
        anchored, anchor_problems = read_anchors(anchors) if anchors is not None else ([], [])
    except ConfigurationError as exc:
        raise _fail(str(exc)) from exc
    with _engine(settings) as engine:
        report = verify_engine(engine, keys, anchored)
    report.problems.extend(anchor_problems)
    if as_json:
        _out.print_json(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        _print_report(report)
    if not report.ok:
        raise typer.Exit(1)


def _print_report(report: VerifyReport) -> None:
    summary = (
        f"{report.records_checked} records in {report.chains} chains, {report.checkpoints} checkpoints, "
        f"{report.provision_records} 情報提供等記録"
    )
    first = report.first_problem
    if first is None:
        _out.print(f"[green]OK[/green]: {summary}", highlight=False)
        if report.uncovered_records:
            _out.print(
                f"{report.uncovered_records} records are newer than the last checkpoint", highlight=False
            )
        return
    _out.print(f"[red]TAMPERED[/red] ({first.kind.value}): {first.message}", highlight=False)
    for problem in report.problems[1:20]:
        _out.print(f"  also ({problem.kind.value}): {problem.message}", highlight=False)
    if len(report.problems) > 20:
        _out.print(f"  ... and {len(report.problems) - 20} more", highlight=False)
    _out.print(f"checked: {summary}", highlight=False)


@app.command("search")
def search_cmd(
    ctx: typer.Context,
    *,
    subject: SubjectOpt = None,
    message_id: Annotated[str | None, typer.Option(help="message id")] = None,
    correlation_id: Annotated[str | None, typer.Option(help="correlation id")] = None,
    actor: Annotated[str | None, typer.Option(help="who acted (service or operator)")] = None,
    action: Annotated[AuditAction | None, typer.Option(help="what was done")] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table")] = False,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="at most this many records")] = 100,
) -> None:
    """Find access records: who touched what, when and why (oldest first)."""
    settings = settings_of(ctx)
    start, end = _time(since, "since"), _time(until, "until")
    with _engine(settings) as engine, engine.connect() as conn:
        records = search(
            conn,
            subject_token=subject,
            message_id=message_id,
            correlation_id=correlation_id,
            actor=actor,
            action=None if action is None else action.value,
            since=start,
            until=end,
            limit=limit,
        )
    if as_json:
        for record in records:
            sys.stdout.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
        return
    table = Table(title=f"{len(records)} access record(s)", show_lines=False)
    for column in ("at (UTC)", "actor", "action", "outcome", "purpose", "legal basis", "reason", "message"):
        table.add_column(column, overflow="fold")
    for r in records:
        message = " ".join(x for x in (r.message_type, r.message_id) if x)
        table.add_row(
            canonical_at(r.at), r.actor, r.action, r.outcome, r.purpose, r.legal_basis, r.reason, message
        )
    _out.print(table)


@contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    # Exports hold tokens and reasons, not numbers, but are still personal data: owner-only.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
        yield out


@app.command("export")
def export_cmd(
    ctx: typer.Context,
    *,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="jsonl or csv")] = ExportFormat.JSONL,
    provision: Annotated[bool, typer.Option("--provision", help="export the 情報提供等記録 instead")] = False,
    output: Annotated[Path | None, typer.Option("--output", help="file to write (default: stdout)")] = None,
    subject: SubjectOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
) -> None:
    """Export access records (or 情報提供等記録) as JSON lines or CSV, oldest first, streaming."""
    settings = settings_of(ctx)
    start, end = _time(since, "since"), _time(until, "until")
    with _engine(settings) as engine, engine.connect() as conn, _output(output) as out:
        if provision:
            count = export_provisions(conn, out, fmt, subject_token=subject, since=start, until=end)
        else:
            record_filter = RecordFilter(subject_token=subject, since=start, until=end)
            count = export_records(conn, out, fmt, record_filter)
    _err.print(f"exported {count} {'情報提供等記録' if provision else 'access records'}", highlight=False)


@app.command("checkpoint")
def checkpoint_cmd(ctx: typer.Context) -> None:
    """Seal the current chain heads in a signed checkpoint now."""
    settings = settings_of(ctx)
    try:
        signer = checkpoint_signer(settings)
    except ConfigurationError as exc:
        raise _fail(str(exc)) from exc
    with _engine(settings) as engine:
        checkpoint = checkpoint_now(engine, signer)
    if checkpoint is None:
        _out.print("nothing to seal: no chain grew since the last checkpoint")
        return
    _out.print(
        f"checkpoint {checkpoint.id}: sealed {len(checkpoint.heads)} chain head(s), root {checkpoint.root}, "
        f"key {checkpoint.key_id}",
        highlight=False,
    )


@app.command("anchor")
def anchor_cmd(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="the anchor file to append to (created if missing)")],
) -> None:
    """Append the newest signed checkpoint's digest to FILE, to keep where the database's admin cannot write.

    Run it after `renkei audit checkpoint` (or on a timer), with FILE on another host, a write-once bucket or
    anything the database administrator cannot change; `renkei audit verify --anchors FILE` then proves that
    no checkpoint, and no record it sealed, was cut away since. The line holds an id, a time and a digest.
    """
    settings = settings_of(ctx)
    with _engine(settings) as engine, engine.connect() as conn:
        anchor = newest_anchor(conn)
    if anchor is None:
        raise _fail("no checkpoint to anchor yet: run `renkei audit checkpoint` first", 1)
    try:
        appended = append_anchor(file, anchor)
    except ConfigurationError as exc:
        raise _fail(str(exc)) from exc
    if appended:
        _out.print(f"anchored checkpoint {anchor.checkpoint} ({anchor.at}) in {file}", highlight=False)
    else:
        _out.print(f"checkpoint {anchor.checkpoint} is anchored in {file} already", highlight=False)


@app.command("public-key")
def public_key_cmd(ctx: typer.Context) -> None:
    """Print the checkpoint verification key (PEM), to hand to auditors."""
    settings = settings_of(ctx)
    try:
        signer = load_signer(settings.audit_key_path)
    except ConfigurationError as exc:
        raise _fail(str(exc)) from exc
    sys.stdout.write(public_key_pem(signer.public_key).decode("ascii"))
