"""What a delivery from the dead-letter queue is: failure, group, identity, redacted body (no I/O)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import example, given, settings
from hypothesis import strategies as st

from contracts.errors import ValidationFailed
from contracts.individual_number import synthetic_individual_number
from contracts.redaction import find_numbers
from hub.core.runtime import headers as h
from hub.core.runtime.dead_letter_entry import (
    DeadLetterConfig,
    describe,
    fingerprint,
    group_label,
    redact_body,
)
from hub.core.runtime.retry import Exchanges, dead_letter_message
from hub.ports.dead_letters import FailureOrigin
from hub.ports.transport import Delivery

CONFIG = DeadLetterConfig(hub_queue="t.hub.ingress", queue_prefix="t", delivery_limit=5)
EXCHANGES = Exchanges("t.ingress", "t.route", "t.counterpart", "t.dead", lambda ms: f"t.retry.{ms}ms")
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def delivery(
    body: bytes = b"{}",
    headers: Mapping[str, object] | None = None,
    *,
    message_id: str | None = "m-1",
    message_type: str | None = "pension.x",
    key: str = "q",
) -> Delivery:
    return Delivery(
        queue="t.dead_letter",
        body=body,
        message_id=message_id,
        message_type=message_type,
        correlation_id="c-1",
        headers=headers or {},
        redelivered=False,
        delivery_tag=1,
        routing_key=key,
        exchange="t.dead",
    )


def hub_dead_letter(
    queue: str = "t.hub.ingress",
    stage: str = "decode",
    at: datetime = NOW,
    body: bytes = b"{}",
    attempt: int = 1,
) -> Delivery:
    failed = replace(delivery(body, {h.ATTEMPT: attempt}, key=queue), queue=queue)
    out = dead_letter_message(
        failed, ValidationFailed("payload.x: missing"), stage=stage, exchanges=EXCHANGES, now=at
    )
    return delivery(out.body, dict(out.headers), message_type=out.message_type, key=out.routing_key)


def test_the_fingerprint_is_a_stable_hash_of_reason_stage_and_type_written_in_letters():
    fp = fingerprint("ValidationFailed", "decode", "pension.x")
    expected = hashlib.sha256(b"ValidationFailed\x1fdecode\x1fpension.x\x1f").hexdigest()[:16]
    assert fp == expected.translate(str.maketrans("0123456789abcdef", "abcdefghijklmnop"))
    assert fp.isalpha()  # never a digit: a hash must not look like an Individual Number
    assert (
        len(
            {
                fp,
                fingerprint("DecodeError", "decode", "pension.x"),
                fingerprint("ValidationFailed", "handle", "pension.x"),
                fingerprint("ValidationFailed", "decode", "pension.y"),
            }
        )
        == 4
    )
    assert (
        group_label("validation_failed", "decode", "pension.x") == "validation_failed at decode on pension.x"
    )


def test_a_hub_dead_letter_is_described_from_renkeis_headers():
    entry = describe(hub_dead_letter(attempt=3), CONFIG, NOW)
    f = entry.failure
    assert (f.origin, f.stage, f.reason_code, f.exception_type) == (
        FailureOrigin.HUB,
        "decode",
        "validation_failed",
        "ValidationFailed",
    )
    assert (f.source_queue, f.attempts, f.failed_at) == ("t.hub.ingress", 3, NOW)
    assert f.reason_text == "payload.x: missing"
    # The group is made of hub-side facts: "pension.x" is no message type the hub knows.
    assert entry.fingerprint == fingerprint("validation_failed", "decode", "unknown")
    assert entry.group_label == "validation_failed at decode on unknown"
    assert entry.message_key == "m-1"
    assert entry.death_key.isalpha()
    assert len(entry.death_key) == 64


def test_a_host_dead_letter_is_told_apart_from_the_hubs():
    entry = describe(hub_dead_letter(queue="t.adapter.jlis", stage="jlis.from_hub"), CONFIG, NOW)
    assert entry.failure.origin is FailureOrigin.HOST
    assert entry.failure.source_queue == "t.adapter.jlis"


def test_the_same_dead_lettering_has_the_same_death_key_and_another_one_does_not():
    first = describe(hub_dead_letter(), CONFIG, NOW)
    again = describe(hub_dead_letter(), CONFIG, datetime(2030, 1, 1, tzinfo=UTC))
    later = describe(hub_dead_letter(at=datetime(2026, 11, 26, 9, 5, tzinfo=UTC)), CONFIG, NOW)
    assert first.death_key == again.death_key
    assert first.death_key != later.death_key
    assert first.message_key == later.message_key
    assert first.fingerprint == later.fingerprint


def test_a_broker_dead_letter_takes_the_newest_x_death_not_the_first_death():
    # Waited in a retry tier (expired there), then crashed past the delivery limit on the hub's queue.
    headers = {
        "x-death": [
            {"count": 1, "reason": "delivery_limit", "queue": "t.hub.ingress", "time": NOW, "exchange": ""},
            {
                "count": 1,
                "reason": "expired",
                "queue": "t.retry.100ms",
                "time": NOW,
                "exchange": "t.retry.100ms",
            },
        ],
        "x-first-death-queue": "t.retry.100ms",
        "x-first-death-reason": "expired",
        h.ATTEMPT: 2,
        h.FAILURE_CODE: "store_unavailable",  # left by the retry; not a dead-lettering by renkei
    }
    entry = describe(delivery(headers=headers), CONFIG, datetime(2030, 1, 1, tzinfo=UTC))
    f = entry.failure
    assert (f.origin, f.reason_code, f.exception_type) == (
        FailureOrigin.BROKER,
        "delivery_limit",
        "broker:delivery_limit",
    )
    assert (f.source_queue, f.stage, f.attempts, f.failed_at) == ("t.hub.ingress", "hub.ingress", 2, NOW)
    assert "delivery limit (5)" in f.reason_text


def test_x_first_death_is_the_fallback_when_x_death_is_unreadable():
    headers = {
        "x-death": "garbage",
        "x-first-death-queue": "t.adapter.jlis",
        "x-first-death-reason": "rejected",
    }
    f = describe(delivery(headers=headers), CONFIG, NOW).failure
    assert (f.origin, f.reason_code, f.source_queue, f.stage) == (
        FailureOrigin.BROKER,
        "rejected",
        "t.adapter.jlis",
        "adapter.jlis",
    )


def test_a_message_published_straight_to_the_dead_exchange_is_unknown_but_kept():
    entry = describe(delivery(headers={}, message_id=None, message_type=None, key=""), CONFIG, NOW)
    assert entry.failure.origin is FailureOrigin.UNKNOWN
    assert (entry.message_type, entry.failure.source_queue) == ("unknown", "unknown")
    assert entry.message_key.startswith("body:")


def test_messages_without_ids_are_told_apart_by_their_redacted_bodies():
    a = describe(delivery(b"a", message_id="unknown"), CONFIG, NOW)
    b = describe(delivery(b"b", message_id="unknown"), CONFIG, NOW)
    assert a.message_key != b.message_key
    assert a.message_key.startswith("body:")
    assert a.message_key[5:].isalpha()


def test_replay_provenance_links_a_replay_that_failed_again():
    d = hub_dead_letter()
    d = delivery(d.body, {**d.headers, h.REPLAY_OF: "42"}, key=d.routing_key)
    assert describe(d, CONFIG, NOW).replay_of == 42
    assert describe(delivery(headers={h.REPLAY_OF: "x"}), CONFIG, NOW).replay_of is None


def test_numbers_in_bodies_and_headers_are_redacted():
    number = synthetic_individual_number().reveal()
    d = delivery(
        f'{{"note": "{number}"}}'.encode(),
        {"x-death": [{"reason": "rejected", "queue": "t.adapter.jlis"}], "x-note": number},
        message_id=number,
    )
    entry = describe(d, CONFIG, NOW)
    assert entry.body_redacted
    assert not find_numbers(entry.body.decode())
    assert not any(find_numbers(str(v)) for v in entry.headers.values())
    assert entry.message_id is not None
    assert not find_numbers(entry.message_id)


def test_no_text_field_keeps_a_nul_which_postgresql_would_refuse():
    d = delivery(
        headers={h.FAILED_STAGE: "de\x00code", h.FAILURE_REASON: "a\x00b", "x-k": "v\x00"},
        message_id="m\x00",
        message_type="t\x00",
    )
    entry = describe(d, CONFIG, NOW)
    texts = [
        entry.message_id,
        entry.message_type,
        entry.failure.stage,
        entry.failure.reason_text,
        entry.group_label,
    ]
    texts += [v for v in entry.headers.values() if isinstance(v, str)]
    assert not any("\x00" in (t or "") for t in texts)


def test_binary_bodies_keep_their_bytes_but_lose_any_number():
    number = synthetic_individual_number().reveal().encode()
    clean = b"\xff\xfe\x00 sealed \x01"
    assert redact_body(clean) == (clean, False)
    body, changed = redact_body(clean + number + b"\xff")
    assert changed
    # Every byte kept but the number's digits, each masked in place: the body keeps its length.
    assert body == clean + b"*" * 12 + b"\xff"
    wide = (
        synthetic_individual_number().reveal().translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    )
    body, changed = redact_body(b"\xff" + wide.encode())
    assert changed
    assert body == b"\xff" + ("＊" * 12).encode()


_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text()
    | st.binary()
    | st.datetimes(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(
    headers=st.dictionaries(
        st.sampled_from(
            [
                h.FAILED_STAGE,
                h.FAILURE_AT,
                h.ATTEMPT,
                h.REPLAY_OF,
                "x-death",
                "x-first-death-queue",
                "x-first-death-reason",
                "other",
            ]
        ),
        _values,
        max_size=8,
    ),
    body=st.binary(max_size=64),
)
@example(headers={h.ATTEMPT: "¹"}, body=b"")  # digits to str.isdigit(), not to int()
@example(headers={h.REPLAY_OF: "²³"}, body=b"")
def test_describing_never_raises_whatever_the_headers_hold(headers, body):
    entry = describe(delivery(body, headers), CONFIG, NOW)
    assert entry.death_key
    assert entry.fingerprint
    assert entry.failure.source_queue


def test_the_worker_reads_no_replay_id_from_non_ascii_digits():
    from hub.core.runtime.worker import _replay_of

    assert _replay_of({h.REPLAY_OF: "¹²"}) is None  # str.isdigit() says yes, int() refuses
    assert _replay_of({h.REPLAY_OF: "12"}) == 12
