"""Property tests for the parsers that had none: whatever the input, only the documented errors.

Each parser either returns a value or raises the one error its contract names (a subclass of
:mod:`contracts.errors` at the edges); none lets a ``KeyError``, ``UnicodeDecodeError``, ``RecursionError``
or pydantic error escape, and none quotes a number it was given in its message. Where a writer exists,
what it writes parses back to the same value. No I/O.
"""

from __future__ import annotations

import base64
import contextlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from adapters.eltax.errors import EltaxFileError
from adapters.eltax.names import parse_name as eltax_name
from adapters.intermediate_server.errors import IsFileError
from adapters.intermediate_server.names import parse_name as is_name
from adapters.jlis.errors import JlisFileError
from adapters.jlis.names import correlation_of, request_id_of
from adapters.pension import IndividualNumberInFile, MalformedPensionFile
from adapters.pension.wire import dump_manifest, parse_manifest
from contracts.errors import ContractError, DecodeError, SealError
from contracts.individual_number import synthetic_individual_number
from contracts.link import CounterpartFile
from contracts.messages.common import ChunkInfo, plain_text
from contracts.redaction import find_numbers
from contracts.registry import decode, encode
from contracts.usage_number import UsageNumber
from hub.core.runtime import headers as h
from hub.infra.audit.codec import parse_heads
from hub.infra.audit.rows import parse_details
from hub.infra.crypto.link_cipher import AeadLinkCipher
from hub.infra.crypto.sealing import HpkeUnsealer
from hub.infra.crypto.tokens import parse_token
from hub.infra.keys.bundles import LinkKeys
from hub.infra.keys.keyring import generate_keyring
from hub.infra.keys.series import KeySeries, KeyVersion
from tests.corpus.builders import survival_request_envelope

NUMBER = synthetic_individual_number().reveal()
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
VALID = survival_request_envelope(batch_id="b1", usage_values=["P0000000001", "P0000000002"])
PATHS = [
    "message_id",
    "correlation_id",
    "message_type",
    "schema_version",
    "source",
    "destination",
    "purpose",
    "purpose.code",
    "created_at",
    "payload",
    "payload.chunk",
    "payload.chunk.chunk_index",
    "payload.chunk.chunk_count",
    "payload.cycle",
    "payload.as_of",
    "payload.records",
]


def _set(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(document))
    *parents, last = path.split(".")
    node = result
    for part in parents:
        node = node[part]
    node[last] = value
    return result


# -- contracts.registry.decode --------------------------------------------------------------------------


@FAST
@given(st.binary(max_size=2_000))
@example(b"[" * 50_000)
@example("{}".encode("utf-16"))
@example(b"\xef\xbb\xbf{}")
def test_decode_of_any_bytes_raises_only_contract_errors(body: bytes):
    try:
        decode(body)
    except ContractError as exc:
        message = str(exc)
    else:
        return
    assert message


@FAST
@given(json_values)
def test_decode_of_any_json_raises_only_contract_errors(value: Any):
    body = json.dumps(value).encode()
    with pytest.raises(ContractError):
        decode(body)


@FAST
@given(st.sampled_from(PATHS), json_values | st.just(NUMBER) | st.just([NUMBER]))
def test_an_envelope_with_one_field_replaced_decodes_or_raises_a_contract_error(path: str, value: Any):
    body = json.dumps(_set(VALID, path, value)).encode()
    message: str | None
    try:
        decoded = decode(body)
    except ContractError as exc:
        message = str(exc)
    else:
        message = None
    if message is not None:
        assert NUMBER not in message  # errors name fields, never values
        return
    # Whatever was accepted survives its own encoding unchanged.
    again = decode(encode(decoded.envelope))
    assert again.envelope == decoded.envelope
    assert again.payload == decoded.payload


def test_the_valid_envelope_decodes_and_round_trips():
    decoded = decode(json.dumps(VALID).encode())
    assert decode(encode(decoded.envelope)).envelope == decoded.envelope


# -- contract value types ---------------------------------------------------------------------------------


@FAST
@given(st.text(max_size=40))
def test_a_usage_number_is_valid_text_or_a_validation_error_never_a_number(value: str):
    try:
        usage = UsageNumber(kind="pension_certificate", value=value)
    except ValidationError:
        return
    assert not find_numbers(usage.value)
    assert usage.value.isascii()


@FAST
@given(st.integers(min_value=-3, max_value=10), st.integers(min_value=-3, max_value=10))
def test_a_chunk_is_within_its_batch(index: int, count: int):
    try:
        ChunkInfo(batch_id="b", chunk_index=index, chunk_count=count, total_records=0)
    except ValidationError:
        assert not 0 <= index < count
        return
    assert 0 <= index < count


@FAST
@given(st.text(max_size=30))
def test_plain_text_keeps_printable_text_and_refuses_controls(value: str):
    try:
        kept = plain_text(value)
    except ValueError:
        assert any((not c.isprintable() and c != " ") or c in "\u061c\u200e\u200f" for c in value)
        return
    assert kept == value
    assert "\x00" not in kept
    assert "\u202e" not in kept


# -- the counterpart link cipher ----------------------------------------------------------------------------

KEYS = {"jlis": b"k" * 32, "eltax": b"e" * 32}
LINK = AeadLinkCipher(
    *(
        LinkKeys(c, KeySeries(f"link.{c}", (KeyVersion(1, f"link{c}-v1-abcdef", key, datetime.now(UTC)),)))
        for c, key in KEYS.items()
    )
)
files = st.builds(
    CounterpartFile,
    counterpart=st.sampled_from(sorted(KEYS)),
    name=st.text(max_size=40),
    content=st.binary(max_size=500),
    correlation_id=st.text(max_size=40),
)


@FAST
@given(st.binary(max_size=1_000))
@example(b'{"counterpart": "jlis", "name": "x", "correlation_id": "y", "content": "!!!"}')
@example(b'{"counterpart": "mallory", "name": "x", "correlation_id": "y", "content": "AAAA"}')
@example(b'{"counterpart": ["jlis"], "name": {}, "correlation_id": 1, "content": "AAAA"}')
@example(b"[" * 50_000)
@example(b'{"counterpart": "jlis", "name": "\\ud800", "correlation_id": "y", "content": "AAAA"}')
def test_opening_any_bytes_raises_only_decode_or_seal_errors(body: bytes):
    with pytest.raises((DecodeError, SealError)):
        LINK.open(body)


@FAST
@given(files)
def test_a_protected_file_opens_to_itself(file: CounterpartFile):
    assert LINK.open(LINK.protect(file)) == file


@FAST
@given(files, st.data())
def test_a_changed_byte_is_refused_or_opens_to_the_same_file(file: CounterpartFile, data: st.DataObject):
    body = bytearray(LINK.protect(file))
    position = data.draw(st.integers(0, len(body) - 1))
    body[position] ^= data.draw(st.integers(1, 255))
    try:
        opened = LINK.open(bytes(body))
    except (DecodeError, SealError):
        return
    assert opened == file  # JSON framing may tolerate a change; the file itself never changes


@FAST
@given(files)
def test_a_file_moved_to_another_counterpart_is_refused(file: CounterpartFile):
    head = json.loads(LINK.protect(file))
    head["counterpart"] = "eltax" if file.counterpart == "jlis" else "jlis"
    with pytest.raises(SealError):
        LINK.open(json.dumps(head).encode())


# -- sealed numbers and tokens ------------------------------------------------------------------------------

UNSEALER = HpkeUnsealer(generate_keyring().unsealing("hub"))
MID = uuid.UUID("00000000-0000-4000-8000-000000000001")


@FAST
@given(st.text(max_size=120))
@example("sealed:v1:hub:k1:" + "A" * 60)
@example("sealed:v1:hub:" + "9" * 12 + ":" + "A" * 60)
def test_unsealing_any_text_raises_only_seal_errors_naming_no_digits(text: str):
    with pytest.raises(SealError) as caught:
        UNSEALER.unseal(text, message_id=MID, field="f")
    assert not any(c.isdigit() for c in str(caught.value))  # never a number, nor a key id


@FAST
@given(st.text(max_size=80))
@example("mn1." + "a" * 26 + ".1")
def test_parsing_any_text_as_a_token_never_raises(text: str):
    parse_token(text)


# -- file names of the counterparts --------------------------------------------------------------------------


@FAST
@given(st.text(max_size=80))
@example("JLIS-SVR1-" + "0" * 32 + ".dat")
def test_jlis_names_parse_or_raise_a_file_error(name: str):
    for kind in ("request", "result"):
        with contextlib.suppress(JlisFileError):
            request_id_of(name, kind)


@FAST
@given(st.text(max_size=40), st.text(max_size=20))
def test_jlis_correlation_ids_parse_or_raise_a_file_error(correlation: str, counterpart: str):
    with contextlib.suppress(JlisFileError):
        correlation_of(CounterpartFile(counterpart, "x", b"", correlation))


@FAST
@given(st.text(max_size=80))
def test_intermediate_server_and_eltax_names_parse_or_raise_their_file_errors(name: str):
    with contextlib.suppress(IsFileError):
        is_name(name)
    with contextlib.suppress(EltaxFileError):
        eltax_name(name)


# -- the pension manifest -----------------------------------------------------------------------------------


@FAST
@given(st.binary(max_size=1_000))
@example(b"[" * 50_000)
def test_a_manifest_of_any_bytes_is_refused_with_the_adapters_errors(raw: bytes):
    with contextlib.suppress(MalformedPensionFile, IndividualNumberInFile):
        parse_manifest(raw)


@FAST
@given(st.dictionaries(st.sampled_from(["kind", "file_name", "sha256", "record_count", "x"]), json_values))
def test_a_manifest_of_any_json_object_parses_or_is_refused(fields: dict[str, Any]):
    document = {
        "format_version": 1,
        "kind": "survival_inquiry",
        "file_name": "a.csv",
        "record_count": 1,
        "sha256": "0" * 64,
        "cycle": "2026-12",
        "as_of": "2026-11-20",
        "batch_id": "b",
        **fields,
    }
    try:
        manifest = parse_manifest(json.dumps(document).encode())
    except (MalformedPensionFile, IndividualNumberInFile):
        return
    assert parse_manifest(dump_manifest(manifest)) == manifest


# -- renkei's own headers ---------------------------------------------------------------------------


@FAST
@given(st.dictionaries(st.text(max_size=20), json_values | st.binary(max_size=10), max_size=4))
def test_the_attempt_count_of_any_headers_is_a_positive_integer(headers: dict[str, Any]):
    assert h.attempt_of(headers) >= 1
    assert h.attempt_of({h.ATTEMPT: headers.get(h.ATTEMPT, "x")}) >= 1


def test_a_link_message_too_short_for_its_nonce_and_tag_is_a_seal_error():
    body = json.dumps(
        {
            "counterpart": "jlis",
            "name": "n",
            "correlation_id": "c",
            "content": base64.b64encode(b"x").decode(),
        }
    ).encode()
    with pytest.raises((DecodeError, SealError)):
        LINK.open(body)


# -- what the access record reads back from its own tables (a tampered row must not crash a reader) --------


@FAST
@given(st.text(max_size=200) | json_values.map(json.dumps))
@example("[" * 100_000)
@example('{"a": ' * 50_000)
def test_stored_details_and_checkpoint_heads_of_any_text_never_raise(text: str):
    details = parse_details(text)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in details.items())
    heads = parse_heads(text)
    assert heads is None or isinstance(heads, dict)
