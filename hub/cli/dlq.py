"""``renkei dlq``: the dead letters (デッドレター): list, group, show, replay, discard.

``list``, ``groups`` and ``show`` read the dead-letter store. ``replay`` and ``discard`` act, and each
writes one access record per dead letter naming the operator (``--operator``, by default the OS user) and
the ``--reason``: replay before anything is published (fail closed), discard in the same transaction.
Bodies are shown redacted, and redacted again on output: no Individual Number is ever printed.

A dead letter whose body carries numbers (sealed, in an encrypted counterpart file, or in the clear) is
replayed or discarded only under a request a second person approved (four eyes): ``renkei approvals request
replay_dead_letters --ids 12,13 --reason ...``, ``renkei approvals approve ...`` by someone else, then
``renkei dlq replay 12 13 --approval apr-... --reason ...``. Without one, such rows are skipped and say why.

Times given on the command line are ISO 8601; without an offset they are UTC. Times shown are UTC.
Exit codes: 0 done; 1 a replay or discard failed part-way (the report says what was done); 2 bad usage.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from contracts.errors import ConfigurationError, RenkeiError
from contracts.redaction import redact_bytes, redact_text
from hub.bootstrap.common import approval_policy, open_database
from hub.bootstrap.operator import OperatorTools
from hub.bootstrap.transports import pika_transports
from hub.cli.failures import database_errors
from hub.cli.invocation import fail, operator_name, settings_of
from hub.core.operator.approvals import ApprovalRefused, consume
from hub.core.operator.dead_letter_replay import DeadLetterOperations, OperationReport, operator_actor
from hub.infra.db.engine import make_engine
from hub.infra.stores.dead_letters import SqlDeadLetterStore
from hub.ports.approvals import Approval, ApprovalAction
from hub.ports.dead_letters import DeadLetter, DeadLetterQuery, DeadLetterStatus, DeadLetterStore
from hub.ports.transport import Transport
from hub.settings import Settings

__all__ = ["app"]

app = typer.Typer(
    help="Dead letters: list, group, show, replay and discard them (every action is recorded).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold message bodies
)

_out = Console(highlight=False)
_err = Console(stderr=True, highlight=False)


class StatusChoice(StrEnum):
    """Which dead letters to show."""

    PENDING = "pending"
    REPLAYING = "replaying"
    REPLAYED = "replayed"
    DISCARDED = "discarded"
    ALL = "all"


GroupOpt = Annotated[str | None, typer.Option("--group", help="failure group (fingerprint, see `groups`)")]
TypeOpt = Annotated[str | None, typer.Option("--type", help="message type")]
SourceOpt = Annotated[
    str | None, typer.Option("--source", help="queue it failed on (with or without the prefix)")
]
SinceOpt = Annotated[
    str | None, typer.Option(help="failed at or after this time (ISO 8601, UTC if no offset)")
]
UntilOpt = Annotated[str | None, typer.Option(help="failed before this time (ISO 8601, UTC if no offset)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON instead of a table")]
StatusOpt = Annotated[StatusChoice, typer.Option("--status", help="which dead letters")]
ReasonOpt = Annotated[str, typer.Option("--reason", help="why: written to the access record")]
OperatorOpt = Annotated[
    str | None, typer.Option("--operator", help="who acts (default: the OS user); written everywhere")
]
LimitOpt = Annotated[int | None, typer.Option("--limit", min=1, help="at most this many dead letters")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="only list what would be done")]
ApprovalOpt = Annotated[
    str | None,
    typer.Option(
        "--approval",
        help="an approved request naming exactly these ids (needed for dead letters that carry numbers)",
    ),
]
IdsArg = Annotated[list[int] | None, typer.Argument(help="dead letter ids", show_default=False)]


def _time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise fail(f"--{name} is not an ISO 8601 time: {value!r}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _shown(value: object) -> str:
    """Text for the terminal: redacted again, whatever the store holds."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds")
    return redact_text(str(value))


@contextmanager
def _store(settings: Settings) -> Iterator[DeadLetterStore]:
    engine = make_engine(settings.database_url)
    try:
        with database_errors(fail, RenkeiError), engine.connect() as conn:
            yield SqlDeadLetterStore(conn)
    finally:
        engine.dispose()


def _query(
    settings: Settings,
    *,
    ids: list[int] | None,
    group: str | None,
    message_type: str | None,
    source: str | None,
    since: str | None,
    until: str | None,
    statuses: tuple[DeadLetterStatus, ...],
    limit: int = 100,
) -> DeadLetterQuery:
    prefix = settings.exchange_prefix
    queue = source if source is None or source.startswith(prefix + ".") else f"{prefix}.{source}"
    return DeadLetterQuery(
        ids=tuple(ids or ()),
        fingerprint=group,
        message_type=message_type,
        source_queue=queue,
        since=_time(since, "since"),
        until=_time(until, "until"),
        statuses=statuses,
        limit=limit,
    )


def _statuses(choice: StatusChoice) -> tuple[DeadLetterStatus, ...]:
    return () if choice is StatusChoice.ALL else (DeadLetterStatus(choice.value),)


def _summary(d: DeadLetter) -> dict[str, Any]:
    """Every field but the body and headers, the failure's flattened in (times in UTC)."""
    data = {k: v for k, v in asdict(d).items() if k not in ("body", "headers", "failure")}
    data.update({k: v for k, v in asdict(d.failure).items() if k != "failed_at"})
    return {k: _shown(v) if isinstance(v, datetime) else v for k, v in data.items()}


def _json_line(data: dict[str, Any]) -> None:
    text = json.dumps(data, ensure_ascii=False, default=str)
    sys.stdout.write(redact_text(text) + "\n")


def _table(title: str, columns: list[str], rows: list[list[object]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text(_shown(v)) for v in row))  # Text: "[...]" in values is not markup
    _out.print(table)


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    *,
    group: GroupOpt = None,
    message_type: TypeOpt = None,
    source: SourceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    status: StatusOpt = StatusChoice.PENDING,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="at most this many")] = 100,
    as_json: JsonOpt = False,
) -> None:
    """List dead letters (pending by default), oldest first; JSON lines with --json."""
    settings = settings_of(ctx)
    query = _query(
        settings,
        ids=None,
        group=group,
        message_type=message_type,
        source=source,
        since=since,
        until=until,
        statuses=_statuses(status),
        limit=limit,
    )
    with _store(settings) as store:
        rows = store.find(query)
    if as_json:
        for d in rows:
            _json_line(_summary(d))
        return
    columns = ["id", "last failed (UTC)", "status", "reason", "stage", "type", "queue", "tries", "×", "group"]
    _table(
        f"{len(rows)} dead letter(s)",
        [*columns, "message"],
        [_list_row(d) for d in rows],
    )


def _list_row(d: DeadLetter) -> list[object]:
    f = d.failure
    return [
        d.id, d.last_failed_at, d.status.value, f.reason_code, f.stage, d.message_type, f.source_queue,
        f.attempts, d.occurrences, d.fingerprint, d.message_id,
    ]  # fmt: skip


@app.command("groups")
def groups_cmd(
    ctx: typer.Context, *, status: StatusOpt = StatusChoice.PENDING, as_json: JsonOpt = False
) -> None:
    """Failure groups (exception type + stage + message type) with counts and first/last seen."""
    settings = settings_of(ctx)
    with _store(settings) as store:
        groups = store.groups(_statuses(status))
    if as_json:
        for g in groups:
            _json_line(
                {
                    "fingerprint": g.fingerprint,
                    "label": g.label,
                    "exception": g.exception_type,
                    "stage": g.stage,
                    "message_type": g.message_type,
                    "count": g.count,
                    "occurrences": g.occurrences,
                    "first_failed_at": _shown(g.first_failed_at),
                    "last_failed_at": _shown(g.last_failed_at),
                }
            )
        return
    _table(
        f"{len(groups)} failure group(s)",
        ["group", "count", "×", "first seen (UTC)", "last seen (UTC)", "exception at stage on type"],
        [
            [g.fingerprint, g.count, g.occurrences, g.first_failed_at, g.last_failed_at, g.label]
            for g in groups
        ],
    )


def _body_text(body: bytes) -> str:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return f"<{len(body)} bytes, not UTF-8: not shown>"
    with suppress(ValueError):
        text = json.dumps(json.loads(text), indent=2, ensure_ascii=False, sort_keys=True)
    # Then what text does not show as digits (UTF-16 or JIS X 0208 read as UTF-8) is masked in place.
    return redact_bytes(redact_text(text).encode()).decode("utf-8", "replace")


@app.command("show")
def show_cmd(
    ctx: typer.Context,
    dead_letter_id: Annotated[int, typer.Argument(help="dead letter id")],
    *,
    as_json: JsonOpt = False,
) -> None:
    """One dead letter: its failure, headers and body, redacted (no number is ever shown)."""
    settings = settings_of(ctx)
    with _store(settings) as store:
        d = store.get(dead_letter_id)
    if d is None:
        raise fail(f"no dead letter {dead_letter_id}", 1)
    headers = {_shown(k): _shown(v) if isinstance(v, str) else v for k, v in sorted(d.headers.items())}
    body = _body_text(d.body)
    if as_json:
        _json_line({**_summary(d), "erased": d.erased, "headers": headers, "body": body})
        return
    _table(f"dead letter {d.id}", ["field", "value"], [[k, v] for k, v in _summary(d).items()])
    _table("headers", ["header", "value"], [[k, v] for k, v in headers.items()])
    if d.erased:
        _out.print(Text(f"ERASED (保存期間終了により消去済み): {d.erasure_note or ''}", style="bold red"))
        _out.print(
            Text(
                "Its sealed numbers (and an erased person's fields, shown as [erased]) were destroyed when "
                "their retention ended; it cannot be replayed. Ask the sender to send it again if needed."
            )
        )
    _out.print(Text("body" + (" (redacted when stored)" if d.body_redacted else "") + ":", style="bold"))
    _out.print(Text(body))


def _selection(settings: Settings, ids: list[int] | None, **filters: str | None) -> DeadLetterQuery:
    if not ids and not any(filters.values()):
        raise fail("name dead letter ids, or select with --group, --type, --source, --since or --until")
    # Named ids are looked at whatever their status, so that a skipped one is reported as such.
    statuses = () if ids else (DeadLetterStatus.PENDING, DeadLetterStatus.REPLAYING)
    return _query(
        settings,
        ids=ids,
        group=filters["group"],
        message_type=filters["message_type"],
        source=filters["source"],
        since=filters["since"],
        until=filters["until"],
        statuses=statuses,
    )


def _approval(
    tools: OperatorTools,
    approval_id: str | None,
    *,
    action: ApprovalAction,
    ids: list[int] | None,
    who: str,
    settings: Settings,
) -> Approval | None:
    """Take the approved request naming exactly ``ids`` (consumed: it is used once), or ``None``."""
    if approval_id is None:
        return None
    if not ids:
        raise fail("--approval goes with dead letter ids, named one by one (not a selection)")
    with tools.uow_factory() as uow:
        try:
            taken = consume(
                uow,
                approval_id,
                action=action,
                target={"ids": sorted(set(ids))},
                by=who,
                actor=operator_actor(who),
                policy=approval_policy(settings),
            )
        finally:
            uow.commit()  # the use, or the refusal's record
    return taken


def _act(settings: Settings, action: Callable[[OperatorTools], OperationReport]) -> OperationReport:
    # Dead-letter commands need no key: their units of work have no vault.
    tools = OperatorTools(settings, engine=open_database(settings), transports=pika_transports(settings))
    try:
        return action(tools)
    except ConfigurationError as exc:
        raise fail(str(exc)) from exc
    except ApprovalRefused as exc:
        raise fail(f"{exc}; nothing was done", 1) from exc
    except RenkeiError as exc:
        raise fail(f"{exc} ({exc.code}); nothing more was done", 1) from exc
    finally:
        tools.close()


Operation = Callable[[OperatorTools, DeadLetterQuery, str, Approval | None], OperationReport]
"""A replay or a discard: with these tools, of this selection, by this operator, under the request taken."""


def _operate(
    ctx: typer.Context,
    operation: Operation,
    action: ApprovalAction,
    ids: list[int] | None,
    *,
    operator: str | None,
    approval: str | None,
    dry_run: bool,
    as_json: bool,
    **filters: str | None,
) -> None:
    """Select the dead letters, name the operator, take the approved request (not on a dry run), act, report.

    What a replay and a discard share, in this order: bad usage stops before the database is opened.
    """
    settings = settings_of(ctx)
    query = _selection(settings, ids, **filters)
    who = operator_name(operator)

    def act(tools: OperatorTools) -> OperationReport:
        taken = (
            None
            if dry_run
            else _approval(tools, approval, action=action, ids=ids, who=who, settings=settings)
        )
        return operation(tools, query, who, taken)

    _report(_act(settings, act), as_json)


def _report(report: OperationReport, as_json: bool) -> None:
    if as_json:
        _json_line(
            {
                "operation": report.operation,
                "operation_id": report.operation_id,
                "operator": report.operator,
                "dry_run": report.dry_run,
                "counts": report.counts(),
                "error": report.error,
                "results": [asdict(r) for r in report.results],
            }
        )
    else:
        _table(
            f"{report.operation} {report.operation_id} by {report.operator}"
            + (" (dry run)" if report.dry_run else ""),
            ["id", "outcome", "queue", "message", "detail"],
            [[r.dead_letter_id, r.outcome.value, r.queue, r.message_id, r.detail] for r in report.results],
        )
        counts = ", ".join(f"{k} {v}" for k, v in sorted(report.counts().items())) or "nothing selected"
        _out.print(Text(counts))
    if report.error:
        _err.print(Text(f"stopped: {report.error}", style="red"))
        raise typer.Exit(1)


@app.command("replay")
def replay_cmd(
    ctx: typer.Context,
    ids: IdsArg = None,
    *,
    group: GroupOpt = None,
    message_type: TypeOpt = None,
    source: SourceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    reason: ReasonOpt,
    operator: OperatorOpt = None,
    rate: Annotated[
        float | None, typer.Option("--rate", min=0.01, help="messages per second at most")
    ] = None,
    limit: LimitOpt = None,
    dry_run: DryRunOpt = False,
    approval: ApprovalOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Publish dead letters back to the queue they failed on, with their provenance; recorded first."""

    def replay(
        tools: OperatorTools, query: DeadLetterQuery, who: str, taken: Approval | None
    ) -> OperationReport:
        def run(transport: Transport | None) -> OperationReport:
            operations = DeadLetterOperations(tools.uow_factory, transport, routes=tools.replay_routes)
            return operations.replay(
                query, operator=who, reason=reason, rate=rate, limit=limit, dry_run=dry_run, approval=taken
            )

        if dry_run:
            return run(None)
        with tools.transport("dlq-replay") as transport:  # closed once the replay is done
            return run(transport)

    _operate(
        ctx,
        replay,
        ApprovalAction.REPLAY_DEAD_LETTERS,
        ids,
        operator=operator,
        approval=approval,
        dry_run=dry_run,
        as_json=as_json,
        group=group,
        message_type=message_type,
        source=source,
        since=since,
        until=until,
    )


@app.command("discard")
def discard_cmd(
    ctx: typer.Context,
    ids: IdsArg = None,
    *,
    group: GroupOpt = None,
    message_type: TypeOpt = None,
    source: SourceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    reason: ReasonOpt,
    operator: OperatorOpt = None,
    limit: LimitOpt = None,
    dry_run: DryRunOpt = False,
    approval: ApprovalOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Archive pending dead letters with a reason (kept, never deleted); recorded."""

    def discard(
        tools: OperatorTools, query: DeadLetterQuery, who: str, taken: Approval | None
    ) -> OperationReport:
        operations = DeadLetterOperations(tools.uow_factory)
        return operations.discard(
            query, operator=who, reason=reason, limit=limit, dry_run=dry_run, approval=taken
        )

    _operate(
        ctx,
        discard,
        ApprovalAction.DISCARD_DEAD_LETTERS,
        ids,
        operator=operator,
        approval=approval,
        dry_run=dry_run,
        as_json=as_json,
        group=group,
        message_type=message_type,
        source=source,
        since=since,
        until=until,
    )
