"""The link keys of keyring format 1, derived from each counterpart's sealing key (import only).

Format 1 had no link keys of its own: a counterpart's line was protected by ``HKDF-SHA256`` of its current
symmetric sealing key. A keyring imported from format 1
(:func:`hub.infra.keys.keyring.keyring_from_v1_json`) keeps that derived key as version 1 of the
counterpart's own ``link`` key, so that files already on the line keep opening; later versions are random
(``renkei keys rotate --link``).
"""

from __future__ import annotations

from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hub.infra.keys.series import KEY_BYTES

__all__ = ["derive_v1_link_key"]

_INFO: Final = b"renkei-link-v1|"


def derive_v1_link_key(counterpart: str, sealing_material: bytes) -> bytes:
    """The format-1 link key of ``counterpart``, from its format-1 sealing key ``sealing_material``."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=_INFO + counterpart.encode())
    return hkdf.derive(sealing_material)
