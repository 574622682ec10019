"""Four eyes in the console (二者承認): request a privileged action, approve another person's request.

Revealing a number and replaying or discarding a dead letter whose body carries numbers need two people
(:mod:`hub.core.operator.approvals`). A user asks (``POST /api/approvals`` or the forms of the dead-letter
page), with a reason and the exact target; another user holding the same permission approves or rejects it
within the time limit (``/approvals``; a reveal only by a federation admin); then the requester carries it
out, naming the request (the reveal and action forms, or the API's ``approval_id``). Every step is in the
access record. An association's users see and decide only their own association's requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from contracts.errors import ConfigurationError
from hub.bootstrap.common import approval_policy
from hub.console.auth import Principal, Refused, require
from hub.console.context import state_of
from hub.console.i18n import LazyText
from hub.console.notices import detail
from hub.console.pages import render
from hub.console.render import safe, sealed_value
from hub.console.roles import Permission, allowed
from hub.console.schemas import (
    API_ERRORS,
    ApprovalDecisionIn,
    ApprovalIn,
    ApprovalOut,
    DeadLettersRequestIn,
    ErrorOut,
    RevealRequestIn,
)
from hub.console.scope import scoped_dead_letter
from hub.core.operator.approvals import ApprovalPolicy, ApprovalRefused, consume, decide, request
from hub.core.rules.sealed_bodies import carries_numbers
from hub.ports.approvals import Approval, ApprovalAction, ApprovalStatus
from hub.ports.dead_letters import DeadLetter
from hub.ports.store import UnitOfWork

__all__ = ["api", "approval_out", "done_page", "pages", "policy", "take", "visible"]

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/approvals", tags=["approvals"])

View = Annotated[Principal, Depends(require(Permission.VIEW_APPROVALS))]
ApprovalId = Annotated[str, Path(pattern=r"^apr-[a-z]{12}$")]
_ERRORS: Final[dict[int | str, dict[str, object]]] = {
    **API_ERRORS,
    404: {"model": ErrorOut},
    409: {"model": ErrorOut},
}


def policy(request: Request) -> ApprovalPolicy:
    """The approval policy of the console's settings."""
    return approval_policy(state_of(request).root.settings)


def _needs(action: ApprovalAction) -> Permission:
    """The permission a request of ``action`` is made and decided with."""
    return (
        Permission.REVEAL_NUMBER if action is ApprovalAction.REVEAL_NUMBER else Permission.ACT_ON_DEAD_LETTERS
    )


def _expired(a: Approval) -> bool:
    return a.expired(datetime.now(UTC))


def approval_out(a: Approval) -> ApprovalOut:
    """A request as the API shows it."""
    return ApprovalOut(
        approval_id=a.approval_id,
        action=a.action.value,
        target={
            safe(k): v if isinstance(v, int | list) or v is None else safe(v) for k, v in a.target.items()
        },
        reason=safe(a.reason),
        status=a.status.value,
        requested_by=safe(a.requested_by),
        requested_org=a.requested_org,
        requested_at=a.requested_at,
        expires_at=a.expires_at,
        decided_by=safe(a.decided_by) or None,
        decided_at=a.decided_at,
        decision_note=safe(a.decision_note) or None,
        used_at=a.used_at,
        expired=_expired(a),
    )


def visible(principal: Principal, approvals: list[Approval]) -> list[Approval]:
    """The requests the principal may see: all for the federation, its own association's otherwise."""
    if principal.user.federation:
        return approvals
    return [a for a in approvals if a.requested_org == principal.user.org]


def _check_permission(req: Request, principal: Principal, action: ApprovalAction) -> None:
    need = _needs(action)
    if not allowed(principal.user.role, need):
        state_of(req).refuse(
            principal.user, req, f"role {principal.user.role.value} may not {need.value}", needs=need
        )
        raise Refused(LazyText("Your role (%(role)s) may not do this.", role=principal.user.role.value))


def _target(req: Request, principal: Principal, body: ApprovalIn) -> dict[str, Any]:
    """The request's exact target, each dead letter checked for scope."""
    action = ApprovalAction(body.action)
    target: dict[str, Any]
    if isinstance(body, RevealRequestIn):
        ids = [body.dead_letter_id]
        target = {"dead_letter_id": body.dead_letter_id, "sealed_index": body.sealed_index}
    else:
        ids = sorted(set(body.ids))
        target = {"ids": ids}
    for dead_letter_id in ids:
        row = scoped_dead_letter(req, principal, dead_letter_id)
        if row.erased:
            raise HTTPException(
                409,
                LazyText(
                    "dead letter %(id)s: retention destroyed its sealed numbers (nothing to act on)",
                    id=dead_letter_id,
                ),
            )
        if action is ApprovalAction.REVEAL_NUMBER:
            _check_revealable(req, row, target["sealed_index"])
        elif not carries_numbers(row.body):
            raise HTTPException(
                409,
                LazyText(
                    "dead letter %(id)s carries no number: act on it without a request", id=dead_letter_id
                ),
            )
    return target


def _check_revealable(req: Request, row: DeadLetter, index: int) -> None:
    """Refuse, before anyone approves, a reveal the console could not carry out (nothing is opened here).

    The console holds the hub's private key alone (KEY_NEEDS): a number sealed for a counterpart opens
    only in that counterpart's service, so asking to reveal it would waste a request and a day's quota.
    """
    found = sealed_value(row.body, index)
    if found is None:
        raise HTTPException(
            404, LazyText("dead letter %(id)s has no sealed number #%(index)s", id=row.id, index=index)
        )
    try:
        state_of(req).root.unsealer(found[0].recipient)
    except ConfigurationError as exc:
        raise HTTPException(409, detail(exc)) from exc


@contextmanager
def _committed(req: Request) -> Iterator[UnitOfWork]:
    """A unit of work committed at its end, a refused request's record too (then 409, with the reason)."""
    with state_of(req).root.uow_factory() as uow:
        try:
            yield uow
        except ApprovalRefused as exc:
            uow.commit()  # the refusal's record
            raise HTTPException(409, detail(exc)) from exc
        uow.commit()


def take(
    req: Request, principal: Principal, approval_id: str, *, action: ApprovalAction, target: dict[str, Any]
) -> Approval:
    """The principal's approved request of ``action`` on exactly ``target``, taken: it is used once.

    Its use, or the refusal, is recorded either way.

    Raises:
        ApprovalRequired, ApprovalRefused: no such approved request of this user, or not for this.
    """
    with state_of(req).root.uow_factory() as uow:
        try:
            return consume(
                uow,
                approval_id,
                action=action,
                target=target,
                by=principal.user.name,
                actor=principal.user.actor,
                policy=policy(req),
            )
        finally:
            uow.commit()  # the use, or the refusal's record


def make_request(req: Request, principal: Principal, body: ApprovalIn) -> Approval:
    """Store a request (permission and scope checked; a refusal is recorded)."""
    action = ApprovalAction(body.action)
    _check_permission(req, principal, action)
    target = _target(req, principal, body)
    with _committed(req) as uow:
        return request(
            uow,
            action=action,
            target=target,
            reason=body.reason,
            by=principal.user.name,
            org=principal.user.org,
            actor=principal.user.actor,
            policy=policy(req),
        )


def _decide(req: Request, principal: Principal, approval_id: str, body: ApprovalDecisionIn) -> Approval:
    state = state_of(req)
    with state.root.uow_factory() as uow:
        found = uow.approvals.get(approval_id)
    if found is None or not visible(principal, [found]):
        raise HTTPException(404, LazyText("no request %(id)s", id=approval_id))
    _check_permission(req, principal, found.action)
    with _committed(req) as uow:
        return decide(
            uow,
            approval_id,
            approve=body.approve,
            by=principal.user.name,
            org=principal.user.org,
            actor=principal.user.actor,
            note=body.note,
            policy=policy(req),
        )


def done_page(req: Request, approval: Approval) -> HTMLResponse:
    """The page after a request is made or decided: where it stands and what happens next."""
    return render(req, "approval_done.html", approval=approval_out(approval))


def _list(req: Request, principal: Principal, status: str | None, limit: int) -> list[Approval]:
    statuses = () if status in (None, "all") else (ApprovalStatus(status),)
    with state_of(req).root.uow_factory() as uow:
        return visible(principal, uow.approvals.find(statuses=statuses, limit=limit))


# -- JSON API ------------------------------------------------------------------------------------------

StatusQuery = Annotated[
    str | None, Query(pattern=r"^(pending|approved|rejected|used|all)$", description="which requests")
]


@api.get("", response_model=list[ApprovalOut], responses=_ERRORS, summary="Requests (four eyes)")
def list_api(
    req: Request,
    principal: View,
    status: StatusQuery = "pending",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ApprovalOut]:
    """Requests, newest first (an association sees its own)."""
    return [approval_out(a) for a in _list(req, principal, status, limit)]


@api.post("", response_model=ApprovalOut, responses=_ERRORS, summary="Request a privileged action")
def request_api(req: Request, principal: View, body: ApprovalIn) -> ApprovalOut:
    """Ask a second person to approve a reveal, or a replay or discard of dead letters carrying numbers."""
    return approval_out(make_request(req, principal, body))


@api.post("/{approval_id}/decide", response_model=ApprovalOut, responses=_ERRORS, summary="Approve or reject")
def decide_api(
    req: Request, principal: View, approval_id: ApprovalId, body: ApprovalDecisionIn
) -> ApprovalOut:
    """Approve or reject another person's pending request within its time limit (never one's own)."""
    return approval_out(_decide(req, principal, approval_id, body))


# -- pages ---------------------------------------------------------------------------------------------


@pages.get("/approvals", response_class=HTMLResponse)
def approvals_page(req: Request, principal: View, status: StatusQuery = "pending") -> HTMLResponse:
    """The requests: pending ones to decide, one's own approved ones to carry out."""
    found = _list(req, principal, status, 200)
    mine = [
        a
        for a in _list(req, principal, "approved", 200)
        if a.requested_by == principal.user.name and not _expired(a)
    ]
    return render(
        req,
        "approvals.html",
        approvals=[approval_out(a) for a in found],
        mine=[approval_out(a) for a in mine],
        current_status=status or "pending",
        me=principal.user.name,
        can_decide={
            a.approval_id: allowed(principal.user.role, _needs(a.action))
            and a.requested_by != principal.user.name
            for a in found
        },
    )


@pages.post("/approvals", response_class=HTMLResponse)
def request_form(
    req: Request,
    principal: View,
    *,
    action: Annotated[str, Form(pattern="^(reveal_number|replay_dead_letters|discard_dead_letters)$")],
    reason: Annotated[str, Form(min_length=10, max_length=1_000)],
    dead_letter_id: Annotated[int | None, Form(ge=1, le=2**53)] = None,
    sealed_index: Annotated[int | None, Form(ge=1, le=100_000)] = None,
    ids: Annotated[list[int] | None, Form()] = None,
) -> HTMLResponse:
    """Make a request from a form; shows its id and what happens next."""
    body: RevealRequestIn | DeadLettersRequestIn
    try:
        if action == "reveal_number":
            body = RevealRequestIn.model_validate(
                {
                    "action": action,
                    "dead_letter_id": dead_letter_id,
                    "sealed_index": sealed_index,
                    "reason": reason,
                }
            )
        else:
            body = DeadLettersRequestIn.model_validate({"action": action, "ids": ids or [], "reason": reason})
    except ValidationError as exc:
        raise HTTPException(
            422, LazyText("a reveal names its dead letter and number; a replay or discard its ids")
        ) from exc
    return done_page(req, make_request(req, principal, body))


@pages.post("/approvals/{approval_id}/decide", response_class=HTMLResponse)
def decide_form(
    req: Request,
    principal: View,
    approval_id: ApprovalId,
    *,
    decision: Annotated[str, Form(pattern="^(approve|reject)$")],
    note: Annotated[str | None, Form(max_length=1_000)] = None,
) -> HTMLResponse:
    """Approve or reject from a form."""
    done = _decide(req, principal, approval_id, ApprovalDecisionIn(approve=decision == "approve", note=note))
    return done_page(req, done)
