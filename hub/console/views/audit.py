"""Audit: search the access record (newest first) and see whether its chains and checkpoints verify.

Verification reads the whole record (:func:`hub.infra.audit.verify.verify`); the console runs it when asked
(``/audit/verify``) and keeps the last result for the audit page, so a page view never starts it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from contracts.errors import ConfigurationError
from hub.console.auth import Principal, require
from hub.console.context import state_of
from hub.console.i18n import LazyText, current_language
from hub.console.i18n import gettext as _
from hub.console.labels import label
from hub.console.pages import render
from hub.console.render import safe
from hub.console.roles import Permission
from hub.console.schemas import API_ERRORS, AuditRecordOut, AuditSearchOut, VerifyOut
from hub.console.scope import visible_records
from hub.console.views.records import record_out
from hub.infra.audit.browse import newest_first
from hub.infra.audit.query import RecordFilter
from hub.infra.audit.verify import Problem, verify
from hub.infra.crypto.signing import load_signer
from hub.infra.db.engine import DATABASE_FAILURES
from hub.ports.audit import AuditAction

__all__ = ["api", "pages"]

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/audit", tags=["audit"], responses=API_ERRORS)

Auditor = Annotated[Principal, Depends(require(Permission.VIEW_AUDIT))]
Text = Annotated[str | None, Query(min_length=1, max_length=200)]
_BATCH: Final = 200
_last: dict[str, Verification] = {}
_verify_lock = threading.Lock()


class Finding(str):
    """One problem the verification found: its English message (the API's), said from its kind on a page.

    The verifier's messages are English sentences for the command line; each comes with a stable kind
    (:class:`~hub.infra.audit.verify_chain.ProblemKind`) and where it is (chain, record, checkpoint), from
    which a page in another language says it. A chain is named by its whole id in either language, as the
    English message, ``renkei audit verify`` and the API name it: a finding is evidence an auditor takes to
    the command line, an export or the database, and a chain id is letters only (never a number to hide).
    """

    problem: Problem

    def __new__(cls, problem: Problem) -> Finding:
        text = super().__new__(cls, safe(problem.message))
        text.problem = problem
        return text

    def localized(self) -> str:
        """The English message, or what was found and where in the current language."""
        if current_language() == "en":
            return str(self)
        p = self.problem
        if p.chain_id is not None and p.seq is not None:
            where = _("chain %(chain)s, record %(seq)s") % {"chain": p.chain_id, "seq": p.seq}
        elif p.chain_id is not None:
            where = _("chain %(chain)s") % {"chain": p.chain_id}
        elif p.checkpoint_id is not None:
            where = _("checkpoint %(checkpoint)s") % {"checkpoint": p.checkpoint_id}
        else:
            return label("verify_problem", p.kind.value)
        return _("%(where)s: %(problem)s") % {
            "where": where,
            "problem": label("verify_problem", p.kind.value),
        }


@dataclass(frozen=True, slots=True)
class Verification:
    """A verification's result as the API answers it, and its problems as a page shows them."""

    out: VerifyOut
    problems: list[str]


def _search(
    request: Request, principal: Principal, record_filter: RecordFilter, limit: int
) -> tuple[list[AuditRecordOut], bool]:
    found: list[AuditRecordOut] = []
    with state_of(request).root.engine.connect() as conn:
        batch = []
        for record in newest_first(conn, record_filter):
            batch.append(record)
            if len(batch) < _BATCH:
                continue
            found.extend(record_out(r) for r in visible_records(conn, principal, batch))
            batch = []
            if len(found) > limit:
                break
        if batch:
            found.extend(record_out(r) for r in visible_records(conn, principal, batch))
    return found[:limit], len(found) > limit


def _filter(
    *,
    subject: str | None,
    message_id: str | None,
    correlation_id: str | None,
    actor: str | None,
    action: AuditAction | None,
    since: datetime | None,
    until: datetime | None,
) -> RecordFilter:
    return RecordFilter(
        subject_token=subject,
        message_id=message_id,
        correlation_id=correlation_id,
        actor=actor,
        action=None if action is None else action.value,
        since=since,
        until=until,
    )


def _verify(request: Request) -> Verification:
    state = state_of(request)
    path = state.root.settings.audit_key_path
    try:
        keys = [load_signer(path).public_key] if path.exists() else []
    except ConfigurationError:
        keys = []
    with _verify_lock:
        try:
            with state.root.engine.connect() as conn, conn.begin():
                report = verify(conn, keys)
            shown: list[str] = [Finding(p) for p in report.problems[:20]]
            if not keys:
                shown.append(LazyText("no trusted checkpoint key: signatures not checked"))
            out = VerifyOut(
                ok=report.ok and bool(keys),
                checked_at=datetime.now(UTC),
                records_checked=report.records_checked,
                chains=report.chains,
                checkpoints=report.checkpoints,
                uncovered_records=report.uncovered_records,
                problems=[str(p) for p in shown],
            )
        except DATABASE_FAILURES as exc:
            shown = [LazyText("the database failed: %(error)s", error=type(exc).__name__)]
            out = VerifyOut(
                ok=False,
                checked_at=datetime.now(UTC),
                records_checked=0,
                chains=0,
                checkpoints=0,
                uncovered_records=0,
                problems=[str(p) for p in shown],
            )
        result = Verification(out, shown)
        _last["result"] = result
    return result


@api.get("/records", response_model=AuditSearchOut, summary="Search the access record, newest first")
def records_api(
    request: Request,
    principal: Auditor,
    *,
    subject: Text = None,
    message_id: Text = None,
    correlation_id: Text = None,
    actor: Text = None,
    action: AuditAction | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditSearchOut:
    """Who touched what, when and why; an association's auditor sees its members' records only."""
    record_filter = _filter(
        subject=subject,
        message_id=message_id,
        correlation_id=correlation_id,
        actor=actor,
        action=action,
        since=since,
        until=until,
    )
    records, more = _search(request, principal, record_filter, limit)
    return AuditSearchOut(records=records, more=more)


@api.get("/verify", response_model=VerifyOut, summary="Verify every chain and checkpoint now")
def verify_api(request: Request, _: Auditor) -> VerifyOut:
    """Recompute every hash chain and checkpoint signature."""
    return _verify(request).out


@pages.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    principal: Auditor,
    *,
    subject: Annotated[str | None, Query(max_length=200)] = None,
    message_id: Annotated[str | None, Query(max_length=200)] = None,
    correlation_id: Annotated[str | None, Query(max_length=200)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    """Search form, results, and the last verification."""
    chosen = AuditAction(action) if action in {a.value for a in AuditAction} else None
    record_filter = _filter(
        subject=subject or None,
        message_id=message_id or None,
        correlation_id=correlation_id or None,
        actor=actor or None,
        action=chosen,
        since=None,
        until=None,
    )
    records, more = _search(request, principal, record_filter, 100)
    last = _last.get("result")
    return render(
        request,
        "audit.html",
        records=records,
        more=more,
        verification=None if last is None else last.out,
        problems=[] if last is None else last.problems,
        actions=[a.value for a in AuditAction],
        form={
            "subject": subject or "",
            "message_id": message_id or "",
            "correlation_id": correlation_id or "",
            "actor": actor or "",
            "action": chosen.value if chosen else "",
        },
    )


@pages.get("/audit/verify", response_class=HTMLResponse)
def verify_page(request: Request, _: Auditor) -> HTMLResponse:
    """Run the verification and show it."""
    result = _verify(request)
    return render(request, "verify.html", verification=result.out, problems=result.problems)
