"""Malformed messages on the hub's ingress: encodings, framing, envelope fields, payloads, sealed numbers.

Every case is one AMQP message published to the ingress exchange. Each breaks one thing of an otherwise
valid ``pension.survival_inquiry.requested`` (or ``jlis.survival_change.result``) message and names the
``x-renkei-reason`` codes it may be dead-lettered with. A case carries its id in a header
(``x-renkei-corpus-case``), which the ack policy keeps on the dead letter, so the test finds it in the
dead-letter store whatever its message id.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from contracts.ids import new_id
from contracts.individual_number import synthetic_individual_number
from tests.corpus.builders import DELETE, set_field, survival_request_envelope

__all__ = ["CASE_HEADER", "TEXT_NAMES", "IngressCase", "ingress_cases", "result_envelope"]

CASE_HEADER = "x-renkei-corpus-case"
DECODE = frozenset({"undecodable"})
INVALID = frozenset({"validation_failed"})
UNKNOWN = frozenset({"unknown_message_type"})
SEAL = frozenset({"seal_invalid"})
INJECTIONS = (
    "'; DROP TABLE access_records; --",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "a\x00b",
    "\u202eevil",
    "${jndi:ldap://x}",
)
CONTROL_NAMES = ("山田\x00太郎", "\u202e山田太郎", "山田\r太郎", "山田\u2066太郎")
TEXT_NAMES = (
    "'; DROP TABLE access_records; --",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "O'Brien, Ann",
)
"""Names that are odd but plain text: carried verbatim, never interpreted."""


@dataclass(frozen=True)
class IngressCase:
    """One malformed message for the hub's ingress.

    Attributes:
        id: the case's name (also its header value).
        body: the message body, as published.
        reasons: the reason codes it may be dead-lettered with.
        message_id, message_type, correlation_id: its AMQP properties (``None``: not set).
        secret: a value that must not appear in the dead letter's stored body (a number it carries).
    """

    id: str
    body: bytes
    reasons: frozenset[str]
    message_id: str | None = field(default_factory=lambda: str(new_id()))
    message_type: str | None = "pension.survival_inquiry.requested"
    correlation_id: str | None = None
    secret: str | None = None


def _json(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


def result_envelope(
    *,
    refs: list[str],
    batch_id: str,
    message_id: uuid.UUID | None = None,
    records: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A ``jlis.survival_change.result`` v1 envelope answering ``alive`` for ``refs`` (JSON-ready)."""
    mid = message_id or new_id()
    return {
        "message_id": str(mid),
        "correlation_id": str(mid),
        "message_type": "jlis.survival_change.result",
        "schema_version": 1,
        "source": "jlis",
        "destination": "hub",
        "purpose": {
            "code": "jlis.survival_change",
            "legal_basis": [{"law": "住民基本台帳法", "article": "第30条の9", "item": "別表第一"}],
        },
        "created_at": "2026-11-26T09:00:00+09:00",
        "payload": {
            "chunk": {"batch_id": batch_id, "chunk_index": 0, "chunk_count": 1, "total_records": len(refs)},
            "cycle": "2026-12",
            "fee_units": len(refs),
            "records": records
            if records is not None
            else [{"record_seq": i + 1, "ref": ref, "outcome": "alive"} for i, ref in enumerate(refs)],
        },
    }


def ingress_cases(
    usage_values: list[str], refs: list[str], seal: Callable[[uuid.UUID, str, str], str]
) -> Iterator[IngressCase]:
    """Every ingress case.

    Args:
        usage_values: usage numbers of enrolled people (for payloads that are wrong in one other place).
        refs: J-LIS reference tokens of enrolled people (for result messages the hub can match).
        seal: ``seal(message_id, recipient, field)`` seals a synthetic number bound to that message id.
    """
    base = survival_request_envelope(batch_id="corpus-ingress", usage_values=usage_values[:3])
    valid = _json(base)
    number = synthetic_individual_number().reveal()

    def env(case: str, document: dict[str, Any], reasons: frozenset[str], **kw: Any) -> IngressCase:
        # A fresh message id per case, so that no two cases are one message to the inbox or the store.
        document = set_field(document, "message_id", str(new_id())) if "message_id" in document else document
        return IngressCase(case, _json(document), reasons, message_id=document.get("message_id"), **kw)

    # -- encodings and framing ----------------------------------------------------------------------
    text = json.dumps(set_field(base, "purpose.legal_basis.0.law", "番号法 é"), ensure_ascii=False)
    yield IngressCase("not-utf8-bytes", b"\xff\xfe\xfa garbage", DECODE)
    yield IngressCase("utf16-with-bom", text.encode("utf-16"), DECODE)
    yield IngressCase("utf16-le-no-bom", text.encode("utf-16-le"), DECODE)
    yield IngressCase("utf32", text.encode("utf-32"), DECODE)
    yield IngressCase("utf8-bom", text.encode("utf-8-sig"), DECODE)
    yield IngressCase("shift-jis", text.encode("shift_jis", errors="replace"), DECODE)
    yield IngressCase("latin-1", text.encode("latin-1", errors="replace"), DECODE)
    yield IngressCase("empty-body", b"", DECODE)
    yield IngressCase("whitespace-only", b"  \n\t ", DECODE)
    yield IngressCase("truncated-half", valid[: len(valid) // 2], DECODE)
    yield IngressCase("truncated-one-byte", valid[:1], DECODE)
    yield IngressCase("truncated-last-brace", valid[:-1], DECODE)
    yield IngressCase("json-array", b"[1, 2, 3]", DECODE)
    yield IngressCase("json-string", b'"hello"', DECODE)
    yield IngressCase("json-number", b"12", DECODE)
    yield IngressCase("json-null", b"null", DECODE)
    yield IngressCase("deeply-nested", b"[" * 100_000 + b"]" * 100_000, DECODE)
    yield IngressCase("nul-bytes-in-json", valid[:40] + b"\x00\x00" + valid[40:], DECODE)
    yield IngressCase("nan-and-infinity", b'{"message_id": NaN, "schema_version": Infinity}', INVALID)
    yield IngressCase("binary-8mb", bytes(range(256)) * 32_768, DECODE)
    yield IngressCase("not-json-8mb", b"A" * 8_000_000, DECODE)
    many = [f"P{i:010d}" for i in range(60_000)]
    yield env(
        "oversized-60000-records",
        survival_request_envelope(batch_id="corpus-big", usage_values=many),
        INVALID,
    )
    # -- envelope fields --------------------------------------------------------------------------------
    for name in ("message_id", "correlation_id", "message_type", "schema_version", "source", "purpose"):
        yield IngressCase(f"missing-{name}", _json(set_field(base, name, DELETE)), INVALID)
    yield IngressCase("missing-payload", _json(set_field(base, "payload", DELETE)), INVALID)
    yield IngressCase("message-id-not-a-uuid", _json(set_field(base, "message_id", "not-a-uuid")), INVALID)
    yield IngressCase(
        "message-id-is-a-number",
        _json(set_field(base, "message_id", number)),
        INVALID,
        message_id=None,
        secret=number,
    )
    yield env("message-type-uppercase", set_field(base, "message_type", "Pension.Survival"), INVALID)
    yield env("message-type-injection", set_field(base, "message_type", "x'; DROP TABLE inbox; --"), INVALID)
    yield env("unknown-message-type", set_field(base, "message_type", "no.such.type"), UNKNOWN)
    yield env("unknown-schema-version", set_field(base, "schema_version", 2), UNKNOWN)
    yield env("schema-version-zero", set_field(base, "schema_version", 0), INVALID)
    yield env("schema-version-negative", set_field(base, "schema_version", -1), INVALID)
    yield env("schema-version-huge", set_field(base, "schema_version", 10**20), INVALID)
    yield env("schema-version-float", set_field(base, "schema_version", 1.5), INVALID)
    yield env(
        "outbound-type-on-ingress",
        set_field(base, "message_type", "pension.survival_check.outcomes"),
        INVALID | UNKNOWN,
    )
    yield env("source-unknown-party", set_field(base, "source", "mallory"), INVALID)
    yield env("destination-path", set_field(base, "destination", "../../etc/passwd"), INVALID)
    yield env("purpose-code-injection", set_field(base, "purpose.code", "'; DROP TABLE vault; --"), INVALID)
    yield env("legal-basis-empty", set_field(base, "purpose.legal_basis", []), INVALID)
    yield env("created-at-naive", set_field(base, "created_at", "2026-11-26T09:00:00"), INVALID)
    yield env("created-at-garbage", set_field(base, "created_at", "yesterday"), INVALID)
    yield env("payload-is-a-list", set_field(base, "payload", [1, 2]), INVALID)
    yield env("unknown-envelope-field", set_field(base, "x_extra", "1"), INVALID)
    # -- payload: usage numbers, digits, injection strings --------------------------------------------
    usage = "payload.records.0.usage_number.value"
    yield env("usage-full-width-digits", set_field(base, usage, "Ｐ０００００００００１"), INVALID)
    yield env("usage-individual-number", set_field(base, usage, number), INVALID, secret=number)
    yield env(
        "usage-individual-number-full-width",
        set_field(base, usage, number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))),
        INVALID,
    )
    yield env("usage-too-long", set_field(base, usage, "P" + "1" * 40), INVALID)
    yield env("usage-empty", set_field(base, usage, ""), INVALID)
    for i, injection in enumerate(INJECTIONS):
        yield env(f"usage-injection-{i}", set_field(base, usage, injection), INVALID)
    yield env(
        "usage-kind-unknown", set_field(base, "payload.records.0.usage_number.kind", "my_number"), INVALID
    )
    yield env("record-seq-negative", set_field(base, "payload.records.0.record_seq", -1), INVALID)
    yield env("records-empty", set_field(base, "payload.records", []), INVALID)
    yield env("records-missing", set_field(base, "payload.records", DELETE), INVALID)
    yield env("cycle-month-13", set_field(base, "payload.cycle", "2026-13"), INVALID)
    yield env("as-of-february-30", set_field(base, "payload.as_of", "2026-02-30"), INVALID)
    yield env("chunk-outside-batch", set_field(base, "payload.chunk.chunk_index", 5), INVALID)
    yield env("batch-id-path", set_field(base, "payload.chunk.batch_id", "../../etc/passwd"), INVALID)
    yield env(
        "batch-id-injection", set_field(base, "payload.chunk.batch_id", "x'; DROP TABLE outbox"), INVALID
    )
    yield env("payload-unknown-field", set_field(base, "payload.extra", 1), INVALID)
    # -- AMQP properties that bad producers set (the hub still records and dead-letters) ---------------
    garbage = b"{not json"
    yield IngressCase("property-type-300-chars", garbage + b" 1", DECODE, message_type="t" * 250)
    yield IngressCase("property-id-250-chars", garbage + b" 2", DECODE, message_id="i" * 250)
    yield IngressCase("property-id-is-a-number", garbage + b" 3", DECODE, message_id=number, secret=number)
    yield IngressCase("property-id-missing", garbage + b" 4", DECODE, message_id=None, message_type=None)
    # -- J-LIS results on ingress: references and sealed numbers ------------------------------------
    result_id = new_id()
    sealed = seal(result_id, "hub", "records.1.new_individual_number")
    changed = {"record_seq": 1, "ref": refs[0], "outcome": "number_changed", "new_individual_number": sealed}

    def result(
        case: str, records: list[dict[str, Any]], reasons: frozenset[str], mid: uuid.UUID
    ) -> IngressCase:
        document = result_envelope(refs=refs[:1], batch_id=f"corpus-{case}", message_id=mid, records=records)
        return IngressCase(
            case, _json(document), reasons, message_id=str(mid), message_type="jlis.survival_change.result"
        )

    # Tampered within the format's own alphabet (a-p), so that it is the seal that refuses it, not the schema.
    tampered = sealed[:-6] + ("aaaaaa" if not sealed.endswith("aaaaaa") else "bbbbbb")
    yield result("sealed-number-tampered", [{**changed, "new_individual_number": tampered}], SEAL, result_id)
    yield result("sealed-number-moved-to-another-message", [changed], SEAL, new_id())
    other_id = new_id()  # each case its own message id: a second message under one id is a duplicate
    other = seal(other_id, "jlis", "records.1.new_individual_number")
    yield result(
        "sealed-for-another-recipient", [{**changed, "new_individual_number": other}], SEAL, other_id
    )
    yield result(
        "sealed-field-plain-number", [{**changed, "new_individual_number": number}], INVALID, new_id()
    )
    yield result(
        "sealed-field-bad-digits",
        [{**changed, "new_individual_number": "sealed:v1:hub:k1:" + "0" * 11}],
        INVALID,
        new_id(),
    )
    unknown_ref = [{"record_seq": 1, "ref": "zzzzzzzzzzzzzzzzzzzzzz", "outcome": "alive"}]
    yield result("result-unknown-reference", unknown_ref, INVALID, new_id())
    for i, injection in enumerate(CONTROL_NAMES):
        named = {"record_seq": 1, "ref": refs[0], "outcome": "name_changed", "new_name": injection}
        yield result(f"result-name-control-{i}", [named], INVALID, new_id())
    dead = [{"record_seq": 1, "ref": refs[0], "outcome": "dead"}]
    yield result("result-dead-without-date", dead, INVALID, new_id())
