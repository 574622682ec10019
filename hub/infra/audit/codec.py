"""Canonical bytes and hashes of the access record: what the writer seals and the verifier recomputes.

A record's hash is SHA-256 over a length-prefixed encoding of every stored value (``None`` is distinct from
``""``), its sorted subject tokens, its chain id and sequence number and its predecessor's hash. The encoding
works on the values *as stored* (text, with the timestamp in one canonical form), so any change to a stored
byte changes the hash; it does not depend on the database backend, so an export can be re-verified elsewhere.

Checkpoints seal the chain heads in a Merkle tree (RFC 9162 §2.1 hashing: ``0x00`` leaf and ``0x01`` node
prefixes) and are chained by the digest of their signed message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Final

__all__ = [
    "DESCRIBING_FIELDS",
    "GENESIS",
    "RECORD_FIELDS",
    "canonical_at",
    "chain_genesis",
    "checkpoint_digest",
    "checkpoint_message",
    "checkpoint_root",
    "details_text",
    "digest_bytes",
    "digest_text",
    "encode_parts",
    "head_leaf",
    "heads_text",
    "merkle_root",
    "parse_heads",
    "record_hash",
    "stored_at_text",
    "to_utc",
]

GENESIS: Final = "0" * 64
"""The ``prev_digest`` of the first checkpoint."""

DESCRIBING_FIELDS: Final = (
    "at",
    "actor",
    "action",
    "message_id",
    "correlation_id",
    "message_type",
    "source",
    "destination",
    "purpose",
    "legal_basis",
    "outcome",
    "reason",
)
"""What an access record says of its message, in the order every form of it lists them."""
RECORD_FIELDS: Final = (*DESCRIBING_FIELDS, "details")
"""The stored columns a record's hash covers, in hashing order (``at`` in :func:`canonical_at` form)."""

_RECORD_DOMAIN: Final = b"renkei.audit.record.v1"
_CHAIN_DOMAIN: Final = b"renkei.audit.chain.v1"
_CHECKPOINT_DOMAIN: Final = b"renkei.audit.checkpoint.v1"
_LEAF_DOMAIN: Final = b"renkei.audit.head.v1"
# SQLAlchemy's storage format for DateTime on SQLite; the verifier insists on it byte for byte.
_SQLITE_FORMAT: Final = "%Y-%m-%d %H:%M:%S.%f"


_B32: Final = "abcdefghijklmnopqrstuvwxyz234567"
_B32_PAIRS: Final = tuple(a + b for a in _B32 for b in _B32)
"""Two base32 letters for each 10-bit value, as :mod:`base64` builds them internally."""
_SHA256_SHIFTS: Final = tuple(range(250, -10, -10))
"""A SHA-256 digest, shifted left by 4 bits to 260, is 26 ten-bit groups from the top."""


def digest_text(raw: bytes) -> str:
    """Text form of a digest or signature: lowercase base32 without padding.

    Not hex: a hex digest holds, now and then, a run of twelve decimal digits with a valid check digit,
    which no leak scanner can tell from an Individual Number. Base32 has only six digits (2-7), so such a
    run practically never occurs (about one in 10^9 positions).

    A SHA-256 digest (every record hash, written once per access record) takes a path of its own with
    the same characters as :func:`base64.b32encode` at half its cost: :mod:`base64` is pure Python on 3.11.
    """
    if len(raw) == 32:
        value = int.from_bytes(raw, "big") << 4
        return "".join([_B32_PAIRS[(value >> shift) & 1023] for shift in _SHA256_SHIFTS])
    return base64.b32encode(raw).decode("ascii").rstrip("=").lower()


def digest_bytes(text: str) -> bytes:
    """Inverse of :func:`digest_text`; raises ``ValueError`` for text that is not one.

    Only the canonical form is taken (lowercase, unused trailing bits zero): two texts for one digest would
    let a stored signature or chain digest be changed (its case, say) without verification noticing.
    """
    padded = text.upper() + "=" * (-len(text) % 8)
    try:
        raw = base64.b32decode(padded, casefold=False)
    except binascii.Error as exc:
        raise ValueError("not a digest text") from exc
    if digest_text(raw) != text:
        raise ValueError("not a digest text in its canonical form (lowercase base32, no padding)")
    return raw


def encode_parts(parts: Iterable[str | None]) -> bytes:
    """Length-prefixed encoding: no two different sequences of values share bytes."""
    out = bytearray()
    for part in parts:
        if part is None:
            out += b"\x00"
        else:
            data = part.encode("utf-8", "surrogatepass")
            out += b"\x01" + len(data).to_bytes(8, "big") + data
    return bytes(out)


def to_utc(moment: datetime) -> datetime:
    """The same instant in UTC; a naive value is taken to be UTC already (how SQLite returns it)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


_LAST_AT: list[tuple[datetime, str]] = []
"""The last moment :func:`canonical_at` formatted, and its text: the records of one append share one."""


def canonical_at(moment: datetime) -> str:
    """``2025-04-01T09:30:00.000000Z``: the timestamp form that is hashed and exported."""
    # Equal moments are the same instant (an aware and a naive value are never equal), so the same text.
    if _LAST_AT and (last := _LAST_AT[0])[0] == moment:
        return last[1]
    utc = to_utc(moment)
    if utc.year < 1000:  # strftime does not pad such years; keep its exact form for them
        text = utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    else:
        # The same characters as the strftime above, at a fraction of its cost (once per record written).
        text = utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    _LAST_AT[:] = [(moment, text)]
    return text


def stored_at_text(value: object) -> str | None:
    """The canonical form of a stored timestamp, or ``None`` when the stored value is malformed.

    Accepts a ``datetime`` (PostgreSQL) or the raw text SQLite keeps, which must be exactly in
    SQLAlchemy's storage format: ``2025-04-01 09:30:00`` and ``2025-04-01T09:30:00`` are the same instant,
    but only one of them was written by the hub.
    """
    if isinstance(value, datetime):
        return canonical_at(value)
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.strptime(value, _SQLITE_FORMAT)  # SQLite keeps UTC without an offset
    except ValueError:
        return None
    if parsed.strftime(_SQLITE_FORMAT) != value:
        return None
    return canonical_at(parsed)


_DETAILS_JSON: Final = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def details_text(details: Mapping[str, str]) -> str:
    """Canonical JSON of a record's details (sorted keys, no spaces, UTF-8 kept)."""
    return _DETAILS_JSON.encode(dict(details))


def chain_genesis(chain_id: str, writer: str | None, created_at_text: str | None) -> str:
    """The ``prev_hash`` of a chain's first record: it seals the chain's own row (id, writer, creation)."""
    return digest_text(
        hashlib.sha256(_CHAIN_DOMAIN + encode_parts([chain_id, writer, created_at_text])).digest()
    )


def record_hash(
    chain_id: str, seq: int, fields: Sequence[str | None], subjects: Sequence[str], prev_hash: str
) -> str:
    """SHA-256 of one record, as :func:`digest_text`.

    Args:
        chain_id: the record's chain.
        seq: its position in the chain (1-based).
        fields: the stored values of :data:`RECORD_FIELDS`, in that order.
        subjects: its subject tokens; sorted here, so the order they are stored in does not matter.
        prev_hash: the hash of the record before it (:func:`chain_genesis` for the first).
    """
    if len(fields) != len(RECORD_FIELDS):
        raise ValueError("a record hash needs every field of RECORD_FIELDS")
    ordered = sorted(subjects)
    payload = encode_parts(
        [chain_id, str(seq), *fields, str(len(ordered)), *ordered, prev_hash],
    )
    return digest_text(hashlib.sha256(_RECORD_DOMAIN + payload).digest())


def head_leaf(chain_id: str, seq: int, head_hash: str) -> bytes:
    """The Merkle leaf of one chain head."""
    return _LEAF_DOMAIN + encode_parts([chain_id, str(seq), head_hash])


def merkle_root(leaves: Sequence[bytes]) -> str:
    """RFC 9162 Merkle tree hash of ``leaves`` in order (as :func:`digest_text`); SHA-256 of b"" if empty."""
    if not leaves:
        return digest_text(hashlib.sha256(b"").digest())
    level = [hashlib.sha256(b"\x00" + leaf).digest() for leaf in leaves]
    return digest_text(_subtree(level))


def _subtree(hashes: list[bytes]) -> bytes:
    # RFC 9162: split at the largest power of two smaller than n.
    if len(hashes) == 1:
        return hashes[0]
    split = 1 << ((len(hashes) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + _subtree(hashes[:split]) + _subtree(hashes[split:])).digest()


def heads_text(heads: Mapping[str, tuple[int, str]]) -> str:
    """Canonical JSON ``{chain_id: [seq, hash]}`` as stored in a checkpoint."""
    return json.dumps(
        {chain: [seq, digest] for chain, (seq, digest) in heads.items()},
        sort_keys=True,
        separators=(",", ":"),
    )


def parse_heads(text: str) -> dict[str, tuple[int, str]] | None:
    """Parse a checkpoint's heads; ``None`` when the text is not exactly the canonical form."""
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
        return None
    if not isinstance(raw, dict):
        return None
    heads: dict[str, tuple[int, str]] = {}
    for chain, value in raw.items():
        if (
            not isinstance(value, list)
            or len(value) != 2
            or type(value[0]) is not int
            or not isinstance(value[1], str)
        ):
            return None
        heads[chain] = (value[0], value[1])
    if heads_text(heads) != text:
        return None
    return heads


def checkpoint_root(heads: Mapping[str, tuple[int, str]]) -> str:
    """Merkle root over the heads, leaves sorted by chain id (code point order, not a collation)."""
    return merkle_root([head_leaf(chain, *heads[chain]) for chain in sorted(heads)])


def checkpoint_message(
    checkpoint_id: int, at_text: str, root: str, *, prev_digest: str, key_id: str, head_count: int
) -> bytes:
    """The bytes an Ed25519 key signs for one checkpoint."""
    return _CHECKPOINT_DOMAIN + encode_parts(
        [str(checkpoint_id), at_text, root, prev_digest, key_id, str(head_count)]
    )


def checkpoint_digest(message: bytes) -> str:
    """The digest linking a checkpoint to the next: SHA-256 of its signed message, as :func:`digest_text`."""
    return digest_text(hashlib.sha256(message).digest())
