"""情報提供等の記録 as rows: checks, the stored values and their digest, with no database underneath.

:class:`~hub.infra.audit.provision.SqlProvisionLog` and the in-memory twin
(:class:`~hub.infra.memory.provisions.InMemoryProvisionLog`) both build their rows, and seal them into an
access record, with these functions, so a row digests the same wherever it is kept.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from typing import Any, Final

from contracts.errors import PolicyRefused, ValidationFailed
from contracts.redaction import holds_number
from hub.infra.audit.codec import digest_text, encode_parts, stored_at_text, to_utc
from hub.ports.audit import AccessRecord, ProvisionRecord, ProvisionRole

__all__ = [
    "DIGEST_FIELDS",
    "PROVISION_DIGEST_KEY",
    "PROVISION_ID_KEY",
    "RETENTION_YEARS",
    "default_retention",
    "provision_digest",
    "provision_values",
    "provision_values_of",
    "seal_details",
]

PROVISION_ID_KEY: Final = "renkei.provision.record_id"
PROVISION_DIGEST_KEY: Final = "renkei.provision.digest"
RETENTION_YEARS: Final = 7
"""番号法施行令 第29条 as commonly cited; confirm against the official text."""

_JST: Final = timezone(timedelta(hours=9))
_DOMAIN: Final = b"renkei.audit.provision.v1"
_MALFORMED: Final = "\x00malformed"  # never equal to a value the hub wrote
DIGEST_FIELDS: Final = (
    "record_id",
    "role",
    "requester",
    "provider",
    "requested_at",
    "provided_at",
    "items",
    "jimu",
    "legal_basis_current",
    "legal_basis_legacy",
    "non_disclosure",
    "subject_token",
    "retention_until",
)


def default_retention(requested_at: datetime, provided_at: datetime | None) -> date:
    """Seven years after the (Japanese) day of the exchange; 29 February becomes 28 February."""
    day = to_utc(provided_at or requested_at).astimezone(_JST).date()
    try:
        return day.replace(year=day.year + RETENTION_YEARS)
    except ValueError:
        return day.replace(year=day.year + RETENTION_YEARS, day=28)


def provision_values_of(provisions: Sequence[tuple[ProvisionRecord, AccessRecord]]) -> list[dict[str, Any]]:
    """The rows of one call's provision records, each checked, in order (what every ProvisionLog stores).

    Raises:
        PolicyRefused: a value holds an Individual Number.
        ValidationFailed: a record id repeats within the call or does not fit.
    """
    values = [provision_values(p) for p, _ in provisions]
    ids = [v["record_id"] for v in values]
    if len(set(ids)) != len(ids):
        raise ValidationFailed("a provision record id repeats within one call")
    return values


def provision_values(p: ProvisionRecord) -> dict[str, Any]:
    """A provision record as the row that stores it, checked first.

    Raises:
        PolicyRefused: a value holds an Individual Number.
        ValidationFailed: the record id is empty or longer than 200 characters.
    """
    for text in (
        p.requester,
        p.provider,
        p.jimu,
        p.legal_basis_current,
        p.legal_basis_legacy or "",
        *p.items,
    ):
        if holds_number(text):
            raise PolicyRefused("a 情報提供等記録 never holds an Individual Number")
    if p.subject is not None and holds_number(p.subject):
        raise PolicyRefused("a 情報提供等記録 names its subject by audit-scope token, never by number")
    if not p.record_id or len(p.record_id) > 200:
        raise ValidationFailed("a provision record id is 1 to 200 characters")
    return {
        "record_id": p.record_id,
        "role": ProvisionRole(p.role).value,
        "requester": p.requester,
        "provider": p.provider,
        "requested_at": to_utc(p.requested_at),
        "provided_at": None if p.provided_at is None else to_utc(p.provided_at),
        "items": json.dumps(list(p.items), ensure_ascii=False, separators=(",", ":")),
        "jimu": p.jimu,
        "legal_basis_current": p.legal_basis_current,
        "legal_basis_legacy": p.legal_basis_legacy,
        "non_disclosure": bool(p.non_disclosure),
        "subject_token": p.subject,
        "retention_until": p.retention_until or default_retention(p.requested_at, p.provided_at),
    }


def _text(name: str, value: object) -> str | None:
    """A stored value in the form that is digested."""
    if value is None:
        return None
    if name in ("requested_at", "provided_at"):
        return stored_at_text(value) or _MALFORMED
    if name == "retention_until":
        if isinstance(value, date):
            return value.isoformat()
        try:
            parsed = date.fromisoformat(str(value)).isoformat()
        except ValueError:
            return _MALFORMED
        return parsed if parsed == value else _MALFORMED
    if name == "non_disclosure":
        if value is True or value == 1:
            return "1"
        if value is False or value == 0:
            return "0"
        return _MALFORMED
    return str(value)


def provision_digest(values: Mapping[str, Any]) -> str:
    """SHA-256 of a provision row's values (as written or read back), as :func:`digest_text`."""
    return digest_text(
        hashlib.sha256(_DOMAIN + encode_parts([_text(n, values[n]) for n in DIGEST_FIELDS])).digest()
    )


def seal_details(values: Mapping[str, Any], access: AccessRecord) -> AccessRecord:
    """``access`` with the provision row's id and digest added to its details (what seals the row)."""
    return replace(
        access,
        details={
            **access.details,
            PROVISION_ID_KEY: values["record_id"],
            PROVISION_DIGEST_KEY: provision_digest(values),
        },
    )
