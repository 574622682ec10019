"""AES-GCM encryption of the federation's codes (符号) at rest, under keys derived from the keyring's KEKs.

A code is not an Individual Number, but it stands for a person on the information-provision network, so it
rests only encrypted. The key of KEK version ``v`` is ``HKDF-SHA256(kek_v, info="renkei-codes-v1")``; new
codes use the current KEK, older ones stay readable while the keyring holds their KEK version. The
associated data binds a ciphertext to its subject and 宛名番号, so it cannot be moved to another row.
"""

from __future__ import annotations

import os
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from contracts.errors import ConfigurationError
from hub.infra.crypto.envelope import NONCE_BYTES, VaultIntegrityError
from hub.infra.keys.series import SeriesView

__all__ = ["CodeCipher"]

_INFO: Final = b"renkei-codes-v1"


class CodeCipher:
    """Encrypts and decrypts codes; one derived key per KEK version."""

    def __init__(self, keks: SeriesView) -> None:
        self._keks = keks
        current = keks.series().current
        self._current = current.key_id
        self._aeads = {current.key_id: AESGCM(self._derive(current.material))}

    @property
    def current_key_id(self) -> str:
        """The KEK id new codes are encrypted under."""
        return self._current

    def _aead(self, key_id: str) -> AESGCM | None:
        aead = self._aeads.get(key_id)
        if aead is None:
            version = self._keks.series().by_id(key_id) or self._keks.reread().by_id(key_id)
            if version is None:
                return None
            aead = self._aeads[key_id] = AESGCM(self._derive(version.material))
        return aead

    @staticmethod
    def _derive(material: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(material)

    @staticmethod
    def _ad(subject_id: str, atena_no: int) -> bytes:
        return f"renkei/code/v1|{subject_id}|{atena_no}".encode()

    def encrypt(self, subject_id: str, atena_no: int, code: str) -> tuple[str, bytes]:
        """Encrypt ``code``; returns the key id and nonce + ciphertext."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aeads[self._current].encrypt(
            nonce, code.encode("ascii"), self._ad(subject_id, atena_no)
        )
        return self._current, nonce + sealed

    def decrypt(self, subject_id: str, atena_no: int, key_id: str, blob: bytes) -> str:
        """Decrypt a stored code.

        Raises:
            ConfigurationError: the keyring no longer holds the KEK version ``key_id``.
            VaultIntegrityError: the ciphertext is not this row's, or was altered.
        """
        aead = self._aead(key_id)
        if aead is None:
            raise ConfigurationError(
                "a code is encrypted under a key-encryption key the keyring does not hold (retired, or not "
                "yet installed here)"
            )
        try:
            plain = aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], self._ad(subject_id, atena_no))
        except InvalidTag as exc:
            raise VaultIntegrityError("a stored code failed authentication") from exc
        return plain.decode("ascii")
