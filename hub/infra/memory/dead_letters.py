"""The dead-letter store in memory: the same merging, queries, groups and conditional claims as SQL.

Rows are kept in a dict by id; every state change checks the row's status first, as the SQL store's
conditional ``UPDATE`` does, and says whether it changed the row. Texts are redacted and headers reduced
to scalars on the way in, exactly as :class:`~hub.infra.stores.dead_letters.SqlDeadLetterStore` stores them.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from contracts.errors import StoreUnavailable
from contracts.redaction import redact_text
from hub.ports.dead_letters import (
    DeadLetter,
    DeadLetterEntry,
    DeadLetterQuery,
    DeadLetterStatus,
    FailureGroup,
)
from hub.ports.transport import HeaderValue

__all__ = ["InMemoryDeadLetterStore"]


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _scalar_headers(headers: Mapping[str, HeaderValue]) -> dict[str, HeaderValue]:
    return {
        redact_text(str(k)): (redact_text(v) if isinstance(v, str) else v)
        for k, v in headers.items()
        if v is None or isinstance(v, str | int | bool)
    }


class InMemoryDeadLetterStore:
    """:class:`hub.ports.dead_letters.DeadLetterStore` in memory.

    Args:
        clock: the time source for ``received_at`` (tests).
    """

    def __init__(self, *, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        self._ids = itertools.count(1)
        self._rows: dict[int, DeadLetter] = {}
        self._keys: dict[int, str] = {}  # id -> message key
        self._death_keys: set[str] = set()

    def add(self, entry: DeadLetterEntry) -> tuple[int, bool]:
        """Store ``entry``, or merge it into the pending row of the same message and fingerprint."""
        failed_at = _utc(entry.failure.failed_at)
        for row_id, row in sorted(self._rows.items()):
            if (
                self._keys[row_id] == entry.message_key
                and row.fingerprint == entry.fingerprint
                and row.status is DeadLetterStatus.PENDING
                and (row.sender, row.actor) == (entry.sender, entry.actor)  # never merge planted and proven
            ):
                self._rows[row_id] = dataclasses.replace(
                    row,
                    occurrences=row.occurrences + 1,
                    first_failed_at=min(row.first_failed_at, failed_at),
                    last_failed_at=max(row.last_failed_at, failed_at),
                    failure=dataclasses.replace(
                        row.failure, attempts=max(row.failure.attempts, entry.failure.attempts)
                    ),
                )
                return row_id, False
        if entry.death_key in self._death_keys:  # the SQL table's unique death_key
            raise StoreUnavailable("the dead letter could not be stored; it stays in the queue")
        row_id = next(self._ids)
        self._death_keys.add(entry.death_key)
        self._keys[row_id] = entry.message_key
        self._rows[row_id] = DeadLetter(
            id=row_id,
            message_id=entry.message_id,
            correlation_id=entry.correlation_id,
            message_type=entry.message_type,
            failure=dataclasses.replace(
                entry.failure, reason_text=redact_text(entry.failure.reason_text), failed_at=failed_at
            ),
            fingerprint=entry.fingerprint,
            group_label=entry.group_label,
            headers=_scalar_headers(entry.headers),
            body=entry.body,
            body_redacted=entry.body_redacted,
            status=DeadLetterStatus.PENDING,
            occurrences=1,
            first_failed_at=failed_at,
            last_failed_at=failed_at,
            received_at=_utc(self._clock()),
            replay_of=entry.replay_of,
            replay_count=0,
            claimed_at=None,
            last_replayed_at=None,
            last_replay_id=None,
            last_operator=None,
            discard_reason=None,
            discarded_at=None,
            sender=entry.sender,
            actor=entry.actor,
        )
        return row_id, True

    def get(self, dead_letter_id: int) -> DeadLetter | None:
        """The dead letter with this id, or ``None``."""
        row = self._rows.get(dead_letter_id)
        return None if row is None else self._shown(row)

    @staticmethod
    def _shown(row: DeadLetter) -> DeadLetter:
        # The stored failure time is the latest one, as the SQL store reads it back.
        return dataclasses.replace(
            row, failure=dataclasses.replace(row.failure, failed_at=row.last_failed_at)
        )

    def find(self, query: DeadLetterQuery) -> list[DeadLetter]:
        """Dead letters matching ``query``, in id order."""
        found = [self._shown(row) for _, row in sorted(self._rows.items()) if _matches(row, query)]
        return found[: query.limit]

    def groups(
        self, statuses: Sequence[DeadLetterStatus] = (DeadLetterStatus.PENDING,)
    ) -> list[FailureGroup]:
        """Failure groups of the dead letters in ``statuses`` (empty: any), largest first."""
        by_print: dict[str, list[DeadLetter]] = {}
        for row in self._rows.values():
            if not statuses or row.status in statuses:
                by_print.setdefault(row.fingerprint, []).append(row)
        groups = [
            FailureGroup(
                fingerprint=fp,
                label=min(r.group_label for r in rows),
                exception_type=min(r.failure.exception_type for r in rows),
                stage=min(r.failure.stage for r in rows),
                message_type=min(r.message_type for r in rows),
                count=len(rows),
                occurrences=sum(r.occurrences for r in rows),
                first_failed_at=min(r.first_failed_at for r in rows),
                last_failed_at=max(r.last_failed_at for r in rows),
            )
            for fp, rows in by_print.items()
        ]
        return sorted(groups, key=lambda g: (-g.count, g.label))

    def count(self, status: DeadLetterStatus = DeadLetterStatus.PENDING) -> int:
        """How many dead letters are in ``status``."""
        return sum(1 for row in self._rows.values() if row.status is status)

    def claim(
        self, dead_letter_id: int, *, replay_id: str, operator: str, now: datetime, stale_before: datetime
    ) -> bool:
        """Take a pending (or stale replaying) row for ``replay_id``; returns whether this call took it."""
        row = self._rows.get(dead_letter_id)
        if row is None:
            return False
        stale = (
            row.status is DeadLetterStatus.REPLAYING
            and row.claimed_at is not None
            and row.claimed_at < _utc(stale_before)
        )
        if row.status is not DeadLetterStatus.PENDING and not stale:
            return False
        self._rows[dead_letter_id] = dataclasses.replace(
            row,
            status=DeadLetterStatus.REPLAYING,
            claimed_at=_utc(now),
            last_replay_id=replay_id,
            last_operator=operator,
        )
        return True

    def _claimed(self, dead_letter_id: int, replay_id: str) -> DeadLetter | None:
        row = self._rows.get(dead_letter_id)
        if row is None or row.status is not DeadLetterStatus.REPLAYING or row.last_replay_id != replay_id:
            return None
        return row

    def complete_replay(self, dead_letter_id: int, *, replay_id: str, now: datetime) -> bool:
        """Mark the row claimed by ``replay_id`` as replayed."""
        row = self._claimed(dead_letter_id, replay_id)
        if row is None:
            return False
        self._rows[dead_letter_id] = dataclasses.replace(
            row,
            status=DeadLetterStatus.REPLAYED,
            replay_count=row.replay_count + 1,
            last_replayed_at=_utc(now),
            claimed_at=None,
        )
        return True

    def release(self, dead_letter_id: int, *, replay_id: str) -> bool:
        """Give the row claimed by ``replay_id`` back to pending."""
        row = self._claimed(dead_letter_id, replay_id)
        if row is None:
            return False
        self._rows[dead_letter_id] = dataclasses.replace(
            row, status=DeadLetterStatus.PENDING, claimed_at=None
        )
        return True

    def discard(self, dead_letter_id: int, *, operator: str, reason: str, now: datetime) -> bool:
        """Archive a pending row with ``reason``."""
        row = self._rows.get(dead_letter_id)
        if row is None or row.status is not DeadLetterStatus.PENDING:
            return False
        self._rows[dead_letter_id] = dataclasses.replace(
            row,
            status=DeadLetterStatus.DISCARDED,
            discard_reason=redact_text(reason),
            discarded_at=_utc(now),
            last_operator=operator,
        )
        return True


def _matches(row: DeadLetter, query: DeadLetterQuery) -> bool:
    return (
        (not query.ids or row.id in query.ids)
        and (not query.fingerprint or row.fingerprint == query.fingerprint)
        and (not query.message_type or row.message_type == query.message_type)
        and (not query.source_queue or row.failure.source_queue == query.source_queue)
        and (query.since is None or row.last_failed_at >= _utc(query.since))
        and (query.until is None or row.first_failed_at < _utc(query.until))
        and (not query.statuses or row.status in query.statuses)
        and row.id > query.after_id
    )
