"""Redaction of anything that looks like an Individual Number, as a last line of defence.

Numbers travel sealed, so a well-formed message never holds one in the clear. A malformed message may:
before such a body is kept in a dead letter or shown to anyone, every 12-digit run with a valid check digit
(ASCII or full-width) is replaced with a marker.
"""

from __future__ import annotations

from contracts.individual_number import REDACTED as INDIVIDUAL_NUMBER_REDACTED
from contracts.individual_number import find_individual_numbers, redact_individual_numbers

__all__ = ["REDACTED", "redact_bytes", "redact_text"]

REDACTED = INDIVIDUAL_NUMBER_REDACTED


def redact_text(text: str) -> str:
    """Return ``text`` with every candidate Individual Number replaced by :data:`REDACTED`."""
    return redact_individual_numbers(text, REDACTED)


def redact_bytes(body: bytes) -> bytes:
    """Redact a message body.

    UTF-8 bodies are redacted as text. Other bodies (a counterpart link's encrypted files) keep every byte
    but the 12-digit runs with a valid check digit, so that they can still be replayed.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        latin = body.decode("latin-1")  # one character per byte: spans are byte offsets
        out, last = bytearray(), 0
        for start, end in find_individual_numbers(latin):
            out += body[last:start] + REDACTED.encode("utf-8")
            last = end
        kept = bytes(out + body[last:])
        lenient = kept.decode("utf-8", errors="replace")
        if find_individual_numbers(lenient):
            # A full-width number in a body that is not UTF-8 as a whole: redact as text, losing the bytes.
            return redact_text(lenient).encode("utf-8")
        return kept
    redacted = redact_text(text)
    return body if redacted == text else redacted.encode("utf-8")
