"""Operator actions on dead letters: replay (再送) and discard (archive), each written to the access record.

Replay, per chunk of rows:

1. claim each row (a conditional ``pending → replaying`` update, so two operators cannot replay one row
   at once) and write a REPLAYED access record naming the operator, the reason, the replay id and the
   dead letter, and commit: *before* anything is published (fail closed);
2. publish the stored body to the queue the hub computes from its message type (:class:`ReplayRoutes
   <hub.core.runtime.senders.ReplayRoutes>`; never the queue a header names), through that queue's own
   exchange, with the same message id (the consumer's inbox turns a second replay into a no-op), renkei's
   attempt count reset to 1 and its provenance in ``x-renkei-replay-of`` / ``-replay-id`` /
   ``-replay-operator``; wait for the broker's confirms. The hub accepts a replay only as the exact message of
   a dead letter whose sender it proved (:func:`hub.core.runtime.senders.replayed_sender`);
3. mark the rows replayed.

If publishing fails, the rows are given back (pending) and a failed REPLAYED record says so; some messages
of the chunk may have reached their queue all the same, which the consumers' inboxes absorb. If the process
dies between 1 and 3, the rows stay ``replaying`` until the claim is stale, then can be replayed again.

Discard archives pending rows with the operator's reason, in the same transaction as a DISCARDED record.

A dead letter whose body carries Individual Numbers (:func:`hub.core.rules.sealed_bodies.carries_numbers`) is
replayed or discarded only under an approved request that names it (four eyes,
:mod:`hub.core.operator.approvals`): the caller consumes the request and passes it here; every other such row
is skipped, and the records of what was done name both people.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from contracts.errors import BodyTooLarge, ConfigurationError, RenkeiError
from contracts.ids import new_id
from contracts.redaction import redact_bytes, redact_text
from hub.core.operator.approvals import approval_details
from hub.core.operator.notices import Notice, NoticeCode
from hub.core.operator.rate_limit import TokenBucket
from hub.core.rules.sealed_bodies import carries_numbers
from hub.core.runtime import headers as h
from hub.core.runtime.senders import ReplayRoutes, ReplayTarget
from hub.ports.approvals import Approval
from hub.ports.audit import AccessRecord, AuditAction, Outcome
from hub.ports.dead_letters import DeadLetter, DeadLetterQuery, DeadLetterStatus
from hub.ports.store import UnitOfWorkFactory
from hub.ports.transport import OutgoingMessage, Transport

__all__ = [
    "ActionOutcome",
    "ActionResult",
    "DeadLetterOperations",
    "OperationReport",
    "operator_actor",
    "replay_message",
]

log = logging.getLogger(__name__)

_FAILURE_HEADERS = frozenset(
    {
        h.FAILURE_CODE,
        h.FAILURE_REASON,
        h.FAILURE_TYPE,
        h.FAILED_STAGE,
        h.FAILED_QUEUE,
        h.FAILURE_AT,
        h.REPLAY_OF,
        h.REPLAY_ID,
        h.REPLAY_OPERATOR,
        h.SENDER,
    }
)
_MAX_PAGES = 100_000  # bounds every loop: 5 million rows at the default chunk
_NEEDS_APPROVAL = Notice(NoticeCode.DEAD_LETTER_NEEDS_APPROVAL)
_REASON_LIMIT = 1_000


class ActionOutcome(StrEnum):
    """What happened to one dead letter."""

    REPLAYED = "replayed"
    DISCARDED = "discarded"
    WOULD_REPLAY = "would_replay"
    WOULD_DISCARD = "would_discard"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ActionResult:
    """One dead letter's part in an operation; ``detail`` is a :class:`~.notices.Notice` or empty."""

    dead_letter_id: int
    message_id: str | None
    queue: str
    outcome: ActionOutcome
    detail: str = ""
    replay_id: str | None = None


@dataclass
class OperationReport:
    """What a replay or discard did; ``error`` is set when it stopped early (a notice, or a caller's text)."""

    operation: str
    operation_id: str
    operator: str
    dry_run: bool
    results: list[ActionResult] = field(default_factory=list)
    error: str | None = None

    def counts(self) -> dict[str, int]:
        """How many dead letters ended in each outcome."""
        return dict(Counter(r.outcome.value for r in self.results))


def _in_status(row: DeadLetter) -> Notice:
    return Notice(NoticeCode.DEAD_LETTER_IN_STATUS, dead_letter_status=row.status.value)


def operator_actor(operator: str) -> str:
    """The access record's actor for a person: ``operator:<name>``."""
    return f"operator:{operator}"


def replay_message(
    dead_letter: DeadLetter, *, replay_id: str, operator: str, target: ReplayTarget
) -> OutgoingMessage:
    """The stored message, addressed to ``target`` with its provenance and a fresh attempt count."""
    headers = {
        redact_text(k): redact_text(v) if isinstance(v, str) else v
        for k, v in dead_letter.headers.items()
        if k.startswith("x-renkei-") and k not in _FAILURE_HEADERS | {h.BODY_SIZE}
    }
    headers.update(
        {
            h.ATTEMPT: 1,
            h.REPLAY_OF: str(dead_letter.id),
            h.REPLAY_ID: replay_id,
            h.REPLAY_OPERATOR: operator,
        }
    )
    # Redacted again on the way out, whatever the store holds (a row kept before redaction knew an encoding).
    body = redact_bytes(dead_letter.body)
    try:
        body.decode("utf-8")
        content_type = "application/json"
    except UnicodeDecodeError:
        content_type = "application/octet-stream"
    message_id = dead_letter.message_id or "unknown"
    return OutgoingMessage(
        exchange=target.exchange,
        routing_key=target.routing_key,
        body=body,
        message_id=message_id,
        message_type=dead_letter.message_type,
        correlation_id=dead_letter.correlation_id or message_id,
        headers=headers,
        content_type=content_type,
    )


@dataclass(frozen=True, slots=True)
class _Run:
    """One operator command: who, why, and its report; makes its records and results."""

    operator: str
    reason: str
    report: OperationReport
    approval: Approval | None = None

    @classmethod
    def start(
        cls, operation: str, operator: str, reason: str, dry_run: bool, approval: Approval | None = None
    ) -> _Run:
        operator = operator.strip()
        if not 0 < len(operator) <= 100 or not operator.isprintable():
            raise ConfigurationError(Notice(NoticeCode.OPERATOR_NAME_INVALID))
        reason = redact_text(" ".join(reason.split()))[:_REASON_LIMIT]
        if not reason:
            raise ConfigurationError(Notice(NoticeCode.OPERATOR_REASON_MISSING))
        return cls(operator, reason, OperationReport(operation, str(new_id()), operator, dry_run), approval)

    def approved(self, row: DeadLetter) -> bool:
        """Whether ``row`` may be acted on: its body carries no number, or the approved request names it."""
        if not carries_numbers(row.body):
            return True
        ids = self.approval.target.get("ids", ()) if self.approval is not None else ()
        return row.id in ids

    def add(
        self,
        row: DeadLetter,
        outcome: ActionOutcome,
        detail: str = "",
        replay_id: str | None = None,
        queue: str | None = None,
    ) -> None:
        self.report.results.append(
            ActionResult(
                row.id, row.message_id, queue or row.failure.source_queue, outcome, detail, replay_id
            )
        )

    def record(
        self,
        action: AuditAction,
        row: DeadLetter,
        replay_id: str | None = None,
        failed: str | None = None,
        queue: str | None = None,
    ) -> AccessRecord:
        details = {
            "operator": self.operator,
            "operation_id": self.report.operation_id,
            "dead_letter_id": str(row.id),
            "fingerprint": row.fingerprint,
            "failure_reason": row.failure.reason_code,
            **approval_details(self.approval if carries_numbers(row.body) else None),
        }
        if row.actor:
            details["on_behalf_of"] = row.actor
        if replay_id is not None:
            details["replay_id"] = replay_id
        if failed is not None:
            details["operator_reason"] = self.reason
        return AccessRecord(
            actor=operator_actor(self.operator),
            action=action,
            message_id=row.message_id,
            correlation_id=row.correlation_id,
            message_type=row.message_type,
            source="dead_letters",
            destination=(queue or row.failure.source_queue) if action is AuditAction.REPLAYED else None,
            outcome=Outcome.FAILED if failed else Outcome.OK,
            reason=failed or self.reason,
            details=details,
        )


class DeadLetterOperations:
    """Replays and discards dead letters for an operator.

    Args:
        uow_factory: units of work with the dead-letter store and the access record.
        transport: publishes replays with confirms (``None``: replay is refused; discard still works).
        routes: where each message type is replayed to (``None``: replay is refused).
        clock: the current time.
        sleep: how the rate limiter waits.
        monotonic: the rate limiter's clock.
        stale_claim_after: a ``replaying`` claim older than this may be taken again.
        chunk: rows per transaction and per publish.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        transport: Transport | None = None,
        *,
        routes: ReplayRoutes | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        stale_claim_after: timedelta = timedelta(minutes=10),
        chunk: int = 50,
    ) -> None:
        self._uow_factory = uow_factory
        self._transport = transport
        self._routes = routes
        self._clock = clock
        self._sleep = sleep
        self._monotonic = monotonic
        self._stale = stale_claim_after
        self._chunk = max(1, chunk)

    def replay(
        self,
        query: DeadLetterQuery,
        *,
        operator: str,
        reason: str,
        rate: float | None = None,
        limit: int | None = None,
        dry_run: bool = False,
        approval: Approval | None = None,
    ) -> OperationReport:
        """Replay the dead letters ``query`` selects, at most ``limit``, at most ``rate`` per second.

        Rows that are neither pending nor stale ``replaying`` are reported as skipped, and so are rows whose
        bodies carry numbers unless ``approval`` (an approved, consumed request) names them.

        Raises:
            ConfigurationError: no operator, no reason, a bad rate, or no transport.
            AuditWriteFailed, StoreUnavailable: nothing more was replayed (what was is in the report).
        """
        run = _Run.start("replay", operator, reason, dry_run, approval)
        if self._transport is None and not dry_run:
            raise ConfigurationError(Notice(NoticeCode.REPLAY_NO_TRANSPORT))
        if self._routes is None:
            raise ConfigurationError(Notice(NoticeCode.REPLAY_NO_ROUTES))
        routes = self._routes
        bucket = TokenBucket(rate, clock=self._monotonic, sleep=self._sleep) if rate is not None else None
        chunk = self._chunk if bucket is None else max(1, min(self._chunk, int(bucket.burst)))
        done, after = 0, 0
        for _ in range(_MAX_PAGES):
            rows = self._page(query, after, chunk if limit is None else min(chunk, limit - done))
            if not rows:
                break
            after = rows[-1].id
            ready = self._claimable(rows, run, routes)
            if dry_run:
                for row, target in ready:
                    run.add(row, ActionOutcome.WOULD_REPLAY, queue=target.queue)
            elif ready:
                if bucket is not None:
                    bucket.take(len(ready))
                self._replay_chunk(ready, run)
            done += len(ready)
            if run.report.error:
                break
        log.info(
            "replay done", extra={"operation_id": run.report.operation_id, "counts": run.report.counts()}
        )
        return run.report

    def discard(
        self,
        query: DeadLetterQuery,
        *,
        operator: str,
        reason: str,
        limit: int | None = None,
        dry_run: bool = False,
        approval: Approval | None = None,
    ) -> OperationReport:
        """Archive the pending dead letters ``query`` selects (at most ``limit``) with ``reason``.

        Rows whose bodies carry numbers are skipped unless ``approval`` names them (four eyes).

        Raises:
            ConfigurationError: no operator or no reason.
            AuditWriteFailed, StoreUnavailable: nothing more was discarded.
        """
        run = _Run.start("discard", operator, reason, dry_run, approval)
        done, after = 0, 0
        for _ in range(_MAX_PAGES):
            rows = self._page(query, after, self._chunk if limit is None else min(self._chunk, limit - done))
            if not rows:
                break
            after = rows[-1].id
            pending = []
            for row in rows:
                if row.status is not DeadLetterStatus.PENDING:
                    run.add(row, ActionOutcome.SKIPPED, _in_status(row))
                elif not run.approved(row):
                    run.add(row, ActionOutcome.SKIPPED, _NEEDS_APPROVAL)
                else:
                    pending.append(row)
            if dry_run:
                for row in pending:
                    run.add(row, ActionOutcome.WOULD_DISCARD)
            elif pending:
                self._discard_chunk(pending, run)
            done += len(pending)
        return run.report

    def _page(self, query: DeadLetterQuery, after_id: int, size: int) -> list[DeadLetter]:
        if size <= 0:
            return []
        with self._uow_factory() as uow:
            return uow.dead_letters.find(replace(query, after_id=max(after_id, query.after_id), limit=size))

    def _claimable(
        self, rows: list[DeadLetter], run: _Run, routes: ReplayRoutes
    ) -> list[tuple[DeadLetter, ReplayTarget]]:
        """Rows that can be claimed now, with their targets; the others are reported as skipped."""
        stale_before = self._clock() - self._stale
        ready = []
        for row in rows:
            if row.failure.reason_code == BodyTooLarge.code:
                run.add(row, ActionOutcome.SKIPPED, Notice(NoticeCode.DEAD_LETTER_BODY_CUT))
                continue
            if row.erased:
                run.add(row, ActionOutcome.SKIPPED, Notice(NoticeCode.DEAD_LETTER_ERASED))
                continue
            if not run.approved(row):
                run.add(row, ActionOutcome.SKIPPED, _NEEDS_APPROVAL)
                continue
            if not (
                row.status is DeadLetterStatus.PENDING
                or (
                    row.status is DeadLetterStatus.REPLAYING
                    and (row.claimed_at is None or row.claimed_at < stale_before)
                )
            ):
                run.add(row, ActionOutcome.SKIPPED, _in_status(row))
                continue
            try:
                target = routes.target(row.message_type, row.sender)
            except ConfigurationError as exc:
                run.add(row, ActionOutcome.SKIPPED, Notice(NoticeCode.DEAD_LETTER_NO_ROUTE, error=str(exc)))
                continue
            ready.append((row, target))
        return ready

    def _replay_chunk(self, ready: list[tuple[DeadLetter, ReplayTarget]], run: _Run) -> None:
        now = self._clock()
        rows = [row for row, _ in ready]
        targets = {row.id: target for row, target in ready}
        claims = {row.id: str(new_id()) for row in rows}
        with self._uow_factory() as uow:  # 1. claim and record, before anything leaves (fail closed)
            store = uow.dead_letters
            claimed = [
                row
                for row in rows
                if store.claim(
                    row.id,
                    replay_id=claims[row.id],
                    operator=run.operator,
                    now=now,
                    stale_before=now - self._stale,
                )
            ]
            if claimed:
                uow.audit.append(
                    [
                        run.record(AuditAction.REPLAYED, row, claims[row.id], queue=targets[row.id].queue)
                        for row in claimed
                    ]
                )
            uow.commit()
        for row in rows:
            if row.id not in {c.id for c in claimed}:
                run.add(row, ActionOutcome.SKIPPED, Notice(NoticeCode.DEAD_LETTER_TAKEN))
        if not claimed:
            return
        assert self._transport is not None
        try:  # 2. publish, confirmed
            self._transport.publish(
                [
                    replay_message(r, replay_id=claims[r.id], operator=run.operator, target=targets[r.id])
                    for r in claimed
                ]
            )
        except RenkeiError as exc:
            self._give_back(claimed, claims, run, exc)
            return
        try:  # 3. mark replayed
            with self._uow_factory() as uow:
                for row in claimed:
                    uow.dead_letters.complete_replay(row.id, replay_id=claims[row.id], now=self._clock())
                uow.commit()
        except RenkeiError as exc:
            run.report.error = Notice(NoticeCode.REPLAY_NOT_MARKED, code=exc.code)
        for row in claimed:
            run.add(row, ActionOutcome.REPLAYED, replay_id=claims[row.id], queue=targets[row.id].queue)

    def _give_back(
        self, rows: list[DeadLetter], claims: dict[int, str], run: _Run, error: RenkeiError
    ) -> None:
        failed = Notice(NoticeCode.REPLAY_PUBLISH_FAILED, code=error.code)
        run.report.error = Notice(NoticeCode.REPLAY_PUBLISH_FAILED_GIVEN_BACK, code=error.code)
        log.warning(
            "replay not published", extra={"operation_id": run.report.operation_id, "error": error.code}
        )
        with self._uow_factory() as uow:
            for row in rows:
                uow.dead_letters.release(row.id, replay_id=claims[row.id])
            uow.audit.append(
                [run.record(AuditAction.REPLAYED, row, claims[row.id], str(failed)) for row in rows]
            )
            uow.commit()
        for row in rows:
            run.add(row, ActionOutcome.FAILED, failed, claims[row.id])

    def _discard_chunk(self, rows: list[DeadLetter], run: _Run) -> None:
        now = self._clock()
        with self._uow_factory() as uow:
            store = uow.dead_letters
            done = [r for r in rows if store.discard(r.id, operator=run.operator, reason=run.reason, now=now)]
            if done:
                uow.audit.append([run.record(AuditAction.DISCARDED, row) for row in done])
            uow.commit()
        for row in rows:
            if row.id in {d.id for d in done}:
                run.add(row, ActionOutcome.DISCARDED)
            else:
                run.add(row, ActionOutcome.SKIPPED, Notice(NoticeCode.DEAD_LETTER_NO_LONGER_PENDING))
