"""AES-GCM protection of counterpart files on the broker (the encrypted line of each network).

The message body is a small JSON header (counterpart, name, correlation id and the link key's id, none of
them personal data) and the ciphertext of the content, under the counterpart's current link key, bound to
the header. Link keys are versioned (``renkei keys rotate --link C``): a file is opened with whichever
version its header names, looked for once more in the keyring file when not held (a version added since
the process started). A header without a key id was written before link keys had versions; it is opened
with any version held (the tag tells which).
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from contracts.errors import ConfigurationError, DecodeError, SealError
from contracts.link import CounterpartFile
from hub.infra.keys.bundles import LinkKeys
from hub.infra.keys.series import KeyVersion

__all__ = ["AeadLinkCipher"]

_NONCE = 12
_TAG = 16


def _aad(counterpart: str, name: str, correlation: str, key_id: str | None) -> bytes:
    base = f"{counterpart}|{name}|{correlation}"
    return (base if key_id is None else f"{base}|{key_id}").encode()


class AeadLinkCipher:
    """Encrypts each counterpart file under its counterpart's current link key, bound to its header."""

    def __init__(self, *keys: LinkKeys) -> None:
        counterparts = [k.counterpart for k in keys]
        if len(set(counterparts)) != len(counterparts):
            raise ConfigurationError("a link cipher holds one key per counterpart")
        self._keys = {k.counterpart: k for k in keys}

    @property
    def counterparts(self) -> frozenset[str]:
        """The counterparts whose lines this cipher can protect and open."""
        return frozenset(self._keys)

    def _keys_of(self, counterpart: str) -> LinkKeys:
        try:
            return self._keys[counterpart]
        except KeyError:
            raise SealError(f"no link key for counterpart {counterpart!r}") from None

    def protect(self, file: CounterpartFile) -> bytes:
        """Encrypt ``file`` for the broker, under its counterpart's current link key."""
        try:
            key = self._keys_of(file.counterpart).keys.series().current
        except ConfigurationError:
            raise SealError(f"no link key for counterpart {file.counterpart!r}") from None
        nonce = os.urandom(_NONCE)
        aad = _aad(file.counterpart, file.name, file.correlation_id, key.key_id)
        sealed = nonce + AESGCM(key.material).encrypt(nonce, file.content, aad)
        return json.dumps(
            {
                "counterpart": file.counterpart,
                "name": file.name,
                "correlation_id": file.correlation_id,
                "key_id": key.key_id,
                "content": base64.urlsafe_b64encode(sealed).decode(),
            }
        ).encode()

    def _candidates(self, keys: LinkKeys, key_id: Any) -> list[KeyVersion]:
        if key_id is None:  # written before link keys had versions: any version may be it
            return list(keys.keys.series().versions)
        found = keys.keys.series().by_id(str(key_id)) or keys.keys.reread().by_id(str(key_id))
        return [] if found is None else [found]

    def open(self, body: bytes) -> CounterpartFile:
        """Decrypt a link message; tampering, or a key this end does not hold, raises :class:`SealError`."""
        try:
            head = json.loads(body)
            counterpart, name, correlation = head["counterpart"], head["name"], head["correlation_id"]
            key_id = head.get("key_id")
            sealed = base64.urlsafe_b64decode(head["content"])
            # Inside the try: a \ud800 escape in the JSON gives a string UTF-8 cannot encode.
            aad = _aad(counterpart, name, correlation, None if key_id is None else str(key_id))
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            raise DecodeError("a counterpart link message is not in the link format") from None
        candidates = self._candidates(self._keys_of(str(counterpart)), key_id)
        if not candidates:
            raise SealError(f"the link message {name!r} is under a link key this end does not hold")
        if len(sealed) < _NONCE + _TAG:
            # Too short for a nonce and a tag: AESGCM would raise ValueError, not InvalidTag.
            raise SealError(f"the link message {name!r} failed authentication (truncated)")
        for key in candidates:
            try:
                content = AESGCM(key.material).decrypt(sealed[:_NONCE], sealed[_NONCE:], aad)
            except InvalidTag:
                continue
            return CounterpartFile(
                counterpart=str(counterpart), name=str(name), content=content, correlation_id=str(correlation)
            )
        raise SealError(f"the link message {name!r} failed authentication")
