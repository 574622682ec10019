"""From an :class:`~hub.ports.audit.AccessRecord` to the values stored and hashed, and back.

This is where the "never a number" rule is enforced for the access record, which cannot be edited once
written: a subject that is an Individual Number is refused (it is a programming error, subjects are
audit-scope tokens), and a number that slipped into free text (purpose, legal basis, reason, details) is
masked before it is stored, with the masked field names kept in ``details["renkei.redacted"]``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from contracts.errors import PolicyRefused, ValidationFailed
from contracts.individual_number import IndividualNumber
from contracts.redaction import find_numbers, holds_number, replace_spans
from hub.infra.audit.codec import RECORD_FIELDS, canonical_at, details_text, to_utc
from hub.ports.audit import AccessRecord, AuditAction, Outcome

__all__ = ["REDACTED_KEY", "StoredRecord", "hashed_fields", "parse_details", "record_values", "stored_record"]

log = logging.getLogger(__name__)

REDACTED_KEY: Final = "renkei.redacted"
"""Details key naming the fields in which an Individual Number was masked before storing."""

# Lengths of the String columns (see hub.infra.db.tables.audit); Text columns are unbounded.
_LIMITS: Final = {
    "actor": 200,
    "message_id": 200,
    "correlation_id": 200,
    "message_type": 200,
    "source": 200,
    "destination": 200,
}
_SUBJECT_LIMIT: Final = 200
_SPACE: Final = re.compile(r"\s")
_COLUMNS: Final = tuple(name for name in RECORD_FIELDS if name not in {"at", "action", "outcome", "details"})
"""The fields stored as the record gives them (the others are converted)."""
# Only prose is masked: identifiers are generated, and a random hex id holds a 12-digit run with a valid
# check digit about once in a thousand, which masking would turn into a record no search can find.
_FREE_TEXT: Final = ("purpose", "legal_basis", "reason")


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """One access record as stored: text values, hash-chain position and hashes."""

    chain_id: str
    seq: int
    at: datetime
    actor: str
    action: str
    message_id: str | None
    correlation_id: str | None
    message_type: str | None
    source: str | None
    destination: str | None
    purpose: str | None
    legal_basis: str | None
    outcome: str
    reason: str | None
    details: Mapping[str, str]
    subjects: tuple[str, ...]
    prev_hash: str
    hash: str

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (timestamps in canonical form, details as an object)."""
        return {
            "chain_id": self.chain_id,
            "seq": self.seq,
            "at": canonical_at(self.at),
            "actor": self.actor,
            "action": self.action,
            "message_id": self.message_id,
            "correlation_id": self.correlation_id,
            "message_type": self.message_type,
            "source": self.source,
            "destination": self.destination,
            "purpose": self.purpose,
            "legal_basis": self.legal_basis,
            "outcome": self.outcome,
            "reason": self.reason,
            "details": dict(self.details),
            "subjects": list(self.subjects),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


_CLEAN_LIMIT: Final = 4_096
_CLEAN_LONGEST: Final = 512
_clean: set[str] = set()
"""Texts already found to hold no number (purposes, legal bases, details): most records repeat them.

Only texts without a number are remembered, so the cache never holds one; it is emptied when full.
"""


def _mask(text: str) -> str:
    return replace_spans(text, find_numbers(text), IndividualNumber.MASK)


def _is_clean(text: str) -> bool:
    """Tell whether ``text`` holds no number (:func:`holds_number`) and masking leaves it as it is."""
    if text in _clean:
        return True
    if holds_number(text) or _mask(text) != text:
        return False
    if len(text) <= _CLEAN_LONGEST:
        if len(_clean) >= _CLEAN_LIMIT:
            _clean.clear()
        _clean.add(text)
    return True


def record_values(record: AccessRecord, now: datetime) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The column values of ``record`` (without chain position and hashes) and its sorted subjects.

    Args:
        record: the record to store.
        now: its time when ``record.at`` is ``None``.

    Raises:
        PolicyRefused: a subject is an Individual Number rather than a token.
        ValidationFailed: a value does not fit its column, or details are not ``str`` to ``str``.
    """
    values: dict[str, Any] = {name: getattr(record, name) for name in _COLUMNS}
    redacted: list[str] = []
    for name in _FREE_TEXT:
        text = values[name]
        if text is not None and not _is_clean(text) and holds_number(text):
            values[name] = _mask(text)
            redacted.append(name)
    details: dict[str, str] = {}
    for key, value in record.details.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ValidationFailed("access record details map text to text")
        if _is_clean(key) and _is_clean(value):
            details[key] = value
            continue
        if holds_number(key) or holds_number(value):
            redacted.append(f"details.{_mask(key)}")
        details[_mask(key)] = _mask(value)
    if redacted:
        details[REDACTED_KEY] = ",".join(sorted(set(redacted)))
        # Names the fields, never the values.
        log.warning("an Individual Number was masked in an access record", extra={"fields": redacted})
    for name, limit in _LIMITS.items():
        if values[name] is not None and len(values[name]) > limit:
            raise ValidationFailed(f"access record field {name} is longer than {limit} characters")
    subjects = tuple(sorted(set(record.subjects)))
    # Checked all at once (a chunk's record names a thousand people): joined by "|", which is neither a
    # digit nor a space, no number can span two tokens and no check below changes its answer.
    joined = "|".join(subjects)
    # Read without recognising identifiers: a token has no digit at all, so nothing of one can look like a
    # number, and a subject that is an identifier's shape around a number is refused all the same.
    if find_numbers(joined, identifiers=False):
        raise PolicyRefused("access record subjects are audit-scope tokens, never Individual Numbers")
    if subjects and (
        not all(subjects)
        or max(map(len, subjects)) > _SUBJECT_LIMIT
        or not joined.isprintable()
        or _SPACE.search(joined)
    ):
        raise ValidationFailed(f"a subject token is 1 to {_SUBJECT_LIMIT} printable characters, no spaces")
    values["at"] = to_utc(record.at or now)
    values["action"] = AuditAction(record.action).value
    values["outcome"] = Outcome(record.outcome).value
    values["details"] = details_text(details)
    return values, subjects


def hashed_fields(values: Mapping[str, Any]) -> list[str | None]:
    """The values of :data:`RECORD_FIELDS` as hashed (the timestamp in canonical form)."""
    return [canonical_at(values["at"]) if name == "at" else values[name] for name in RECORD_FIELDS]


def parse_details(text: str) -> dict[str, str]:
    """Details read back from the store (a malformed value becomes ``{"renkei.unreadable": text}``)."""
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
        return {"renkei.unreadable": text}
    if not isinstance(raw, dict):
        return {"renkei.unreadable": text}
    return {str(k): str(v) for k, v in raw.items()}


def stored_record(row: Mapping[Any, Any], subjects: Sequence[str]) -> StoredRecord:
    """A :class:`StoredRecord` from a row of ``access_records`` and its subject tokens."""
    return StoredRecord(
        chain_id=row["chain_id"],
        seq=row["seq"],
        at=to_utc(row["at"]),
        actor=row["actor"],
        action=row["action"],
        message_id=row["message_id"],
        correlation_id=row["correlation_id"],
        message_type=row["message_type"],
        source=row["source"],
        destination=row["destination"],
        purpose=row["purpose"],
        legal_basis=row["legal_basis"],
        outcome=row["outcome"],
        reason=row["reason"],
        details=parse_details(row["details"]),
        subjects=tuple(sorted(subjects)),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )
