"""renkei's own message headers: attempt counts, failure reasons and replay provenance."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "ATTEMPT",
    "BODY_SIZE",
    "FAILED_QUEUE",
    "FAILED_STAGE",
    "FAILURE_AT",
    "FAILURE_CODE",
    "FAILURE_REASON",
    "FAILURE_TYPE",
    "REPLAY_ID",
    "REPLAY_OF",
    "REPLAY_OPERATOR",
    "SENDER",
    "attempt_of",
]

ATTEMPT = "x-renkei-attempt"
"""How many times the message was tried; carried by renkei itself (x-death counts are not reliable)."""
FAILURE_CODE = "x-renkei-reason"
"""Machine-readable reason, the ``code`` of the error class (e.g. ``validation_failed``)."""
FAILURE_REASON = "x-renkei-reason-text"
"""Human-readable reason; names fields, never values."""
FAILURE_TYPE = "x-renkei-exception"
FAILED_STAGE = "x-renkei-stage"
FAILED_QUEUE = "x-renkei-queue"
"""Where the producer of a dead letter says it failed: shown to operators, never used to route a replay."""
FAILURE_AT = "x-renkei-failed-at"
BODY_SIZE = "x-renkei-body-size"
"""On a dead letter refused as ``too_large``: the body's size in bytes as it arrived (the copy keeps less)."""
REPLAY_OF = "x-renkei-replay-of"
REPLAY_ID = "x-renkei-replay-id"
REPLAY_OPERATOR = "x-renkei-replay-operator"
SENDER = "x-renkei-sender"
"""The sender the hub proved for a message, carried on the copies the hub republishes itself (retry tiers,
dead letters). Believed only on a message whose AMQP ``user_id`` is the hub's
(:mod:`hub.core.runtime.senders`)."""


def attempt_of(headers: Mapping[str, object]) -> int:
    """The attempt number a delivery carries (1 for a first delivery)."""
    value = headers.get(ATTEMPT)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    if isinstance(value, str | bytes) and value.isascii() and value.isdigit():  # "¹".isdigit() holds too
        return int(value)
    return 1
