"""What erasure does to a stored body: sealed values go; an erased person's records lose their text."""

from __future__ import annotations

import json
from collections.abc import Mapping

from hub.core.rules.erasure import ERASED, scrub_body, scrub_text, strip_sealed

SEALED_V1 = "sealed:v1:hub:hub-1:" + "A" * 60
SEALED_V2 = "sealed:v2:eltax:k2:" + "B" * 40 + ":" + "C" * 30
ERASED_P = {("pension_certificate", "P0000000001"): "erasure-a", ("dependant", "D0000000001-1"): "erasure-b"}


def envelope(payload: Mapping[str, object]) -> bytes:
    return json.dumps(
        {"message_id": "m-1", "message_type": "pension.dependants_declaration.submitted", "payload": payload},
        ensure_ascii=False,
    ).encode()


def test_every_sealed_value_of_any_version_is_destroyed() -> None:
    body = f'{{"a": "{SEALED_V1}", "b": ["{SEALED_V2}"], "c": "sealed:v1:x"}}'.encode()
    stripped, count = strip_sealed(body)
    assert count == 3
    assert b"sealed:" not in stripped
    assert json.loads(stripped) == {"a": ERASED, "b": [ERASED], "c": ERASED}


def test_the_records_naming_an_erased_person_lose_their_text_and_the_others_keep_theirs() -> None:
    payload = {
        "batch_id": "dec-1",
        "records": [
            {
                "record_seq": 1,
                "declarant": {"kind": "pension_certificate", "value": "P0000000009"},
                "dependants": [
                    {
                        "dependant_seq": 1,
                        "usage_number": {"kind": "dependant", "value": "D0000000001-1"},
                        "relation": "child",
                        "individual_number": SEALED_V1,
                    },
                    {
                        "dependant_seq": 2,
                        "usage_number": {"kind": "dependant", "value": "D0000000001-2"},
                        "relation": "parent",
                        "individual_number": SEALED_V2,
                    },
                ],
            },
            {
                "record_seq": 2,
                "declarant": {"kind": "pension_certificate", "value": "P0000000001"},
                "name": "山田",
            },
        ],
    }
    result = scrub_body(envelope(payload), usage=ERASED_P, atena={})
    doc = json.loads(result.body)
    first, second = doc["payload"]["records"]
    erased_dependant, other = first["dependants"]
    assert erased_dependant == {
        "dependant_seq": 1,
        "usage_number": {"kind": ERASED, "value": ERASED},
        "relation": ERASED,
        "individual_number": ERASED,
    }
    assert other["usage_number"]["value"] == "D0000000001-2"  # someone else: kept, but not their sealed value
    assert other["individual_number"] == ERASED
    assert first["declarant"]["value"] == "P0000000009"
    assert second == {"record_seq": 2, "declarant": {"kind": ERASED, "value": ERASED}, "name": ERASED}
    assert doc["message_id"] == "m-1"  # the envelope still says what failed
    assert (result.sealed, result.records, result.people) == (2, 2, {"erasure-a", "erasure-b"})


def test_an_atena_number_names_its_person_and_a_message_tied_to_one_loses_its_whole_payload() -> None:
    payload = {"records": [{"record_seq": 0, "atena_no": "123456789012345", "individual_number": SEALED_V1}]}
    named = scrub_body(envelope(payload), usage={}, atena={"123456789012345": "erasure-c"})
    assert json.loads(named.body)["payload"]["records"][0]["atena_no"] == ERASED
    assert named.people == {"erasure-c"}
    anonymous = {"records": [{"record_seq": 0, "ref": "r_abcdefgh", "name": "佐藤"}], "cycle": "2027-02"}
    whole = scrub_body(envelope(anonymous), usage={}, atena={}, whole=True)
    assert json.loads(whole.body)["payload"] == {
        "records": [{"record_seq": 0, "ref": ERASED, "name": ERASED}],
        "cycle": ERASED,
    }
    untouched = scrub_body(envelope(anonymous), usage={}, atena={})
    assert not untouched.changed
    assert untouched.body == envelope(anonymous)


def test_a_body_that_is_not_json_is_destroyed_when_it_names_an_erased_person() -> None:
    raw = f"P0000000001,{SEALED_V1},山田".encode() + b"\xff"
    result = scrub_body(raw, usage=ERASED_P, atena={})
    assert (result.body, result.destroyed, result.people) == (b"", True, {"erasure-a"})
    other = scrub_body(b"P0000000002,x\xff", usage=ERASED_P, atena={})
    assert other.body == b"P0000000002,x\xff"
    assert not other.changed


def test_reason_texts_lose_the_erased_usage_numbers() -> None:
    text = "usage number P0000000001 is linked to another number; P00000000010 is not"
    assert scrub_text(text, {"P0000000001": "erasure-a"}) == (
        f"usage number {ERASED} is linked to another number; P00000000010 is not"
    )
