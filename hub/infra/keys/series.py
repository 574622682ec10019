"""A key as a series of versions, each with its key id: the unit every keyring and key bundle is made of.

The newest version is the one in force for new data; older versions stay only for reading what was written
under them, until they are retired (``renkei keys retire``). Key material never appears in ``repr``.

Every key is 32 bytes: AES-256 and HMAC keys, and the raw form of X25519 private and public keys alike.

A :class:`SeriesView` is what a component that encrypts or decrypts holds: the versions in force *now*. A
:class:`KeySeries` is a fixed view of itself; a service's keyring hands out live views
(:mod:`hub.infra.keys.source`) that follow the keyring file, so that a running service picks up a
version added by ``renkei keys rotate`` without a restart: at once when it meets a key id it does not know
(:meth:`SeriesView.reread`), and within a second for the version it writes with.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Final, Protocol

from contracts.errors import ConfigurationError
from contracts.ids import random_letters

__all__ = ["KEY_BYTES", "KEY_ID_PATTERN", "KeySeries", "KeyVersion", "SeriesView", "new_version"]

KEY_BYTES: Final = 32

KEY_ID_PATTERN: Final = r"^[A-Za-z0-9_-]{1,32}$"
"""Any key id a keyring accepts (ids written before format 2 hold hex digits)."""
_KEY_ID: Final = re.compile(KEY_ID_PATTERN)


@dataclass(frozen=True, slots=True)
class KeyVersion:
    """One version of a key. ``material`` never appears in ``repr``."""

    version: int
    key_id: str
    material: bytes = field(repr=False)
    created_at: datetime

    def __post_init__(self) -> None:
        if len(self.material) != KEY_BYTES:
            raise ConfigurationError(f"every key must be {KEY_BYTES} bytes")
        if not _KEY_ID.match(self.key_id):
            raise ConfigurationError("a key id is 1-32 of [A-Za-z0-9_-]")


class SeriesView(Protocol):
    """The versions of one key in force now, as a component that uses the key sees them."""

    def series(self) -> KeySeries:
        """The versions in force now (a live view re-reads its keyring at most once a second)."""
        ...

    def reread(self) -> KeySeries:
        """The versions in force after re-reading the keyring now (on meeting a key id not held)."""
        ...


@dataclass(frozen=True, slots=True)
class KeySeries:
    """The versions of one key, oldest first; the newest is the one in force for new data."""

    name: str
    versions: tuple[KeyVersion, ...]

    @property
    def current(self) -> KeyVersion:
        """The newest version.

        Raises:
            ConfigurationError: the series is empty.
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

    def added(self, now: datetime, material: bytes | None = None, prefix: str | None = None) -> KeySeries:
        """This series with one new version appended (random material unless ``material`` is given).

        Its key id starts with ``prefix`` (default: the letters of the series' name).
        """
        version = (self.versions[-1].version + 1) if self.versions else 1
        made = new_version(prefix or self.name, version, now, material)
        return replace(self, versions=(*self.versions, made))

    def without(self, version: int) -> KeySeries:
        """This series without version ``version`` (which is not the current one).

        Raises:
            ConfigurationError: ``version`` is the current version, or not in the series.
        """
        if self.by_version(version) is None:
            raise ConfigurationError(f"the {self.name!r} key has no version {version}")
        return replace(self, versions=tuple(v for v in self.versions if v.version != version))

    # A fixed series is its own view: it never changes, so re-reading gives it again.
    def series(self) -> KeySeries:
        """This series (a fixed view)."""
        return self

    def reread(self) -> KeySeries:
        """This series (a fixed view has nothing to re-read)."""
        return self


def new_version(name: str, version: int, now: datetime, material: bytes | None = None) -> KeyVersion:
    """A fresh version of key ``name``: random 32 bytes unless ``material`` is given.

    Its id names the key and the version and adds six random letters (``jlis-v2-kqzmxa``), so that the ids
    of two keyrings never coincide and an id never holds more digits than its version number: a sealed
    value, which carries its key's id, can then never hold a run of digits a leak scanner would take for
    an Individual Number.
    """
    prefix = "".join(c for c in name if c.isalpha())[:16] or "key"
    return KeyVersion(
        version,
        f"{prefix}-v{version}-{random_letters(6)}",
        secrets.token_bytes(KEY_BYTES) if material is None else material,
        now,
    )
