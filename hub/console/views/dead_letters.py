"""Dead letters: failure groups, their messages, one message; replay or discard (operators), reveal (admins).

Replays and discards go through :class:`hub.core.operator.dead_letter_replay.DeadLetterOperations`, which
records each one (REPLAYED before anything is published, DISCARDED in the same transaction) under
``operator:<name>@console``. A dead letter whose body carries numbers is replayed or discarded, and a number
is revealed, only under a request a second person approved (four eyes, :mod:`hub.console.views.approvals`),
named by ``approval_id``. A replay from the console is bounded: at most ``limit`` (≤ 500) dead letters at
``rate`` per second, and ``limit / rate`` at most 60 seconds, so a request cannot run for long.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse

from contracts.errors import ConfigurationError, RenkeiError
from hub.console.auth import Principal, Refused, require
from hub.console.context import state_of
from hub.console.i18n import LazyText
from hub.console.labels import Label
from hub.console.notices import detail
from hub.console.pages import render
from hub.console.render import body_view, headers_view, safe
from hub.console.reveal import Revealed, RevealFailed, RevealUnavailable, reveal_sealed
from hub.console.roles import Permission
from hub.console.schemas import (
    API_ERRORS,
    ActionIn,
    ActionOut,
    ActionResultOut,
    DeadLetterGroupOut,
    DeadLetterOut,
    DeadLetterSummaryOut,
    ErrorOut,
    RevealIn,
    RevealOut,
    RevealRequestIn,
    SealedOut,
)
from hub.console.scope import scoped_dead_letter, visible_dead_letters
from hub.console.views.approvals import approval_out, done_page, make_request, take
from hub.core.operator.approvals import ApprovalRefused, ApprovalRequired
from hub.core.operator.dead_letter_replay import DeadLetterOperations, OperationReport
from hub.core.operator.notices import notice_of
from hub.core.rules.sealed_bodies import carries_numbers
from hub.infra.stores.dead_letters import SqlDeadLetterStore
from hub.ports.approvals import Approval, ApprovalAction, ApprovalStatus
from hub.ports.dead_letters import DeadLetter, DeadLetterQuery, DeadLetterStatus, FailureGroup

__all__ = ["api", "pages"]

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/dead-letters", tags=["dead letters"])

_SCAN_PAGES: Final = 10
_PAGE: Final = 200
_MAX_SECONDS: Final = 60.0

View = Annotated[Principal, Depends(require(Permission.VIEW_DEAD_LETTERS))]
Act = Annotated[Principal, Depends(require(Permission.ACT_ON_DEAD_LETTERS))]
Reveal = Annotated[Principal, Depends(require(Permission.REVEAL_NUMBER))]
Status = Annotated[DeadLetterStatus, Query(description="which dead letters")]
Group = Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[a-p]{1,64}$")]
DeadLetterId = Annotated[int, Path(ge=1, le=2**53)]


def _rows(request: Request, principal: Principal, query: DeadLetterQuery, want: int) -> list[DeadLetter]:
    """Up to ``want`` rows matching ``query`` that the principal may see (bounded scan)."""
    found: list[DeadLetter] = []
    after = 0
    with state_of(request).root.engine.connect() as conn:
        store = SqlDeadLetterStore(conn)
        for _ in range(_SCAN_PAGES):
            page = store.find(replace(query, after_id=after, limit=_PAGE))
            if not page:
                break
            after = page[-1].id
            found.extend(visible_dead_letters(conn, principal, page))
            if len(found) >= want or principal.user.federation:
                break
    return found[:want]


def _groups(request: Request, principal: Principal, status: DeadLetterStatus) -> list[FailureGroup]:
    if principal.user.federation:
        with state_of(request).root.engine.connect() as conn:
            return SqlDeadLetterStore(conn).groups([status])
    rows = _rows(request, principal, DeadLetterQuery(statuses=(status,)), _SCAN_PAGES * _PAGE)
    groups: dict[str, FailureGroup] = {}
    for r in rows:
        g = groups.get(r.fingerprint)
        groups[r.fingerprint] = FailureGroup(
            fingerprint=r.fingerprint,
            label=r.group_label,
            exception_type=r.failure.exception_type,
            stage=r.failure.stage,
            message_type=r.message_type,
            count=(g.count if g else 0) + 1,
            occurrences=(g.occurrences if g else 0) + r.occurrences,
            first_failed_at=min(r.first_failed_at, g.first_failed_at) if g else r.first_failed_at,
            last_failed_at=max(r.last_failed_at, g.last_failed_at) if g else r.last_failed_at,
        )
    return sorted(groups.values(), key=lambda g: (-g.count, g.label))


def _group_out(g: FailureGroup) -> DeadLetterGroupOut:
    return DeadLetterGroupOut(
        fingerprint=g.fingerprint,
        label=safe(g.label),
        count=g.count,
        occurrences=g.occurrences,
        first_failed_at=g.first_failed_at,
        last_failed_at=g.last_failed_at,
    )


def _summary(r: DeadLetter) -> DeadLetterSummaryOut:
    return DeadLetterSummaryOut(
        id=r.id,
        message_type=safe(r.message_type),
        source_queue=safe(r.failure.source_queue),
        reason_code=safe(r.failure.reason_code),
        status=r.status.value,
        fingerprint=r.fingerprint,
        occurrences=r.occurrences,
        first_failed_at=r.first_failed_at,
        last_failed_at=r.last_failed_at,
    )


def _detail(r: DeadLetter) -> DeadLetterOut:
    body = body_view(r.body)
    return DeadLetterOut(
        **_summary(r).model_dump(),
        message_id=safe(r.message_id) or None,
        correlation_id=safe(r.correlation_id) or None,
        group_label=safe(r.group_label),
        reason_text=safe(r.failure.reason_text),
        exception_type=safe(r.failure.exception_type),
        stage=safe(r.failure.stage),
        attempts=r.failure.attempts,
        replay_count=r.replay_count,
        last_operator=safe(r.last_operator) or None,
        discard_reason=safe(r.discard_reason) or None,
        headers=dict(headers_view(r.headers)),
        body=body.text,
        body_kind=body.kind,
        sealed=[SealedOut(index=s.index, path=safe(s.path), recipient=s.recipient) for s in body.sealed],
        erased_at=r.erased_at,
        erasure_note=safe(r.erasure_note) or None,
    )


# -- actions -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Action:
    operation: str
    ids: Sequence[int]
    group: str | None
    reason: str
    rate: float
    limit: int
    dry_run: bool
    approval_id: str | None = None

    @classmethod
    def asked(cls, operation: str, body: ActionIn) -> _Action:
        """The ``operation`` a JSON request asks for."""
        return cls(
            operation,
            body.ids,
            body.group,
            body.reason,
            body.rate,
            body.limit,
            body.dry_run,
            body.approval_id,
        )


def _approval(request: Request, principal: Principal, action: _Action) -> Approval | None:
    """The approved request naming exactly ``action``'s ids, taken (used once); ``None`` without one."""
    if action.approval_id is None or action.dry_run:
        return None
    if not action.ids or action.group:
        raise HTTPException(
            409, LazyText("an approved request goes with dead letters named by id, not a group")
        )
    kind = (
        ApprovalAction.REPLAY_DEAD_LETTERS
        if action.operation == "replay"
        else ApprovalAction.DISCARD_DEAD_LETTERS
    )
    try:
        return take(
            request, principal, action.approval_id, action=kind, target={"ids": sorted(set(action.ids))}
        )
    except (ApprovalRefused, ApprovalRequired) as exc:
        raise HTTPException(403, detail(exc)) from exc


def _act(request: Request, principal: Principal, action: _Action) -> OperationReport:
    if not action.ids and not action.group:
        return OperationReport(action.operation, "-", principal.user.name, action.dry_run)
    limit, capped = action.limit, None
    if action.operation == "replay" and action.limit / action.rate > _MAX_SECONDS:
        # One request runs for at most a minute: replay what fits, say so; the operator asks again.
        limit = max(1, int(action.rate * _MAX_SECONDS))
        capped = LazyText(
            "limited to %(limit)s (rate × %(seconds)s s); replay the rest in another request",
            limit=limit,
            seconds=f"{_MAX_SECONDS:g}",
        )
    action = replace(action, limit=limit)
    state = state_of(request)
    ids = tuple(dict.fromkeys(action.ids))
    statuses: tuple[DeadLetterStatus, ...] = (DeadLetterStatus.PENDING, DeadLetterStatus.REPLAYING)
    if not principal.user.federation:
        # An association acts on its own members' dead letters only: resolve the selection to ids first.
        candidates = DeadLetterQuery(ids=ids, fingerprint=action.group, statuses=statuses)
        if ids:
            with state.root.engine.connect() as conn:
                rows = SqlDeadLetterStore(conn).find(
                    DeadLetterQuery(ids=ids, fingerprint=action.group, statuses=(), limit=len(ids))
                )
                visible = {r.id for r in visible_dead_letters(conn, principal, rows)}
            if visible != {r.id for r in rows}:
                state.refuse(principal.user, request, f"scope: outside association {principal.user.org}")
                raise Refused(
                    LazyText(
                        "Some of these belong to no member of your association (%(org)s).",
                        org=principal.user.org,
                    )
                )
        else:
            rows = _rows(request, principal, candidates, action.limit)
        ids = tuple(r.id for r in rows)
        if not ids:
            return OperationReport(action.operation, "-", principal.user.name, action.dry_run)
    query = DeadLetterQuery(ids=ids, fingerprint=None if ids else action.group, statuses=statuses)
    approval = _approval(request, principal, replace(action, ids=ids) if ids else action)
    operations = DeadLetterOperations(
        state.root.uow_factory, state.transport, routes=state.root.replay_routes
    )
    operator = f"{principal.user.name}@console"
    try:
        if action.operation == "replay":
            report = operations.replay(
                query,
                operator=operator,
                reason=action.reason,
                rate=action.rate,
                limit=action.limit,
                dry_run=action.dry_run,
                approval=approval,
            )
            report.error = report.error or capped
            return report
        return operations.discard(
            query,
            operator=operator,
            reason=action.reason,
            limit=action.limit,
            dry_run=action.dry_run,
            approval=approval,
        )
    except ConfigurationError as exc:
        raise HTTPException(409, detail(exc)) from exc
    except RenkeiError as exc:
        raise HTTPException(503, LazyText("not done: %(code)s", code=Label("error", exc.code))) from exc


def _report_out(report: OperationReport) -> ActionOut:
    return ActionOut(
        operation=report.operation,
        operation_id=report.operation_id,
        dry_run=report.dry_run,
        counts=report.counts(),
        results=[
            ActionResultOut(dead_letter_id=r.dead_letter_id, outcome=r.outcome.value, detail=safe(r.detail))
            for r in report.results
        ],
        error=safe(report.error) or None,
    )


# -- JSON API ------------------------------------------------------------------------------------------

_ERRORS: Final[dict[int | str, dict[str, object]]] = {
    **API_ERRORS,
    409: {"model": ErrorOut},
    404: {"model": ErrorOut},
    503: {"model": ErrorOut},
}


@api.get("/groups", response_model=list[DeadLetterGroupOut], responses=_ERRORS, summary="Failure groups")
def groups_api(
    request: Request, principal: View, status: Status = DeadLetterStatus.PENDING
) -> list[DeadLetterGroupOut]:
    """Failure groups with counts and first/last seen, largest first."""
    return [_group_out(g) for g in _groups(request, principal, status)]


@api.get("", response_model=list[DeadLetterSummaryOut], responses=_ERRORS, summary="Dead letters")
def list_api(
    request: Request,
    principal: View,
    status: Status = DeadLetterStatus.PENDING,
    group: Group = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeadLetterSummaryOut]:
    """Dead letters in id order, optionally of one failure group."""
    rows = _rows(request, principal, DeadLetterQuery(fingerprint=group, statuses=(status,)), limit)
    return [_summary(r) for r in rows]


@api.get("/{dead_letter_id}", response_model=DeadLetterOut, responses=_ERRORS, summary="One dead letter")
def detail_api(request: Request, principal: View, dead_letter_id: DeadLetterId) -> DeadLetterOut:
    """Its failure, headers and redacted body; sealed numbers appear as markers."""
    return _detail(scoped_dead_letter(request, principal, dead_letter_id))


@api.post("/replay", response_model=ActionOut, responses=_ERRORS, summary="Replay dead letters")
def replay_api(request: Request, principal: Act, body: ActionIn) -> ActionOut:
    """Replay by ids or group, at most ``limit`` at ``rate`` per second; recorded before publishing."""
    return _report_out(_act(request, principal, _Action.asked("replay", body)))


@api.post("/discard", response_model=ActionOut, responses=_ERRORS, summary="Discard dead letters")
def discard_api(request: Request, principal: Act, body: ActionIn) -> ActionOut:
    """Archive by ids or group with a reason (never deleted); recorded in the same transaction."""
    return _report_out(_act(request, principal, _Action.asked("discard", body)))


@api.post(
    "/{dead_letter_id}/reveal",
    response_model=RevealOut,
    responses={**_ERRORS, 409: {"model": ErrorOut}, 503: {"model": ErrorOut}},
    summary="Reveal one sealed number (admins, under an approved request; recorded first)",
)
def reveal_api(
    request: Request, principal: Reveal, dead_letter_id: DeadLetterId, body: RevealIn
) -> RevealOut:
    """Reveal one number of this dead letter under an approved request (``POST /api/approvals``).

    The REVEALED record, naming both people, is committed before the answer.
    """
    row = scoped_dead_letter(request, principal, dead_letter_id)
    revealed = _reveal(request, principal, row, body.sealed_index, body.approval_id)
    return RevealOut(
        dead_letter_id=row.id,
        path=revealed.ref.path,
        number=revealed.number,
        recorded_at=revealed.recorded_at,
    )


# -- pages ---------------------------------------------------------------------------------------------


@pages.get("/dead-letters", response_class=HTMLResponse)
def dead_letters_page(
    request: Request, principal: View, status: Status = DeadLetterStatus.PENDING, group: Group = None
) -> HTMLResponse:
    """Failure groups, and the dead letters of one group (or the newest)."""
    groups = _groups(request, principal, status)
    rows = _rows(request, principal, DeadLetterQuery(fingerprint=group, statuses=(status,)), 200)
    label = next((g.label for g in groups if g.fingerprint == group), None)
    return render(
        request,
        "dead_letters.html",
        groups=groups,
        rows=rows,
        current_status=status.value,
        statuses=[s.value for s in DeadLetterStatus],
        group=group,
        group_label=label,
        can_act=principal.user.role.value in ("operator", "admin"),
    )


@pages.get("/dead-letters/{dead_letter_id}", response_class=HTMLResponse)
def dead_letter_page(request: Request, principal: View, dead_letter_id: DeadLetterId) -> HTMLResponse:
    """One dead letter with its actions."""
    row = scoped_dead_letter(request, principal, dead_letter_id)
    with state_of(request).root.uow_factory() as uow:
        approved = uow.approvals.find(statuses=(ApprovalStatus.APPROVED,), limit=200)
    mine = [
        a
        for a in approved
        if a.requested_by == principal.user.name
        and (a.target.get("dead_letter_id") == row.id or row.id in a.target.get("ids", ()))
    ]
    return render(
        request,
        "dead_letter.html",
        row=row,
        view=_detail(row),
        can_act=principal.user.role.value in ("operator", "admin"),
        can_reveal=principal.user.role.value == "admin",
        carries_numbers=carries_numbers(row.body),
        approved=[approval_out(a) for a in mine],
        erasure_is_notice=notice_of(row.erasure_note) is not None,  # said in the page's language
    )


@pages.post("/dead-letters/actions", response_class=HTMLResponse)
def action_form(
    request: Request,
    principal: Act,
    *,
    operation: Annotated[str, Form(pattern="^(replay|discard)$")],
    reason: Annotated[str, Form(min_length=3, max_length=1_000)],
    ids: Annotated[list[int] | None, Form()] = None,
    group: Annotated[str | None, Form(max_length=64, pattern=r"^[a-p]{0,64}$")] = None,
    rate: Annotated[float, Form(gt=0, le=100)] = 10.0,
    limit: Annotated[int, Form(ge=1, le=500)] = 50,
    approval_id: Annotated[str | None, Form(pattern=r"^(apr-[a-z]{12})?$")] = None,
) -> HTMLResponse:
    """Replay or discard from a form; shows what was done."""
    if any(not 1 <= i <= 2**62 for i in ids or []):
        raise HTTPException(404, LazyText("no such dead letter"))
    action = _Action(operation, ids or [], group or None, reason, rate, limit, False, approval_id or None)
    report = _act(request, principal, action)
    return render(
        request,
        "action_done.html",
        report=_report_out(report),
        error=report.error,
        details=[r.detail for r in report.results],
    )


def _reveal(
    request: Request, principal: Principal, row: DeadLetter, index: int, approval_id: str
) -> Revealed:
    try:
        return reveal_sealed(request, principal, row, index, approval_id)
    except RevealFailed as exc:
        raise HTTPException(exc.status, exc.message) from exc
    except (ApprovalRequired, ApprovalRefused) as exc:
        raise HTTPException(403, detail(exc)) from exc
    except RevealUnavailable as exc:
        raise HTTPException(503, exc.message) from exc


@pages.post("/dead-letters/{dead_letter_id}/reveal-request", response_class=HTMLResponse)
def reveal_request_form(
    request: Request,
    principal: Reveal,
    dead_letter_id: DeadLetterId,
    sealed_index: Annotated[int, Form(ge=1, le=100_000)],
    reason: Annotated[str, Form(min_length=10, max_length=1_000)],
) -> HTMLResponse:
    """Ask to reveal one number (a federation admin approves it at /approvals)."""
    row = scoped_dead_letter(request, principal, dead_letter_id)
    body = RevealRequestIn(
        action="reveal_number", dead_letter_id=row.id, sealed_index=sealed_index, reason=reason
    )
    return done_page(request, make_request(request, principal, body))


@pages.post("/dead-letters/{dead_letter_id}/reveal", response_class=HTMLResponse)
def reveal_form(
    request: Request,
    principal: Reveal,
    dead_letter_id: DeadLetterId,
    sealed_index: Annotated[int, Form(ge=1, le=100_000)],
    approval_id: Annotated[str, Form(pattern=r"^apr-[a-z]{12}$")],
) -> HTMLResponse:
    """Reveal one number under an approved request, recorded first; shown once on a page never cached."""
    row = scoped_dead_letter(request, principal, dead_letter_id)
    revealed = _reveal(request, principal, row, sealed_index, approval_id)
    return render(request, "revealed.html", row=row, revealed=revealed)
