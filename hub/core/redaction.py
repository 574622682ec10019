"""Redaction of anything that looks like an Individual Number, as a last line of defence.

Numbers travel sealed, so a well-formed message never holds one in the clear. A malformed message may:
before such a body is kept in a dead letter or shown to anyone, every 12-digit run with a valid check digit
(ASCII or full-width) is replaced with a marker.
"""

from __future__ import annotations

from contracts.individual_number import find_individual_numbers

__all__ = ["REDACTED", "redact_bytes", "redact_text"]

REDACTED = "[個人番号:redacted]"


def redact_text(text: str) -> str:
    """Return ``text`` with every candidate Individual Number replaced by :data:`REDACTED`."""
    spans = find_individual_numbers(text)
    if not spans:
        return text
    parts, last = [], 0
    for start, end in spans:
        parts.append(text[last:start])
        parts.append(REDACTED)
        last = end
    parts.append(text[last:])
    return "".join(parts)


def redact_bytes(body: bytes) -> bytes:
    """Redact a message body; bodies that are not UTF-8 are decoded leniently first."""
    text = body.decode("utf-8", errors="replace")
    redacted = redact_text(text)
    if redacted == text and "\ufffd" not in text:
        return body
    return redacted.encode("utf-8")
