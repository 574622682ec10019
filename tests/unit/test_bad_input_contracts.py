"""Regressions found by the bad-input corpus (issue item 6), each refused at the edge with a clear reason.

* a body in UTF-16, UTF-32 or with a byte-order mark was accepted (``json.loads(bytes)`` detects them);
* an Individual Number sent as a usage number travelled on into the outbox, queues and files;
* a chunk outside its batch (``chunk_index >= chunk_count``) was enriched and sent to J-LIS, which refused
  the file;
* a name or an address with a control character (a CR breaks the pension system's CSV) or an RTL override
  (the text displays other than it reads) reached the outcome files.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import date

import pytest
from pydantic import ValidationError

from adapters.jlis.errors import JlisWireError
from adapters.jlis.wire import ResultRecord, parse_result
from contracts.errors import DecodeError, ValidationFailed
from contracts.individual_number import synthetic_individual_number
from contracts.messages.common import Address, ChunkInfo
from contracts.messages.survival import JlisResultRecord, SurvivalOutcome
from contracts.registry import decode
from contracts.usage_number import UsageNumber, UsageNumberKind
from tests.corpus.builders import jlis_result_file, splice_result_field, survival_request_envelope


def _body() -> dict[str, object]:
    return survival_request_envelope(batch_id="b1", usage_values=["P0000000001"])


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig"])
def test_a_body_in_another_encoding_than_utf8_is_undecodable(encoding):
    body = json.dumps(_body(), ensure_ascii=False).encode(encoding)
    with pytest.raises(DecodeError):
        decode(body)


def test_the_same_body_in_utf8_decodes():
    assert decode(json.dumps(_body()).encode()).envelope.message_type == "pension.survival_inquiry.requested"


def test_a_usage_number_with_the_form_of_an_individual_number_is_refused():
    number = synthetic_individual_number().reveal()
    with pytest.raises(ValidationError) as caught:
        UsageNumber(kind=UsageNumberKind.BASIC_PENSION, value=number)
    assert number not in str(caught.value)
    body = survival_request_envelope(batch_id="b1", usage_values=[number])
    with pytest.raises(ValidationFailed) as failed:
        decode(json.dumps(body).encode())
    assert number not in str(failed.value)


def test_a_chunk_outside_its_batch_is_refused():
    ChunkInfo(batch_id="b", chunk_index=0, chunk_count=1, total_records=1)
    with pytest.raises(ValidationError):
        ChunkInfo(batch_id="b", chunk_index=1, chunk_count=1, total_records=1)


@pytest.mark.parametrize(
    "text",
    ["a\x00b", "a\rb", "a\nb", "a\tb", "a\x1bb", "a\x85b", "a\u2028b", "a\u202eb", "a\u2066b", "\u200f"],
)
def test_names_and_addresses_refuse_control_and_bidi_characters(text):
    with pytest.raises(ValidationError):
        Address(text=text)
    with pytest.raises(ValidationError):
        JlisResultRecord(record_seq=1, ref="abcdefgh", outcome=SurvivalOutcome.NAME_CHANGED, new_name=text)


@pytest.mark.parametrize(
    "text", ["山田 太郎", "O'Brien", "'; DROP TABLE x; --", "<script>", "../../etc/passwd"]
)
def test_names_may_hold_punctuation_as_plain_text(text):
    record = JlisResultRecord(
        record_seq=1, ref="abcdefgh", outcome=SurvivalOutcome.NAME_CHANGED, new_name=text
    )
    assert record.new_name == text


@pytest.mark.parametrize(
    "mark", ["\u202e", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u061c"]
)
def test_the_jlis_wire_refuses_bidi_formatting_in_text(mark):
    request_id = uuid.uuid4()
    named = ResultRecord(
        1, "abcdefgh", SurvivalOutcome.NAME_CHANGED, new_name="山田 太郎", name_changed_on=date(2026, 10, 1)
    )
    good = jlis_result_file(request_id, [named])
    assert parse_result(good).records[0].new_name == "山田 太郎"
    bad = splice_result_field(good, 2, "new_name", f"山田{mark}太郎".encode())
    with pytest.raises(JlisWireError) as caught:
        parse_result(bad)
    assert caught.value.field == "new_name"
    with pytest.raises(JlisWireError):
        jlis_result_file(request_id, [dataclasses.replace(named, new_name=f"山田{mark}太郎")])
