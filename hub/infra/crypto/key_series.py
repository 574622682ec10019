"""A key as a series of versions, each with its key id: the unit every keyring and key bundle is made of.

The newest version is the one in force for new data; older versions stay only for reading what was written
under them. Key material never appears in ``repr``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Final

from contracts.errors import ConfigurationError

__all__ = ["KEY_BYTES", "KeySeries", "KeyVersion", "new_version"]

KEY_BYTES: Final = 32


@dataclass(frozen=True, slots=True)
class KeyVersion:
    """One version of a key. ``material`` never appears in ``repr``."""

    version: int
    key_id: str
    material: bytes = field(repr=False)
    created_at: datetime


@dataclass(frozen=True, slots=True)
class KeySeries:
    """The versions of one key, oldest first; the newest is the one in force for new data."""

    name: str
    versions: tuple[KeyVersion, ...]

    @property
    def current(self) -> KeyVersion:
        """The newest version.

        Raises:
            ConfigurationError: the series is empty (a keyring made for an adapter holds no vault keys).
        """
        if not self.versions:
            raise ConfigurationError(f"this keyring holds no {self.name!r} key")
        return self.versions[-1]

    def by_id(self, key_id: str) -> KeyVersion | None:
        """The version with ``key_id``, if this keyring still has it."""
        return next((v for v in self.versions if v.key_id == key_id), None)

    def by_version(self, version: int) -> KeyVersion | None:
        """The version numbered ``version``, if this keyring still has it."""
        return next((v for v in self.versions if v.version == version), None)

    def added(self, now: datetime) -> KeySeries:
        """This series with one new version appended."""
        version = self.current.version + 1
        return replace(self, versions=(*self.versions, new_version(self.name, version, now)))


def new_version(name: str, version: int, now: datetime) -> KeyVersion:
    """A fresh random version of key ``name`` (its id names purpose and version, plus randomness)."""
    # The id names purpose and version and adds randomness, so that ids of two keyrings never coincide.
    prefix = name.replace("_", "")[:16]
    return KeyVersion(
        version, f"{prefix}-v{version}-{secrets.token_hex(3)}", secrets.token_bytes(KEY_BYTES), now
    )
