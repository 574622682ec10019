"""A forensic examiner with every key the deployment keeps: can an erased number be recovered from any byte?

The examiner is given bytes (files, database files and their WAL, table values read through SQL, relation
files, queue messages) and keys: every keyring file the deployment keeps (each service's under the key
directory, and any other under the data directory), loaded through the project's own loader. It uses every
version of every key in them alike (key-encryption, blind-index and token keys, the recipients' X25519
private keys and their public halves, the ``seal_v1`` keys of the old format, the link keys), whatever the key
is meant for. From each blob it tries:

* **the digits**: every run of digits in every encoding the redaction module knows (ASCII, full-width in
  UTF-8, Shift_JIS/CP932, EUC-JP and UTF-16 either way round and from either offset, JSON ``\\u`` escapes,
  JIS X 0208 ``#0``-``#9`` between shift sequences), with up to three separators between digits;
* **sealed values of format v1** (``sealed:v1:...``): decrypted with every key it holds, as AES in counter
  mode from the GCM start counter, so that neither the binding context nor the tag stands in the way;
* **sealed values of format v2** (``sealed:v2:...``, HPKE): the message key is unwrapped with every key held
  taken as an X25519 private key (RFC 9180 base mode, written out here rather than borrowed from renkei), for
  every message id the value may be bound to: every UUID near it in the blob or in the rest of its row, and
  the id a hold's numbers are sealed under for every hold id there. The HPKE tag tells the right key and id
  apart; the twelve digits are then read in counter mode as above. A value no nearby id opens is tried at the
  end with every private sealing key and every id seen anywhere (within a bound, said in the findings);
* **link messages** (``{"content": ...}``): likewise, then their digits;
* **the vault's own blobs**: every wrapped data key the vault held for an erased person, before and after a
  key rotation, and every ciphertext and blind index of their numbers, looked for byte for byte. A wrapped
  key found is unwrapped with every key-encryption key; with a ciphertext found as well, the number is
  decrypted. A blind index found counts as a recovered number: with the blind-index key the deployment
  keeps, 10^11 candidates are enough to find it;
* **traces**: the erased people's subject ids (from which their tokens derive).

Nothing here is renkei's code: it is the test's examiner, kept apart so that it reads like one.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import re
import unicodedata
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from contracts.errors import ConfigurationError
from contracts.individual_number import check_digit
from hub.core.operator.holds import hold_seal_id
from hub.infra.crypto.envelope import DataKey, EncryptedNumber, KeyWrapper, VaultIntegrityError
from hub.infra.keys.keyring import KeyKind, KeyName, Keyring, read_keyring_file
from hub.infra.keys.series import KeySeries
from hub.infra.service_names import SERVICE_NAMES
from hub.settings import Settings

_UNIT = r"(?:\d|\\u003[0-9]|\\u[fF][fF]1[0-9]|#[0-9])"
_SEP = (
    r"(?:[ \-\u00a0\u3000\u2010-\u2015\u2212\uff0d\u30fc\uff70]"
    r"|\\u(?:0020|00[aA]0|3000|002[dD]|201[0-5]|2212|[fF][fF]0[dD]|30[fF][cC]|[fF][fF]70)"
    r"|!!|!<|!=|!>|!\]|\x1b\$[@B]|\x1b\$\(D|\x1b\([BJI]|[\x0e\x0f])"
)
_RUN = re.compile(rf"{_UNIT}(?:{_SEP}{{0,3}}{_UNIT}){{11,}}")
_UNIT_ONLY = re.compile(_UNIT)
_SEALED = re.compile(rb"sealed:v1:([a-z_]+):([A-Za-z0-9_-]{1,32}):([A-Za-z0-9_=-]{16,})")
_SEALED_V2 = re.compile(rb"sealed:v2:([a-z_]+):([A-Za-z0-9_-]{1,32}):([a-p]{208})")
_UUID = re.compile(
    rb"(?i)(?<![0-9a-f])(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})(?![0-9a-f])"
)
_HOLD_ID = re.compile(rb"hold-[a-z]{12}")
_NEAR = 8192
"""Bytes either side of a v2 value in which its message id is looked for (a row, a page, a message)."""
_GLOBAL_BUDGET = 3_000_000
"""Key schedules the last pass may spend on v2 values no nearby id opened (a bound on the test's time)."""
_GCM_NONCE = 12
_GCM_TAG = 16
_LETTERS = bytes.maketrans(b"abcdefghijklmnop", b"0123456789abcdef")


def _digit(unit: str) -> str:
    if unit.startswith("\\u"):
        return str(unicodedata.digit(chr(int(unit[2:], 16))))
    if unit.startswith("#"):
        return unit[1]
    return str(unicodedata.digit(unit))


def _views(blob: bytes) -> Iterator[str]:
    """The blob read in every encoding renkei reads or writes (see the module docstring)."""
    yield blob.decode("latin-1")  # ASCII digits, escapes, JIS X 0208 '#d', shift sequences
    yield blob.decode("utf-8", "replace")
    for codec in ("cp932", "euc_jp"):
        yield blob.decode(codec, "replace")
    if b"\x00" in blob or b"\xff" in blob:
        for codec in ("utf-16-le", "utf-16-be"):
            for offset in (0, 1):
                part = blob[offset:]
                yield part[: len(part) - len(part) % 2].decode(codec, "replace")


def digit_windows(blob: bytes) -> set[str]:
    """Every twelve consecutive digits of every run of digits in ``blob``, in every encoding."""
    found: set[str] = set()
    for view in _views(blob):
        for match in _RUN.finditer(view):
            digits = "".join(_digit(u) for u in _UNIT_ONLY.findall(match.group()))
            found.update(digits[i : i + 12] for i in range(len(digits) - 11))
    return found


def encodings_of(number: str) -> list[bytes]:
    """The forms a number may take in bytes (the examiner's own check that it sees each of them)."""
    wide = "".join(chr(0xFF10 + int(d)) for d in number)
    grouped = f"{number[:4]} {number[4:8]} {number[8:]}"
    forms = [
        number.encode(),
        grouped.encode(),
        f"{number[:4]}-{number[4:8]}-{number[8:]}".encode(),
        wide.encode("utf-8"),
        wide.encode("cp932"),
        wide.encode("euc_jp"),
        "\uff0d".join((wide[:4], wide[4:8], wide[8:])).encode("utf-8"),
        number.encode("utf-16-le"),
        b"\xff\xfe" + wide.encode("utf-16-le"),
        wide.encode("utf-16-be"),
        "".join(f"\\u{ord(c):04x}" for c in number).encode(),
        "".join(f"\\u{ord(c):04x}" for c in wide).encode(),
        wide.encode("iso2022_jp"),
    ]
    return [b"x\x00" + f + b"\x00y" for f in forms]


def _ctr(key: bytes, nonce: bytes, ciphertext: bytes) -> bytes:
    """AES-GCM's plaintext without its tag or associated data: AES-CTR from counter 2."""
    decryptor = Cipher(algorithms.AES(key), modes.CTR(nonce + b"\x00\x00\x00\x02")).decryptor()
    return decryptor.update(ciphertext) + decryptor.finalize()


def _as_number(plain: bytes) -> str | None:
    text = plain.decode("ascii", "replace")
    if len(text) == 12 and text.isdigit() and check_digit(text[:11]) == int(text[11]):
        return text
    return None


# --- HPKE base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM (RFC 9180 §4, §5.1) -------------

_KEM_ID = b"KEM\x00\x20"
_HPKE_ID = b"HPKE\x00\x20\x00\x01\x00\x01"


def _extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.digest(salt or b"\x00" * 32, ikm, hashlib.sha256)


def _expand(prk: bytes, info: bytes, length: int) -> bytes:
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.digest(prk, block + info + bytes([counter]), hashlib.sha256)
        out += block
        counter += 1
    return out[:length]


def _labeled_extract(suite: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return _extract(salt, b"HPKE-v1" + suite + label + ikm)


def _labeled_expand(suite: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    return _expand(prk, length.to_bytes(2, "big") + b"HPKE-v1" + suite + label + info, length)


_PSK_ID_HASH = _labeled_extract(_HPKE_ID, b"", b"psk_id_hash", b"")


def _hpke_secret(private: X25519PrivateKey, enc: bytes) -> bytes | None:
    """The key schedule's secret for ``enc`` under ``private`` (what does not depend on the info)."""
    try:
        dh = private.exchange(X25519PublicKey.from_public_bytes(enc))
    except ValueError:
        return None
    context = enc + private.public_key().public_bytes_raw()
    prk = _labeled_extract(_KEM_ID, b"", b"eae_prk", dh)
    shared = _labeled_expand(_KEM_ID, prk, b"shared_secret", context, 32)
    return _labeled_extract(_HPKE_ID, shared, b"secret", b"")


def _hpke_open(secret: bytes, info: bytes, ciphertext: bytes) -> bytes | None:
    """The plaintext of a single-shot HPKE ciphertext (empty associated data), or ``None``."""
    context = b"\x00" + _PSK_ID_HASH + _labeled_extract(_HPKE_ID, b"", b"info_hash", info)
    key = _labeled_expand(_HPKE_ID, secret, b"key", context, 16)
    nonce = _labeled_expand(_HPKE_ID, secret, b"base_nonce", context, 12)
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, b"")
    except InvalidTag:
        return None


def _message_ids(blob: bytes) -> set[str]:
    """Every id a sealed value in ``blob`` may be bound to: its UUIDs, and the seal ids of its hold ids."""
    found = set()
    for match in _UUID.finditer(blob):
        with contextlib.suppress(ValueError):
            found.add(str(uuid.UUID(match.group().decode("ascii"))))
    for match in _HOLD_ID.finditer(blob):
        found.add(str(hold_seal_id(match.group().decode("ascii"))))
    return found


def keyring_files(settings: Settings) -> list[Path]:
    """Every keyring file the deployment keeps: each service's (by the settings), and any other file under
    the data directory or the key directory that says it is a keyring (a format-1 one, a copy, a set made
    with ``--out``)."""
    found = {settings.keyring_path_of(s) for s in SERVICE_NAMES}
    roots = {settings.data_dir, *([settings.key_dir] if settings.key_dir else [])}
    for root in roots:
        for path in root.rglob("*"):
            with contextlib.suppress(OSError):
                if (
                    path.is_file()
                    and path.stat().st_size < 1_000_000
                    and b'"renkei-keyring/' in path.read_bytes()[:4096]
                ):
                    found.add(path)
    return sorted(p for p in found if p.is_file())


def load_keyrings(paths: Iterable[Path]) -> tuple[list[Keyring], list[str]]:
    """Each file through the project's own loader; returns the keyrings, and the files it could not load."""
    rings, unread = [], []
    for path in paths:
        try:
            rings.append(read_keyring_file(path))
        except ConfigurationError as exc:
            unread.append(f"{path.name}: {exc}")
    return rings, unread


@dataclass
class VaultBlobs:
    """What the vault held for the erased people before the erasure (the examiner's needles)."""

    wrapped: dict[str, set[tuple[int, str, bytes]]] = field(default_factory=dict)
    """subject → {(data key version, KEK id, wrapped key)}, every version seen."""
    ciphertexts: dict[str, set[tuple[bytes, bytes]]] = field(default_factory=dict)
    """subject → {(nonce, ciphertext)}."""
    blind: dict[bytes, str] = field(default_factory=dict)
    """blind index → the number it indexes."""


@dataclass
class Findings:
    """What the examiner recovered, and how much it read."""

    bytes_searched: int = 0
    blobs: int = 0
    plain: dict[str, set[str]] = field(default_factory=dict)
    """number → where its digits were found."""
    sealed: dict[str, set[str]] = field(default_factory=dict)
    """number → where a sealed value was opened to it."""
    vault: dict[str, set[str]] = field(default_factory=dict)
    """number → how the vault gave it back (a wrapped key and a ciphertext found, or read through SQL)."""
    blind: dict[str, set[str]] = field(default_factory=dict)
    """number → where its blind index was found."""
    traces: dict[str, set[str]] = field(default_factory=dict)
    """erased subject id → where it was found."""
    wrapped_found: dict[str, set[str]] = field(default_factory=dict)
    ciphertexts_found: dict[str, set[str]] = field(default_factory=dict)
    not_searched: list[str] = field(default_factory=list)
    sealed_v2: dict[str, set[str]] = field(default_factory=dict)
    """number → where a sealed value of format v2 was opened to it (also in ``sealed``)."""
    sealed_v1_seen: int = 0
    sealed_v2_seen: int = 0
    sealed_v2_opened: int = 0
    """v2 values whose message key was unwrapped (whatever number they held)."""
    sealed_v2_unopened: int = 0

    def recovered(self, numbers: Iterable[str]) -> set[str]:
        """Which of ``numbers`` came back, by any way."""
        wanted = set(numbers)
        return wanted & (set(self.plain) | set(self.sealed) | set(self.vault) | set(self.blind))

    def sources(self, numbers: Iterable[str]) -> dict[str, int]:
        """Per way and place (``sealed: table outbox``), how many of ``numbers`` came back there."""
        counts: dict[str, int] = {}
        for number in set(numbers):
            for how, places in self.where(number).items():
                for place in places:
                    label = f"{how}: {place.split(' (')[0]}"
                    counts[label] = counts.get(label, 0) + 1
        return dict(sorted(counts.items()))

    def where(self, number: str) -> dict[str, set[str]]:
        """How and where ``number`` came back (for a failure message)."""
        return {
            how: places[number]
            for how, places in (
                ("digits", self.plain),
                ("sealed", self.sealed),
                ("vault", self.vault),
                ("blind index", self.blind),
            )
            if number in places
        }


class Examiner:
    """Searches blobs for the numbers of ``targets`` with every key of ``keyrings``."""

    def __init__(
        self,
        keyrings: list[Keyring],
        targets: set[str],
        *,
        blobs: VaultBlobs | None = None,
        subject_ids: Iterable[str] = (),
    ) -> None:
        self.targets = targets
        self.blobs = blobs or VaultBlobs()
        self.subject_ids = {s.encode("ascii") for s in subject_ids}
        held = [(name, v) for ring in keyrings for name, v in ring.key_ids()]
        kek = KeyName(KeyKind.KEK)
        self.keks = list({v.material: v for name, v in held if name == kek}.values())
        # Every key of every kind is tried everywhere: as an AES key (v1 values, link messages) and as an
        # X25519 private key (v2 values). Which kind a key is meant for is no limit to an examiner.
        self.keys = sorted({v.material for _, v in held})
        self.kinds = sorted({str(name) for name, _ in held})
        self.privates = [X25519PrivateKey.from_private_bytes(m) for m in self.keys]
        self.sealing_privates = [
            X25519PrivateKey.from_private_bytes(m)
            for m in sorted({v.material for name, v in held if name.kind is KeyKind.SEAL_PRIVATE})
        ]
        self._secrets: dict[tuple[int, bytes], bytes | None] = {}
        self._unopened: dict[bytes, tuple[str, str, bytes, bytes, str]] = {}
        self._ids_seen: set[str] = set()
        self.findings = Findings()

    def _note(self, table: dict[str, set[str]], key: str, where: str) -> None:
        table.setdefault(key, set()).add(where)

    def search(self, blob: bytes, where: str, *, context: bytes = b"") -> None:
        """Search one blob (a file, a value, a message); ``context``: the rest of its row, for message ids."""
        f = self.findings
        f.bytes_searched += len(blob)
        f.blobs += 1
        for number in digit_windows(blob) & self.targets:
            self._note(f.plain, number, where)
        for match in _SEALED.finditer(blob):
            f.sealed_v1_seen += 1
            with contextlib.suppress(binascii.Error, ValueError):
                raw = base64.urlsafe_b64decode(match.group(3) + b"=" * (-len(match.group(3)) % 4))
                self._open(raw, where, f.sealed)
        self._ids_seen |= _message_ids(blob)
        matches = list(_SEALED_V2.finditer(blob))
        if matches:
            near_context = _message_ids(context)
            for match in matches:
                f.sealed_v2_seen += 1
                window = blob[max(0, match.start() - _NEAR) : match.end() + _NEAR]
                self._open_v2(match, _message_ids(window) | near_context, where)
        self._links(blob, where)
        for subject, versions in self.blobs.wrapped.items():
            for _, _, wrapped in versions:
                if wrapped in blob:
                    self._note(f.wrapped_found, subject, where)
        for subject, sealed in self.blobs.ciphertexts.items():
            for _, ciphertext in sealed:
                if ciphertext in blob:
                    self._note(f.ciphertexts_found, subject, where)
        for index, number in self.blobs.blind.items():
            if index in blob:
                self._note(f.blind, number, where)
        for subject_id in self.subject_ids:
            if subject_id in blob:
                self._note(f.traces, subject_id.decode(), where)

    def _open(self, raw: bytes, where: str, table: dict[str, set[str]]) -> None:
        if len(raw) <= _GCM_NONCE + _GCM_TAG:
            return
        nonce, body = raw[:_GCM_NONCE], raw[_GCM_NONCE:-_GCM_TAG]
        for key in self.keys:
            number = _as_number(_ctr(key, nonce, body))
            if number is not None and number in self.targets:
                self._note(table, number, where)

    def _open_v2(self, match: re.Match[bytes], ids: set[str], where: str) -> None:
        recipient, key_id = match.group(1).decode(), match.group(2).decode()
        raw = bytes.fromhex(match.group(3).translate(_LETTERS).decode("ascii"))
        enc, wrapped, nonce, body = raw[:32], raw[32:64], raw[64:76], raw[76:-_GCM_TAG]
        for private in self.privates:
            secret = self._secret(private, enc)
            if secret is None:
                continue
            for message_id in ids:
                info = f"renkei/sealed/v2|{message_id}|{recipient}|{key_id}".encode()
                message_key = _hpke_open(secret, info, wrapped)
                if message_key is not None:
                    self._read_v2(message_key, nonce, body, where)
                    return
        self._unopened[match.group()] = (recipient, key_id, raw, enc, where)

    def _secret(self, private: X25519PrivateKey, enc: bytes) -> bytes | None:
        slot = (id(private), enc)
        if slot not in self._secrets:
            self._secrets[slot] = _hpke_secret(private, enc)
        return self._secrets[slot]

    def _read_v2(self, message_key: bytes, nonce: bytes, body: bytes, where: str) -> None:
        f = self.findings
        f.sealed_v2_opened += 1
        number = _as_number(_ctr(message_key, nonce, body))
        if number is not None and number in self.targets:
            self._note(f.sealed, number, where)
            self._note(f.sealed_v2, number, where)

    def _last_pass(self) -> None:
        """v2 values no nearby id opened: every private sealing key, every id seen anywhere (bounded)."""
        f = self.findings
        ids = sorted(self._ids_seen)
        cost = len(self._unopened) * len(self.sealing_privates) * len(ids)
        if cost > _GLOBAL_BUDGET:
            f.not_searched.append(
                f"{len(self._unopened)} sealed v2 values tried only with the message ids near them "
                f"({cost} key schedules for every id seen exceed the bound)"
            )
            f.sealed_v2_unopened = len(self._unopened)
            return
        left = 0
        for recipient, key_id, raw, enc, where in self._unopened.values():
            opened = False
            for private in self.sealing_privates:
                secret = self._secret(private, enc)
                if secret is None:
                    continue
                for message_id in ids:
                    info = f"renkei/sealed/v2|{message_id}|{recipient}|{key_id}".encode()
                    message_key = _hpke_open(secret, info, raw[32:64])
                    if message_key is not None:
                        self._read_v2(message_key, raw[64:76], raw[76:-_GCM_TAG], f"{where} (any id)")
                        opened = True
                        break
                if opened:
                    break
            left += not opened
        f.sealed_v2_unopened = left

    def _links(self, blob: bytes, where: str) -> None:
        """A counterpart link message: open its content with every key, then read its digits."""
        if b'"content"' not in blob:
            return
        try:
            content = base64.urlsafe_b64decode(json.loads(blob)["content"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            return
        if len(content) <= _GCM_NONCE + _GCM_TAG:
            return
        for key in self.keys:
            plain = _ctr(key, content[:_GCM_NONCE], content[_GCM_NONCE:-_GCM_TAG])
            for number in digit_windows(plain) & self.targets:
                self._note(self.findings.plain, number, f"{where} (link content)")

    def search_file(self, path: Path, label: str) -> None:
        """Search a file's raw bytes."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            self.findings.not_searched.append(f"{label}: {type(exc).__name__}")
            return
        self.search(data, label)

    def vault_rows(
        self,
        wrapped_rows: Iterable[tuple[str, int, str, bytes]],
        number_rows: Iterable[tuple[str, bytes, bytes]],
        where: str,
    ) -> None:
        """Read the vault as it is, through SQL: unwrap every data key, decrypt every ciphertext."""
        keys: dict[str, DataKey] = {}
        for subject, version, kek_id, wrapped in wrapped_rows:
            key = self._unwrap(subject, version, kek_id, wrapped)
            if key is not None:
                keys[subject] = key
        for subject, nonce, ciphertext in number_rows:
            key = keys.get(subject)
            if key is None:
                continue
            with contextlib.suppress(VaultIntegrityError):
                number = key.decrypt(EncryptedNumber(nonce, ciphertext)).reveal()
                if number in self.targets:
                    self._note(self.findings.vault, number, where)

    def _unwrap(self, subject: str, version: int, kek_id: str, wrapped: bytes) -> DataKey | None:
        """Unwrap with every key-encryption key held (whatever id the row names), through the vault's code."""
        for kek in self.keks:
            as_named = KeySeries("kek", (replace(kek, key_id=kek_id),))
            with contextlib.suppress(VaultIntegrityError, ConfigurationError):
                return KeyWrapper(as_named).unwrap(subject, version, wrapped, kek_id)
        return None

    def finish(self) -> Findings:
        """Put wrapped keys and ciphertexts found apart together: a subject with both gives its number."""
        f = self.findings
        self._last_pass()
        for subject, places in f.wrapped_found.items():
            if subject not in f.ciphertexts_found:
                continue
            keys = [
                k
                for version, kek_id, wrapped in self.blobs.wrapped.get(subject, ())
                if (k := self._unwrap(subject, version, kek_id, wrapped)) is not None
            ]
            for key in keys:
                for nonce, ciphertext in self.blobs.ciphertexts.get(subject, ()):
                    with contextlib.suppress(VaultIntegrityError, InvalidTag):
                        number = key.decrypt(EncryptedNumber(nonce, ciphertext)).reveal()
                        if number in self.targets:
                            where = sorted(places | f.ciphertexts_found[subject])
                            self._note(f.vault, number, "wrapped key and ciphertext in " + ", ".join(where))
        return f
