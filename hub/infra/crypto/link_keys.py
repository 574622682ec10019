"""Derivation of each counterpart's link key (HKDF-SHA256) from that counterpart's current sealing key."""

from __future__ import annotations

from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hub.infra.crypto.bundles import LinkKey
from hub.infra.crypto.key_series import KEY_BYTES, KeySeries

__all__ = ["derive_link_key"]

_INFO: Final = b"renkei-link-v1|"


def derive_link_key(counterpart: str, sealing: KeySeries) -> LinkKey:
    """The link key of ``counterpart``, derived from its current sealing key ``sealing``."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=_INFO + counterpart.encode())
    return LinkKey(counterpart, hkdf.derive(sealing.current.material))
