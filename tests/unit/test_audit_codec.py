"""Canonical encoding, hashes, Merkle roots and checkpoint messages of the access record (no I/O)."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from contracts.redaction import find_numbers
from hub.infra.audit.codec import (
    RECORD_FIELDS,
    canonical_at,
    chain_genesis,
    checkpoint_message,
    checkpoint_root,
    digest_bytes,
    digest_text,
    head_leaf,
    heads_text,
    merkle_root,
    parse_heads,
    record_hash,
    stored_at_text,
)
from hub.infra.audit.provision import DIGEST_FIELDS, provision_digest

FIELDS = [
    "2026-04-01T00:00:00.000000Z",
    "hub",
    "received",
    "m1",
    "c1",
    "t",
    "a",
    "b",
    "p",
    "l",
    "ok",
    "r",
    "{}",
]


def test_the_fields_list_matches_the_record_fields() -> None:
    assert len(FIELDS) == len(RECORD_FIELDS)


def test_none_and_empty_text_hash_differently() -> None:
    with_none = [*FIELDS[:-2], None, "{}"]
    with_empty = [*FIELDS[:-2], "", "{}"]
    assert record_hash("c", 1, with_none, [], "0" * 64) != record_hash("c", 1, with_empty, [], "0" * 64)


def test_values_cannot_slide_between_fields() -> None:
    # "ab" + "c" and "a" + "bc" are different records.
    one = ["x", "ab", "c", *FIELDS[3:]]
    two = ["x", "a", "bc", *FIELDS[3:]]
    assert record_hash("c", 1, one, [], "0") != record_hash("c", 1, two, [], "0")


def test_subject_order_does_not_matter_but_content_does() -> None:
    base = record_hash("c", 1, FIELDS, ["tkA_b", "tkA_a"], "0")
    assert base == record_hash("c", 1, FIELDS, ["tkA_a", "tkA_b"], "0")
    assert base != record_hash("c", 1, FIELDS, ["tkA_a"], "0")
    assert base != record_hash("c", 1, FIELDS, ["tkA_a", "tkA_b", "tkA_c"], "0")


@given(
    index=st.integers(min_value=0, max_value=len(FIELDS) + 3),
    position=st.integers(min_value=0, max_value=80),
    replacement=st.characters(codec="utf-8"),
)
def test_any_single_character_change_changes_the_hash(index: int, position: int, replacement: str) -> None:
    parts = [*FIELDS, "chain", "7", "0" * 64, "tkA_x"]
    text = parts[index]
    i = position % len(text)
    if text[i] == replacement:
        return
    changed = list(parts)
    changed[index] = text[:i] + replacement + text[i + 1 :]

    def digest(p: list[str]) -> str:
        return record_hash(p[13], int(p[14]), p[:13], [p[16]], p[15])

    if index == 14 and not (changed[14].isascii() and changed[14].isdigit()):
        return  # a sequence number is an integer: the verifier reports text there as malformed
    assert digest(parts) != digest(changed)


def test_chain_genesis_seals_the_chain_row() -> None:
    genesis = chain_genesis("c", "writer", "2026-04-01T00:00:00.000000Z")
    assert genesis != chain_genesis("c", "writer2", "2026-04-01T00:00:00.000000Z")
    assert genesis != chain_genesis("c", "writer", "2026-04-01T00:00:00.000001Z")
    assert genesis != chain_genesis("d", "writer", "2026-04-01T00:00:00.000000Z")


def test_timestamps_have_one_canonical_form() -> None:
    jst = datetime(2026, 4, 1, 9, 0, tzinfo=timezone(timedelta(hours=9)))
    assert canonical_at(jst) == "2026-04-01T00:00:00.000000Z"
    assert canonical_at(datetime(2026, 4, 1)) == "2026-04-01T00:00:00.000000Z"  # naive = UTC (SQLite)
    assert stored_at_text(jst) == "2026-04-01T00:00:00.000000Z"
    assert stored_at_text("2026-04-01 00:00:00.000000") == "2026-04-01T00:00:00.000000Z"


@pytest.mark.parametrize(
    "raw",
    [
        "2026-04-01T00:00:00.000000",  # same instant, but not what the hub wrote
        "2026-04-01 00:00:00",
        "2026-04-01 00:00:00.0000000",
        "2026-04-01 00:00:00.000000+00:00",
        "2026-4-01 00:00:00.000000",
        "garbage",
        b"2026-04-01 00:00:00.000000",
        12,
    ],
)
def test_a_stored_timestamp_not_in_the_storage_format_is_malformed(raw: object) -> None:
    assert stored_at_text(raw) is None


def test_merkle_root_follows_rfc_9162() -> None:
    def leaf(data: bytes) -> bytes:
        return hashlib.sha256(b"\x00" + data).digest()

    def node(left: bytes, right: bytes) -> bytes:
        return hashlib.sha256(b"\x01" + left + right).digest()

    a, b, c = b"a", b"b", b"c"
    assert merkle_root([]) == digest_text(hashlib.sha256(b"").digest())
    assert merkle_root([a]) == digest_text(leaf(a))
    assert merkle_root([a, b]) == digest_text(node(leaf(a), leaf(b)))
    assert merkle_root([a, b, c]) == digest_text(node(node(leaf(a), leaf(b)), leaf(c)))


def test_digest_text_round_trips_and_never_holds_a_number_like_run() -> None:
    for i in range(5_000):
        raw = hashlib.sha256(str(i).encode()).digest()
        text = digest_text(raw)
        assert digest_bytes(text) == raw
        assert not find_numbers(text)


def test_checkpoint_root_covers_every_head_in_code_point_order() -> None:
    heads = {"b": (2, "h2"), "a": (1, "h1")}
    assert checkpoint_root(heads) == merkle_root([head_leaf("a", 1, "h1"), head_leaf("b", 2, "h2")])
    assert checkpoint_root(heads) != checkpoint_root({"a": (1, "h1"), "b": (3, "h2")})


def test_no_other_text_parses_to_the_same_digest() -> None:
    # An Ed25519 signature is 64 bytes: 103 base32 characters, the last one carrying 3 unused bits. An edit
    # of a stored signature must change what it decodes to (and so fail to verify) or not decode at all.
    raw = hashlib.sha512(b"signature").digest()
    text = digest_text(raw)
    capital = next(i for i, c in enumerate(text) if c.isalpha())
    edits = [text[:-1] + c for c in "abcdefghijklmnopqrstuvwxyz234567" if c != text[-1]]
    edits.append(text[:capital] + text[capital].upper() + text[capital + 1 :])
    for edited in edits:
        try:
            decoded = digest_bytes(edited)
        except ValueError:
            continue
        assert decoded != raw, edited
    assert digest_bytes(text) == raw


def test_heads_round_trip_and_only_the_canonical_text_parses() -> None:
    heads = {"chain-b": (2, "ff"), "chain-a": (10, "ee")}
    text = heads_text(heads)
    assert text == '{"chain-a":[10,"ee"],"chain-b":[2,"ff"]}'
    assert parse_heads(text) == heads
    for bad in (
        '{"chain-a": [10,"ee"]}',
        '{"chain-a":[10.0,"ee"]}',
        '{"a":[true,"ee"]}',
        "[]",
        "{",
        '{"a":[1]}',
    ):
        assert parse_heads(bad) is None


def test_every_checkpoint_field_is_signed() -> None:
    base: dict[str, Any] = {"prev_digest": "p", "key_id": "k", "head_count": 2}
    message = checkpoint_message(1, "t", "r", **base)
    assert message != checkpoint_message(2, "t", "r", **base)
    assert message != checkpoint_message(1, "u", "r", **base)
    assert message != checkpoint_message(1, "t", "s", **base)
    for key, value in (("prev_digest", "q"), ("key_id", "l"), ("head_count", 3)):
        assert message != checkpoint_message(1, "t", "r", **{**base, key: value})


def test_a_provision_digest_is_the_same_as_written_and_as_read_back() -> None:
    at = datetime(2026, 4, 1, 1, 0, 0, 5, tzinfo=UTC)
    written = {
        "record_id": "RID1",
        "role": "requester",
        "requester": "連合会",
        "provider": "市町村長",
        "requested_at": at,
        "provided_at": None,
        "items": '["TM00000000000002"]',
        "jimu": "年金",
        "legal_basis_current": "84",
        "legal_basis_legacy": "59",
        "non_disclosure": True,
        "subject_token": "tkA_x",
        "retention_until": date(2033, 4, 1),
    }
    sqlite_raw = {**written, "requested_at": "2026-04-01 01:00:00.000005", "non_disclosure": 1}
    sqlite_raw["retention_until"] = "2033-04-01"
    assert set(written) == set(DIGEST_FIELDS)
    assert provision_digest(written) == provision_digest(sqlite_raw)
    for key, value in (("non_disclosure", 2), ("retention_until", "2033-4-01"), ("provided_at", at)):
        assert provision_digest({**written, key: value}) != provision_digest(written)


@given(st.binary(min_size=1, max_size=64))
def test_a_digest_text_is_read_in_its_canonical_form_only(raw: bytes) -> None:
    text = digest_text(raw)
    assert digest_bytes(text) == raw
    assume(text.upper() != text)  # a text of digits alone (2-7) has no case to change
    with pytest.raises(ValueError, match="canonical"):
        digest_bytes(text.upper())


@given(st.binary(min_size=0, max_size=80))
def test_digest_text_is_base32_as_the_standard_library_writes_it(raw: bytes) -> None:
    # SHA-256 digests take a path of their own (every record hash); any length must give the same text.
    assert digest_text(raw) == base64.b32encode(raw).decode("ascii").rstrip("=").lower()


@given(st.binary(min_size=32, max_size=32))
def test_a_sha256_digest_text_is_base32_as_the_standard_library_writes_it(raw: bytes) -> None:
    assert digest_text(raw) == base64.b32encode(raw).decode("ascii").rstrip("=").lower()
    assert digest_bytes(digest_text(raw)) == raw


def test_canonical_at_answers_each_moment_with_its_own_text() -> None:
    # It remembers the last moment it formatted: an equal instant in another zone has the same text, a
    # naive value (taken as UTC) is never equal to an aware one, and a different moment is formatted anew.
    utc = datetime(2026, 4, 1, 0, 0, 0, 1, tzinfo=UTC)
    assert canonical_at(utc) == "2026-04-01T00:00:00.000001Z"
    assert canonical_at(utc.astimezone(timezone(timedelta(hours=9)))) == "2026-04-01T00:00:00.000001Z"
    assert canonical_at(datetime(2026, 4, 1, 9, 0, 0, 1)) == "2026-04-01T09:00:00.000001Z"
    assert canonical_at(datetime(2026, 4, 1, 9, 0, 0, 1, tzinfo=UTC)) == "2026-04-01T09:00:00.000001Z"
    assert canonical_at(utc + timedelta(microseconds=1)) == "2026-04-01T00:00:00.000002Z"
    assert canonical_at(datetime(999, 1, 2, tzinfo=UTC)) == "999-01-02T00:00:00.000000Z"
