"""What a delivery from the dead-letter queue is: its failure, its group, its identity, its redacted body.

Two kinds of dead letter arrive in ``{p}.dead_letter``:

* dead-lettered by renkei's ack policy (:mod:`hub.core.runtime.retry`), from the hub's worker or an adapter or
  simulator host: the failure is in ``x-renkei-*`` headers (reason, stage, exception, queue, time);
* dead-lettered by the broker, past a quorum queue's delivery limit (a consumer that kept crashing) or
  rejected: the failure is in ``x-death``. Its *first* entry is the latest death (RabbitMQ keeps the array
  most recent first). ``x-first-death-*`` is only a fallback: a message that waited in a retry tier
  carries ``x-first-death-reason: expired`` from that tier for the rest of its life.

A body over its type's size limit (:mod:`hub.core.runtime.body_limits`; a renkei dead letter never is, it was
cut to its limit when it was made) keeps only its beginning, and its failure becomes ``too_large``, naming
the failure it was dead-lettered for. Every text kept is redacted (:mod:`contracts.redaction`), header
names as well as values; message and correlation ids that are identifiers are kept whole.

Failures are grouped by a fingerprint of reason code, stage and message type, and the group's label is made
of the same three, each taken from what the hub knows, never from a producer's text: the message type only
if the sender table knows it, the stage only if it is one of the hub's or a consumer's stages, the reason
code only if it is shaped like one (anything else reads ``unknown``). The producer's own words (exception
type, reason text, the queue it names in ``x-renkei-queue``) are kept for reading, redacted, and decide
nothing: a replay's target comes from the message type (:class:`hub.core.runtime.senders.ReplayRoutes`).

The entry's ``sender`` is the service that sent the message as far as the broker proves it (its AMQP
``user_id``; see :mod:`hub.core.runtime.senders`), ``None`` when nothing is proven. A dead-lettering event is
identified by its ``death_key`` (message, fingerprint and the event's own time), so that the same event
delivered twice is recognised. Hashes are written in letters: a hex digest holds twelve decimal digits
with a valid check digit often enough to trip every leak scanner.

:func:`describe` never raises, whatever the headers hold: the dead-letter queue has no dead-letter queue of
its own, and a dead letter that cannot be described would come back forever.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Final

from contracts.redaction import redact_bytes, redact_identifier, redact_text
from hub.core.runtime import headers as h
from hub.core.runtime.body_limits import BodyLimits
from hub.core.runtime.senders import HUB, SenderIdentities, SenderTable, load_sender_table
from hub.ports.dead_letters import DeadLetterEntry, Failure, FailureOrigin
from hub.ports.transport import Delivery, HeaderValue

__all__ = ["BROKER_REASONS", "DeadLetterConfig", "describe", "fingerprint", "group_label", "redact_body"]

BROKER_REASONS: Final[Mapping[str, str]] = {
    "delivery_limit": (
        "the consumer of {queue} did not settle it within the delivery limit{within}: it crashed or lost its "
        "connection on every delivery; its log names the exception"
    ),
    "rejected": "the consumer of {queue} rejected it without requeueing",
    "expired": "it expired in {queue}",
    "maxlen": "{queue} was full",
}
"""Why RabbitMQ dead-letters a message (its ``x-death`` reason, the failure code of a dead letter it made),
and the failure text said of it."""

_TEXT_LIMIT = 200
_HEADER_TEXT_LIMIT = 1_000
_REASON_LIMIT = 2_000


@dataclass(frozen=True, slots=True)
class DeadLetterConfig:
    """What the consumer must know of the topology.

    Attributes:
        hub_queue: the hub's ingress queue (dead letters from there come from the hub's worker).
        queue_prefix: the exchange prefix, stripped from queue names to name a broker failure's stage.
        delivery_limit: the work queues' delivery limit, quoted in the reason of a crash loop.
        identities: which broker user is which service; ``None`` proves no sender.
        senders: the sender table (the message types and stages the hub knows).
        body_limits: bodies over these keep only their beginning, as ``too_large``.
    """

    hub_queue: str
    queue_prefix: str
    delivery_limit: int | None = None
    identities: SenderIdentities | None = None
    senders: SenderTable = field(default_factory=load_sender_table)
    body_limits: BodyLimits = field(default_factory=BodyLimits)


_NIBBLE_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")


def _digest(*parts: str | bytes, length: int = 64) -> str:
    """SHA-256 of ``parts`` written in letters ``a``-``p`` (one per hex digit).

    Letters, not hex: a hex digest holds twelve decimal digits with a valid check digit often enough that
    the database's leak scan (and the federation's) would flag it as an Individual Number.
    """
    h256 = hashlib.sha256()
    for part in parts:
        h256.update(part if isinstance(part, bytes) else part.encode("utf-8"))
        h256.update(b"\x1f")
    return h256.hexdigest()[:length].translate(_NIBBLE_LETTERS)


def fingerprint(reason_code: str, stage: str, message_type: str) -> str:
    """The failure group: a stable hash of reason code, stage and message type (16 letters)."""
    return _digest(reason_code, stage, message_type, length=16)


def group_label(reason_code: str, stage: str, message_type: str) -> str:
    """The readable name of a failure group, e.g. ``validation_failed at decode on pension.x``."""
    return f"{reason_code} at {stage} on {message_type}"[:400]


_CODE = re.compile(r"^[a-z][a-z0-9_:]{0,59}$")


def _known_facts(failure: Failure, message_type: str, config: DeadLetterConfig) -> tuple[str, str, str]:
    """Reason code, stage and message type as the hub knows them: anything else is ``unknown``."""
    code = failure.reason_code if _CODE.match(failure.reason_code) else "unknown"
    stage = failure.stage if failure.stage in config.senders.stages() else "unknown"
    known_type = message_type if message_type in config.senders.message_types else "unknown"
    return code, stage, known_type


def redact_body(body: bytes) -> tuple[bytes, bool]:
    """Redact a body for storing (:func:`contracts.redaction.redact_bytes`); returns it and whether it did.

    Whatever its encoding, the body keeps its length and every byte but the digits of a number, which are
    masked in place: a fixed-width record keeps its layout, an encrypted file can still be replayed.
    """
    redacted = redact_bytes(body)
    return redacted, redacted != body


def _text(value: object, limit: int = _TEXT_LIMIT, *, identifier: bool = False) -> str | None:
    """A header value as redacted text, or ``None`` when it is not a scalar.

    ``identifier``: the value is an id (kept whole when it has an identifier's shape).
    """
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, bool):
        value = str(value).lower()
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        return None
    # NUL: PostgreSQL refuses it in text, and a dead letter that cannot be stored would come back forever.
    value = value.replace("\x00", "\ufffd")
    return (redact_identifier(value) if identifier else redact_text(value))[:limit]


def _time(value: object) -> datetime | None:
    try:
        if isinstance(value, datetime):
            return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str | bytes):
            parsed = datetime.fromisoformat(value.decode() if isinstance(value, bytes) else value)
            return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError, UnicodeDecodeError):
        return None
    return None


def _scalar_headers(headers: Mapping[str, object]) -> dict[str, HeaderValue]:
    kept: dict[str, HeaderValue] = {}
    for key, value in headers.items():
        name = _text(str(key)) or ""  # a header's name can hold a number as well as its value
        if isinstance(value, bool | int) or value is None:
            kept[name] = value
        elif (text := _text(value, _HEADER_TEXT_LIMIT)) is not None:
            kept[name] = text
    return kept


def _stage_of(queue: str, prefix: str) -> str:
    return queue[len(prefix) + 1 :] if queue.startswith(prefix + ".") else queue


def _broker_reason(reason: str, queue: str, limit: int | None) -> str:
    said = BROKER_REASONS.get(reason, "the broker dead-lettered it from {queue} ({reason})")
    return said.format(queue=queue, within=f" ({limit})" if limit else "", reason=reason)


def _ours(d: Delivery, config: DeadLetterConfig, now: datetime) -> tuple[Failure, str]:
    hd = d.headers
    queue = _text(hd.get(h.FAILED_QUEUE)) or d.routing_key[:_TEXT_LIMIT] or "unknown"
    failed_raw = _text(hd.get(h.FAILURE_AT)) or ""
    failure = Failure(
        reason_code=(_text(hd.get(h.FAILURE_CODE)) or "unknown")[:80],
        reason_text=_text(hd.get(h.FAILURE_REASON), _REASON_LIMIT) or "",
        exception_type=_text(hd.get(h.FAILURE_TYPE)) or "unknown",
        stage=_text(hd.get(h.FAILED_STAGE)) or "unknown",
        source_queue=queue,
        attempts=h.attempt_of(hd),
        failed_at=_time(failed_raw) or now,
        origin=FailureOrigin.HUB if queue == config.hub_queue else FailureOrigin.HOST,
    )
    event = failed_raw or json.dumps(_scalar_headers(hd), sort_keys=True, default=str)
    return failure, f"renkei|{queue}|{failure.stage}|{event}"


def _broker(d: Delivery, config: DeadLetterConfig, now: datetime) -> tuple[Failure, str]:
    hd = d.headers
    deaths = hd.get("x-death")
    latest: Mapping[str, object] = {}
    if isinstance(deaths, list | tuple):
        latest = next((x for x in deaths if isinstance(x, Mapping)), {})
    reason = _text(latest.get("reason")) or _text(hd.get("x-first-death-reason"))
    queue = _text(latest.get("queue")) or _text(hd.get("x-first-death-queue"))
    if reason is None and queue is None:
        queue = d.routing_key[:_TEXT_LIMIT] or "unknown"
        failure = Failure(
            reason_code="unknown",
            reason_text="published to the dead-letter exchange without a reason",
            exception_type="unknown",
            stage="unknown",
            source_queue=queue,
            attempts=h.attempt_of(hd),
            failed_at=now,
            origin=FailureOrigin.UNKNOWN,
        )
        return failure, "unknown|" + json.dumps(_scalar_headers(hd), sort_keys=True, default=str)
    reason, queue = (reason or "unknown")[:80], queue or "unknown"
    failed_at = _time(latest.get("time")) or now
    failure = Failure(
        reason_code=reason,
        reason_text=_broker_reason(reason, queue, config.delivery_limit),
        exception_type=f"broker:{reason}",
        stage=_stage_of(queue, config.queue_prefix),
        source_queue=queue,
        attempts=h.attempt_of(hd),
        failed_at=failed_at,
        origin=FailureOrigin.BROKER,
    )
    return failure, f"broker|{queue}|{reason}|{_text(latest.get('count'))}|{failed_at.isoformat()}"


def _replay_of(value: object) -> int | None:
    text = _text(value)
    digits = text is not None and text.isascii() and text.isdigit()  # "¹".isdigit() holds too
    return int(text) if text is not None and digits and len(text) <= 18 else None


def describe(delivery: Delivery, config: DeadLetterConfig, now: datetime | None = None) -> DeadLetterEntry:
    """What a delivery from the dead-letter queue is: its failure, group, redacted body and identity.

    Never raises: unreadable headers give ``unknown`` fields.
    """
    now = now or datetime.now(UTC)
    if _text(delivery.headers.get(h.FAILED_STAGE)) is not None:
        failure, event = _ours(delivery, config, now)
        if failure.origin is FailureOrigin.HUB and not _from_hub(delivery, config):
            # It names the hub's queue, but the hub did not publish it: the hub wrote no record of it.
            failure = replace(failure, origin=FailureOrigin.HOST)
    else:
        failure, event = _broker(delivery, config, now)
    kept = delivery.body
    if (too_large := config.body_limits.check(delivery)) is not None:
        kept = kept[: too_large.kept]
        why = f"{too_large} It was dead-lettered as {failure.reason_code}: {failure.reason_text}"
        failure = replace(
            failure,
            reason_code=too_large.code,
            reason_text=why[:_REASON_LIMIT],
            exception_type=type(too_large).__name__,
        )
    body, redacted = redact_body(kept)
    message_type = (_text(delivery.message_type) or "unknown") if delivery.message_type else "unknown"
    facts = _known_facts(failure, message_type, config)
    fp = fingerprint(*facts)
    message_id = _text(delivery.message_id, identifier=True) if delivery.message_id else None
    message_key = (
        message_id
        if message_id and message_id != "unknown"
        # Over the redacted body only: a digest of a body holding a number could be reversed by trying
        # every number (10^11).
        else "body:" + _digest(body, length=40)
    )
    death_key = _digest(message_key, fp, event)
    correlation_id = _text(delivery.correlation_id, identifier=True) if delivery.correlation_id else None
    return DeadLetterEntry(
        death_key=death_key,
        message_key=message_key,
        message_id=message_id,
        correlation_id=correlation_id,
        message_type=message_type,
        failure=failure,
        fingerprint=fp,
        group_label=group_label(*facts),
        headers=_scalar_headers(delivery.headers),
        body=body,
        body_redacted=redacted,
        replay_of=_replay_of(delivery.headers.get(h.REPLAY_OF)),
        sender=_sender(delivery, config),
    )


def _from_hub(delivery: Delivery, config: DeadLetterConfig) -> bool:
    """Whether the hub published this dead letter (always assumed when nobody is proven)."""
    identities = config.identities
    if identities is None or identities.shared(delivery.user_id):
        return True
    return identities.role_of(delivery.user_id) == HUB


def _sender(delivery: Delivery, config: DeadLetterConfig) -> str | None:
    """Who sent the message, as far as the broker proves it (a replayer's replay is resolved later)."""
    identities = config.identities
    if identities is None or identities.shared(delivery.user_id):
        return None
    return identities.proven_sender(delivery.user_id, delivery.headers)
