"""The dead-letter store on SQLAlchemy Core, bound to the unit of work's connection.

Every state change is a conditional ``UPDATE ... WHERE status = ...`` whose row count says whether this
transaction made it: two operators replaying the same row at once, on SQLite (one writer at a time) or
PostgreSQL (the second ``UPDATE`` waits for the first and then finds the status changed), cannot both
take it. Times are stored in UTC; SQLite gives them back naive, and they are made aware again here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from contracts.errors import StoreUnavailable
from contracts.redaction import redact_text
from hub.core.operator.notices import restored
from hub.infra.db.tables.dead_letters import dead_letters as t
from hub.ports.dead_letters import (
    DeadLetter,
    DeadLetterEntry,
    DeadLetterQuery,
    DeadLetterStatus,
    Failure,
    FailureGroup,
    FailureOrigin,
)
from hub.ports.transport import HeaderValue

__all__ = ["SqlDeadLetterStore"]

_PENDING = DeadLetterStatus.PENDING.value
_REPLAYING = DeadLetterStatus.REPLAYING.value


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else _utc(value)


def _headers_text(headers: Mapping[str, HeaderValue]) -> str:
    scalar = {
        redact_text(str(k)): (redact_text(v) if isinstance(v, str) else v)
        for k, v in headers.items()
        if v is None or isinstance(v, str | int | bool)
    }
    return json.dumps(scalar, sort_keys=True, ensure_ascii=False)


def _headers_of(text: str) -> dict[str, HeaderValue]:
    try:
        raw = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(raw, dict):
        return {}
    return {str(k): v for k, v in raw.items() if v is None or isinstance(v, str | int | bool)}


class SqlDeadLetterStore:
    """:class:`hub.ports.dead_letters.DeadLetterStore` on one connection; never commits by itself.

    Args:
        conn: the connection whose transaction the changes join.
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, entry: DeadLetterEntry) -> tuple[int, bool]:
        """Store ``entry``, or merge it into the pending row of the same message and fingerprint."""
        failed_at = _utc(entry.failure.failed_at)
        try:
            row = self._conn.execute(
                select(t.c.id, t.c.first_failed_at, t.c.last_failed_at, t.c.attempts)
                .where(
                    t.c.message_key == entry.message_key,
                    t.c.fingerprint == entry.fingerprint,
                    t.c.status == _PENDING,
                    # Never merge a planted copy into a proven one, or the other way round.
                    t.c.sender.is_not_distinct_from(entry.sender),
                    t.c.actor.is_not_distinct_from(entry.actor),
                )
                .order_by(t.c.id)
                .limit(1)
            ).first()
            if row is not None:
                self._conn.execute(
                    update(t)
                    .where(t.c.id == row.id)
                    .values(
                        occurrences=t.c.occurrences + 1,
                        first_failed_at=min(_utc(row.first_failed_at), failed_at),
                        last_failed_at=max(_utc(row.last_failed_at), failed_at),
                        attempts=max(int(row.attempts), entry.failure.attempts),
                    )
                )
                return int(row.id), False
            result = self._conn.execute(insert(t).values(**self._values(entry, failed_at)))
        except SQLAlchemyError as exc:
            raise StoreUnavailable("the dead letter could not be stored; it stays in the queue") from exc
        inserted = result.inserted_primary_key
        assert inserted is not None
        return int(inserted[0]), True

    @staticmethod
    def _values(entry: DeadLetterEntry, failed_at: datetime) -> dict[str, Any]:
        f = entry.failure
        return {
            "death_key": entry.death_key,
            "message_key": entry.message_key,
            "message_id": entry.message_id,
            "correlation_id": entry.correlation_id,
            "message_type": entry.message_type,
            "source_queue": f.source_queue,
            "stage": f.stage,
            "origin": f.origin.value,
            "reason_code": f.reason_code,
            "reason_text": redact_text(f.reason_text),
            "exception_type": f.exception_type,
            "attempts": f.attempts,
            "occurrences": 1,
            "first_failed_at": failed_at,
            "last_failed_at": failed_at,
            "received_at": datetime.now(UTC),
            "fingerprint": entry.fingerprint,
            "group_label": entry.group_label,
            "headers": _headers_text(entry.headers),
            "body": entry.body,
            "body_redacted": entry.body_redacted,
            "status": _PENDING,
            "replay_of": entry.replay_of,
            "replay_count": 0,
            "sender": entry.sender,
            "actor": entry.actor,
        }

    def get(self, dead_letter_id: int) -> DeadLetter | None:
        """The dead letter with this id, or ``None``."""
        row = self._conn.execute(select(t).where(t.c.id == dead_letter_id)).mappings().first()
        return None if row is None else _dead_letter(row)

    def find(self, query: DeadLetterQuery) -> list[DeadLetter]:
        """Dead letters matching ``query``, in id order."""
        conditions = _conditions(query)
        statement = select(t).where(*conditions).order_by(t.c.id).limit(query.limit)
        return [_dead_letter(row) for row in self._conn.execute(statement).mappings()]

    def groups(
        self, statuses: Sequence[DeadLetterStatus] = (DeadLetterStatus.PENDING,)
    ) -> list[FailureGroup]:
        """Failure groups of the dead letters in ``statuses`` (empty: any), largest first."""
        statement = select(
            t.c.fingerprint,
            func.min(t.c.group_label).label("label"),
            func.min(t.c.exception_type).label("exception_type"),
            func.min(t.c.stage).label("stage"),
            func.min(t.c.message_type).label("message_type"),
            func.count().label("n"),
            func.sum(t.c.occurrences).label("occurrences"),
            func.min(t.c.first_failed_at).label("first"),
            func.max(t.c.last_failed_at).label("last"),
        ).group_by(t.c.fingerprint)
        if statuses:
            statement = statement.where(t.c.status.in_([s.value for s in statuses]))
        groups = [
            FailureGroup(
                fingerprint=row.fingerprint,
                label=row.label,
                exception_type=row.exception_type,
                stage=row.stage,
                message_type=row.message_type,
                count=int(row.n),
                occurrences=int(row.occurrences or 0),
                first_failed_at=_utc(row.first),
                last_failed_at=_utc(row.last),
            )
            for row in self._conn.execute(statement)
        ]
        return sorted(groups, key=lambda g: (-g.count, g.label))

    def count(self, status: DeadLetterStatus = DeadLetterStatus.PENDING) -> int:
        """How many dead letters are in ``status``."""
        value = self._conn.execute(select(func.count()).select_from(t).where(t.c.status == status.value))
        return int(value.scalar_one())

    def claim(
        self, dead_letter_id: int, *, replay_id: str, operator: str, now: datetime, stale_before: datetime
    ) -> bool:
        """Take a pending (or stale replaying) row for ``replay_id``; returns whether this call took it."""
        claimable = or_(
            t.c.status == _PENDING,
            and_(t.c.status == _REPLAYING, t.c.claimed_at < _utc(stale_before)),
        )
        return self._changed(
            update(t)
            .where(t.c.id == dead_letter_id, claimable)
            .values(status=_REPLAYING, claimed_at=_utc(now), last_replay_id=replay_id, last_operator=operator)
        )

    def complete_replay(self, dead_letter_id: int, *, replay_id: str, now: datetime) -> bool:
        """Mark the row claimed by ``replay_id`` as replayed."""
        return self._changed(
            update(t)
            .where(t.c.id == dead_letter_id, t.c.status == _REPLAYING, t.c.last_replay_id == replay_id)
            .values(
                status=DeadLetterStatus.REPLAYED.value,
                replay_count=t.c.replay_count + 1,
                last_replayed_at=_utc(now),
                claimed_at=None,
            )
        )

    def release(self, dead_letter_id: int, *, replay_id: str) -> bool:
        """Give the row claimed by ``replay_id`` back to pending."""
        return self._changed(
            update(t)
            .where(t.c.id == dead_letter_id, t.c.status == _REPLAYING, t.c.last_replay_id == replay_id)
            .values(status=_PENDING, claimed_at=None)
        )

    def discard(self, dead_letter_id: int, *, operator: str, reason: str, now: datetime) -> bool:
        """Archive a pending row with ``reason``."""
        return self._changed(
            update(t)
            .where(t.c.id == dead_letter_id, t.c.status == _PENDING)
            .values(
                status=DeadLetterStatus.DISCARDED.value,
                discard_reason=redact_text(reason),
                discarded_at=_utc(now),
                last_operator=operator,
            )
        )

    def _changed(self, statement: Any) -> bool:
        try:
            return bool(self._conn.execute(statement).rowcount == 1)
        except SQLAlchemyError as exc:
            raise StoreUnavailable("the dead-letter store could not be updated") from exc


def _conditions(query: DeadLetterQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.ids:
        conditions.append(t.c.id.in_(list(query.ids)))
    if query.fingerprint:
        conditions.append(t.c.fingerprint == query.fingerprint)
    if query.message_type:
        conditions.append(t.c.message_type == query.message_type)
    if query.source_queue:
        conditions.append(t.c.source_queue == query.source_queue)
    if query.since is not None:
        conditions.append(t.c.last_failed_at >= _utc(query.since))
    if query.until is not None:
        conditions.append(t.c.first_failed_at < _utc(query.until))
    if query.statuses:
        conditions.append(t.c.status.in_([s.value for s in query.statuses]))
    if query.after_id:
        conditions.append(t.c.id > query.after_id)
    return conditions


def _dead_letter(row: Mapping[Any, Any]) -> DeadLetter:
    return DeadLetter(
        id=int(row["id"]),
        message_id=row["message_id"],
        correlation_id=row["correlation_id"],
        message_type=row["message_type"],
        failure=Failure(
            reason_code=row["reason_code"],
            reason_text=row["reason_text"],
            exception_type=row["exception_type"],
            stage=row["stage"],
            source_queue=row["source_queue"],
            attempts=int(row["attempts"]),
            failed_at=_utc(row["last_failed_at"]),
            origin=FailureOrigin(row["origin"]),
        ),
        fingerprint=row["fingerprint"],
        group_label=row["group_label"],
        headers=_headers_of(row["headers"]),
        body=bytes(row["body"]),
        body_redacted=bool(row["body_redacted"]),
        status=DeadLetterStatus(row["status"]),
        occurrences=int(row["occurrences"]),
        first_failed_at=_utc(row["first_failed_at"]),
        last_failed_at=_utc(row["last_failed_at"]),
        received_at=_utc(row["received_at"]),
        replay_of=row["replay_of"],
        replay_count=int(row["replay_count"]),
        claimed_at=_utc_or_none(row["claimed_at"]),
        last_replayed_at=_utc_or_none(row["last_replayed_at"]),
        last_replay_id=row["last_replay_id"],
        last_operator=row["last_operator"],
        discard_reason=row["discard_reason"],
        discarded_at=_utc_or_none(row["discarded_at"]),
        sender=row["sender"],
        actor=row["actor"],
        erased_at=_utc_or_none(row["erased_at"]),
        erasure_note=restored(row["erasure_code"], row["erasure_params"], row["erasure_note"]),
    )
