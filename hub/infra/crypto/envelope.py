"""Envelope encryption of stored numbers: a data key per subject, wrapped by a key-encryption key.

Each subject has its own 256-bit data key (DEK). A number is stored as AES-GCM ciphertext under that DEK,
with associated data naming the subject and the DEK version, so a ciphertext cannot be moved to another
subject's row. The DEK itself is stored only wrapped (AES-GCM) by a key-encryption key (KEK) from the
keyring, bound to the subject, the DEK version and the KEK id. Destroying a subject's wrapped DEK makes
every ciphertext it ever protected unreadable (crypto-shredding); re-wrapping a DEK under a new KEK never
touches a number.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from contracts.errors import ConfigurationError, PermanentError
from contracts.individual_number import IndividualNumber
from hub.infra.keys.series import SeriesView

__all__ = ["NONCE_BYTES", "DataKey", "EncryptedNumber", "KeyWrapper", "VaultIntegrityError"]

NONCE_BYTES: Final = 12


class VaultIntegrityError(PermanentError):
    """A stored key or number failed authentication: the vault's data was altered or mixed up."""

    code = "vault_integrity"


@dataclass(frozen=True, slots=True)
class EncryptedNumber:
    """A number at rest: nonce and AES-GCM ciphertext (with tag) under a subject's DEK."""

    nonce: bytes
    ciphertext: bytes


class DataKey:
    """A subject's plaintext data key, held in memory only while the vault works with it."""

    __slots__ = ("_aead", "subject_id", "version")

    def __init__(self, subject_id: str, version: int, material: bytes) -> None:
        self.subject_id = subject_id
        self.version = version
        self._aead = AESGCM(material)

    def __repr__(self) -> str:
        return f"DataKey(subject=<hidden>, version={self.version})"

    def _ad(self) -> bytes:
        return f"renkei/number/v1|{self.subject_id}|{self.version}".encode()

    def encrypt(self, number: IndividualNumber) -> EncryptedNumber:
        """Encrypt ``number`` under this key with a fresh random nonce."""
        nonce = os.urandom(NONCE_BYTES)
        return EncryptedNumber(nonce, self._aead.encrypt(nonce, number.reveal().encode("ascii"), self._ad()))

    def decrypt(self, stored: EncryptedNumber) -> IndividualNumber:
        """Decrypt a stored number.

        Raises:
            VaultIntegrityError: the ciphertext is not this subject's under this key version.
        """
        try:
            digits = self._aead.decrypt(stored.nonce, stored.ciphertext, self._ad())
        except InvalidTag as exc:
            raise VaultIntegrityError("a stored number failed authentication") from exc
        try:
            return IndividualNumber(digits.decode("ascii"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise VaultIntegrityError("a stored number decrypted to something that is not a number") from exc


class KeyWrapper:
    """Wraps and unwraps subjects' data keys with the keyring's key-encryption keys.

    The KEK in force is taken when the wrapper is made (one per unit of work); a data key wrapped by a KEK
    id the keyring does not hold makes the wrapper look at the keyring file once more, so that a running hub
    unwraps keys re-wrapped under a KEK added after it started.
    """

    def __init__(self, keks: SeriesView) -> None:
        self._keks = keks
        current = keks.series().current
        self._current = current.key_id
        self._aeads = {current.key_id: AESGCM(current.material)}

    @property
    def current_kek_id(self) -> str:
        """The id of the KEK that wraps new and re-wrapped data keys."""
        return self._current

    def _aead(self, kek_id: str) -> AESGCM | None:
        aead = self._aeads.get(kek_id)
        if aead is None:
            version = self._keks.series().by_id(kek_id) or self._keks.reread().by_id(kek_id)
            if version is None:
                return None
            aead = self._aeads[kek_id] = AESGCM(version.material)
        return aead

    @staticmethod
    def _ad(subject_id: str, dek_version: int, kek_id: str) -> bytes:
        return f"renkei/dek/v1|{subject_id}|{dek_version}|{kek_id}".encode()

    def new_data_key(self, subject_id: str, version: int = 1) -> tuple[DataKey, bytes]:
        """Generate a data key for ``subject_id``; returns it and its wrapped form (under the current KEK)."""
        material = AESGCM.generate_key(bit_length=256)
        return DataKey(subject_id, version, material), self._wrap(subject_id, version, material)

    def _wrap(self, subject_id: str, dek_version: int, material: bytes) -> bytes:
        kek_id = self.current_kek_id
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aeads[kek_id].encrypt(nonce, material, self._ad(subject_id, dek_version, kek_id))

    def _unwrap_material(self, subject_id: str, dek_version: int, wrapped: bytes, kek_id: str) -> bytes:
        aead = self._aead(kek_id)
        if aead is None:
            raise ConfigurationError(
                "a data key is wrapped by a key-encryption key that the keyring does not hold (retired, "
                "or not yet installed here)"
            )
        try:
            return aead.decrypt(
                wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], self._ad(subject_id, dek_version, kek_id)
            )
        except InvalidTag as exc:
            raise VaultIntegrityError("a wrapped data key failed authentication") from exc

    def unwrap(self, subject_id: str, dek_version: int, wrapped: bytes, kek_id: str) -> DataKey:
        """Unwrap a subject's data key.

        Raises:
            ConfigurationError: the KEK ``kek_id`` is not in the keyring.
            VaultIntegrityError: the wrapped key is not this subject's, or was altered.
        """
        return DataKey(
            subject_id, dek_version, self._unwrap_material(subject_id, dek_version, wrapped, kek_id)
        )

    def rewrap(self, subject_id: str, dek_version: int, wrapped: bytes, kek_id: str) -> bytes:
        """Re-wrap a data key under the current KEK; the numbers it protects are not touched."""
        return self._wrap(
            subject_id, dek_version, self._unwrap_material(subject_id, dek_version, wrapped, kek_id)
        )
