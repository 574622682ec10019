"""No text field of any contract can carry an Individual Number in plain text.

Numbers travel only in their sealed fields. Every field that holds free text (names, addresses, remarks,
a counterpart's message, the legal basis) refuses a 12-digit run with a valid check digit, ASCII or
full-width, on its own or inside other text. Identifiers are the one exception, on purpose: they are
hex or decimal by construction (a file name holds a 32-hex-digit id), so twelve decimal digits with a
valid check digit turn up inside a good one about once in a thousand; their patterns refuse spaces,
kana, kanji and full-width digits, and a record id that *is* twelve such digits is refused. The test walks
every model reachable from the registry and the envelope, so that a field added later without its guard
fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, get_args

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from contracts.envelope import Envelope
from contracts.individual_number import synthetic_individual_number
from contracts.messages.eltax import PaymentReportPayer
from contracts.registry import registered
from contracts.sealing import SEALED_PATTERN
from contracts.usage_number import UsageNumber, UsageNumberKind

_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
NUMBER = synthetic_individual_number().reveal()
CARRIERS = {
    "bare": NUMBER,
    "after a letter": f"A{NUMBER}",
    "in Japanese text": f"山田{NUMBER}様",
    "full-width": NUMBER.translate(_FULL_WIDTH),
    "after a space": f"tel {NUMBER}",
}
GUARDED_BY_A_VALIDATOR = {"UsageNumber.value", "PaymentReportPayer.phone"}
"""Fields whose guard is a field validator of their model (tested below), not part of their type."""
IDENTIFIERS = {"batch_id", "submission", "source_file", "record_id", "provision_id", "query_ref"}
IDENTIFIERS |= {"jimu_code", "dataset_item_code"}
"""Field names of identifiers (see the module docstring): only text around a number is refused."""
WHOLE_VALUE_CHECKED = {"record_id", "provision_id"}
"""Identifiers that also refuse being a number themselves (レコード識別番号, 提供記録番号)."""


def _types(annotation: Any) -> Iterator[Any]:
    yield annotation
    for argument in get_args(annotation):
        yield from _types(argument)


def _models(root: type[BaseModel], seen: set[type[BaseModel]]) -> Iterator[type[BaseModel]]:
    if root in seen:
        return
    seen.add(root)
    yield root
    for field in root.model_fields.values():
        for t in _types(field.annotation):
            if isinstance(t, type) and issubclass(t, BaseModel):
                yield from _models(t, seen)


def _text_fields() -> list[tuple[str, TypeAdapter[Any]]]:
    seen: set[type[BaseModel]] = set()
    found = []
    roots: list[type[BaseModel]] = [Envelope, *(model for _, model in registered())]
    for root in roots:
        for model in _models(root, seen):
            for name, field in model.model_fields.items():
                if not any(t is str for t in _types(field.annotation)):
                    continue
                if any(getattr(m, "pattern", None) == SEALED_PATTERN for m in field.metadata):
                    continue  # a sealed number: ciphertext, the one place a number may travel
                assert field.annotation is not None, f"{model.__name__}.{name} has a type"
                # Built at run time for pydantic: no static type describes it.
                annotated: Any = (
                    Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation
                )
                found.append((f"{model.__name__}.{name}", TypeAdapter(annotated)))
    return found


TEXT_FIELDS = _text_fields()
TYPED_FIELDS = [
    (name, adapter)
    for name, adapter in TEXT_FIELDS
    if name not in GUARDED_BY_A_VALIDATOR and name.split(".")[1] not in IDENTIFIERS
]
IDENTIFIER_FIELDS = [(name, adapter) for name, adapter in TEXT_FIELDS if name.split(".")[1] in IDENTIFIERS]


def test_the_walk_finds_the_text_fields():
    names = {name for name, _ in TEXT_FIELDS}
    assert len(names) > 50
    assert {
        "BasicInfo.name",
        "LegalBasis.law",
        "ChunkInfo.batch_id",
        "IsDuplicateResultRecord.message_ja",
    } <= names


@pytest.mark.parametrize(("name", "adapter"), TYPED_FIELDS, ids=[name for name, _ in TYPED_FIELDS])
def test_no_text_field_takes_a_number(name, adapter):
    taken = []
    for carrier, text in CARRIERS.items():
        try:
            adapter.validate_python(text)
        except ValidationError:
            continue  # refused (the models hide the input in their errors: test_individual_number.py)
        else:
            taken.append(carrier)
    assert not taken, f"{name} takes an Individual Number ({', '.join(taken)})"


@pytest.mark.parametrize(("name", "adapter"), IDENTIFIER_FIELDS, ids=[name for name, _ in IDENTIFIER_FIELDS])
def test_identifiers_take_no_text_around_a_number(name, adapter):
    refused = ["in Japanese text", "full-width", "after a space"]
    if name.split(".")[1] in WHOLE_VALUE_CHECKED:
        refused.append("bare")
    for carrier in refused:
        with pytest.raises(ValidationError):
            adapter.validate_python(CARRIERS[carrier])


@pytest.mark.parametrize("text", list(CARRIERS.values())[:2], ids=list(CARRIERS)[:2])
def test_usage_numbers_refuse_a_number(text):
    with pytest.raises(ValidationError):
        UsageNumber(kind=UsageNumberKind.BASIC_PENSION, value=text)


def test_the_payers_phone_refuses_a_number_but_takes_a_phone_number():
    with pytest.raises(ValidationError):
        PaymentReportPayer(name="年金連合会", address="東京都千代田区", phone=NUMBER)
    payer = PaymentReportPayer(name="年金連合会", address="東京都千代田区", phone="03-1234-5678")
    assert payer.phone == "03-1234-5678"


@pytest.mark.parametrize(
    "text",
    [
        "123456789012",  # twelve digits, but 2 is not the check digit of 12345678901 (8 is)
        "1234567890123",  # thirteen digits: not a number's form
        "山田 太郎",
        "第30条の9",
    ],
)
def test_text_without_a_number_is_taken(text):
    adapter = dict(TEXT_FIELDS)["IsDuplicateResultRecord.message_ja"]
    assert adapter.validate_python(text) == text
