"""Spouses in the synthetic register: every tenth person, known to the pension system by a dependant key."""

from __future__ import annotations

from adapters.jlis import SyntheticPopulation
from contracts.usage_number import UsageNumber, UsageNumberKind

POPULATION = SyntheticPopulation(100, seed=3)


def test_every_tenth_person_is_a_spouse_keyed_by_a_dependant_key() -> None:
    spouses = [i for i in range(100) if POPULATION.is_spouse(i)]
    assert spouses == list(range(9, 100, 10))
    key = POPULATION.spouse_usage_number(19)
    assert key == UsageNumber(kind=UsageNumberKind.DEPENDANT, value="S0000000019")
    assert POPULATION.roster_usage_number(19) == key
    assert POPULATION.roster_usage_number(18) == POPULATION.usage_number(18)


def test_both_keys_lead_back_to_the_person() -> None:
    assert POPULATION.index_of_usage_number(POPULATION.spouse_usage_number(29)) == 29
    assert POPULATION.index_of_usage_number(POPULATION.usage_number(29)) == 29
    # The letter and the kind must agree, and the index must be in the register.
    wrong_kind = UsageNumber(kind=UsageNumberKind.PENSION_CERTIFICATE, value="S0000000029")
    assert POPULATION.index_of_usage_number(wrong_kind) is None
    beyond = UsageNumber(kind=UsageNumberKind.DEPENDANT, value="S0000000100")
    assert POPULATION.index_of_usage_number(beyond) is None
