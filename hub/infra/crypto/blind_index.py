"""The keyed blind index: find a subject by number without storing or scanning plaintext.

An Individual Number has only 10¹¹ valid values, so an unkeyed hash of it is reversed by enumeration in
minutes. The index is therefore HMAC-SHA-256 under a key of its own (never the KEK), versioned: each row
records the version it was computed under, and a lookup computes the index under every version the
keyring still holds, so rows written before a rotation stay findable. The key must not leak: with it, the
index is as reversible as an unkeyed hash.
"""

from __future__ import annotations

import hashlib
import hmac

from contracts.individual_number import IndividualNumber
from hub.infra.keys.series import SeriesView

__all__ = ["BlindIndexer"]

_DOMAIN = b"renkei/blind-index/v1|"


class BlindIndexer:
    """Computes blind indexes under the current and every earlier blind-index key."""

    def __init__(self, keys: SeriesView) -> None:
        series = keys.series()  # the versions in force when made (one indexer per unit of work)
        self._keys = {v.version: v.material for v in series.versions}
        self._current = series.current.version

    @property
    def current_version(self) -> int:
        """The version new rows are indexed under."""
        return self._current

    @property
    def versions(self) -> tuple[int, ...]:
        """Every version a lookup tries."""
        return tuple(sorted(self._keys))

    def index(self, number: IndividualNumber, version: int | None = None) -> bytes:
        """The 32-byte blind index of ``number`` under ``version`` (default: the current one)."""
        key = self._keys[self._current if version is None else version]
        return hmac.new(key, _DOMAIN + number.reveal().encode("ascii"), hashlib.sha256).digest()

    def all_indexes(self, number: IndividualNumber) -> dict[int, bytes]:
        """The blind index of ``number`` under every version, for lookups."""
        return {version: self.index(number, version) for version in self._keys}
