"""The Individual Number type: the ordinance's check digit, and secrecy everywhere it could leak."""

import json
import logging
import pickle
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, ValidationError

from contracts.individual_number import (
    IndividualNumber,
    check_digit,
    is_valid_individual_number,
    synthetic_individual_number,
)
from contracts.redaction import find_numbers

# Synthetic vectors from the reference (not real numbers).
VECTORS = {"12345678901": 8, "00000000000": 0, "11111111111": 8, "98765432109": 3, "31415926535": 2}


@pytest.mark.parametrize(("base", "digit"), VECTORS.items())
def test_check_digit_matches_the_ordinance_vectors(base, digit):
    assert check_digit(base) == digit


def test_right_to_left_definition_agrees_with_left_to_right_weights():
    rng = random.Random(7)
    for _ in range(2_000):
        base = "".join(rng.choice("0123456789") for _ in range(11))
        total = sum(int(base[-n]) * (n + 1 if n <= 6 else n - 5) for n in range(1, 12))
        expected = 0 if total % 11 <= 1 else 11 - total % 11
        assert check_digit(base) == expected


@pytest.mark.parametrize(
    "bad", ["12345678901", "1234567890123", "12345678901a", "１２３４５６７８９０１８", "123456789019", ""]
)
def test_only_twelve_ascii_digits_with_a_valid_check_digit_pass(bad):
    assert not is_valid_individual_number(bad)
    with pytest.raises(ValueError, match="check digit") as info:
        IndividualNumber(bad)
    assert bad == "" or bad not in str(info.value)


def test_the_number_never_shows_its_digits(caplog):
    number = IndividualNumber("123456789018")
    for text in (
        repr(number),
        str(number),
        f"{number}",
        f"{number!r}",
        "%s" % number,  # noqa: UP031 - %-formatting is one of the ways a number could leak
        json.dumps(str(number)),
    ):
        assert "123456789018" not in text
    with caplog.at_level(logging.INFO):
        logging.getLogger("t").info("number %s", number)
    assert "123456789018" not in caplog.text
    assert number.reveal() == "123456789018"
    with pytest.raises(TypeError):
        pickle.dumps(number)


class _Holder(BaseModel):
    model_config = ConfigDict(hide_input_in_errors=True)
    number: IndividualNumber


def test_pydantic_validation_errors_never_quote_the_input():
    with pytest.raises(ValidationError) as info:
        _Holder.model_validate({"number": "123456789019"})
    assert "123456789019" not in str(info.value)
    assert "check digit" in str(info.value)


def test_a_number_refuses_to_be_serialised():
    holder = _Holder.model_validate({"number": "123456789018"})
    with pytest.raises(Exception, match="never serialised"):
        holder.model_dump_json()


@given(st.integers(min_value=0, max_value=10**11 - 1))
def test_every_base_has_exactly_one_valid_check_digit(base):
    text = f"{base:011d}"
    valid = [d for d in range(10) if is_valid_individual_number(text + str(d))]
    assert valid == [check_digit(text)]


def test_finder_sees_ascii_and_full_width_numbers_but_not_longer_runs():
    number = synthetic_individual_number(random.Random(1)).reveal()
    full = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    text = f"a {number} b {full} c 9{number}"
    assert len(find_numbers(text)) == 2
