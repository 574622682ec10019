"""The dead-letter store port: failed messages kept for operators (デッドレター), grouped by fingerprint.

A dead letter is one message that failed in one way. The store keeps its redacted body, the scalar headers,
why and where it failed, how often, and what operators did with it since: replayed (再送) or discarded
(archived, never deleted). Failures are grouped by a *fingerprint* of exception type, stage and message
type, as ServicePulse and Wolverine group theirs, so that one bug shows up as one group.

Life of a row::

    pending ──claim──▶ replaying ──published──▶ replayed
       │  ▲                │
       │  └──publish failed┘   (a claim left behind by a crash can be taken again once it is stale)
       └──discard──▶ discarded
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from hub.ports.transport import HeaderValue

__all__ = [
    "DeadLetter",
    "DeadLetterEntry",
    "DeadLetterQuery",
    "DeadLetterStatus",
    "DeadLetterStore",
    "Failure",
    "FailureGroup",
    "FailureOrigin",
]


class DeadLetterStatus(StrEnum):
    """Where a dead letter stands."""

    PENDING = "pending"
    """Waiting for an operator."""
    REPLAYING = "replaying"
    """Claimed by a replay that has not finished (yet, or ever: a crash leaves it here until stale)."""
    REPLAYED = "replayed"
    """Published back to its queue; if it fails again, it comes back as a new dead letter."""
    DISCARDED = "discarded"
    """Archived by an operator, with a reason; kept, never deleted."""


class FailureOrigin(StrEnum):
    """Who dead-lettered the message."""

    HUB = "hub"
    """The hub's worker, through the ack policy (``x-renkei-*`` headers)."""
    HOST = "host"
    """An adapter or simulator host, through the same ack policy."""
    BROKER = "broker"
    """RabbitMQ: past the delivery limit (a consumer kept crashing) or rejected (``x-death``)."""
    UNKNOWN = "unknown"
    """Neither: something published to the dead-letter exchange directly."""


@dataclass(frozen=True, slots=True)
class Failure:
    """What failed, where and when.

    Attributes:
        reason_code: machine-readable reason (``validation_failed``, ``delivery_limit``, ...).
        reason_text: human-readable reason; names fields, never values (redacted anyway).
        exception_type: the error class (``ValidationFailed``), or ``broker:<reason>`` for the broker.
        stage: where it failed (``decode``, ``handle``, ``retry``, ``jlis.from_hub``; for the broker, the
            queue without the prefix, e.g. ``hub.ingress``).
        source_queue: the queue the message was consumed from, and is replayed to.
        attempts: renkei's attempt count (``x-renkei-attempt``) when it failed.
        failed_at: when it was dead-lettered.
        origin: who dead-lettered it.
    """

    reason_code: str
    reason_text: str
    exception_type: str
    stage: str
    source_queue: str
    attempts: int
    failed_at: datetime
    origin: FailureOrigin


@dataclass(frozen=True, slots=True)
class DeadLetterEntry:
    """One dead-lettering, as it arrives from the dead-letter queue (already redacted).

    Attributes:
        death_key: identity of this dead-lettering event: the same event delivered twice (at-least-once
            dead-lettering, an outbox relayed twice, a redelivery) has the same key.
        message_key: the message id, or a digest of the body for a message without one; with the
            fingerprint it says "the same message failing the same way".
        replay_of: the dead letter a replay of which failed again (``x-renkei-replay-of``), if any.
        sender: the role that sent the message, as far as the broker proves it (its AMQP ``user_id``,
            resolved through the hub's own headers; see :mod:`hub.core.runtime.senders`), or ``None``. Only a
            dead letter with a proven sender allowed for its type can be replayed to the hub.
    """

    death_key: str
    message_key: str
    message_id: str | None
    correlation_id: str | None
    message_type: str
    failure: Failure
    fingerprint: str
    group_label: str
    headers: Mapping[str, HeaderValue]
    body: bytes
    body_redacted: bool
    replay_of: int | None = None
    sender: str | None = None
    actor: str | None = None
    """On whose behalf the message ran, as the hub established it when it handled or produced the message
    (``message_actors``); ``None`` when it cannot be established: the federation's alone."""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A stored dead letter.

    ``first_failed_at``/``last_failed_at`` span the dead-letterings merged into this row while it was
    pending (``occurrences`` counts them); ``received_at`` is when the store first saw it.
    """

    id: int
    message_id: str | None
    correlation_id: str | None
    message_type: str
    failure: Failure
    fingerprint: str
    group_label: str
    headers: Mapping[str, HeaderValue]
    body: bytes
    body_redacted: bool
    status: DeadLetterStatus
    occurrences: int
    first_failed_at: datetime
    last_failed_at: datetime
    received_at: datetime
    replay_of: int | None
    replay_count: int
    claimed_at: datetime | None
    last_replayed_at: datetime | None
    last_replay_id: str | None
    last_operator: str | None
    discard_reason: str | None
    discarded_at: datetime | None
    sender: str | None = None
    """The proven sender (see :attr:`DeadLetterEntry.sender`)."""
    actor: str | None = None
    """The established actor (see :attr:`DeadLetterEntry.actor`); ``None``: the federation's alone."""
    erased_at: datetime | None = None
    """When the retention job destroyed its sealed values (an erased person's data, or an old archive):
    such a dead letter is shown as erased and never replayed."""
    erasure_note: str | None = None
    """What the retention job destroyed (counts and a date only): a ``Notice`` (its English text, and its
    code and values for another language) when stored as one, else a note stored as text."""

    @property
    def erased(self) -> bool:
        """Whether retention destroyed part of the body (it can no longer be replayed)."""
        return self.erased_at is not None


@dataclass(frozen=True, slots=True)
class DeadLetterQuery:
    """Which dead letters: every given criterion must hold.

    Attributes:
        ids: only these ids (any status unless ``statuses`` says otherwise).
        fingerprint: only this failure group.
        message_type: only this message type.
        source_queue: only messages that failed on this queue.
        since: only rows with a failure at or after this time (``last_failed_at``).
        until: only rows with a failure before this time (``first_failed_at``).
        statuses: only these statuses; empty means any.
        after_id: only ids above this one (paging; rows come in id order).
        limit: at most this many rows.
    """

    ids: tuple[int, ...] = ()
    fingerprint: str | None = None
    message_type: str | None = None
    source_queue: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    statuses: tuple[DeadLetterStatus, ...] = (DeadLetterStatus.PENDING,)
    after_id: int = 0
    limit: int = 100


@dataclass(frozen=True, slots=True)
class FailureGroup:
    """One failure fingerprint and how many dead letters have it."""

    fingerprint: str
    label: str
    exception_type: str
    stage: str
    message_type: str
    count: int
    occurrences: int
    first_failed_at: datetime
    last_failed_at: datetime


class DeadLetterStore(Protocol):
    """Dead letters in the unit of work's transaction. Never commits by itself."""

    def add(self, entry: DeadLetterEntry) -> tuple[int, bool]:
        """Store ``entry``; returns ``(id, created)``.

        A pending row for the same message and fingerprint absorbs the entry (``created`` is False): its
        occurrence count goes up and its failure times widen. Otherwise a new pending row is made.
        Callers drop repeated deliveries of the same event (same ``death_key``) before calling this.
        """
        ...

    def get(self, dead_letter_id: int) -> DeadLetter | None:
        """The dead letter with this id, or ``None``."""
        ...

    def find(self, query: DeadLetterQuery) -> list[DeadLetter]:
        """Dead letters matching ``query``, in id order."""
        ...

    def groups(
        self, statuses: Sequence[DeadLetterStatus] = (DeadLetterStatus.PENDING,)
    ) -> list[FailureGroup]:
        """Failure groups of the dead letters in ``statuses`` (empty: any), largest first."""
        ...

    def count(self, status: DeadLetterStatus = DeadLetterStatus.PENDING) -> int:
        """How many dead letters are in ``status``."""
        ...

    def claim(
        self, dead_letter_id: int, *, replay_id: str, operator: str, now: datetime, stale_before: datetime
    ) -> bool:
        """Take a row for ``replay_id``: pending, or replaying since before ``stale_before``.

        Returns whether this call took it: a conditional update, so two operators cannot both take it.
        """
        ...

    def complete_replay(self, dead_letter_id: int, *, replay_id: str, now: datetime) -> bool:
        """Mark a row claimed by ``replay_id`` as replayed (its replay count goes up)."""
        ...

    def release(self, dead_letter_id: int, *, replay_id: str) -> bool:
        """Give a row claimed by ``replay_id`` back (pending again), after a failed publish."""
        ...

    def discard(self, dead_letter_id: int, *, operator: str, reason: str, now: datetime) -> bool:
        """Archive a pending row with ``reason``; returns whether it was pending."""
        ...
