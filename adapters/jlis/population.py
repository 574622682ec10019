"""A synthetic population of pension recipients that scales to millions with bounded memory.

Nobody is stored: every fact about person ``index`` is derived from ``(seed, index)``, and every event in
a cycle from ``(seed, index, cycle)``, through a keyed BLAKE2b hash. So the population costs the same memory
for ten people as for ten million, and :meth:`SyntheticPopulation.expected_outcome` is a pure function that
tests call to know what the simulator must answer.

Individual Numbers come from an invertible map of the index (:mod:`adapters.jlis._numbers`): the number
of a person is computed, and a number is traced back to its person, without any table. Generation 0 is
the number a person starts with; generation 1 the number after a change (番号法 第7条第2項).

What persists and what does not:

* persistent per person: age, sex, name, address, being unmatched (abroad, no 住民票コード, a municipality
  not connected to 住基ネット), the date of death (Gompertz mortality from the epoch on) and the date of a
  number change (rare; after it, the old number is answered with ``number_changed`` every cycle, and the
  new number is unknown before it);
* per cycle, independent from one cycle to the next: moves (転居, 転出→転入, 転出 in flight, 国外転出)
  and name changes. A move does not change the address reported for the person in later cycles.

A cycle ``YYYY-MM`` is the payment month; its window is the two months before it (the 2025-10 cycle covers
events from 2025-08-01 to 2025-09-30).

Queries by 4情報 (number acquisition, with several-candidate matches on three-item queries and records
without a 住民票コード) are answered from a register of its own, :mod:`adapters.jlis.register`. Spouses
(every tenth person) are also known to the pension system by a dependant key (:meth:`SyntheticPopulation.
spouse_usage_number`), with which the survival inquiry asks about them.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from adapters.jlis._names import ABROAD, MUNICIPALITIES, Municipality, compose_address, compose_name
from adapters.jlis._numbers import GENERATIONS, NumberMap
from adapters.jlis.wire import OutcomeFacts
from contracts.individual_number import IndividualNumber
from contracts.messages.survival import MoveKind, SurvivalOutcome, UnmatchedReason
from contracts.usage_number import UsageNumber, UsageNumberKind

__all__ = ["PersonOutcome", "Rates", "SyntheticPerson", "SyntheticPopulation", "cycle_window"]

_EIGHT: Final = struct.Struct(">8Q")
_KEYED: Final = struct.Struct(">QI")
_SCALE: Final = 2.0**-64
_DAYS_PER_YEAR: Final = 365.2425
_DAYS_PER_CYCLE: Final = _DAYS_PER_YEAR / 6
MAX_SIZE: Final = 10**9
SPOUSE_EVERY: Final = 10
_USAGE_PREFIX: Final = {UsageNumberKind.PENSION_CERTIFICATE: "P", UsageNumberKind.DEPENDANT: "S"}
"""The letter before the ten digits of the index in each kind of usage number the population hands out."""


@dataclass(frozen=True, slots=True)
class Rates:
    """How often things happen. Per-cycle rates are probabilities per two-month cycle.

    Attributes:
        mortality_at_60: the yearly death hazard at age 60 (Gompertz ``a * exp(b * 60)``).
        mortality_growth: Gompertz ``b``, per year of age (0.095: the hazard doubles every 7.3 years).
        relocation, moved_in, moved_out_pending, moved_abroad: per-cycle rates of each kind of move.
        name_change: per-cycle rate of a name change (marriage, adoption).
        number_change: per-cycle rate of a new Individual Number.
        abroad, no_resident_code, not_connected: shares of people J-LIS cannot answer for, ever.
    """

    mortality_at_60: float = 0.005
    mortality_growth: float = 0.095
    relocation: float = 0.004
    moved_in: float = 0.003
    moved_out_pending: float = 0.001
    moved_abroad: float = 0.0002
    name_change: float = 0.0005
    number_change: float = 0.0001
    abroad: float = 0.002
    no_resident_code: float = 0.001
    not_connected: float = 0.0005

    def __post_init__(self) -> None:
        moves = self.relocation + self.moved_in + self.moved_out_pending + self.moved_abroad
        unmatched = self.abroad + self.no_resident_code + self.not_connected
        rates = (self.mortality_at_60, self.number_change, moves + self.name_change, unmatched)
        if any(not 0.0 <= r <= 1.0 for r in rates) or self.mortality_growth < 0:
            raise ValueError("rates are probabilities: each and each sum between 0 and 1")


@dataclass(frozen=True, slots=True)
class SyntheticPerson:
    """The lasting facts of one synthetic person (4情報, numbers), made on demand and never kept."""

    index: int
    usage_number: UsageNumber
    individual_number: IndividualNumber
    name: str
    female: bool
    birth_date: date
    address: str
    postal_code: str
    municipality_code: str


@dataclass(frozen=True, slots=True)
class PersonOutcome(OutcomeFacts):
    """What J-LIS answers for a person in a cycle: the result file's data record without seq and ref."""

    outcome: SurvivalOutcome


def cycle_window(cycle: str) -> tuple[date, date]:
    """The ``[start, end)`` dates of a cycle's window: the two months before the payment month ``YYYY-MM``.

    Raises:
        ValueError: ``cycle`` is not ``YYYY-MM``.
    """
    if len(cycle) != 7 or cycle[4] != "-" or not (cycle[:4] + cycle[5:]).isdigit():
        raise ValueError("a cycle is YYYY-MM")
    year, month = int(cycle[:4]), int(cycle[5:])
    end = date(year, month, 1)
    start_month = year * 12 + month - 1 - 2
    return date(start_month // 12, start_month % 12 + 1, 1), end


def _ordinal(cycle: str) -> int:
    """The month number of a (valid) cycle ``YYYY-MM``: distinct per cycle, keys the per-cycle draws."""
    return int(cycle[:4]) * 12 + int(cycle[5:])


_UNKNOWN: Final = PersonOutcome(SurvivalOutcome.NOT_FOUND, unmatched_reason=UnmatchedReason.NUMBER_UNKNOWN)


class SyntheticPopulation:
    """``size`` synthetic people, derived from ``seed``; holds no per-person state.

    Args:
        size: the number of people, indexes ``0 .. size - 1``.
        seed: makes a different, equally reproducible population.
        rates: how often things happen.
        epoch: the day from which deaths and number changes are drawn (everyone is alive then).
    """

    __slots__ = ("_key", "_numbers", "epoch", "rates", "seed", "size")

    def __init__(
        self, size: int, *, seed: int = 0, rates: Rates | None = None, epoch: date | None = None
    ) -> None:
        if not 1 <= size <= MAX_SIZE:
            raise ValueError("a population has between one and a billion people")
        self.size = size
        self.seed = seed
        self.rates = rates or Rates()
        self.epoch = epoch or date(2025, 4, 1)
        self._key = hashlib.sha256(f"renkei.jlis.population/{seed}".encode()).digest()
        draws = self._uniforms(b"numbers", 0)
        self._numbers = NumberMap(size, draws[0], draws[1])

    # -- numbers -------------------------------------------------------------------------------------

    def individual_number(self, index: int, generation: int = 0) -> IndividualNumber:
        """The Individual Number of person ``index``: generation 0, or 1 after a number change."""
        return self._numbers.number(index, generation)

    def locate(self, number: IndividualNumber) -> tuple[int, int] | None:
        """The ``(index, generation)`` of a number, or ``None`` when nobody in the population has it."""
        return self._numbers.locate(number)

    def usage_number(self, index: int) -> UsageNumber:
        """The pension certificate number (年金証書記号番号) of person ``index``: ``P`` and ten digits."""
        return self._usage_number(index, UsageNumberKind.PENSION_CERTIFICATE)

    def is_spouse(self, index: int) -> bool:
        """Whether the pension system knows person ``index`` as a pensioner's spouse (加給年金額の対象).

        Every tenth person (``index % 10 == 9``) is the spouse of the person before them, and the pension
        system keys them by a dependant key (:meth:`spouse_usage_number`) as well as by their own
        certificate number.
        """
        self._check_index(index)
        return index % SPOUSE_EVERY == SPOUSE_EVERY - 1

    def spouse_usage_number(self, index: int) -> UsageNumber:
        """The dependant key (扶養親族キー) of person ``index`` as a spouse: ``S`` and ten digits."""
        return self._usage_number(index, UsageNumberKind.DEPENDANT)

    def _usage_number(self, index: int, kind: UsageNumberKind) -> UsageNumber:
        self._check_index(index)
        return UsageNumber(kind=kind, value=f"{_USAGE_PREFIX[kind]}{index:010d}")

    def roster_usage_number(self, index: int) -> UsageNumber:
        """The usage number a survival inquiry asks with: the spouse key of a spouse, else the certificate."""
        return self.spouse_usage_number(index) if self.is_spouse(index) else self.usage_number(index)

    def index_of_usage_number(self, usage: UsageNumber) -> int | None:
        """The index of the person with this usage number (certificate or spouse key), or ``None``."""
        value = usage.value
        if len(value) != 11 or value[0] != _USAGE_PREFIX.get(usage.kind):
            return None
        digits = value[1:]
        index = int(digits) if digits.isascii() and digits.isdigit() else self.size
        return index if index < self.size else None

    # -- people --------------------------------------------------------------------------------------

    def person(self, index: int) -> SyntheticPerson:
        """The lasting facts of person ``index`` (their address and name at the epoch)."""
        self._check_index(index)
        u = self._uniforms(b"static", index)
        female = u[4] % 2 == 1
        municipality = self._home(u)
        address, postal = compose_address(municipality, u[6], u[6] >> 8, u[7], u[7] >> 8)
        birth = self.epoch - timedelta(days=int(self._age(u) * _DAYS_PER_YEAR))
        return SyntheticPerson(
            index=index,
            usage_number=self.usage_number(index),
            individual_number=self.individual_number(index),
            name=compose_name(u[4] >> 1, u[5], female),
            female=female,
            birth_date=birth,
            address=address,
            postal_code=postal,
            municipality_code=municipality.code,
        )

    def answer(self, number: IndividualNumber, cycle: str) -> PersonOutcome:
        """What J-LIS answers for ``number`` in ``cycle``; a number nobody has is ``number_unknown``."""
        return next(self.answers((number,), cycle))

    def answers(self, numbers: Iterable[IndividualNumber], cycle: str) -> Iterator[PersonOutcome]:
        """What J-LIS answers for each of ``numbers`` in ``cycle``, lazily, one at a time."""
        start, end = cycle_window(cycle)
        ordinal = _ordinal(cycle)
        for number in numbers:
            located = self.locate(number)
            if located is None:
                yield _UNKNOWN
            else:
                yield self._outcome(located[0], located[1], start, end, ordinal)

    def expected_outcome(self, index: int, cycle: str, *, generation: int = 0) -> PersonOutcome:
        """What J-LIS answers for person ``index`` in ``cycle`` when asked with that generation's number.

        A pure function of ``(seed, rates, epoch, index, cycle, generation)``.
        """
        self._check_index(index)
        if generation not in GENERATIONS:
            raise ValueError("a number's generation is 0 or 1")
        start, end = cycle_window(cycle)
        return self._outcome(index, generation, start, end, _ordinal(cycle))

    def _outcome(self, index: int, generation: int, start: date, end: date, ordinal: int) -> PersonOutcome:
        u = self._uniforms(b"static", index)
        changed_on = self._number_changed_on(u)
        changed = changed_on is not None and changed_on < end
        if generation == 1 and not changed:
            return _UNKNOWN
        reason = self._unmatched(u)
        if reason is not None:
            return PersonOutcome(SurvivalOutcome.NOT_FOUND, unmatched_reason=reason)
        died_on = self._died_on(u)
        if died_on is not None and died_on < end:
            return PersonOutcome(SurvivalOutcome.DEAD, death_date=died_on)
        if generation == 0 and changed:
            return PersonOutcome(
                SurvivalOutcome.NUMBER_CHANGED, new_individual_number=self.individual_number(index, 1)
            )
        return self._cycle_event(index, u, ordinal, start, end)

    # -- derivations ---------------------------------------------------------------------------------

    def _check_index(self, index: int) -> None:
        if not 0 <= index < self.size:
            raise IndexError("no such person in the population")

    def _uniforms(self, tag: bytes, index: int, cycle: int = 0) -> tuple[int, ...]:
        """Eight 64-bit draws keyed by the seed, for ``(tag, index, cycle)``."""
        digest = hashlib.blake2b(_KEYED.pack(index, cycle), key=self._key, person=tag, digest_size=64)
        return _EIGHT.unpack(digest.digest())

    @staticmethod
    def _unit(draw: int) -> float:
        """A draw as a float in the open interval (0, 1)."""
        return (draw + 0.5) * _SCALE

    def _age(self, u: tuple[int, ...]) -> float:
        # Skewed to the younger end (mean about 75): more 65-80 than 90-100 year-olds, as among pensioners.
        return 60.0 + 40.0 * float(self._unit(u[1]) ** 1.6)

    def _home(self, u: tuple[int, ...]) -> Municipality:
        return MUNICIPALITIES[(u[5] >> 16) % len(MUNICIPALITIES)]

    def _unmatched(self, u: tuple[int, ...]) -> UnmatchedReason | None:
        r, x = self.rates, self._unit(u[0])
        if x < r.abroad:
            return UnmatchedReason.ABROAD
        if x < r.abroad + r.no_resident_code:
            return UnmatchedReason.NO_RESIDENT_CODE
        if x < r.abroad + r.no_resident_code + r.not_connected:
            return UnmatchedReason.NOT_CONNECTED_MUNICIPALITY
        return None

    def _died_on(self, u: tuple[int, ...]) -> date | None:
        """The day of death: inverse sampling of Gompertz survival from the epoch; ``None`` past 60 y."""
        r = self.rates
        hazard = r.mortality_at_60 * math.exp(r.mortality_growth * (self._age(u) - 60.0))
        if hazard <= 0.0:
            return None
        cumulative = -math.log(self._unit(u[2]))
        years = (
            math.log1p(cumulative * r.mortality_growth / hazard) / r.mortality_growth
            if r.mortality_growth > 0
            else cumulative / hazard
        )
        return None if years > 60 else self.epoch + timedelta(days=int(years * _DAYS_PER_YEAR))

    def _number_changed_on(self, u: tuple[int, ...]) -> date | None:
        """The day of a number change: exponential waiting time at the per-cycle rate, or ``None``."""
        p = self.rates.number_change
        if p <= 0.0:
            return None
        cycles = -math.log(self._unit(u[3])) / -math.log1p(-p) if p < 1.0 else 0.0
        return None if cycles > 360 else self.epoch + timedelta(days=int(cycles * _DAYS_PER_CYCLE))

    def _cycle_event(
        self, index: int, u: tuple[int, ...], ordinal: int, start: date, end: date
    ) -> PersonOutcome:
        r = self.rates
        c = self._uniforms(b"cycle", index, ordinal)
        on = start + timedelta(days=c[1] % (end - start).days)
        x = self._unit(c[0])
        for threshold, kind in (
            (r.relocation, MoveKind.RELOCATION),
            (r.moved_in, MoveKind.MOVED_IN),
            (r.moved_out_pending, MoveKind.MOVED_OUT_PENDING),
            (r.moved_abroad, MoveKind.MOVED_ABROAD),
        ):
            if x < threshold:
                return self._move(kind, on, u, c)
            x -= threshold
        if x < r.name_change:
            female = u[4] % 2 == 1
            family = (u[4] >> 1) + 1 + c[6] % 39  # never the family name the person had
            return PersonOutcome(
                SurvivalOutcome.NAME_CHANGED, new_name=compose_name(family, u[5], female), name_changed_on=on
            )
        return PersonOutcome(SurvivalOutcome.ALIVE)

    def _move(self, kind: MoveKind, on: date, u: tuple[int, ...], c: tuple[int, ...]) -> PersonOutcome:
        if kind is MoveKind.MOVED_OUT_PENDING:
            return PersonOutcome(SurvivalOutcome.MOVED, move_kind=kind, moved_on=on)
        if kind is MoveKind.MOVED_ABROAD:
            return PersonOutcome(
                SurvivalOutcome.MOVED,
                move_kind=kind,
                moved_on=on,
                new_address=ABROAD[c[5] % len(ABROAD)],
                abroad=True,
            )
        home = self._home(u)
        if kind is MoveKind.MOVED_IN:
            shift = 1 + c[2] % (len(MUNICIPALITIES) - 1)
            home = MUNICIPALITIES[(MUNICIPALITIES.index(home) + shift) % len(MUNICIPALITIES)]
        text, postal = compose_address(home, c[3], c[4], c[4] >> 8, c[4] >> 16)
        return PersonOutcome(
            SurvivalOutcome.MOVED,
            move_kind=kind,
            moved_on=on,
            new_address=text,
            postal_code=postal,
            municipality_code=home.code,
            abroad=False,
        )
