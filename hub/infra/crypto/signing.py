"""The Ed25519 key that signs audit checkpoints, and its public half that verifies them.

The private key is a PKCS#8 PEM file at ``settings.audit_key_path``, owner-only (0600). In development it
is generated on first run; in production it must be provided and is never generated. The public key can be
handed to auditors as PEM (:func:`public_key_pem`), so that checkpoints can be verified by someone who
cannot sign them. A key id (16 hex digits of SHA-256 over the raw public key) is stored with each
checkpoint, so that a rotated key can be told apart.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from contracts.errors import ConfigurationError
from hub.settings import Environment, Settings

__all__ = [
    "Ed25519Signer",
    "Ed25519Verifier",
    "key_id_of",
    "load_public_key",
    "load_signer",
    "public_key_pem",
    "signer_from_settings",
]


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """Sixteen base32 characters that name ``public_key`` (base32, not hex: see ``digest_text``)."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b32encode(hashlib.sha256(raw).digest()).decode("ascii").lower()[:16]


def public_key_pem(public_key: Ed25519PublicKey) -> bytes:
    """``public_key`` as SubjectPublicKeyInfo PEM, to hand to auditors."""
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class Ed25519Signer:
    """Signs checkpoint messages. The private key never appears in ``repr``."""

    __slots__ = ("_key", "key_id", "public_key")

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id_of(self.public_key)

    @classmethod
    def generate(cls) -> Ed25519Signer:
        """A fresh key, for tests and first runs."""
        return cls(Ed25519PrivateKey.generate())

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        return self._key.sign(message)

    def private_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM (written only to an owner-only file)."""
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def __repr__(self) -> str:
        return f"Ed25519Signer(key_id={self.key_id!r})"


class Ed25519Verifier:
    """Checks signatures against one or more trusted public keys, chosen by key id."""

    __slots__ = ("_keys",)

    def __init__(self, public_keys: Ed25519PublicKey | Sequence[Ed25519PublicKey]) -> None:
        keys = [public_keys] if isinstance(public_keys, Ed25519PublicKey) else list(public_keys)
        self._keys = {key_id_of(key): key for key in keys}

    @property
    def key_ids(self) -> frozenset[str]:
        """Ids of the trusted keys."""
        return frozenset(self._keys)

    def verify(self, key_id: str, message: bytes, signature: bytes) -> bool:
        """Tell whether ``signature`` is a valid signature of ``message`` by the trusted key ``key_id``."""
        key = self._keys.get(key_id)
        if key is None:
            return False
        try:
            key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


def load_signer(path: Path) -> Ed25519Signer:
    """Load the private key at ``path``.

    Raises:
        ConfigurationError: missing, readable or writable by others, or not an Ed25519 private key.
    """
    if not path.exists():
        raise ConfigurationError(f"no audit signing key at {path} (RENKEI_AUDIT_SIGNING_KEY_FILE)")
    mode = path.stat().st_mode
    if os.name == "posix" and mode & 0o077:
        raise ConfigurationError(
            f"the audit signing key {path} is open to others (mode {mode & 0o777:o}); chmod 600 it"
        )
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"{path} is not an unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(f"{path} is not an Ed25519 key")
    return Ed25519Signer(key)


def load_public_key(path: Path) -> Ed25519PublicKey:
    """Load a public key from a PEM file holding either the public or the private key.

    Raises:
        ConfigurationError: missing or not an Ed25519 key.
    """
    if not path.exists():
        raise ConfigurationError(f"no key file at {path}")
    data = path.read_bytes()
    if b"PRIVATE KEY" in data:
        return load_signer(path).public_key
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"{path} is not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigurationError(f"{path} is not an Ed25519 public key")
    return key


def signer_from_settings(settings: Settings) -> Ed25519Signer:
    """The checkpoint signer at ``settings.audit_key_path``; generated in development on first run only.

    Raises:
        ConfigurationError: the key is missing in production, or unusable (see :func:`load_signer`).
    """
    path = settings.audit_key_path
    if path.exists():
        return load_signer(path)
    if settings.environment is not Environment.DEVELOPMENT:
        raise ConfigurationError(
            f"no audit signing key at {path}: set RENKEI_AUDIT_SIGNING_KEY_FILE; keys are never generated "
            f"in {settings.environment.value}"
        )
    return _generate_once(path)


def _generate_once(path: Path) -> Ed25519Signer:
    # A private temporary file hard-linked into place: linking never replaces an existing file, so two
    # processes starting together end up with whichever key was linked first.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(Ed25519Signer.generate().private_pem())
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink()
    return load_signer(path)
