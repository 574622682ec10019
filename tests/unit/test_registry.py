"""Decoding: every failure is a contract error that names fields and never values."""

import json
import uuid
from datetime import UTC, date, datetime

import pytest

from contracts.envelope import Envelope, LegalBasis, Purpose, new_envelope
from contracts.errors import DecodeError, UnknownMessageType, ValidationFailed
from contracts.messages.common import ChunkInfo
from contracts.messages.survival import SurvivalInquiryRecord, SurvivalInquiryRequested
from contracts.registry import decode, encode, payload_dict
from contracts.usage_number import UsageNumber, UsageNumberKind

PURPOSE = Purpose(
    code="pension.survival_check",
    legal_basis=(LegalBasis(law="地方公務員等共済組合法", article="第144条の33"),),
)


def _request(records: int = 1) -> Envelope:
    payload = SurvivalInquiryRequested(
        chunk=ChunkInfo(batch_id="b1", chunk_index=0, chunk_count=1, total_records=records),
        cycle="2026-12",
        as_of=date(2026, 11, 26),
        records=tuple(
            SurvivalInquiryRecord(
                record_seq=i,
                usage_number=UsageNumber(kind=UsageNumberKind.PENSION_CERTIFICATE, value=f"P{i:010d}"),
            )
            for i in range(records)
        ),
    )
    return new_envelope(
        message_type="pension.survival_inquiry.requested",
        schema_version=1,
        source="pension",
        actor="federation",
        destination="hub",
        purpose=PURPOSE,
        payload=payload_dict(payload),
    )


def test_round_trip():
    env = _request(3)
    decoded = decode(encode(env))
    assert decoded.envelope.message_id == env.message_id
    assert isinstance(decoded.payload, SurvivalInquiryRequested)
    assert len(decoded.payload.records) == 3


@pytest.mark.parametrize("body", [b"\xff\xfe", b"not json", b"[1,2]", b"", b"{" * 100_000])
def test_undecodable_bodies(body):
    with pytest.raises(DecodeError):
        decode(body)


def test_unknown_type_and_version():
    raw = json.loads(encode(_request()))
    raw["schema_version"] = 99
    with pytest.raises(UnknownMessageType, match="version 99"):
        decode(json.dumps(raw).encode())


def test_a_number_in_a_usage_number_field_is_rejected_without_being_quoted():
    raw = json.loads(encode(_request()))
    raw["payload"]["records"][0]["usage_number"]["value"] = "１２３４５６７８９０１８"
    with pytest.raises(ValidationFailed) as info:
        decode(json.dumps(raw, ensure_ascii=False).encode())
    assert "１２３４５６７８９０１８" not in str(info.value)
    assert "records.0.usage_number.value" in str(info.value)


def test_envelope_needs_a_timezone_aware_time():
    raw = json.loads(encode(_request()))
    raw["created_at"] = datetime(2026, 1, 1).isoformat()
    with pytest.raises(ValidationFailed, match="created_at"):
        decode(json.dumps(raw).encode())


def test_extra_fields_are_refused_on_hub_contracts():
    raw = json.loads(encode(_request()))
    raw["payload"]["individual_number"] = "x"
    with pytest.raises(ValidationFailed, match="extra_forbidden"):
        decode(json.dumps(raw).encode())


def test_message_ids_are_uuids():
    raw = json.loads(encode(_request()))
    raw["message_id"] = "not-a-uuid"
    with pytest.raises(ValidationFailed, match="message_id"):
        decode(json.dumps(raw).encode())
    assert uuid.UUID(str(_request().message_id))
    assert _request().created_at.tzinfo is UTC
