"""The ack policy: what happens to a message whose handling failed.

* a :class:`~contracts.errors.PermanentError` dead-letters at once, with its reason in headers;
* a :class:`~contracts.errors.TransientError` is republished to a delayed-retry tier with its attempt
  count raised, until ``max_attempts``; then it dead-letters too;
* anything else is a crash: the delivery is requeued and the queue's delivery limit catches a message
  that keeps crashing, so it is dead-lettered by the broker, never redelivered forever.

Dead-letter copies are redacted (:mod:`contracts.redaction`): body, header names and values, reason and
AMQP properties, so no number reaches the dead-letter queue even from malformed input; message and
correlation ids that are identifiers are kept as they are. A body refused as too large
(:class:`~contracts.errors.BodyTooLarge`) keeps only its beginning, with its size in a header.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from contracts.errors import BodyTooLarge, RenkeiError, TransientError
from contracts.redaction import redact_bytes, redact_identifier, redact_text
from hub.core.runtime import headers as h
from hub.ports.transport import Delivery, HeaderValue, OutgoingMessage

__all__ = ["CRASH", "Exchanges", "RetryPolicy", "dead_letter_message", "retry_message"]

CRASH: Final = "crash"
"""The failure code of an exception outside the hierarchy (a bug): it has no code of its own."""


@dataclass(frozen=True, slots=True)
class Exchanges:
    """The exchanges the core publishes to (names come from the topology, built by the composition root).

    Attributes:
        ingress: the hub's ingress exchange (routing key ``hub``).
        route: the exchange to the adapters (routing key = adapter name).
        counterpart: the exchange of the encrypted counterpart links.
        dead: the dead-letter exchange.
        retry: the retry exchange of a delay tier, by delay in milliseconds.
    """

    ingress: str
    route: str
    counterpart: str
    dead: str
    retry: Callable[[int], str]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential back-off over fixed delay tiers."""

    max_attempts: int
    delays_ms: tuple[int, ...]

    def delay_for(self, attempt: int) -> int:
        """Delay before attempt ``attempt + 1`` after attempt ``attempt`` failed."""
        return self.delays_ms[min(attempt, len(self.delays_ms)) - 1]


def _plain_headers(delivery: Delivery, sender: str | None) -> dict[str, HeaderValue]:
    # Keep our own scalar headers; x-death and friends are the broker's business. A producer may have put
    # anything in them: text is redacted like the body, names as well as values. The sender header is never
    # copied: the copy's publisher sets it (only the hub does), or it goes.
    headers: dict[str, HeaderValue] = {
        redact_text(k): redact_text(v) if isinstance(v, str) else v
        for k, v in delivery.headers.items()
        if k.startswith("x-renkei-") and k != h.SENDER and isinstance(v, str | int | bool)
    }
    if sender is not None:
        headers[h.SENDER] = sender
    return headers


def _property(value: str | None, fallback: str | None = None) -> str:
    """An AMQP property of the failed delivery, as its copy may carry it: redacted, never empty.

    Producers set message ids, types and correlation ids as they like (a number, even); the copy goes to
    a queue and, through the outbox and the dead-letter store, to the database. An id that is an identifier
    (a UUID, a file name with one) is kept whole: it is what the dead letter is found and replayed by.
    """
    return redact_identifier(value or fallback or "unknown")


def dead_letter_message(
    delivery: Delivery,
    error: BaseException,
    *,
    stage: str,
    exchanges: Exchanges,
    now: datetime | None = None,
    sender: str | None = None,
) -> OutgoingMessage:
    """A copy of ``delivery`` for the dead-letter exchange, redacted, with its failure in headers.

    ``sender``: the role the hub proved sent ``delivery`` (:data:`~hub.core.runtime.headers.SENDER`); only the
    hub passes one, and the dead-letter consumer believes it only on a copy the hub's user published.
    """
    code = error.code if isinstance(error, RenkeiError) else CRASH
    headers = _plain_headers(delivery, sender)
    body = delivery.body
    if isinstance(error, BodyTooLarge):  # its beginning only: the rest was never read
        body = body[: error.kept]
        headers[h.BODY_SIZE] = error.size
    headers.update(
        {
            h.FAILURE_CODE: code,
            h.FAILURE_REASON: redact_text(str(error))[:500],
            h.FAILURE_TYPE: type(error).__name__,
            h.FAILED_STAGE: stage,
            h.FAILED_QUEUE: delivery.queue,
            h.FAILURE_AT: (now or datetime.now(UTC)).isoformat(),
            h.ATTEMPT: h.attempt_of(delivery.headers),
        }
    )
    return OutgoingMessage(
        exchange=exchanges.dead,
        routing_key=delivery.queue,
        body=redact_bytes(body),
        message_id=_property(delivery.message_id),
        message_type=_property(delivery.message_type),
        correlation_id=_property(delivery.correlation_id, delivery.message_id),
        headers=headers,
    )


def retry_message(
    delivery: Delivery,
    error: TransientError,
    *,
    policy: RetryPolicy,
    exchanges: Exchanges,
    sender: str | None = None,
) -> OutgoingMessage | None:
    """A copy of ``delivery`` for its next retry tier, or ``None`` when the attempts are spent.

    ``sender``: as for :func:`dead_letter_message`.
    """
    attempt = h.attempt_of(delivery.headers)
    if attempt >= policy.max_attempts:
        return None
    headers = _plain_headers(delivery, sender)
    headers[h.ATTEMPT] = attempt + 1
    headers[h.FAILURE_CODE] = error.code
    headers[h.FAILURE_REASON] = redact_text(str(error))[:500]
    return OutgoingMessage(
        exchange=exchanges.retry(policy.delay_for(attempt)),
        routing_key=delivery.queue,
        body=delivery.body,
        message_id=_property(delivery.message_id),
        message_type=_property(delivery.message_type),
        correlation_id=_property(delivery.correlation_id, delivery.message_id),
        headers=headers,
    )
