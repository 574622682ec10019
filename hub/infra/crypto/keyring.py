"""The vault's keyring: versioned secret keys, each with a key id, loaded from a file or a variable.

The keyring holds one series of versions per purpose:

* ``kek``: key-encryption keys; the newest wraps every subject's data key (DEK), older ones only unwrap;
* ``blind_index``: HMAC keys of the keyed blind index that finds a subject by number;
* ``token_root``: roots from which per-scope token keys are derived (HKDF);
* ``sealing``: per recipient (``hub``, ``jlis``, ...), the AES-GCM keys that seal numbers *for* that
  recipient. The sealing key of recipient R is the one R uses to unseal.

Older versions are never dropped by :func:`rotate`, so that data written under them stays readable. The
keyring is JSON (one object, see :func:`keyring_to_json`), kept in a file with owner-only permissions or in an
environment variable named by ``RENKEI_KEY_ENV``. In development the file is generated on first run; in
production it must be provided, and nothing is ever generated there.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from contracts.errors import ConfigurationError
from hub.infra.crypto.bundles import LinkKey, SealingKeys, UnsealingKeys, VaultKeys
from hub.infra.crypto.key_series import KEY_BYTES, KeySeries, KeyVersion, new_version
from hub.infra.crypto.link_keys import derive_link_key
from hub.settings import Environment, Settings

__all__ = [
    "KEY_BYTES",
    "RECIPIENTS",
    "KeySeries",
    "KeyVersion",
    "Keyring",
    "generate_keyring",
    "keyring_from_json",
    "keyring_to_json",
    "load_keyring",
    "rotate",
    "save_keyring",
]

RECIPIENTS: Final = ("hub", "jlis", "intermediate_server", "eltax", "pension")
"""Recipients that numbers may be sealed for (``pension`` only seals dependants' numbers for the hub)."""

_FORMAT: Final = "renkei-keyring/1"
_KEY_ID: Final = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


@dataclass(frozen=True, slots=True)
class Keyring:
    """Every key of the vault and of sealing."""

    kek: KeySeries
    blind_index: KeySeries
    token_root: KeySeries
    sealing: Mapping[str, KeySeries]

    def sealing_keys(self, recipient: str) -> KeySeries:
        """The sealing keys of ``recipient``.

        Raises:
            ConfigurationError: when the keyring has no key for ``recipient``.
        """
        try:
            return self.sealing[recipient]
        except KeyError:
            raise ConfigurationError(f"the keyring has no sealing key for recipient {recipient!r}") from None

    @property
    def vault(self) -> VaultKeys:
        """The vault's keys (KEKs, blind-index keys, token roots)."""
        return VaultKeys(kek=self.kek, blind_index=self.blind_index, token_root=self.token_root)

    def sealing_for(self, recipients: Iterable[str] = RECIPIENTS) -> SealingKeys:
        """The keys that seal for ``recipients`` (every recipient by default).

        Raises:
            ConfigurationError: the keyring has no key for one of them.
        """
        return SealingKeys({r: self.sealing_keys(r) for r in recipients})

    def unsealing(self, owner: str) -> UnsealingKeys:
        """The keys that open what was sealed for ``owner``.

        Raises:
            ConfigurationError: the keyring has no key for ``owner``.
        """
        return UnsealingKeys(owner, self.sealing_keys(owner))

    def link_key(self, counterpart: str) -> LinkKey:
        """The link key of ``counterpart``, derived from its current sealing key.

        Raises:
            ConfigurationError: the keyring has no sealing key for ``counterpart``.
        """
        return derive_link_key(counterpart, self.sealing_keys(counterpart))


def generate_keyring(now: datetime | None = None) -> Keyring:
    """A fresh keyring with version 1 of every key (development and tests only)."""
    at = now or datetime.now(UTC)
    return Keyring(
        kek=KeySeries("kek", (new_version("kek", 1, at),)),
        blind_index=KeySeries("blind_index", (new_version("bix", 1, at),)),
        token_root=KeySeries("token_root", (new_version("tok", 1, at),)),
        sealing={r: KeySeries(r, (new_version(r, 1, at),)) for r in RECIPIENTS},
    )


def rotate(
    keyring: Keyring,
    *,
    kek: bool = True,
    blind_index: bool = False,
    token_root: bool = False,
    sealing: Iterable[str] = (),
    now: datetime | None = None,
) -> Keyring:
    """Return ``keyring`` with a new version of the chosen keys; old versions stay for reading.

    Args:
        keyring: the keyring in force.
        kek: add a key-encryption key version (then re-wrap the data keys with ``rewrap_all``).
        blind_index: add a blind-index key version (new rows use it; lookups try every version).
        token_root: add a token root version (new tokens; tokens issued earlier stay resolvable).
        sealing: recipients whose sealing key gets a new version.
        now: the creation time to record.
    """
    at = now or datetime.now(UTC)
    seal = set(sealing)
    return Keyring(
        kek=keyring.kek.added(at) if kek else keyring.kek,
        blind_index=keyring.blind_index.added(at) if blind_index else keyring.blind_index,
        token_root=keyring.token_root.added(at) if token_root else keyring.token_root,
        sealing={r: (s.added(at) if r in seal else s) for r, s in keyring.sealing.items()},
    )


# --- JSON form -------------------------------------------------------------------------------------------


def _series_to_json(series: KeySeries) -> list[dict[str, Any]]:
    return [
        {
            "version": v.version,
            "id": v.key_id,
            "created_at": v.created_at.isoformat(),
            "key": base64.b64encode(v.material).decode("ascii"),
        }
        for v in series.versions
    ]


def keyring_to_json(keyring: Keyring) -> str:
    """Serialise ``keyring`` (the secret form: guard it like the keys themselves)."""
    doc = {
        "format": _FORMAT,
        "kek": _series_to_json(keyring.kek),
        "blind_index": _series_to_json(keyring.blind_index),
        "token_root": _series_to_json(keyring.token_root),
        "sealing": {r: _series_to_json(s) for r, s in sorted(keyring.sealing.items())},
    }
    return json.dumps(doc, indent=2) + "\n"


def _series_from_json(name: str, raw: Any, label: str | None = None) -> KeySeries:
    what = label or name
    if not isinstance(raw, list) or not raw:
        raise ConfigurationError(f"the keyring's {what!r} keys must be a non-empty list")
    versions = []
    for item in raw:
        try:
            material = base64.b64decode(item["key"], validate=True)
            version = KeyVersion(
                version=int(item["version"]),
                key_id=str(item["id"]),
                material=material,
                created_at=datetime.fromisoformat(item["created_at"]),
            )
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise ConfigurationError(f"a {what!r} key of the keyring is malformed") from exc
        if len(version.material) != KEY_BYTES:
            raise ConfigurationError(f"every {what!r} key of the keyring must be {KEY_BYTES} bytes")
        if not _KEY_ID.match(version.key_id):
            raise ConfigurationError(f"a {what!r} key id of the keyring is not 1-32 of [A-Za-z0-9_-]")
        versions.append(version)
    versions.sort(key=lambda v: v.version)
    if len({v.version for v in versions}) != len(versions) or len({v.key_id for v in versions}) != len(
        versions
    ):
        raise ConfigurationError(f"the keyring's {what!r} keys repeat a version or a key id")
    return KeySeries(name, tuple(versions))


def keyring_from_json(text: str) -> Keyring:
    """Parse the JSON form.

    Raises:
        ConfigurationError: when the text is not a valid keyring (the message never quotes key material).
    """
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ConfigurationError("the keyring is not valid JSON") from exc
    if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
        raise ConfigurationError(f"the keyring must be a JSON object with format {_FORMAT!r}")
    sealing_raw = doc.get("sealing")
    if not isinstance(sealing_raw, dict):
        raise ConfigurationError("the keyring has no 'sealing' object")
    missing = [r for r in RECIPIENTS if r not in sealing_raw]
    if missing:
        raise ConfigurationError(f"the keyring has no sealing key for {', '.join(missing)}")
    return Keyring(
        kek=_series_from_json("kek", doc.get("kek")),
        blind_index=_series_from_json("blind_index", doc.get("blind_index")),
        token_root=_series_from_json("token_root", doc.get("token_root")),
        sealing={str(r): _series_from_json(str(r), s, f"sealing.{r}") for r, s in sealing_raw.items()},
    )


# --- files and settings ----------------------------------------------------------------------------------


def save_keyring(keyring: Keyring, path: Path) -> None:
    """Write ``keyring`` to ``path`` atomically, owner-only (0600) in an owner-only (0700) directory.

    The file is written beside its destination and renamed over it, so that a crash leaves either the old or
    the new keyring, never half of one.
    """
    _private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    _write_private(tmp, keyring_to_json(keyring))
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def load_keyring(settings: Settings, environ: Mapping[str, str] | None = None) -> Keyring:
    """Load the keyring the settings name; in development, generate it on first run.

    Order: the environment variable named by ``RENKEI_KEY_ENV`` if set, else the file at
    ``settings.keyring_path`` (``RENKEI_KEY_FILE`` or ``<data_dir>/keys/keyring.json``).

    Args:
        settings: the settings in force.
        environ: the process environment (the variable named by ``key_env`` is read from it).

    Raises:
        ConfigurationError: the variable is unset, the file is missing in production, readable by others,
            or not a valid keyring.
    """
    if settings.key_env:
        env = os.environ if environ is None else environ
        text = env.get(settings.key_env)
        if not text:
            raise ConfigurationError(
                f"RENKEI_KEY_ENV names the variable {settings.key_env!r}, which is not set or empty"
            )
        return keyring_from_json(text)
    path = settings.keyring_path
    if not path.exists():
        if settings.environment is not Environment.DEVELOPMENT:
            raise ConfigurationError(
                f"no keyring at {path}: set RENKEI_KEY_FILE (or RENKEI_KEY_ENV); keys are never generated "
                f"in {settings.environment.value}"
            )
        return _generate_once(path)
    return _read_private(path)


def _read_private(path: Path) -> Keyring:
    mode = path.stat().st_mode
    if os.name == "posix" and mode & 0o077:
        raise ConfigurationError(
            f"the keyring {path} is open to others (mode {mode & 0o777:o}); make it owner-only (chmod 600)"
        )
    return keyring_from_json(path.read_text(encoding="utf-8"))


def _generate_once(path: Path) -> Keyring:
    # Written to a private temporary file, then hard-linked into place: linking never replaces an existing
    # file, so two processes starting together agree on whichever keyring was linked first.
    _private_dir(path.parent)
    text = keyring_to_json(generate_keyring())
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    _write_private(tmp, text)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    except OSError:
        # No hard links on this file system: create the file exclusively instead (a reader starting in
        # the same instant may then see it half-written and fail once; it will not see another keyring).
        with contextlib.suppress(FileExistsError):
            _write_private(path, text)
    finally:
        tmp.unlink()
    _fsync_dir(path.parent)
    return _read_private(path)


def _private_dir(directory: Path) -> None:
    # A directory we create is owner-only; an existing one (say /etc/renkei) is left as its owner set it.
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
