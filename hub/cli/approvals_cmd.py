"""``renkei approvals``: four eyes (二者承認) for access to numbers: request, approve, reject, list.

Resolving a held link (``renkei vault resolve``), and replaying or discarding dead letters whose bodies carry
numbers (``renkei dlq replay|discard``), need a second person; so does revealing a number (console). One
person requests, with a reason and the exact target; another person approves within the time limit
(``RENKEI_APPROVAL_TTL_MINUTES``, 30 by default); then the requester acts once, naming the request with
``--approval``. Every step writes an access record; the action's record names both people.

The operator is ``--operator`` or the OS user, and ``ada`` here is the console's user ``ada``: nobody
approves their own request under another spelling. Exit codes: 0 done; 1 refused (the reason is printed and
recorded); 2 bad usage.

Examples::

    renkei approvals request resolve_hold --hold hold-abcdefghijkl --link-candidate 2 --reason "本人確認済み"
    renkei approvals request replay_dead_letters --ids 12,13 --reason "J-LIS fixed the file"
    renkei approvals list --json
    renkei approvals approve apr-abcdefghijkl --note "確認しました" --operator sato
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from contracts.errors import RenkeiError
from contracts.purpose_table import FEDERATION, default_table
from hub.bootstrap.common import approval_policy, open_database
from hub.bootstrap.operator import OperatorTools
from hub.cli.invocation import fail, operator_name, settings_of
from hub.core.operator.approvals import ApprovalRefused, decide, request
from hub.core.operator.dead_letter_replay import operator_actor
from hub.infra.db.engine import DATABASE_FAILURES
from hub.ports.approvals import Approval, ApprovalAction, ApprovalStatus
from hub.settings import Settings

__all__ = ["app", "approval_json"]

app = typer.Typer(
    help="Four eyes: request a privileged action, approve or reject another person's request, list them.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
_out = Console(highlight=False)


class ActionChoice(StrEnum):
    """What can be requested from the command line (revealing a number is requested in the console)."""

    RESOLVE_HOLD = "resolve_hold"
    REPLAY_DEAD_LETTERS = "replay_dead_letters"
    DISCARD_DEAD_LETTERS = "discard_dead_letters"
    REVEAL_NUMBER = "reveal_number"


JsonOpt = Annotated[bool, typer.Option("--json", help="one JSON object instead of text")]
OperatorOpt = Annotated[
    str | None, typer.Option("--operator", help="who you are (default: the OS user); written everywhere")
]
OrgOpt = Annotated[
    str, typer.Option("--org", help="your organisation: federation, or your 構成組合's code (purpose table)")
]


@app.callback()
def _group() -> None:
    """Four eyes for privileged access to numbers."""


def _org(org: str) -> str:
    if org != FEDERATION and default_table().actor(org) is None:
        raise fail(f"--org {org!r} is neither federation nor a 構成組合 of the purpose table")
    return org


def approval_json(a: Approval) -> dict[str, Any]:
    """One request as ``--json`` prints it (ids and names, never a number)."""
    return {
        "approval_id": a.approval_id,
        "action": a.action.value,
        "target": dict(a.target),
        "reason": a.reason,
        "status": a.status.value,
        "requested_by": a.requested_by,
        "requested_org": a.requested_org,
        "requested_at": a.requested_at.isoformat(),
        "expires_at": a.expires_at.isoformat(),
        "decided_by": a.decided_by,
        "decided_at": a.decided_at.isoformat() if a.decided_at else None,
        "decision_note": a.decision_note,
        "used_at": a.used_at.isoformat() if a.used_at else None,
    }


def _tools(settings: Settings) -> OperatorTools:
    return OperatorTools(settings, engine=open_database(settings))


def _target(
    action: ActionChoice,
    *,
    hold: str | None,
    link_candidate: int | None,
    reject_all: bool,
    ids: str | None,
    dead_letter: int | None,
    sealed_index: int | None,
) -> dict[str, Any]:
    if action is ActionChoice.RESOLVE_HOLD:
        if not hold or (link_candidate is None) == (not reject_all):
            raise fail("resolve_hold needs --hold and exactly one of --link-candidate N and --reject")
        return {"hold_id": hold, "link_candidate": link_candidate}
    if action is ActionChoice.REVEAL_NUMBER:
        if dead_letter is None or sealed_index is None:
            raise fail("reveal_number needs --dead-letter ID and --sealed-index N")
        return {"dead_letter_id": dead_letter, "sealed_index": sealed_index}
    try:
        chosen = sorted({int(i) for i in (ids or "").split(",") if i.strip()})
    except ValueError:
        raise fail("--ids is a comma-separated list of dead letter ids") from None
    if not chosen:
        raise fail(f"{action.value} needs --ids (dead letters carrying numbers are named one by one)")
    return {"ids": chosen}


@app.command("request")
def request_cmd(
    ctx: typer.Context,
    action: Annotated[ActionChoice, typer.Argument(help="what to request")],
    *,
    reason: Annotated[str, typer.Option("--reason", help="why: written to the access record")],
    hold: Annotated[str | None, typer.Option("--hold", help="resolve_hold: the hold id")] = None,
    link_candidate: Annotated[
        int | None, typer.Option("--link-candidate", min=1, help="resolve_hold: link this candidate")
    ] = None,
    reject_all: Annotated[bool, typer.Option("--reject", help="resolve_hold: link no candidate")] = False,
    ids: Annotated[str | None, typer.Option("--ids", help="replay/discard: dead letter ids, 1,2,3")] = None,
    dead_letter: Annotated[int | None, typer.Option("--dead-letter", help="reveal_number: its id")] = None,
    sealed_index: Annotated[
        int | None, typer.Option("--sealed-index", min=1, help="reveal_number: which sealed number")
    ] = None,
    operator: OperatorOpt = None,
    org: OrgOpt = FEDERATION,
    as_json: JsonOpt = False,
) -> None:
    """Ask a second person to approve a privileged action; prints the request's id."""
    settings = settings_of(ctx)
    target = _target(
        action,
        hold=hold,
        link_candidate=link_candidate,
        reject_all=reject_all,
        ids=ids,
        dead_letter=dead_letter,
        sealed_index=sealed_index,
    )
    who, where = operator_name(operator), _org(org)
    tools = _tools(settings)
    try:
        with tools.uow_factory() as uow:
            made = request(
                uow,
                action=ApprovalAction(action.value),
                target=target,
                reason=reason,
                by=who,
                org=where,
                actor=operator_actor(who),
                policy=approval_policy(settings),
            )
            uow.commit()
    except ApprovalRefused as exc:
        raise fail(str(exc), 1) from None
    except DATABASE_FAILURES as exc:
        raise fail(f"the database failed ({type(exc).__name__}); is the schema current?") from exc
    finally:
        tools.close()
    if as_json:
        typer.echo(json.dumps(approval_json(made), ensure_ascii=False))
        return
    _out.print(
        f"{made.approval_id}: {made.action.value} requested by {who}; another person approves it before "
        f"{made.expires_at:%Y-%m-%d %H:%M} UTC (renkei approvals approve {made.approval_id})"
    )


def _decide(
    ctx: typer.Context,
    approval_id: str,
    *,
    approve: bool,
    note: str | None,
    operator: str | None,
    org: str,
    as_json: bool,
) -> None:
    settings = settings_of(ctx)
    who, where = operator_name(operator), _org(org)
    tools = _tools(settings)
    try:
        with tools.uow_factory() as uow:
            try:
                done = decide(
                    uow,
                    approval_id,
                    approve=approve,
                    by=who,
                    org=where,
                    actor=operator_actor(who),
                    note=note,
                    policy=approval_policy(settings),
                )
            except ApprovalRefused:
                uow.commit()  # the refusal's record
                raise
            uow.commit()
    except ApprovalRefused as exc:
        raise fail(str(exc), 1) from None
    except RenkeiError as exc:
        raise fail(f"{type(exc).__name__}: {exc}", 1) from None
    finally:
        tools.close()
    if as_json:
        typer.echo(json.dumps(approval_json(done), ensure_ascii=False))
        return
    verb = "approved" if approve else "rejected"
    after = f"; {done.requested_by} may act until {done.expires_at:%Y-%m-%d %H:%M} UTC" if approve else ""
    _out.print(f"{done.approval_id}: {verb} by {who}{after}")


@app.command("approve")
def approve_cmd(
    ctx: typer.Context,
    approval_id: Annotated[str, typer.Argument(help="the request (apr-...)")],
    *,
    note: Annotated[str | None, typer.Option("--note", help="a note for the record")] = None,
    operator: OperatorOpt = None,
    org: OrgOpt = FEDERATION,
    as_json: JsonOpt = False,
) -> None:
    """Approve another person's pending request (never one's own), within its time limit."""
    _decide(ctx, approval_id, approve=True, note=note, operator=operator, org=org, as_json=as_json)


@app.command("reject")
def reject_cmd(
    ctx: typer.Context,
    approval_id: Annotated[str, typer.Argument(help="the request (apr-...)")],
    *,
    note: Annotated[str | None, typer.Option("--note", help="why it is rejected")] = None,
    operator: OperatorOpt = None,
    org: OrgOpt = FEDERATION,
    as_json: JsonOpt = False,
) -> None:
    """Reject another person's pending request."""
    _decide(ctx, approval_id, approve=False, note=note, operator=operator, org=org, as_json=as_json)


class StatusChoice(StrEnum):
    """Which requests to list."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    USED = "used"
    ALL = "all"


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    *,
    status: Annotated[StatusChoice, typer.Option("--status", help="which requests")] = StatusChoice.PENDING,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000, help="at most this many")] = 100,
    as_json: JsonOpt = False,
) -> None:
    """List requests, newest first (ids, targets and names; never a number)."""
    settings = settings_of(ctx)
    statuses = () if status is StatusChoice.ALL else (ApprovalStatus(status.value),)
    tools = _tools(settings)
    try:
        with tools.uow_factory() as uow:
            found = uow.approvals.find(statuses=statuses, limit=limit)
    except DATABASE_FAILURES as exc:
        raise fail(f"the database failed ({type(exc).__name__}); is the schema current?") from exc
    finally:
        tools.close()
    if as_json:
        typer.echo(json.dumps({"approvals": [approval_json(a) for a in found]}, ensure_ascii=False))
        return
    table = Table(title=f"approvals ({status.value}): {len(found)}")
    for column in ("id", "action", "target", "status", "requested by", "decided by", "expires (UTC)"):
        table.add_column(column)
    for a in found:
        table.add_row(
            a.approval_id,
            a.action.value,
            json.dumps(dict(a.target)),
            a.status.value,
            a.requested_by,
            a.decided_by or "",
            f"{a.expires_at:%Y-%m-%d %H:%M}",
        )
    _out.print(table)
