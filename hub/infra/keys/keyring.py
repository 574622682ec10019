"""Keyrings: named, versioned keys, with a key id each, kept as JSON in owner-only files.

A keyring maps a :class:`KeyName` (a kind, and the recipient or counterpart it belongs to) to a
:class:`~hub.infra.keys.series.KeySeries`. The kinds:

* ``kek``: key-encryption keys; the newest wraps every subject's data key (DEK), older ones only unwrap;
* ``blind_index``: HMAC keys of the keyed blind index that finds a subject by number;
* ``token_root``: roots from which per-scope token keys are derived (HKDF);
* ``seal_private.<R>``: the X25519 private keys that open what was sealed for recipient ``R`` (HPKE, sealed
  format v2); held by ``R`` alone;
* ``seal_public.<R>``: their public halves, held by whoever seals numbers for ``R``;
* ``seal_v1.<R>``: the AES keys of the old symmetric format v1, read-only, held by ``R`` alone during the
  migration window and then retired;
* ``link.<C>``: the AES keys of counterpart ``C``'s encrypted line, held by ``C``'s adapter and simulator.

Two kinds of keyring use this one type. A *service's* keyring (``service`` set) is what one process holds,
cut by :mod:`hub.infra.keys.needs`. A *deployment's* keyring (``service`` is ``None``) is every key of
every service together: it exists only while ``renkei keys`` makes or changes the services' keyrings, never
in a running service. Public keys are not stored in a deployment's keyring; they are derived from the
private ones.

The JSON form (format ``renkei-keyring/2``)::

    {"format": "renkei-keyring/2", "service": "adapter-jlis",
     "keys": {"seal_private.jlis": [
                  {"version": 1, "id": "jlis-v1-kqzmxa", "created_at": "...", "key": "<base64>"}],
              ...},
     "retired": ["jlis-v0-abcdef", ...]}

``retired`` names (never holds) the key ids ``renkei keys retire`` destroyed, so that merging the services'
keyrings after an interrupted retirement never brings one back. Format 1 (one keyring with every key, read by
every process) is only imported (:func:`keyring_from_v1_json`).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from contracts.errors import ConfigurationError
from hub.infra.broker.topology import COUNTERPARTS
from hub.infra.keys.bundles import LinkKeys, SealingKeys, UnsealingKeys, VaultKeys
from hub.infra.keys.link_keys import derive_v1_link_key
from hub.infra.keys.series import KEY_BYTES, KeySeries, KeyVersion

__all__ = [
    "KEY_BYTES",
    "RECIPIENTS",
    "VAULT_KINDS",
    "HeldKey",
    "KeyKind",
    "KeyName",
    "KeySeries",
    "KeyVersion",
    "Keyring",
    "generate_keyring",
    "keyring_from_json",
    "keyring_from_v1_json",
    "keyring_to_json",
    "missing_parties",
    "public_key_of",
    "read_keyring_file",
    "retire",
    "rotate",
    "save_keyring",
]

RECIPIENTS: Final = ("hub", "jlis", "intermediate_server", "eltax", "nta", "implementing_bodies")
"""Recipients that numbers may be sealed for, each with its own key pair (the pension system's adapter only
seals dependants' numbers for the hub and is sent none)."""

FORMAT: Final = "renkei-keyring/2"
_FORMAT_V1: Final = "renkei-keyring/1"


class KeyKind(StrEnum):
    """What a key is for (see the module's docstring)."""

    KEK = "kek"
    BLIND_INDEX = "blind_index"
    TOKEN_ROOT = "token_root"  # noqa: S105 - a kind of key, not a secret
    SEAL_PRIVATE = "seal_private"
    SEAL_PUBLIC = "seal_public"
    SEAL_V1 = "seal_v1"
    LINK = "link"


VAULT_KINDS: Final = (KeyKind.KEK, KeyKind.BLIND_INDEX, KeyKind.TOKEN_ROOT)
_OWNED: Final = frozenset({KeyKind.SEAL_PRIVATE, KeyKind.SEAL_PUBLIC, KeyKind.SEAL_V1, KeyKind.LINK})


@dataclass(frozen=True, slots=True, order=True)
class KeyName:
    """A key of a keyring: its kind and, for sealing and link keys, whose it is."""

    kind: KeyKind
    owner: str = ""

    def __post_init__(self) -> None:
        if (self.kind in _OWNED) != bool(self.owner):
            raise ConfigurationError(
                f"the key kind {self.kind.value} {'needs' if self.owner == '' else 'has'} an owner"
            )

    def __str__(self) -> str:
        return f"{self.kind.value}.{self.owner}" if self.owner else self.kind.value

    @classmethod
    def parse(cls, text: str) -> KeyName:
        """The name written ``kind`` or ``kind.owner``.

        Raises:
            ConfigurationError: not a known kind, or an owner missing or extra.
        """
        kind, _, owner = text.partition(".")
        try:
            return cls(KeyKind(kind), owner)
        except ValueError:
            raise ConfigurationError(
                f"{text!r} is not a key name (kek, seal_private.hub, link.jlis, ...)"
            ) from None


def _name(kind: KeyKind, owner: str = "") -> KeyName:
    return KeyName(kind, owner)


@dataclass(frozen=True, slots=True)
class HeldKey:
    """One version of one key a keyring holds, as ``renkei keys show`` lists it (never its material)."""

    name: str
    kind: str
    owner: str
    version: int
    key_id: str
    created_at: datetime
    current: bool

    def as_json(self) -> dict[str, object]:
        """The JSON form (no material)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "owner": self.owner or None,
            "version": self.version,
            "id": self.key_id,
            "created_at": self.created_at.isoformat(),
            "current": self.current,
        }


def public_key_of(private: KeyVersion) -> KeyVersion:
    """The public half of an X25519 private key version (same version, id and date)."""
    key = X25519PrivateKey.from_private_bytes(private.material)
    return replace(private, material=key.public_key().public_bytes_raw())


def _public_series(private: KeySeries, recipient: str) -> KeySeries:
    return KeySeries(
        str(_name(KeyKind.SEAL_PUBLIC, recipient)), tuple(public_key_of(v) for v in private.versions)
    )


@dataclass(frozen=True, slots=True)
class Keyring:
    """Named key series: one service's (``service`` set) or a whole deployment's (``service`` ``None``)."""

    keys: Mapping[KeyName, KeySeries]
    service: str | None = None
    retired: frozenset[str] = field(default_factory=frozenset)

    # --- looking up ----------------------------------------------------------------------------------

    def get(self, name: KeyName) -> KeySeries | None:
        """The series named ``name``, if held (a deployment's keyring derives public keys)."""
        series = self.keys.get(name)
        if series is None and name.kind is KeyKind.SEAL_PUBLIC and self.service is None:
            private = self.keys.get(_name(KeyKind.SEAL_PRIVATE, name.owner))
            return None if private is None else _public_series(private, name.owner)
        return series

    def series(self, name: KeyName) -> KeySeries:
        """The series named ``name``.

        Raises:
            ConfigurationError: this keyring holds no such key.
        """
        series = self.get(name)
        if series is None:
            holder = f"the keyring of {self.service}" if self.service else "the keyring"
            raise ConfigurationError(f"{holder} holds no {name} key")
        return series

    def names(self) -> tuple[KeyName, ...]:
        """The names of every key held, sorted."""
        return tuple(sorted(self.keys))

    @property
    def kek(self) -> KeySeries:
        """The key-encryption keys."""
        return self.series(_name(KeyKind.KEK))

    @property
    def blind_index(self) -> KeySeries:
        """The blind-index keys."""
        return self.series(_name(KeyKind.BLIND_INDEX))

    @property
    def token_root(self) -> KeySeries:
        """The token roots."""
        return self.series(_name(KeyKind.TOKEN_ROOT))

    @property
    def vault(self) -> VaultKeys:
        """The vault's keys (fixed views of this keyring's series)."""
        return VaultKeys(kek=self.kek, blind_index=self.blind_index, token_root=self.token_root)

    def sealing_keys(self, recipient: str) -> KeySeries:
        """The private keys of ``recipient`` (what opens what is sealed for it)."""
        return self.series(_name(KeyKind.SEAL_PRIVATE, recipient))

    def public_keys(self, recipient: str) -> KeySeries:
        """The public keys of ``recipient`` (what seals for it)."""
        return self.series(_name(KeyKind.SEAL_PUBLIC, recipient))

    def sealing_for(self, recipients: Iterable[str] = RECIPIENTS) -> SealingKeys:
        """What seals for ``recipients`` (every recipient by default): their public keys.

        Raises:
            ConfigurationError: the keyring has no key for one of them.
        """
        return SealingKeys({r: self.public_keys(r) for r in recipients})

    def unsealing(self, owner: str) -> UnsealingKeys:
        """What opens numbers sealed for ``owner``: its private keys, and its v1 keys if still held.

        Raises:
            ConfigurationError: the keyring has no private key of ``owner``.
        """
        return UnsealingKeys(owner, self.sealing_keys(owner), self.get(_name(KeyKind.SEAL_V1, owner)))

    def link_keys(self, counterpart: str) -> LinkKeys:
        """The keys of ``counterpart``'s encrypted line.

        Raises:
            ConfigurationError: the keyring has no link key of ``counterpart``.
        """
        return LinkKeys(counterpart, self.series(_name(KeyKind.LINK, counterpart)))

    def held(self) -> list[HeldKey]:
        """Every version of every key held, for listing (no material)."""
        rows = []
        for name in self.names():
            series = self.keys[name]
            for v in series.versions:
                rows.append(
                    HeldKey(
                        str(name),
                        name.kind.value,
                        name.owner,
                        v.version,
                        v.key_id,
                        v.created_at,
                        v is series.versions[-1],
                    )
                )
        return rows

    def key_ids(self) -> Iterator[tuple[KeyName, KeyVersion]]:
        """Every (name, version) held."""
        for name in self.names():
            for v in self.keys[name].versions:
                yield name, v

    # --- changing (new keyrings; this one is left as it is) ------------------------------------------

    def with_series(self, name: KeyName, series: KeySeries | None) -> Keyring:
        """This keyring with ``series`` under ``name`` (or without ``name`` when ``series`` is ``None``)."""
        keys = dict(self.keys)
        if series is None:
            keys.pop(name, None)
        else:
            keys[name] = series
        return replace(self, keys=keys)


def _x25519_material() -> bytes:
    return X25519PrivateKey.generate().private_bytes_raw()


_PREFIXES: Final = {KeyKind.KEK: "kek", KeyKind.BLIND_INDEX: "bix", KeyKind.TOKEN_ROOT: "tok"}


def _id_prefix(name: KeyName) -> str:
    """How the ids of ``name``'s versions start: ``kek``, ``jlis`` (its sealing pair), ``linkjlis``."""
    owner = "".join(c for c in name.owner if c.isalpha())
    if name.kind is KeyKind.LINK:
        return f"link{owner}"
    return _PREFIXES.get(name.kind) or owner


def _added(series: KeySeries, name: KeyName, now: datetime, material: bytes | None = None) -> KeySeries:
    if material is None and name.kind is KeyKind.SEAL_PRIVATE:
        material = _x25519_material()
    return series.added(now, material, _id_prefix(name))


def _fresh(name: KeyName, now: datetime, material: bytes | None = None) -> KeySeries:
    return _added(KeySeries(str(name), ()), name, now, material)


def _party_names() -> list[KeyName]:
    return [
        *(_name(KeyKind.SEAL_PRIVATE, r) for r in RECIPIENTS),
        *(_name(KeyKind.LINK, c) for c in COUNTERPARTS),
    ]


def generate_keyring(now: datetime | None = None) -> Keyring:
    """A deployment's fresh keys, version 1 of each (``renkei keys init``; development and tests)."""
    at = now or datetime.now(UTC)
    names = [*(_name(k) for k in VAULT_KINDS), *_party_names()]
    return Keyring({n: _fresh(n, at) for n in names})


def missing_parties(keyring: Keyring) -> list[KeyName]:
    """The sealing and line keys of recipients and counterparts a deployment's ``keyring`` has none of.

    A renkei that adds a counterpart (the NTA adapter, say) names keys that a deployment made before it
    lacks; ``renkei keys rotate --seal R --link C`` makes their first version (:func:`rotate`).
    """
    return [n for n in _party_names() if keyring.get(n) is None]


def rotate(
    keyring: Keyring,
    *,
    kek: bool = True,
    blind_index: bool = False,
    token_root: bool = False,
    sealing: Iterable[str] = (),
    links: Iterable[str] = (),
    now: datetime | None = None,
) -> Keyring:
    """Return a deployment's ``keyring`` with a new version of the chosen keys; old versions stay for reading.

    Args:
        keyring: a deployment's keyring.
        kek: add a key-encryption key version (then re-wrap the data keys: ``renkei keys rewrap``).
        blind_index: add a blind-index key version (new rows use it; lookups try every version).
        token_root: add a token root version (new tokens; tokens issued earlier stay resolvable).
        sealing: recipients whose sealing key pair gets a new version (its first, when it has none yet).
        links: counterparts whose link key gets a new version (its first, when it has none yet).
        now: the creation time to record.

    Raises:
        ConfigurationError: a vault key the keyring lacks.
    """
    at = now or datetime.now(UTC)
    chosen = [
        *([_name(KeyKind.KEK)] if kek else []),
        *([_name(KeyKind.BLIND_INDEX)] if blind_index else []),
        *([_name(KeyKind.TOKEN_ROOT)] if token_root else []),
        *(_name(KeyKind.SEAL_PRIVATE, r) for r in sealing),
        *(_name(KeyKind.LINK, c) for c in links),
    ]
    parties = set(_party_names())
    ring = keyring
    for name in chosen:
        held = keyring.get(name)
        if held is None and name in parties:
            held = KeySeries(str(name), ())  # a recipient or counterpart added since the keys were made
        ring = ring.with_series(name, _added(held if held is not None else keyring.series(name), name, at))
    return ring


def retire(keyring: Keyring, name: KeyName, version: int) -> tuple[Keyring, str]:
    """A deployment's ``keyring`` without version ``version`` of ``name``; returns it and the retired key id.

    The current (newest) version of a key cannot be retired, except a ``seal_v1`` key, whose every version
    goes at the end of the migration window (the key then disappears from the keyring).

    Raises:
        ConfigurationError: no such key or version, or it is the current version.
    """
    series = keyring.series(name)
    found = series.by_version(version)
    if found is None:
        raise ConfigurationError(
            f"the {name} key has no version {version} (held: "
            f"{', '.join(str(v.version) for v in series.versions)})"
        )
    if found is series.versions[-1] and name.kind is not KeyKind.SEAL_V1:
        raise ConfigurationError(
            f"version {version} is the current {name} key: add a newer one first (`renkei keys rotate`)"
        )
    rest = series.without(version)
    ring = keyring.with_series(name, rest if rest.versions else None)
    return replace(ring, retired=ring.retired | {found.key_id}), found.key_id


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
        "format": FORMAT,
        "service": keyring.service,
        "keys": {str(name): _series_to_json(keyring.keys[name]) for name in keyring.names()},
        "retired": sorted(keyring.retired),
    }
    return json.dumps(doc, indent=2) + "\n"


def _series_from_json(label: str, raw: Any) -> KeySeries:
    if not isinstance(raw, list) or not raw:
        raise ConfigurationError(f"the keyring's {label!r} keys must be a non-empty list")
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
        except ConfigurationError as exc:  # never quotes the material
            raise ConfigurationError(f"a {label!r} key of the keyring is malformed: {exc}") from None
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise ConfigurationError(f"a {label!r} key of the keyring is malformed") from exc
        versions.append(version)
    versions.sort(key=lambda v: v.version)
    if len({v.version for v in versions}) != len(versions) or len({v.key_id for v in versions}) != len(
        versions
    ):
        raise ConfigurationError(f"the keyring's {label!r} keys repeat a version or a key id")
    return KeySeries(label, tuple(versions))


def keyring_from_json(text: str) -> Keyring:
    """Parse the JSON form (format 2).

    Raises:
        ConfigurationError: when the text is not a valid keyring (the message never quotes key material),
            or is the old format 1 (import it with ``renkei keys init --import-v1``).
    """
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ConfigurationError("the keyring is not valid JSON") from exc
    if isinstance(doc, dict) and doc.get("format") == _FORMAT_V1:
        raise ConfigurationError(
            "this is a format-1 keyring (every key of every service in one file): import it with "
            "`renkei keys init --import-v1 FILE`, which writes one keyring per service"
        )
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ConfigurationError(f"the keyring must be a JSON object with format {FORMAT!r}")
    raw_keys, service, retired = doc.get("keys"), doc.get("service"), doc.get("retired", [])
    if not isinstance(raw_keys, dict):
        raise ConfigurationError("the keyring has no 'keys' object")
    if service is not None and not isinstance(service, str):
        raise ConfigurationError("the keyring's 'service' must be a service name")
    if not isinstance(retired, list) or not all(isinstance(r, str) for r in retired):
        raise ConfigurationError("the keyring's 'retired' must be a list of key ids")
    keys = {KeyName.parse(str(label)): _series_from_json(str(label), raw) for label, raw in raw_keys.items()}
    return Keyring(keys, service, frozenset(retired))


def keyring_from_v1_json(text: str, now: datetime | None = None) -> Keyring:
    """A deployment's keyring made from a format-1 keyring (the one file every process read before).

    Kept: the KEKs, blind-index keys and token roots (the vault stays readable), and each recipient's AES
    sealing keys as ``seal_v1`` keys (values of sealed format v1 stay readable until they are retired). Each
    counterpart's link key starts at version 1 with the key format 1 derived from its sealing key, so that
    files on the line keep opening. New: an X25519 key pair per recipient (sealed format v2).

    Raises:
        ConfigurationError: the text is not a format-1 keyring.
    """
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ConfigurationError("the format-1 keyring is not valid JSON") from exc
    if (
        not isinstance(doc, dict)
        or doc.get("format") != _FORMAT_V1
        or not isinstance(doc.get("sealing"), dict)
    ):
        raise ConfigurationError(f"not a keyring of format {_FORMAT_V1!r}")
    at = now or datetime.now(UTC)
    keys: dict[KeyName, KeySeries] = {}
    for kind in VAULT_KINDS:
        keys[_name(kind)] = _series_from_json(kind.value, doc.get(kind.value))
    old: dict[str, KeySeries] = {}
    for recipient, raw in doc["sealing"].items():
        name = _name(KeyKind.SEAL_V1, str(recipient))
        old[str(recipient)] = keys[name] = _series_from_json(str(name), raw)
    for recipient in RECIPIENTS:
        name = _name(KeyKind.SEAL_PRIVATE, recipient)
        keys[name] = _fresh(name, at)
    for counterpart in COUNTERPARTS:
        name = _name(KeyKind.LINK, counterpart)
        if counterpart in old:
            keys[name] = _fresh(name, at, derive_v1_link_key(counterpart, old[counterpart].current.material))
        else:
            keys[name] = _fresh(name, at)
    return Keyring(keys)


# --- files -----------------------------------------------------------------------------------------------


def save_keyring(keyring: Keyring, path: Path) -> None:
    """Write ``keyring`` to ``path`` atomically, owner-only (0600) in an owner-only (0700) directory.

    The file is written beside its destination and renamed over it, so that a crash leaves either the old or
    the new keyring, never half of one; a service reading it meanwhile sees one or the other.
    """
    write_private_atomically(path, keyring_to_json(keyring))


def write_private_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, owner-only, in an owner-only directory (made if missing)."""
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    write_private(tmp, text)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def read_keyring_file(path: Path) -> Keyring:
    """Read the keyring at ``path``, refusing one that others may read.

    Raises:
        ConfigurationError: the file is readable by others, unreadable, or not a keyring.
    """
    try:
        mode = path.stat().st_mode
        if os.name == "posix" and mode & 0o077:
            raise ConfigurationError(
                f"the keyring {path} is open to others (mode {mode & 0o777:o}); make it owner-only "
                "(chmod 600)"
            )
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read the keyring {path}: {exc.strerror}") from None
    return keyring_from_json(text)


def private_dir(directory: Path) -> None:
    """Make ``directory`` (and its parents) owner-only if missing; an existing one is left as it is."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)


def write_private(path: Path, text: str) -> None:
    """Create ``path`` exclusively, owner-only, with ``text``, flushed to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def fsync_dir(directory: Path) -> None:
    """Flush ``directory``'s entries to disk (POSIX)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
