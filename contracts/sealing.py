"""Sealed Individual Numbers: the only form in which a number may travel on the broker.

A sealed number is authenticated encryption of the twelve digits for exactly one recipient, bound to the
message id, the field it sits in, the recipient and the key, so that it cannot be read by anyone else nor
moved into another message or field. Two text forms:

* ``sealed:v2:<recipient>:<key id>:<208 letters a-p>``: sealed to the recipient's public key (HPKE); the only
  form written. Its payload has no digit at all, and its key id (``jlis-v3-kqzmxa``) at most the four of its
  version, so no sealed value can ever look like a 12-digit number to a leak scanner;
* ``sealed:v1:<recipient>:<key id>:<base64url nonce+ciphertext>``: the old symmetric form, still accepted
  (and opened by a recipient that holds its v1 keys) during the migration window, never written.

Neither can pass for a number; :mod:`contracts.redaction` recognises both (``sealed:v<n>:``) as identifiers.

This module holds only the format and the interfaces; the cryptography lives in the hub's infrastructure
and is injected into the adapters by the composition root.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Protocol

from pydantic import StringConstraints

from contracts.individual_number import IndividualNumber

__all__ = [
    "SEALED_PATTERN",
    "SEALED_V1_PATTERN",
    "SEALED_V2_PATTERN",
    "SealedNumber",
    "Sealer",
    "Unsealer",
    "is_sealed",
    "seal_context",
]

_V2 = r"sealed:v2:[a-z_]+:[a-z]{1,16}-v[1-9][0-9]{0,3}-[a-z]{6}:[a-p]{208}"
_V1 = r"sealed:v1:[a-z_]+:[A-Za-z0-9_-]{1,32}:[A-Za-z0-9_-]{40,200}"
SEALED_V2_PATTERN = rf"^{_V2}$"
"""The form written: letters ``a``-``p`` carry the payload; its only digits: ``2`` and the key's version."""
SEALED_V1_PATTERN = rf"^{_V1}$"
"""The old form, read during the migration window only."""
SEALED_PATTERN = rf"^(?:{_V2}|{_V1})$"
"""Any sealed value a message may carry: format v2, or v1 during the migration window."""
_SEALED = re.compile(SEALED_PATTERN)

SealedNumber = Annotated[str, StringConstraints(pattern=SEALED_PATTERN)]
"""The wire form of a sealed number (a string that matches :data:`SEALED_PATTERN`)."""


def seal_context(message_id: uuid.UUID, field: str) -> bytes:
    """The associated data that binds a sealed value to its message and field."""
    return f"{message_id}|{field}".encode()


def is_sealed(text: str) -> bool:
    """Tell whether ``text`` has the form of a sealed number."""
    return bool(_SEALED.match(text))


class Sealer(Protocol):
    """Seals numbers for one recipient."""

    def seal(self, number: IndividualNumber, *, recipient: str, message_id: uuid.UUID, field: str) -> str:
        """Seal ``number`` for ``recipient``, bound to ``message_id`` and ``field``."""
        ...


class Unsealer(Protocol):
    """Opens numbers sealed for its owner."""

    def unseal(self, sealed: str, *, message_id: uuid.UUID, field: str) -> IndividualNumber:
        """Open ``sealed``; raises ``SealError`` when it was tampered with, moved, or is not ours."""
        ...
