"""A forensic examiner with every key the deployment keeps: can an erased number be recovered from any byte?

The examiner is given bytes (files, database files and their WAL, table values read through SQL, relation
files, queue messages) and keys (every keyring file under the data directory, loaded through the project's
own loader, and the link keys derived from them). From each blob it tries:

* **the digits**: every run of digits in every encoding the redaction module knows (ASCII, full-width in
  UTF-8, Shift_JIS/CP932, EUC-JP and UTF-16 either way round and from either offset, JSON ``\\u`` escapes,
  JIS X 0208 ``#0``-``#9`` between shift sequences), with up to three separators between digits;
* **sealed values** (``sealed:v1:...``): decrypted with every key it holds, as AES in counter mode from the
  GCM start counter, so that neither the binding context nor the tag stands in the way;
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
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from contracts.errors import ConfigurationError
from contracts.individual_number import check_digit
from hub.infra.crypto.envelope import DataKey, EncryptedNumber, KeyWrapper, VaultIntegrityError
from hub.infra.crypto.key_series import KeySeries
from hub.infra.crypto.keyring import Keyring, load_keyring
from hub.settings import Settings

_UNIT = r"(?:\d|\\u003[0-9]|\\u[fF][fF]1[0-9]|#[0-9])"
_SEP = (
    r"(?:[ \-\u00a0\u3000\u2010-\u2015\u2212\uff0d\u30fc\uff70]"
    r"|\\u(?:0020|00[aA]0|3000|002[dD]|201[0-5]|2212|[fF][fF]0[dD]|30[fF][cC]|[fF][fF]70)"
    r"|!!|!<|!=|!>|!\]|\x1b\$[@B]|\x1b\$\(D|\x1b\([BJI]|[\x0e\x0f])"
)
_RUN = re.compile(rf"{_UNIT}(?:{_SEP}{{0,3}}{_UNIT}){{11,}}")
_UNIT_ONLY = re.compile(_UNIT)
_SEALED = re.compile(rb"sealed:v([0-9]{1,3}):([a-z_]+):([A-Za-z0-9_-]{1,32}):([A-Za-z0-9_=-]{16,})")
_GCM_NONCE = 12
_GCM_TAG = 16


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


def keyrings_under(data_dir: Path) -> list[Keyring]:
    """Every keyring file under ``data_dir``, loaded through the project's loader, whatever the layout."""
    found = []
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        try:
            if path.stat().st_size > 1_000_000 or b'"format"' not in path.read_bytes()[:4096]:
                continue
            found.append(load_keyring(Settings(key_file=path, data_dir=data_dir)))
        except (ConfigurationError, OSError, ValueError):
            continue
    return found


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
        link_counterparts: Iterable[str] = ("jlis", "intermediate_server", "eltax"),
    ) -> None:
        self.targets = targets
        self.blobs = blobs or VaultBlobs()
        self.subject_ids = {s.encode("ascii") for s in subject_ids}
        self.keks = list({v.material: v for ring in keyrings for v in ring.kek.versions}.values())
        keys = {v.material for ring in keyrings for series in ring.sealing.values() for v in series.versions}
        keys |= {v.material for v in self.keks}
        for ring in keyrings:
            for counterpart in link_counterparts:
                with contextlib.suppress(ConfigurationError):
                    keys.add(ring.link_key(counterpart).material)
        self.keys = sorted(keys)
        self.findings = Findings()

    def _note(self, table: dict[str, set[str]], key: str, where: str) -> None:
        table.setdefault(key, set()).add(where)

    def search(self, blob: bytes, where: str) -> None:
        """Search one blob (a file, a value, a message)."""
        f = self.findings
        f.bytes_searched += len(blob)
        f.blobs += 1
        for number in digit_windows(blob) & self.targets:
            self._note(f.plain, number, where)
        for match in _SEALED.finditer(blob):
            with contextlib.suppress(binascii.Error, ValueError):
                raw = base64.urlsafe_b64decode(match.group(4) + b"=" * (-len(match.group(4)) % 4))
                self._open(raw, where, f.sealed)
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
        for subject in self.subject_ids:
            if subject in blob:
                self._note(f.traces, subject.decode(), where)

    def _open(self, raw: bytes, where: str, table: dict[str, set[str]]) -> None:
        if len(raw) <= _GCM_NONCE + _GCM_TAG:
            return
        nonce, body = raw[:_GCM_NONCE], raw[_GCM_NONCE:-_GCM_TAG]
        for key in self.keys:
            number = _as_number(_ctr(key, nonce, body))
            if number is not None and number in self.targets:
                self._note(table, number, where)

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
