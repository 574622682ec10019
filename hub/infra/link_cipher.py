"""AES-GCM protection of counterpart files on the broker (the encrypted line of each network)."""

from __future__ import annotations

import base64
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from contracts.errors import ConfigurationError, DecodeError, SealError
from contracts.link import CounterpartFile
from hub.infra.crypto.bundles import LinkKey

__all__ = ["AeadLinkCipher"]

_NONCE = 12
_TAG = 16


class AeadLinkCipher:
    """Encrypts each counterpart file under its counterpart's link key, bound to its name.

    The message body is a small JSON header (counterpart, name, correlation id, which are not
    personal data) and the ciphertext of the content.
    """

    def __init__(self, *keys: LinkKey) -> None:
        counterparts = [k.counterpart for k in keys]
        if len(set(counterparts)) != len(counterparts):
            raise ConfigurationError("a link cipher holds one key per counterpart")
        self._aead = {k.counterpart: AESGCM(k.material) for k in keys}

    @property
    def counterparts(self) -> frozenset[str]:
        """The counterparts whose lines this cipher can protect and open."""
        return frozenset(self._aead)

    def _cipher(self, counterpart: str) -> AESGCM:
        try:
            return self._aead[counterpart]
        except KeyError:
            raise SealError(f"no link key for counterpart {counterpart!r}") from None

    def protect(self, file: CounterpartFile) -> bytes:
        """Encrypt ``file`` for the broker."""
        nonce = os.urandom(_NONCE)
        aad = f"{file.counterpart}|{file.name}|{file.correlation_id}".encode()
        sealed = nonce + self._cipher(file.counterpart).encrypt(nonce, file.content, aad)
        return json.dumps(
            {
                "counterpart": file.counterpart,
                "name": file.name,
                "correlation_id": file.correlation_id,
                "content": base64.urlsafe_b64encode(sealed).decode(),
            }
        ).encode()

    def open(self, body: bytes) -> CounterpartFile:
        """Decrypt a link message; tampering raises :class:`SealError`."""
        try:
            head = json.loads(body)
            counterpart, name, correlation = head["counterpart"], head["name"], head["correlation_id"]
            sealed = base64.urlsafe_b64decode(head["content"])
            # Inside the try: a \ud800 escape in the JSON gives a string UTF-8 cannot encode.
            aad = f"{counterpart}|{name}|{correlation}".encode()
        except (ValueError, KeyError, TypeError, RecursionError):
            raise DecodeError("a counterpart link message is not in the link format") from None
        cipher = self._cipher(str(counterpart))
        if len(sealed) < _NONCE + _TAG:
            # Too short for a nonce and a tag: AESGCM would raise ValueError, not InvalidTag.
            raise SealError(f"the link message {name!r} failed authentication (truncated)")
        try:
            content = cipher.decrypt(sealed[:_NONCE], sealed[_NONCE:], aad)
        except InvalidTag:
            raise SealError(f"the link message {name!r} failed authentication") from None
        return CounterpartFile(
            counterpart=str(counterpart), name=str(name), content=content, correlation_id=str(correlation)
        )
