"""The dead-letter store: failed messages kept, redacted, for operators to replay or discard.

One row is one message failing one way (same message, same fingerprint) while it waits for an operator.
Repeated deliveries of one dead-lettering (at-least-once dead-lettering, an outbox relayed twice, a lost
ack) are dropped before they reach this table by the dead-letter consumer's inbox, keyed by the event's
``death_key``; ``death_key`` is also unique here, so two consumers racing on one event cannot make two
rows. A *different* dead-lettering of the same message with the same fingerprint while the row is still
pending widens ``first_failed_at``/``last_failed_at`` and counts ``occurrences`` instead of adding a row.
Once the row was replayed or discarded, a new failure makes a new row (linked by ``replay_of`` when the
message carried replay provenance).

``body`` is redacted (no Individual Number in any column); ``headers`` holds scalar headers only, redacted.
Rows are never deleted: a discarded row is archived with its reason. The retention job destroys the sealed
values of a body (and the fields of an erased person) when a person it concerns is erased, or 30 days
after a replay or discard: ``erased_at`` says so, and such a row is never replayed. What it destroyed is a
notice (:func:`hub.core.operator.notices.erasure_notice`) kept as ``erasure_code`` and ``erasure_params``
(counts and a date, so a page says it in its own language); ``erasure_note`` keeps only a sentence written
before those columns existed that the migration could not read (``0011_erasure_notice``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from hub.infra.db.tables.metadata import metadata

__all__ = ["STATUSES", "dead_letters"]

_Id = BigInteger().with_variant(Integer, "sqlite")

STATUSES = ("pending", "replaying", "replayed", "discarded")

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("death_key", String(64), nullable=False),
    Column("message_key", String(200), nullable=False),
    Column("message_id", String(200), nullable=True),
    Column("correlation_id", String(200), nullable=True),
    Column("message_type", String(200), nullable=False),
    Column("source_queue", String(200), nullable=False),
    Column("stage", String(200), nullable=False),
    Column("origin", String(16), nullable=False),
    Column("reason_code", String(80), nullable=False),
    Column("reason_text", Text, nullable=False),
    Column("exception_type", String(200), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("occurrences", Integer, nullable=False),
    Column("first_failed_at", DateTime(timezone=True), nullable=False),
    Column("last_failed_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("fingerprint", String(32), nullable=False),
    Column("group_label", String(400), nullable=False),
    Column("headers", Text, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("body_redacted", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("replay_of", _Id, nullable=True),
    Column("replay_count", Integer, nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=True),
    Column("last_replayed_at", DateTime(timezone=True), nullable=True),
    Column("last_replay_id", String(36), nullable=True),
    Column("last_operator", String(200), nullable=True),
    Column("discard_reason", Text, nullable=True),
    Column("discarded_at", DateTime(timezone=True), nullable=True),
    Column("sender", String(64), nullable=True),  # the proven sender (hub/core/runtime/senders.py), or NULL
    # On whose behalf the message ran, as the hub established it (message_actors), or NULL: then the dead
    # letter is the federation's alone (console scope).
    Column("actor", String(16), nullable=True),
    Column("erased_at", DateTime(timezone=True), nullable=True),  # sealed values destroyed (retention)
    Column("erasure_note", Text, nullable=True),  # an older note the migration could not read, as it was
    # What was destroyed: a NoticeCode and its values (counts, a date; no person, no value).
    Column("erasure_code", String(64), nullable=True, comment="a NoticeCode (erasure.*)"),
    Column("erasure_params", Text, nullable=True, comment="its values, a JSON object"),
    UniqueConstraint("death_key"),
    CheckConstraint(
        "status IN ('pending', 'replaying', 'replayed', 'discarded')",
        name="status",
    ),
    Index("ix_dead_letters_message_key", "message_key", "fingerprint"),
    Index("ix_dead_letters_status_failed", "status", "last_failed_at"),
    Index("ix_dead_letters_fingerprint", "fingerprint", "status"),
    Index("ix_dead_letters_message_id", "message_id"),
)
