"""Identifiers never look like Individual Numbers."""

import uuid

from hypothesis import given
from hypothesis import strategies as st

from contracts.ids import looks_like_a_number, new_id, random_letters, stable_id
from contracts.individual_number import check_digit

NS = uuid.UUID("6f0d1a52-6c1e-4b7e-9f2a-000000000001")


def _number_like_uuid() -> uuid.UUID:
    base = "12345678901"
    return uuid.UUID(f"0a0b0c0d-0e0f-4a1b-8c2d-{base}{check_digit(base)}")


def test_the_detector_sees_a_number_in_the_last_group():
    assert looks_like_a_number(_number_like_uuid())
    assert not looks_like_a_number(uuid.UUID("0a0b0c0d-0e0f-4a1b-8c2d-0a0b0c0d0e0f"))


def test_random_ids_never_look_like_numbers():
    assert not any(looks_like_a_number(new_id()) for _ in range(20_000))


@given(st.text(min_size=0, max_size=40))
def test_stable_ids_are_deterministic_and_clean(name):
    first = stable_id(NS, name)
    assert first == stable_id(NS, name)
    assert not looks_like_a_number(first)


def test_stable_ids_step_over_number_like_candidates():
    # Search names until plain uuid5 looks like a number, then check the stable id differs and is clean.
    for i in range(200_000):
        name = f"n{i}"
        if looks_like_a_number(uuid.uuid5(NS, name)):
            assert stable_id(NS, name) != uuid.uuid5(NS, name)
            assert not looks_like_a_number(stable_id(NS, name))
            return
    raise AssertionError("no number-like uuid5 in 200,000 names: the detector is broken")


def test_random_letters_have_no_digits():
    assert random_letters().isalpha()
    assert len(random_letters(40)) == 40
