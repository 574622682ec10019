"""Typed key bundles: each names one kind of key a process may hold, so that a signature shows what it holds.

* :class:`VaultKeys`: the key-encryption keys, the blind-index key and the token root (the vault's keys);
* :class:`SealingKeys`: what seals numbers *for* some recipients: their X25519 public keys;
* :class:`UnsealingKeys`: what opens numbers sealed for one recipient: its private keys (and, during the
  migration window, its keys of the old symmetric format v1);
* :class:`LinkKeys`: the keys of one counterpart's encrypted line on the broker.

A bundle holds views (:class:`~hub.infra.keys.series.SeriesView`) of its keys: fixed ones in tests,
live ones in a service, which follow the service's keyring file so that a rotation reaches a running
process. Which process gets which bundle is decided in one place, :mod:`hub.infra.keys.needs`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hub.infra.keys.series import SeriesView

__all__ = ["LinkKeys", "SealingKeys", "UnsealingKeys", "VaultKeys"]


@dataclass(frozen=True, slots=True)
class VaultKeys:
    """The vault's keys: KEKs (wrap data keys, encrypt codes), blind-index keys and token roots."""

    kek: SeriesView
    blind_index: SeriesView
    token_root: SeriesView


@dataclass(frozen=True, slots=True)
class SealingKeys:
    """The public keys that seal numbers for each recipient named in ``recipients`` (and for no one else)."""

    recipients: Mapping[str, SeriesView]

    def for_recipient(self, recipient: str) -> SeriesView | None:
        """The public keys that seal for ``recipient``, if this bundle holds them."""
        return self.recipients.get(recipient)


@dataclass(frozen=True, slots=True)
class UnsealingKeys:
    """What opens numbers sealed for ``owner``: its private keys, and its v1 keys while they are held."""

    owner: str
    keys: SeriesView
    legacy: SeriesView | None = None


@dataclass(frozen=True, slots=True)
class LinkKeys:
    """The keys of ``counterpart``'s encrypted line (files between an adapter and its counterpart)."""

    counterpart: str
    keys: SeriesView
