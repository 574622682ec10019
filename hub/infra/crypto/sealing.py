"""Sealing numbers in transit to a recipient's public key (HPKE, RFC 9180): sealed format v2.

``sealed:v2:<recipient>:<key id>:<208 letters a-p>``. The letters are the hexadecimal digits of 104 bytes
written with ``a``-``p`` for ``0``-``f``, so a sealed value holds no digit except in ``v2`` and in its key's
version (``hub-v3-kqzmxa``), never twelve in a row: no leak scanner can take it for a number.

The 104 bytes:

* 64: one *message key* (16 random bytes, AES-128) wrapped for the recipient by HPKE
  (``Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_128_GCM)``; 32 bytes of encapsulated key, 16 of
  ciphertext, 16 of tag), with ``info`` = ``renkei/sealed/v2|<message id>|<recipient>|<key id>``;
* 12: a random nonce;
* 28: the twelve digits under AES-GCM with the message key (12 bytes and a 16-byte tag), the associated data
  :func:`contracts.sealing.seal_context` (message id and field) followed by the recipient and the key id.

A sealer makes one message key per message id and recipient and keeps it (:class:`HpkeSealer` remembers the
last ``cache_size``), so a chunk of 1,000 numbers for J-LIS costs one X25519 operation, not 1,000; the
recipient's :class:`HpkeUnsealer` likewise unwraps each message key once. Each value carries the wrapped key,
so that it opens on its own wherever it rests (a hold, a dead letter, a replay): 64 bytes (128 letters) per
value buy that. ``docs/performance.md`` measures both choices.

The sender holds only the recipient's public key, so it cannot open what it sealed; a recipient's private
key opens nothing sealed for another recipient. A value fails to open when moved into another message or
field, when its header is edited to name another recipient or key, or when anyone but its recipient tries.

**Format v1** (``sealed:v1:...``, AES-256-GCM under a symmetric key the sender held too) is still *read*,
with the recipient's ``seal_v1`` keys, during the migration window (``docs/keys.md``); it is never written.

:class:`~contracts.errors.SealError` messages never contain digits: neither the number nor a key id.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from contracts.errors import ConfigurationError, SealError
from contracts.individual_number import IndividualNumber
from contracts.sealing import SEALED_PATTERN, seal_context
from hub.infra.keys.bundles import SealingKeys, UnsealingKeys
from hub.infra.keys.series import KeyVersion, SeriesView

__all__ = [
    "SEALED_V2_BYTES",
    "HpkeSealer",
    "HpkeUnsealer",
    "from_letters",
    "to_letters",
]

_SUITE: Final = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
_MESSAGE_KEY: Final = 16
_WRAPPED: Final = 32 + _MESSAGE_KEY + 16
_NONCE: Final = 12
_DIGITS: Final = 12
SEALED_V2_BYTES: Final = _WRAPPED + _NONCE + _DIGITS + 16
"""Bytes behind the letters of a v2 value (104: 208 letters)."""
_SEALED: Final = re.compile(SEALED_PATTERN)
_TO_LETTERS: Final = str.maketrans("0123456789abcdef", "abcdefghijklmnop")
_FROM_LETTERS: Final = str.maketrans("abcdefghijklmnop", "0123456789abcdef")
_CACHE: Final = 1024


def to_letters(data: bytes) -> str:
    """``data`` as letters ``a``-``p`` (hexadecimal, with ``a`` for ``0`` ... ``p`` for ``f``)."""
    return data.hex().translate(_TO_LETTERS)


def from_letters(text: str) -> bytes:
    """The bytes of :func:`to_letters`' text.

    Raises:
        ValueError: ``text`` is not an even number of letters ``a``-``p``.
    """
    if text.strip("abcdefghijklmnop"):
        raise ValueError("not letters a-p")
    return bytes.fromhex(text.translate(_FROM_LETTERS))


def _info(message_id: uuid.UUID, recipient: str, key_id: str) -> bytes:
    return f"renkei/sealed/v2|{message_id}|{recipient}|{key_id}".encode()


def _ad(message_id: uuid.UUID, field: str, recipient: str, key_id: str) -> bytes:
    return seal_context(message_id, field) + f"|{recipient}|{key_id}".encode()


@dataclass(frozen=True, slots=True)
class _MessageKey:
    """One message's key for one recipient, with what every value of the message shares."""

    aead: AESGCM
    head: str  # sealed:v2:<recipient>:<key id>:<the wrapped key's letters>
    before: bytes  # the associated data before the field: seal_context(message_id, "")
    after: bytes  # and after it: |<recipient>|<key id>

    def ad(self, field: str) -> bytes:
        """The associated data of ``field`` (equal to :func:`_ad`, without formatting the message id)."""
        return self.before + field.encode() + self.after


def _message_key(
    aead: AESGCM, message_id: uuid.UUID, recipient: str, key_id: str, head: str = ""
) -> _MessageKey:
    return _MessageKey(aead, head, seal_context(message_id, ""), f"|{recipient}|{key_id}".encode())


def _find(view: SeriesView, key_id: str) -> KeyVersion | None:
    # A key id not held may belong to a version added since the keyring was last read: look once more.
    return view.series().by_id(key_id) or view.reread().by_id(key_id)


class HpkeSealer:
    """Seals numbers for the recipients whose public keys ``keys`` holds, and no others (a ``Sealer``).

    Thread-safe. ``public_key_operations`` counts the HPKE wraps done (one per message and recipient).
    """

    def __init__(self, keys: SealingKeys, *, cache_size: int = _CACHE) -> None:
        self._keys = keys
        self._size = cache_size
        self._publics: dict[str, X25519PublicKey] = {}
        self._messages: OrderedDict[tuple[uuid.UUID, str, str], _MessageKey] = OrderedDict()
        self._lock = threading.Lock()
        self.public_key_operations = 0

    def _current(self, recipient: str) -> KeyVersion:
        view = self._keys.for_recipient(recipient)
        if view is None:
            raise SealError("no sealing key is configured for this recipient")
        try:
            return view.series().current
        except ConfigurationError:
            raise SealError("no sealing key is configured for this recipient") from None

    def _message_key(self, message_id: uuid.UUID, recipient: str, key: KeyVersion) -> _MessageKey:
        """The message's key and the header of its values (up to the wrapped key's letters), made once."""
        slot = (message_id, recipient, key.key_id)
        with self._lock:
            found = self._messages.get(slot)
            if found is not None:
                self._messages.move_to_end(slot)
                return found
        public = self._publics.get(key.key_id)
        if public is None:
            public = self._publics[key.key_id] = X25519PublicKey.from_public_bytes(key.material)
        material = os.urandom(_MESSAGE_KEY)
        wrapped = _SUITE.encrypt(material, public, info=_info(message_id, recipient, key.key_id))
        head = f"sealed:v2:{recipient}:{key.key_id}:{to_letters(wrapped)}"
        made = _message_key(AESGCM(material), message_id, recipient, key.key_id, head)
        with self._lock:
            self.public_key_operations += 1
            made = self._messages.setdefault(slot, made)  # another thread's key for the slot wins
            self._messages.move_to_end(slot)
            while len(self._messages) > self._size:
                self._messages.popitem(last=False)
        return made

    def seal(self, number: IndividualNumber, *, recipient: str, message_id: uuid.UUID, field: str) -> str:
        """Seal ``number`` for ``recipient``, bound to ``message_id`` and ``field``.

        Raises:
            SealError: there is no public key of ``recipient`` in this sealer's keys.
        """
        key = self._current(recipient)
        made = self._message_key(message_id, recipient, key)
        nonce = os.urandom(_NONCE)
        body = made.aead.encrypt(nonce, number.reveal().encode("ascii"), made.ad(field))
        return made.head + to_letters(nonce + body)


class HpkeUnsealer:
    """Opens numbers sealed for the owner of ``keys`` and nobody else (an ``Unsealer``).

    Opens format v2 with the owner's private keys and, while it still holds them, format v1 with its v1
    keys. Thread-safe. ``public_key_operations`` counts the HPKE unwraps done (one per message).
    """

    def __init__(self, keys: UnsealingKeys, *, cache_size: int = _CACHE) -> None:
        self._keys = keys
        self._size = cache_size
        self._privates: dict[str, X25519PrivateKey] = {}
        self._messages: OrderedDict[tuple[uuid.UUID, str, str], _MessageKey] = OrderedDict()
        self._lock = threading.Lock()
        self.public_key_operations = 0

    @property
    def owner(self) -> str:
        """The recipient whose sealed numbers this unsealer opens."""
        return self._keys.owner

    def unseal(self, sealed: str, *, message_id: uuid.UUID, field: str) -> IndividualNumber:
        """Open ``sealed``.

        Raises:
            SealError: it is not a sealed value, was sealed for another recipient or under a key we do not
                hold (or no longer hold), was tampered with, or was moved from another message or field.
        """
        if not isinstance(sealed, str) or not _SEALED.match(sealed):
            raise SealError("the value is not a sealed number")
        _, version, recipient, key_id, payload = sealed.split(":", 4)
        if recipient != self.owner:
            raise SealError("the number was sealed for another recipient")
        if version == "v1":
            digits = self._open_v1(key_id, payload, _ad(message_id, field, recipient, key_id))
        else:
            digits = self._open_v2(message_id, key_id, payload, field)
        try:
            return IndividualNumber(digits.decode("ascii"))
        except (UnicodeDecodeError, ValueError) as exc:
            # Neither cause carries the digits: IndividualNumber names its rule, never the value.
            raise SealError("the sealed value does not hold a valid number") from exc

    def _open_v2(self, message_id: uuid.UUID, key_id: str, payload: str, field: str) -> bytes:
        # The pattern checked 208 letters a-p: the first 128 are the wrapped message key, the same in every
        # value of the message (the cache is keyed by them, undecoded), the rest the nonce and the field.
        if len(payload) != 2 * SEALED_V2_BYTES:
            raise SealError("the sealed number has the wrong length for the public-key format")
        try:
            raw = from_letters(payload[2 * _WRAPPED :])
        except ValueError as exc:
            raise SealError("the sealed number is not in the letters of the public-key format") from exc
        made = self._message_key(message_id, key_id, payload[: 2 * _WRAPPED])
        nonce, body = raw[:_NONCE], raw[_NONCE:]
        try:
            return made.aead.decrypt(nonce, body, made.ad(field))
        except InvalidTag as exc:
            raise SealError("the sealed number failed authentication: tampered, moved or not ours") from exc

    def _private(self, key_id: str) -> X25519PrivateKey:
        version = _find(self._keys.keys, key_id)
        if version is None:
            raise SealError("the number was sealed under a key this recipient does not hold")
        key = self._privates.get(key_id)
        if key is None:
            key = self._privates[key_id] = X25519PrivateKey.from_private_bytes(version.material)
        return key

    def _message_key(self, message_id: uuid.UUID, key_id: str, wrapped_letters: str) -> _MessageKey:
        private = self._private(key_id)  # every time: a retired key stops opening anything at once
        slot = (message_id, key_id, wrapped_letters)
        with self._lock:
            found = self._messages.get(slot)
            if found is not None:
                self._messages.move_to_end(slot)
                return found
        try:
            wrapped = from_letters(wrapped_letters)
        except ValueError as exc:
            raise SealError("the sealed number is not in the letters of the public-key format") from exc
        try:
            material = _SUITE.decrypt(wrapped, private, info=_info(message_id, self.owner, key_id))
        except InvalidTag as exc:
            raise SealError("the sealed number failed authentication: tampered, moved or not ours") from exc
        made = _message_key(AESGCM(material), message_id, self.owner, key_id)
        with self._lock:
            self.public_key_operations += 1
            self._messages[slot] = made
            while len(self._messages) > self._size:
                self._messages.popitem(last=False)
        return made

    def _open_v1(self, key_id: str, payload: str, ad: bytes) -> bytes:
        legacy = self._keys.legacy
        version = _find(legacy, key_id) if legacy is not None else None
        if version is None:
            raise SealError(
                "the number was sealed in the old symmetric format under a key this recipient no longer holds"
            )
        try:
            raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        except (binascii.Error, ValueError) as exc:
            raise SealError("the sealed number is not valid base64url") from exc
        if len(raw) <= _NONCE:
            raise SealError("the sealed number is truncated")
        try:
            return AESGCM(version.material).decrypt(raw[:_NONCE], raw[_NONCE:], ad)
        except InvalidTag as exc:
            raise SealError("the sealed number failed authentication: tampered, moved or not ours") from exc
