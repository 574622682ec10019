"""Typed key bundles: each names one kind of key a process may hold, so that a signature shows what it holds.

* :class:`VaultKeys`: the key-encryption keys, the blind-index key and the token root (the vault's keys);
* :class:`SealingKeys`: what seals numbers *for* some recipients (today their symmetric sealing keys; with
  public-key sealing, their public keys);
* :class:`UnsealingKeys`: what opens numbers sealed for one recipient (its own key);
* :class:`LinkKey`: the key of one counterpart's encrypted line on the broker.

A bundle holds material only for what it names; which process gets which bundle is decided in one place,
:mod:`hub.infra.crypto.service_keys`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from contracts.errors import ConfigurationError
from hub.infra.crypto.key_series import KEY_BYTES, KeySeries

__all__ = ["LinkKey", "SealingKeys", "UnsealingKeys", "VaultKeys"]


@dataclass(frozen=True, slots=True)
class VaultKeys:
    """The vault's keys: KEKs (wrap data keys, encrypt codes), blind-index keys and token roots."""

    kek: KeySeries
    blind_index: KeySeries
    token_root: KeySeries


@dataclass(frozen=True, slots=True)
class SealingKeys:
    """Keys that seal numbers for each recipient named in ``recipients`` (and for no one else)."""

    recipients: Mapping[str, KeySeries]

    def for_recipient(self, recipient: str) -> KeySeries | None:
        """The key that seals for ``recipient``, if this bundle holds one."""
        return self.recipients.get(recipient)


@dataclass(frozen=True, slots=True)
class UnsealingKeys:
    """The keys that open numbers sealed for ``owner`` (every version still held)."""

    owner: str
    keys: KeySeries


@dataclass(frozen=True, slots=True)
class LinkKey:
    """The 32-byte key of ``counterpart``'s encrypted line (files between an adapter and its counterpart)."""

    counterpart: str
    material: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.material) != KEY_BYTES:
            raise ConfigurationError(f"the link key of {self.counterpart} must be {KEY_BYTES} bytes")
