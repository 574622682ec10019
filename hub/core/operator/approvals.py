"""Four eyes (二者承認) for numbers: one person requests, another approves, then it is done.

The seed requires the federation's approval for each privileged access to numbers (Ⅲ 閲覧者・更新者の制限:
viewing numbers and emergency work need 市町村連合会's approval each time). renkei asks for a second person
before it

* reveals a sealed number of a dead letter (console; approved by a federation admin);
* resolves a held link (``renkei vault resolve``);
* replays or discards dead letters whose bodies carry numbers (:mod:`hub.core.rules.sealed_bodies`; CLI or
  console).

The life of a request: :func:`request` (with a reason; the target named exactly: ids, never a number) →
:func:`decide` by another person holding the same permission, within the time limit → :func:`consume` by the
requester, once, within the time limit again → the action, whose access record names both people and the
request. Every step writes an access record (REQUESTED, APPROVED; REFUSED when refused). A person reveals at
most ``reveals_per_day`` numbers a day (counted in Japan's calendar day).

A person is named by a name; ``ada@console`` and ``ada`` are the same person (the console's user ``ada`` and
the CLI's operator ``ada``): a request cannot be approved by its requester under another spelling.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final

from contracts.errors import PermanentError
from contracts.ids import random_letters
from contracts.redaction import redact_text
from hub.core.operator.notices import Notice, NoticeCode
from hub.ports.approvals import Approval, ApprovalAction, ApprovalStatus
from hub.ports.audit import AccessRecord, AuditAction, Outcome
from hub.ports.store import UnitOfWork

__all__ = [
    "JST",
    "ApprovalPolicy",
    "ApprovalRefused",
    "ApprovalRequired",
    "approval_details",
    "consume",
    "decide",
    "person",
    "request",
]

JST: Final = timezone(timedelta(hours=9), "JST")
"""The day the daily reveal limit counts is Japan's calendar day."""
_REASON_LIMIT: Final = 1_000
_FEDERATION: Final = "federation"


class ApprovalRequired(PermanentError):
    """The action needs an approved request (four eyes) and none was given (raised with a ``Notice``)."""

    code = "approval_required"


class ApprovalRefused(PermanentError):
    """The request, approval or use is not allowed (own request, expired, another target, daily limit ...).

    Raised with a :class:`~hub.core.operator.notices.Notice`: its English is the message, its code what a
    page shows.
    """

    code = "approval_refused"


@dataclass(frozen=True, slots=True)
class ApprovalPolicy:
    """The limits, from the settings.

    Attributes:
        ttl: how long a request waits for approval, and how long an approval waits to be used.
        reveals_per_day: how many numbers one person may reveal in a day (requests in flight count).
    """

    ttl: timedelta = timedelta(minutes=30)
    reveals_per_day: int = 10

    @classmethod
    def of(cls, ttl_minutes: int, reveals_per_day: int) -> ApprovalPolicy:
        """The policy the settings give (``RENKEI_APPROVAL_TTL_MINUTES``, ``..._REVEALS_PER_DAY``)."""
        return cls(timedelta(minutes=ttl_minutes), reveals_per_day)


def person(name: str) -> str:
    """The person a name stands for: ``ada@console`` and ``ada`` are one person."""
    name = name.strip()
    return name[: -len("@console")] if name.endswith("@console") else name


def _target(target: Mapping[str, Any]) -> dict[str, Any]:
    """A target as stored and compared: JSON types, sorted keys, lists sorted."""
    canon = json.loads(json.dumps(dict(target), sort_keys=True))
    return {k: sorted(v) if isinstance(v, list) else v for k, v in canon.items()}


def _record(
    action: AuditAction, approval: Approval, actor: str, *, outcome: Outcome = Outcome.OK, **details: str
) -> AccessRecord:
    return AccessRecord(
        actor=actor,
        action=action,
        source="approvals",
        destination=approval.action.value,
        outcome=outcome,
        reason=details.pop("reason", None) or approval.reason,
        details={
            "approval_id": approval.approval_id,
            "approval_action": approval.action.value,
            "target": json.dumps(dict(approval.target), sort_keys=True)[:500],
            "requested_by": approval.requested_by,
            **details,
        },
    )


def approval_details(approval: Approval | None) -> dict[str, str]:
    """What an action's access record adds to name both people (empty without a request)."""
    if approval is None:
        return {}
    return {
        "approval_id": approval.approval_id,
        "requested_by": approval.requested_by,
        "approved_by": approval.decided_by or "",
    }


def _day_start(now: datetime) -> datetime:
    local = now.astimezone(JST)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def request(
    uow: UnitOfWork,
    *,
    action: ApprovalAction,
    target: Mapping[str, Any],
    reason: str,
    by: str,
    org: str,
    actor: str,
    policy: ApprovalPolicy,
    now: datetime | None = None,
) -> Approval:
    """Store a request and its REQUESTED access record (the caller commits).

    Args:
        uow: the unit of work (the request and its record are written in it).
        action: what is asked for.
        target: exactly what (ids only).
        reason: why (required; redacted, at most 1,000 characters).
        by: who asks.
        org: ``federation`` or the requester's 構成組合.
        actor: the access record's actor.
        policy: the time limit and the daily reveal limit.
        now: the time (tests).

    Raises:
        ApprovalRefused: no reason, or the daily reveal limit would be passed.
    """
    moment = now or datetime.now(UTC)
    text = redact_text(" ".join(reason.split()))[:_REASON_LIMIT]
    if len(text) < 3:
        raise ApprovalRefused(Notice(NoticeCode.APPROVAL_REASON_MISSING))
    if action is ApprovalAction.REVEAL_NUMBER:
        used = uow.approvals.count_used(action, by, _day_start(moment))
        open_ = uow.approvals.count_open(action, by, moment)
        if used + open_ >= policy.reveals_per_day:
            uow.audit.append(
                [
                    AccessRecord(
                        actor=actor,
                        action=AuditAction.REQUESTED,
                        source="approvals",
                        destination=action.value,
                        outcome=Outcome.REFUSED,
                        reason="daily_reveal_limit",
                        details={"requested_by": by, "limit": str(policy.reveals_per_day)},
                    )
                ]
            )
            raise ApprovalRefused(
                Notice(
                    NoticeCode.APPROVAL_DAILY_LIMIT_REQUEST,
                    person=person(by),
                    limit=policy.reveals_per_day,
                    used=used,
                    open=open_,
                )
            )
    approval = Approval(
        approval_id="apr-" + random_letters(12).lower(),
        action=action,
        target=_target(target),
        reason=text,
        requested_by=by,
        requested_org=org,
        requested_at=moment,
        expires_at=moment + policy.ttl,
        status=ApprovalStatus.PENDING,
    )
    uow.approvals.add(approval)
    uow.audit.append([_record(AuditAction.REQUESTED, approval, actor, org=org)])
    return approval


def decide(
    uow: UnitOfWork,
    approval_id: str,
    *,
    approve: bool,
    by: str,
    org: str,
    actor: str,
    note: str | None,
    policy: ApprovalPolicy,
    now: datetime | None = None,
) -> Approval:
    """Approve or reject another person's pending request, within its time limit (the caller commits).

    A reveal is approved by the federation (the seed: 市町村連合会の承認); other requests by the federation or
    by the requester's own 構成組合. An approval gives the requester ``policy.ttl`` to act.

    Raises:
        ApprovalRefused: unknown, not pending, expired, one's own, or outside the approver's organisation.
    """
    moment = now or datetime.now(UTC)
    approval = uow.approvals.get(approval_id)
    if approval is None:
        raise ApprovalRefused(Notice(NoticeCode.APPROVAL_UNKNOWN, approval_id=approval_id))
    problem = None
    if approval.status is not ApprovalStatus.PENDING:
        problem = Notice(
            NoticeCode.APPROVAL_NOT_PENDING, approval_id=approval_id, status=approval.status.value
        )
    elif approval.expired(moment):
        problem = Notice(
            NoticeCode.APPROVAL_EXPIRED, approval_id=approval_id, expires_at=approval.expires_at.isoformat()
        )
    elif person(by) == person(approval.requested_by):
        problem = Notice(NoticeCode.APPROVAL_OWN_REQUEST)
    elif approval.action is ApprovalAction.REVEAL_NUMBER and org != _FEDERATION:
        problem = Notice(NoticeCode.APPROVAL_REVEAL_FEDERATION_ONLY)
    elif org not in (_FEDERATION, approval.requested_org):
        problem = Notice(NoticeCode.APPROVAL_OTHER_ORG, org=org, requested_org=approval.requested_org)
    if problem is not None:
        uow.audit.append(
            [
                _record(
                    AuditAction.APPROVED,
                    approval,
                    actor,
                    outcome=Outcome.REFUSED,
                    reason=problem[:300],
                    decided_by=by,
                )
            ]
        )
        raise ApprovalRefused(problem)
    status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    clean = redact_text(" ".join((note or "").split()))[:_REASON_LIMIT] or None
    expires = moment + policy.ttl if approve else approval.expires_at
    if not uow.approvals.decide(
        approval_id, status=status, by=by, org=org, at=moment, note=clean, expires_at=expires
    ):
        raise ApprovalRefused(Notice(NoticeCode.APPROVAL_DECIDED_MEANWHILE, approval_id=approval_id))
    decided = replace(
        approval,
        status=status,
        decided_by=by,
        decided_org=org,
        decided_at=moment,
        decision_note=clean,
        expires_at=expires,
    )
    outcome = Outcome.OK if approve else Outcome.REFUSED
    uow.audit.append(
        [
            _record(
                AuditAction.APPROVED,
                decided,
                actor,
                outcome=outcome,
                reason=clean or ("approved" if approve else "rejected"),
                decided_by=by,
                decision=status.value,
            )
        ]
    )
    return decided


def consume(
    uow: UnitOfWork,
    approval_id: str | None,
    *,
    action: ApprovalAction,
    target: Mapping[str, Any],
    by: str,
    actor: str,
    policy: ApprovalPolicy,
    now: datetime | None = None,
) -> Approval:
    """Take an approved request to do what it names, once (the caller commits with the action's records).

    Raises:
        ApprovalRequired: no request named.
        ApprovalRefused: unknown, not approved, expired, another action or target, someone else's, or the
            daily reveal limit is reached.
    """
    if not approval_id:
        raise ApprovalRequired(Notice(NoticeCode.APPROVAL_REQUIRED, action=action.value))
    moment = now or datetime.now(UTC)
    approval = uow.approvals.get(approval_id)
    if approval is None:
        raise ApprovalRefused(Notice(NoticeCode.APPROVAL_UNKNOWN, approval_id=approval_id))
    problem = None
    if approval.action is not action:
        problem = Notice(
            NoticeCode.APPROVAL_WRONG_ACTION,
            approval_id=approval_id,
            approved_action=approval.action.value,
            action=action.value,
        )
    elif approval.status is not ApprovalStatus.APPROVED:
        problem = Notice(
            NoticeCode.APPROVAL_NOT_APPROVED, approval_id=approval_id, status=approval.status.value
        )
    elif approval.expired(moment):
        problem = Notice(
            NoticeCode.APPROVAL_APPROVAL_EXPIRED,
            approval_id=approval_id,
            expires_at=approval.expires_at.isoformat(),
        )
    elif person(by) != person(approval.requested_by):
        problem = Notice(
            NoticeCode.APPROVAL_NOT_REQUESTER, approval_id=approval_id, requested_by=approval.requested_by
        )
    elif _target(target) != dict(approval.target):
        problem = Notice(
            NoticeCode.APPROVAL_OTHER_TARGET,
            approval_id=approval_id,
            target=json.dumps(dict(approval.target)),
        )
    elif (
        action is ApprovalAction.REVEAL_NUMBER
        and uow.approvals.count_used(action, approval.requested_by, _day_start(moment))
        >= policy.reveals_per_day
    ):
        problem = Notice(NoticeCode.APPROVAL_DAILY_LIMIT_USE, person=person(by), limit=policy.reveals_per_day)
    if problem is not None:
        uow.audit.append(
            [_record(AuditAction.REFUSED, approval, actor, outcome=Outcome.REFUSED, reason=problem[:300])]
        )
        raise ApprovalRefused(problem)
    if not uow.approvals.use(approval_id, at=moment):
        raise ApprovalRefused(Notice(NoticeCode.APPROVAL_USED_MEANWHILE, approval_id=approval_id))
    return replace(approval, status=ApprovalStatus.USED, used_at=moment)
