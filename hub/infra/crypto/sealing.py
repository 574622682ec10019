"""AES-GCM sealing of numbers in transit: for one recipient, bound to one message and one field.

``sealed:v1:<recipient>:<key id>:<base64url(nonce + ciphertext)>``: the twelve digits encrypted with
AES-256-GCM under the recipient's current sealing key and a random 96-bit nonce. The associated data is
:func:`contracts.sealing.seal_context` (message id and field) followed by the recipient and the key id, so a
sealed value fails to open when it is moved into another message or field, when its header is edited to
name another recipient or key, or when anyone but its recipient tries it.

Keys are symmetric: a party that can seal for R can also unseal for R. Adapters that seal numbers for the
hub therefore hold the hub's sealing key; each process gets only the bundles its role needs
(:mod:`hub.infra.crypto.service_keys`).

:class:`~contracts.errors.SealError` messages never contain digits: neither the number nor a key id.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import uuid
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from contracts.errors import SealError
from contracts.individual_number import IndividualNumber
from contracts.sealing import SEALED_PATTERN, seal_context
from hub.infra.crypto.bundles import SealingKeys, UnsealingKeys

__all__ = ["AeadSealer", "AeadUnsealer"]

_NONCE: Final = 12
_SEALED: Final = re.compile(SEALED_PATTERN)


def _ad(message_id: uuid.UUID, field: str, recipient: str, key_id: str) -> bytes:
    return seal_context(message_id, field) + f"|{recipient}|{key_id}".encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class AeadSealer:
    """Seals numbers for the recipients whose keys ``keys`` holds, and no others (a :class:`Sealer`)."""

    def __init__(self, keys: SealingKeys) -> None:
        self._keys = keys
        self._aeads: dict[str, tuple[str, AESGCM]] = {}

    def _current(self, recipient: str) -> tuple[str, AESGCM]:
        cached = self._aeads.get(recipient)
        if cached is None:
            series = self._keys.for_recipient(recipient)
            if series is None:
                raise SealError("no sealing key is configured for this recipient")
            key = series.current
            cached = (key.key_id, AESGCM(key.material))
            self._aeads[recipient] = cached
        return cached

    def seal(self, number: IndividualNumber, *, recipient: str, message_id: uuid.UUID, field: str) -> str:
        """Seal ``number`` for ``recipient``, bound to ``message_id`` and ``field``.

        Raises:
            SealError: there is no sealing key for ``recipient``.
        """
        key_id, aead = self._current(recipient)
        nonce = os.urandom(_NONCE)
        body = aead.encrypt(nonce, number.reveal().encode("ascii"), _ad(message_id, field, recipient, key_id))
        return f"sealed:v1:{recipient}:{key_id}:{_b64(nonce + body)}"


class AeadUnsealer:
    """Opens numbers sealed for the owner of ``keys`` and nobody else (an :class:`Unsealer`)."""

    def __init__(self, keys: UnsealingKeys) -> None:
        self._owner = keys.owner
        self._aeads = {v.key_id: AESGCM(v.material) for v in keys.keys.versions}

    @property
    def owner(self) -> str:
        """The recipient whose sealed numbers this unsealer opens."""
        return self._owner

    def unseal(self, sealed: str, *, message_id: uuid.UUID, field: str) -> IndividualNumber:
        """Open ``sealed``.

        Raises:
            SealError: it is not a sealed value, was sealed for another recipient or under a key we do not
                hold, was tampered with, or was moved from another message or field.
        """
        if not isinstance(sealed, str) or not _SEALED.match(sealed):
            raise SealError("the value is not a sealed number")
        _, _, recipient, key_id, payload = sealed.split(":", 4)
        if recipient != self._owner:
            raise SealError("the number was sealed for another recipient")
        aead = self._aeads.get(key_id)
        if aead is None:
            raise SealError("the number was sealed under a key this recipient does not hold")
        try:
            raw = _unb64(payload)
        except (binascii.Error, ValueError) as exc:
            raise SealError("the sealed number is not valid base64url") from exc
        if len(raw) <= _NONCE:
            raise SealError("the sealed number is truncated")
        try:
            digits = aead.decrypt(raw[:_NONCE], raw[_NONCE:], _ad(message_id, field, recipient, key_id))
        except InvalidTag as exc:
            raise SealError("the sealed number failed authentication: tampered, moved or not ours") from exc
        try:
            return IndividualNumber(digits.decode("ascii"))
        except (UnicodeDecodeError, ValueError) as exc:
            # Neither cause carries the digits: IndividualNumber names its rule, never the value.
            raise SealError("the sealed value does not hold a valid number") from exc
