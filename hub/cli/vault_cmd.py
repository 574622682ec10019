"""``renkei vault``: links held for an operator (保留中の紐付け): list them, resolve them.

``pending`` lists the holds: number acquisitions with several candidates or none, and numbers that already
belong to another subject. Candidates are shown with J-LIS's 4情報 and their number masked: no number is
ever printed. ``resolve HOLD_ID (--link-candidate N | --reject) --reason TEXT --operator NAME --approval ID``
decides one hold, under a request a second person approved (four eyes: ``renkei approvals request
resolve_hold --hold HOLD_ID ...``, then ``renkei approvals approve``): the ``resolved`` access record, naming
both people, is written before anything changes, then the vault, the hold and the pension system's answer
(through the outbox, relayed by the running hub) in the same transaction.

Exit codes: 0 done; 1 the vault refused the link (recorded as refused; nothing changed); 2 bad usage, an
unknown hold, or one resolved already.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from contracts.errors import RenkeiError
from contracts.individual_number import IndividualNumber
from hub.bootstrap.common import approval_policy, open_database
from hub.bootstrap.operator import OperatorTools
from hub.cli.invocation import fail, settings_of
from hub.core.operator.approvals import ApprovalPolicy, ApprovalRefused, ApprovalRequired, consume
from hub.core.operator.dead_letter_replay import operator_actor
from hub.core.operator.holds import ResolutionRefused, record_refused_resolution, resolve_hold
from hub.core.runtime.routing import to_outgoing
from hub.infra.db.engine import DATABASE_FAILURES
from hub.infra.keys.service_keys import operator_keys
from hub.ports.actors import MessageActor
from hub.ports.approvals import ApprovalAction
from hub.ports.holds import Hold, HoldNotPending, QueriedInfo, UnknownHold
from hub.ports.vault import NumberConflict

__all__ = ["app", "hold_json"]

app = typer.Typer(
    help="The vault: links held for an operator (list them, resolve them; every decision is recorded).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold numbers
)
_out = Console(highlight=False)
MASKED = IndividualNumber.MASK


@app.callback()
def _group() -> None:
    """The vault: links held for an operator."""


def _tools(ctx: typer.Context) -> OperatorTools:
    settings = settings_of(ctx)
    return OperatorTools(settings, engine=open_database(settings), keys=operator_keys(settings))


def _info(info: QueriedInfo | None) -> dict[str, Any] | None:
    if info is None:
        return None
    data = asdict(info)
    data["birth_date"] = info.birth_date.isoformat() if info.birth_date else None
    return data


def hold_json(hold: Hold) -> dict[str, Any]:
    """A hold as ``pending --json`` prints it: candidates' numbers masked, never shown."""
    return {
        "hold_id": hold.hold_id,
        "status": hold.status.value,
        "flow": hold.flow.value,
        "reason": hold.reason.value,
        "usage_number": {"kind": hold.usage_number.kind.value, "value": hold.usage_number.value},
        "batch_id": hold.batch_id,
        "record_seq": hold.record_seq,
        "created_at": hold.created_at.isoformat(),
        "queried": _info(hold.queried),
        "no_match_reason": hold.no_match_reason,
        "candidates": [
            {
                "candidate_no": c.candidate_no,
                "individual_number": MASKED if c.sealed_number else None,
                "matched": _info(c.matched),
            }
            for c in hold.candidates
        ],
    }


def _describe(info: QueriedInfo | None) -> str:
    if info is None:
        return ""
    parts = [info.name, info.birth_date.isoformat() if info.birth_date else None, info.sex, info.address]
    return " / ".join(p for p in parts if p)


@app.command("pending")
def pending(
    ctx: typer.Context,
    *,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object instead of a table")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000, help="at most this many holds")] = 100,
) -> None:
    """List the links held for an operator, oldest first (numbers masked)."""
    tools = _tools(ctx)
    try:
        with tools.uow_factory() as uow:
            holds = uow.holds.pending(limit=limit)
            total = uow.holds.count_pending()
    except DATABASE_FAILURES as exc:
        raise fail(f"the database failed ({type(exc).__name__}); is the schema current?", 2) from exc
    finally:
        tools.close()
    if as_json:
        typer.echo(json.dumps({"pending": total, "holds": [hold_json(h) for h in holds]}, ensure_ascii=False))
        return
    table = Table(title=f"held links: {total} pending")
    table.add_column("hold", no_wrap=True)
    for column in ("reason", "usage number", "asked with", "candidates"):
        table.add_column(column)
    for hold in holds:
        candidates = "\n".join(
            f"{c.candidate_no}: {MASKED} {_describe(c.matched)}" for c in hold.candidates
        ) or (hold.no_match_reason or "")
        table.add_row(
            hold.hold_id,
            f"{hold.reason.value} ({hold.flow.value})",
            str(hold.usage_number),
            _describe(hold.queried),
            candidates,
        )
    _out.print(table)


@app.command("resolve")
def resolve(
    ctx: typer.Context,
    hold_id: Annotated[str, typer.Argument(help="the hold, as `pending` lists it (hold-...)")],
    *,
    link_candidate: Annotated[
        int | None, typer.Option("--link-candidate", min=1, help="link this candidate's number")
    ] = None,
    reject: Annotated[bool, typer.Option("--reject", help="link no candidate")] = False,
    reason: Annotated[str, typer.Option("--reason", help="why: written to the access record")],
    operator: Annotated[str, typer.Option("--operator", help="who decides: written to the access record")],
    approval: Annotated[
        str | None,
        typer.Option("--approval", help="the approved request for exactly this (renkei approvals request)"),
    ] = None,
) -> None:
    """Resolve one held link under an approved request: link a candidate, or reject; recorded first."""
    if (link_candidate is None) == (not reject):
        raise fail("give exactly one of --link-candidate N and --reject", 2)
    if not reason.strip() or not operator.strip():
        raise fail("--reason and --operator must not be empty", 2)
    tools = _tools(ctx)
    try:
        outcome = _resolve(
            tools,
            hold_id,
            link_candidate,
            operator.strip(),
            reason.strip(),
            approval,
            approval_policy(settings_of(ctx)),
        )
    finally:
        tools.close()
    _out.print(outcome)


def _resolve(  # noqa: PLR0917 (one call site, private)
    tools: OperatorTools,
    hold_id: str,
    link_candidate: int | None,
    operator: str,
    reason: str,
    approval_id: str | None,
    policy: ApprovalPolicy,
) -> str:
    unsealer = tools.hub_unsealer()
    factory = tools.uow_factory
    target = {"hold_id": hold_id, "link_candidate": link_candidate}
    try:
        with factory() as uow:
            try:
                approval = consume(
                    uow,
                    approval_id,
                    action=ApprovalAction.RESOLVE_HOLD,
                    target=target,
                    by=operator,
                    actor=operator_actor(operator),
                    policy=policy,
                )
            except ApprovalRefused:
                uow.commit()  # the refusal's record
                raise
            answers = resolve_hold(
                uow,
                unsealer,
                hold_id=hold_id,
                link_candidate=link_candidate,
                operator=operator,
                reason=reason,
                approval=approval,
            )
            uow.actors.record(
                [
                    MessageActor(str(env.message_id), str(env.correlation_id), env.actor)
                    for env in answers
                    if env.actor is not None
                ]
            )
            uow.outbox.add([to_outgoing(env, tools.exchanges) for env in answers])
            uow.commit()
    except ApprovalRequired as exc:
        raise fail(
            f"{exc}: renkei approvals request resolve_hold --hold {hold_id} "
            + (f"--link-candidate {link_candidate}" if link_candidate is not None else "--reject")
            + ' --reason "..."',
            2,
        ) from None
    except ApprovalRefused as exc:
        raise fail(str(exc), 1) from None
    except (UnknownHold, HoldNotPending, ResolutionRefused) as exc:
        raise fail(str(exc), 2) from None
    except NumberConflict as exc:
        with factory() as uow:
            record_refused_resolution(
                uow,
                hold_id=hold_id,
                link_candidate=link_candidate,
                operator=operator,
                reason=reason,
                problem=exc.code,
            )
            uow.commit()
        raise fail(
            "the candidate's number belongs to another subject in the vault; nothing was linked "
            "(the refusal is recorded)",
            1,
        ) from None
    except RenkeiError as exc:
        raise fail(f"{type(exc).__name__}: {exc}", 1) from None
    decided = (
        f"linked candidate {link_candidate}" if link_candidate is not None else "rejected every candidate"
    )
    sent = " and told the pension system (outbox)" if answers else ""
    return f"{hold_id}: {decided}{sent}"
