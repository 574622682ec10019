"""The synthetic population and the simulated J-LIS: numbers, outcome rates, determinism, bounded memory."""

from __future__ import annotations

import gc
import math
import random
import tracemalloc
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import pytest

from adapters.jlis import (
    BatchHeader,
    JlisFileError,
    JlisSimulator,
    PersonOutcome,
    Rates,
    RequestFile,
    RequestRecord,
    SyntheticPopulation,
    cycle_window,
    parse_result,
    request_file_name,
    result_file_name,
    write_request,
)
from adapters.jlis._names import MUNICIPALITIES
from contracts.individual_number import IndividualNumber, check_digit, is_valid_individual_number
from contracts.link import CounterpartFile
from contracts.messages.survival import MoveKind, SurvivalOutcome, UnmatchedReason
from contracts.usage_number import UsageNumber, UsageNumberKind

CYCLE = "2025-10"
EPOCH = date(2025, 8, 1)  # the start of CYCLE's window: the window is exactly one cycle after the epoch
MILLION = 1_000_000
HIGH = Rates(
    relocation=0.02,
    moved_in=0.015,
    moved_out_pending=0.01,
    moved_abroad=0.005,
    name_change=0.01,
    number_change=0.01,
    abroad=0.01,
    no_resident_code=0.008,
    not_connected=0.005,
)


def request(numbers: list[IndividualNumber], *, request_id: uuid.UUID | None = None) -> CounterpartFile:
    rid = request_id or uuid.uuid4()
    header = BatchHeader(rid, "b1", 0, 1, len(numbers), CYCLE, date(2025, 9, 20))
    records = tuple(RequestRecord(i, f"ref_{i:08d}", n) for i, n in enumerate(numbers))
    return CounterpartFile(
        "jlis", request_file_name(rid), write_request(RequestFile(header, records)), str(rid)
    )


# -- numbers ----------------------------------------------------------------------------------------


def test_numbers_are_valid_unique_and_invertible_over_a_million_people() -> None:
    pop = SyntheticPopulation(MILLION, seed=3)
    indexes = [0, 1, MILLION - 1, *random.Random(5).sample(range(MILLION), 50_000)]
    seen: set[str] = set()
    for index in indexes:
        first, second = pop.individual_number(index), pop.individual_number(index, 1)
        digits = first.reveal()
        assert is_valid_individual_number(digits)
        assert int(digits[11]) == check_digit(digits[:11])
        assert pop.locate(first) == (index, 0)
        assert pop.locate(second) == (index, 1)
        seen.add(digits)
        seen.add(second.reveal())
    assert len(seen) == 2 * len(set(indexes))


def test_numbers_outside_the_population_are_unknown() -> None:
    pop = SyntheticPopulation(1_000, seed=3)
    bigger = SyntheticPopulation(MILLION, seed=3)
    assert bigger.individual_number(5) == pop.individual_number(5)  # same seed, same people
    for index in (1_000, 1_001, 500_000, MILLION - 1):
        stranger = bigger.individual_number(index)
        assert pop.locate(stranger) is None
        answer = pop.answer(stranger, CYCLE)
        assert answer.outcome is SurvivalOutcome.NOT_FOUND
        assert answer.unmatched_reason is UnmatchedReason.NUMBER_UNKNOWN
    rng = random.Random(9)
    for _ in range(200):
        base = f"{rng.randrange(10**11):011d}"
        assert pop.locate(IndividualNumber(base + str(check_digit(base)))) is None
    with pytest.raises(IndexError):
        pop.individual_number(1_000)


def test_the_simulator_never_answers_for_a_stranger() -> None:
    pop = SyntheticPopulation(1_000, seed=3)
    strangers = [SyntheticPopulation(5_000, seed=3).individual_number(i) for i in range(4_000, 4_010)]
    (answer,) = JlisSimulator(pop).handle(request(strangers))
    records = parse_result(answer.content).records
    assert {(r.outcome, r.unmatched_reason) for r in records} == {
        (SurvivalOutcome.NOT_FOUND, UnmatchedReason.NUMBER_UNKNOWN)
    }


def test_usage_numbers_and_people_are_derived_and_plausible() -> None:
    pop = SyntheticPopulation(MILLION, seed=3, epoch=EPOCH)
    assert pop.usage_number(42) == UsageNumber(kind=UsageNumberKind.PENSION_CERTIFICATE, value="P0000000042")
    assert pop.index_of_usage_number(pop.usage_number(MILLION - 1)) == MILLION - 1
    assert (
        pop.index_of_usage_number(UsageNumber(kind=UsageNumberKind.PENSION_CERTIFICATE, value="P9999999999"))
        is None
    )
    assert (
        pop.index_of_usage_number(UsageNumber(kind=UsageNumberKind.BASIC_PENSION, value="P0000000042"))
        is None
    )
    ages, names = [], set()
    for index in range(0, MILLION, 997):
        person = pop.person(index)
        assert person.individual_number == pop.individual_number(index)
        assert person.usage_number == pop.usage_number(index)
        assert any(person.address.startswith(m.name) for m in MUNICIPALITIES)
        assert person.municipality_code in {m.code for m in MUNICIPALITIES}
        assert len(person.postal_code) == 7
        assert person.postal_code.isdigit()
        assert "\u3000" in person.name
        ages.append((EPOCH - person.birth_date).days / 365.2425)
        names.add(person.name)
    assert 59.99 <= min(ages) < 62
    assert 95 < max(ages) <= 100
    assert 72 < sum(ages) / len(ages) < 78
    assert len(names) > 300


# -- outcomes ---------------------------------------------------------------------------------------


def _band(observed: int, total: int, rate: float) -> None:
    """``observed`` of ``total`` is within five standard deviations of ``rate`` (plus a little slack)."""
    expected = total * rate
    assert abs(observed - expected) <= 5 * math.sqrt(expected * (1 - rate)) + 3, (observed, expected)


def test_outcome_distribution_over_100k_people() -> None:
    pop = SyntheticPopulation(100_000, seed=21, rates=HIGH, epoch=EPOCH)
    outcomes = [pop.expected_outcome(i, CYCLE) for i in range(pop.size)]
    counts = Counter(
        (o.outcome, o.move_kind or o.unmatched_reason) for o in outcomes
    )  # (outcome, detail) pairs
    total = pop.size
    _band(counts[SurvivalOutcome.NOT_FOUND, UnmatchedReason.ABROAD], total, HIGH.abroad)
    _band(counts[SurvivalOutcome.NOT_FOUND, UnmatchedReason.NO_RESIDENT_CODE], total, HIGH.no_resident_code)
    _band(
        counts[SurvivalOutcome.NOT_FOUND, UnmatchedReason.NOT_CONNECTED_MUNICIPALITY],
        total,
        HIGH.not_connected,
    )
    assert counts[SurvivalOutcome.NOT_FOUND, UnmatchedReason.NUMBER_UNKNOWN] == 0
    matched = total - sum(v for (o, _), v in counts.items() if o is SurvivalOutcome.NOT_FOUND)
    dead = counts[SurvivalOutcome.DEAD, None]
    assert 0.005 <= dead / matched <= 0.009  # Gompertz, ages 60-100: about 0.7 % in a two-month cycle
    alive = matched - dead
    _band(counts[SurvivalOutcome.NUMBER_CHANGED, None], alive, HIGH.number_change)
    rest = alive - counts[SurvivalOutcome.NUMBER_CHANGED, None]
    _band(counts[SurvivalOutcome.MOVED, MoveKind.RELOCATION], rest, HIGH.relocation)
    _band(counts[SurvivalOutcome.MOVED, MoveKind.MOVED_IN], rest, HIGH.moved_in)
    _band(counts[SurvivalOutcome.MOVED, MoveKind.MOVED_OUT_PENDING], rest, HIGH.moved_out_pending)
    _band(counts[SurvivalOutcome.MOVED, MoveKind.MOVED_ABROAD], rest, HIGH.moved_abroad)
    _band(counts[SurvivalOutcome.NAME_CHANGED, None], rest, HIGH.name_change)
    start, end = cycle_window(CYCLE)
    for o in outcomes:
        for day in (o.death_date, o.moved_on, o.name_changed_on):
            assert day is None or start <= day < end


def test_default_rates_give_a_realistic_death_rate_and_few_events() -> None:
    pop = SyntheticPopulation(100_000, seed=22, epoch=EPOCH)
    counts = Counter(pop.expected_outcome(i, CYCLE).outcome for i in range(pop.size))
    assert 0.005 <= counts[SurvivalOutcome.DEAD] / pop.size <= 0.01
    assert counts[SurvivalOutcome.ALIVE] / pop.size > 0.97
    hub_only = {SurvivalOutcome.NO_NUMBER, SurvivalOutcome.NOT_PERMITTED}  # the hub's answers, never J-LIS's
    assert all(counts[o] > 0 for o in SurvivalOutcome if o not in hub_only)


def test_death_persists_and_dates_stay() -> None:
    pop = SyntheticPopulation(20_000, seed=4, epoch=EPOCH)
    start, end = cycle_window(CYCLE)
    index = next(i for i in range(pop.size) if pop.expected_outcome(i, CYCLE).outcome is SurvivalOutcome.DEAD)
    died = pop.expected_outcome(index, CYCLE).death_date
    assert died is not None
    assert start <= died < end
    for later in ("2025-12", "2026-02", "2027-10"):
        assert pop.expected_outcome(index, later) == pop.expected_outcome(index, CYCLE)
    assert pop.expected_outcome(index, "2025-08").outcome is not SurvivalOutcome.DEAD


def test_a_number_change_is_reported_to_the_old_number_and_the_new_one_works_after() -> None:
    pop = SyntheticPopulation(20_000, seed=4, rates=HIGH, epoch=EPOCH)
    index = next(
        i for i in range(pop.size) if pop.expected_outcome(i, CYCLE).outcome is SurvivalOutcome.NUMBER_CHANGED
    )
    new = pop.individual_number(index, 1)
    assert pop.expected_outcome(index, CYCLE).new_individual_number == new
    assert (
        pop.expected_outcome(index, "2025-12").outcome is SurvivalOutcome.NUMBER_CHANGED
    )  # still the old one
    after = pop.answer(new, "2025-12")
    assert after.outcome is not SurvivalOutcome.NUMBER_CHANGED
    assert after.unmatched_reason is not UnmatchedReason.NUMBER_UNKNOWN
    before = pop.answer(new, "2025-08")  # the new number was not issued yet
    assert before.unmatched_reason is UnmatchedReason.NUMBER_UNKNOWN


def test_cycle_windows() -> None:
    assert cycle_window("2025-10") == (date(2025, 8, 1), date(2025, 10, 1))
    assert cycle_window("2025-02") == (date(2024, 12, 1), date(2025, 2, 1))
    for bad in ("2025-13", "2025-00", "202510", "2025/10"):
        with pytest.raises(ValueError, match=r"month|cycle"):
            cycle_window(bad)


def test_rates_are_checked() -> None:
    with pytest.raises(ValueError, match="probabilities"):
        Rates(relocation=0.8, moved_in=0.3)
    with pytest.raises(ValueError, match="probabilities"):
        Rates(abroad=-0.1)


# -- determinism ------------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_people_and_answers() -> None:
    one, two = (
        SyntheticPopulation(10_000, seed=8, rates=HIGH),
        SyntheticPopulation(10_000, seed=8, rates=HIGH),
    )
    other = SyntheticPopulation(10_000, seed=9, rates=HIGH)
    for index in range(0, 10_000, 37):
        assert one.person(index) == two.person(index)
        assert one.expected_outcome(index, CYCLE) == two.expected_outcome(index, CYCLE)
    assert sum(one.individual_number(i) == other.individual_number(i) for i in range(100)) == 0
    answers = [one.expected_outcome(i, CYCLE) for i in range(2_000)]
    assert answers != [other.expected_outcome(i, CYCLE) for i in range(2_000)]
    assert answers != [one.expected_outcome(i, "2025-12") for i in range(2_000)]  # cycles differ


def test_the_simulator_answers_deterministically_and_counts_fees() -> None:
    pop = SyntheticPopulation(10_000, seed=8, rates=HIGH)
    sim = JlisSimulator(pop, fee_units_per_record=3)
    first = request([pop.individual_number(i) for i in range(3)])
    second = request([pop.individual_number(i) for i in range(100, 105)])
    (a,) = sim.handle(first)
    (b,) = sim.handle(first)
    assert a == b
    assert a.name == result_file_name(uuid.UUID(first.correlation_id))
    assert a.correlation_id == first.correlation_id
    sim.handle(second)
    assert sim.fee_units == 3 * (3 + 3 + 5)
    assert sim.records_answered == 11
    parsed = parse_result(a.content)
    assert parsed.fee_units == 9
    assert [r.outcome for r in parsed.records] == [pop.expected_outcome(i, CYCLE).outcome for i in range(3)]


def test_the_simulator_refuses_files_that_are_not_requests() -> None:
    pop = SyntheticPopulation(100, seed=8)
    good = request([pop.individual_number(0)])
    with pytest.raises(JlisFileError):
        JlisSimulator(pop).handle(replace(good, name="JLIS-SVR1-" + "0" * 32 + ".dat"))
    with pytest.raises(JlisFileError):
        JlisSimulator(pop).handle(
            replace(good, name=request_file_name(uuid.uuid4()))
        )  # header says otherwise


# -- memory -----------------------------------------------------------------------------------------


def _containers(obj: object) -> Iterator[tuple[str, int]]:
    for cls in type(obj).__mro__:
        for name in getattr(cls, "__slots__", ()):
            value = getattr(obj, name, None)
            if isinstance(value, list | dict | set | tuple | bytes | bytearray):
                yield name, len(value)


def test_simulator_and_population_hold_no_per_person_state() -> None:
    pop = SyntheticPopulation(MILLION, seed=2)
    sim = JlisSimulator(pop)
    assert not hasattr(pop, "__dict__")
    assert not hasattr(sim, "__dict__")
    before = dict(_containers(pop))
    sim.handle(request([pop.individual_number(i) for i in range(0, MILLION, 200)]))  # 5,000 records
    after = dict(_containers(pop))
    assert before == after
    assert all(size <= 64 for size in after.values()), after
    assert all(size <= 64 for _, size in _containers(sim))


def _outcomes_alive() -> int:
    return sum(isinstance(o, PersonOutcome) for o in gc.get_objects())


def test_answering_100k_records_keeps_nothing_per_person() -> None:
    pop = SyntheticPopulation(MILLION, seed=2)
    before, containers = _outcomes_alive(), dict(_containers(pop))
    numbers = (pop.individual_number(i) for i in range(0, MILLION, 10))  # 100,000, made lazily
    kinds = Counter(answer.outcome for answer in pop.answers(numbers, CYCLE))
    assert sum(kinds.values()) == 100_000
    assert _outcomes_alive() - before <= 2  # the shared "number unknown" answer, nothing per person
    assert dict(_containers(pop)) == containers


def test_a_lazy_pass_over_answers_has_a_flat_memory_profile() -> None:
    pop = SyntheticPopulation(MILLION, seed=2)
    numbers = (pop.individual_number(i) for i in range(0, MILLION, 50))  # 20,000 (tracemalloc is slow)
    tracemalloc.start()
    try:
        baseline, _ = tracemalloc.get_traced_memory()
        answered = sum(1 for _ in pop.answers(numbers, CYCLE))
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answered == 20_000
    # 20,000 kept answers would take megabytes; a lazy pass stays within a few hundred kilobytes.
    assert peak - baseline < 500_000
    assert current - baseline < 50_000
