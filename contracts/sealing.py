"""Sealed Individual Numbers: the only form in which a number may travel on the broker.

A sealed number is authenticated encryption of the twelve digits for exactly one recipient, bound to the
message id and the field it sits in, so that it cannot be read by anyone else nor moved into another
message or field. The text form is ``sealed:v1:<recipient>:<key id>:<base64url nonce+ciphertext>``; it can
never pass for a number.

This module holds only the format and the interfaces; the cryptography lives in the hub's infrastructure
and is injected into the adapters by the composition root.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Protocol

from pydantic import StringConstraints

from contracts.individual_number import IndividualNumber

__all__ = ["SEALED_PATTERN", "SealedNumber", "Sealer", "Unsealer", "seal_context"]

SEALED_PATTERN = r"^sealed:v1:[a-z_]+:[A-Za-z0-9_-]{1,32}:[A-Za-z0-9_-]{40,200}$"
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
