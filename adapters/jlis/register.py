"""The people J-LIS finds by 基本4情報 for number acquisition, and the pension system's view of them.

:class:`NewEntitlementRegister` plays two sides of a number acquisition (個人番号の取得照会) in the demo and
the tests: the 住民票 J-LIS searches, and the new entitlements (新規裁定) the pension system asks about.
Like :class:`~adapters.jlis.population.SyntheticPopulation` it stores nobody: every fact of person ``k``
comes from ``(seed, k)`` through a keyed BLAKE2b hash, so memory stays the same for any size.

**Finding people by 4情報 without an index.** J-LIS must answer "who has this name, birth date and
address?". Instead of a dictionary of every person (memory growing with the register), the birth date is
a bijection of the index: person ``k`` is born on day ``(k * A) mod SPAN`` after 1 January 1940 (``A``
coprime to ``SPAN``, about fifty years of days), so the people born on a given day are exactly the indexes
``k ≡ day * A⁻¹ (mod SPAN)``: at most ``ceil(size / SPAN)`` of them, each recomputed and compared. A query
costs that many hashes and nothing is kept.

**What the register holds, besides ordinary people** (shares are in :class:`RegisterRates`):

* *namesakes of the other sex* ("twins"): a second 住民票 with the same 氏名, 生年月日 and 住所 and the other
  性別, with its own number (generation 1 of the index's number). A four-item query finds one of the two;
  a three-item query without 性別 finds both: ``multiple_candidates`` (domain.md §1.4);
* *records without a 住民票コード*: J-LIS holds no number for them, so a query finding them answers
  ``none`` with reason ``no_resident_code``.

**What the pension system sends** (:meth:`NewEntitlementRegister.entitlement`): twins are asked with three
items (so they come back with two candidates); some people with three items although they are alone
(unique); some with the address in another notation (``2-1-3`` for ``二丁目１番３号``: unique after
normalisation); some with a mistyped birth date, before the register's first day (none, ``no_record``); the
rest with all four items. The expected answer is part of the entitlement, so tests know what to expect.

Numbers of this register and of the pensioners' population are drawn from different seeds: a collision is
possible in principle (two 10¹¹ spaces; about ``N·M / 10¹¹`` expected collisions) and would surface as a
``number_conflict`` hold in the hub, never as a wrong link. Tests check the demo's seeds have none.
"""

from __future__ import annotations

import hashlib
import math
import re
import struct
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from adapters.jlis._names import MUNICIPALITIES, compose_address, compose_name
from adapters.jlis._numbers import NumberMap
from contracts.individual_number import IndividualNumber
from contracts.messages.jlis_acquisition import MAX_CANDIDATES, MatchStatus, NoMatchReason, Sex
from contracts.usage_number import UsageNumber, UsageNumberKind

__all__ = [
    "FIRST_BIRTH_DAY",
    "Answer",
    "NewEntitlement",
    "NewEntitlementRegister",
    "RegisterPerson",
    "RegisterRates",
    "normalise_address",
    "normalise_name",
    "variant_notation",
]

FIRST_BIRTH_DAY: Final = date(1940, 1, 1)
SPAN: Final = 18_262  # days from 1940-01-01 to 1989-12-31
_A: Final = 7_919  # prime, coprime to SPAN = 2 * 23 * 397
_A_INVERSE: Final = pow(_A, -1, SPAN)
_EIGHT: Final = struct.Struct(">8Q")
_KEYED: Final = struct.Struct(">Q")
_SCALE: Final = 2.0**-64
_KANJI_DIGITS: Final = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")}
_BLOCK: Final = re.compile(r"([〇一二三四五六七八九])丁目")
_SEPARATORS: Final = re.compile(r"(丁目|番地|番|号|[-‐－ー−])+")
MAX_SIZE: Final = 10**8


def normalise_name(name: str) -> str:
    """A name for comparison: NFKC, without spaces (full-width U+3000 included)."""
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", name))


def normalise_address(address: str) -> str:
    """An address for comparison: NFKC digits, a kanji 丁目 numeral as a digit, 丁目/番地/番/号 as ``-``.

    ``本町二丁目１番３号`` and ``本町2-1-3`` both become ``本町2-1-3``: the tolerance of the 2023 J-LIS
    search for address notation (domain.md §1.3).
    """
    text = unicodedata.normalize("NFKC", address).strip()
    text = _BLOCK.sub(lambda m: _KANJI_DIGITS[m.group(1)] + "丁目", text)
    text = _SEPARATORS.sub("-", text)
    return re.sub(r"\s", "", text).rstrip("-")


def variant_notation(address: str) -> str:
    """The same address in the short notation (``2-1-3``), as a pension clerk might type it."""
    return normalise_address(address)


@dataclass(frozen=True, slots=True)
class RegisterRates:
    """Shares of the register's people (each between 0 and 1; their sum at most 1).

    Attributes:
        twin: a namesake of the other sex at the same address and birth date (asked with three items).
        no_resident_code: a record without a 住民票コード (J-LIS holds no number).
        mistyped_birth_date: the pension system's data has a wrong birth date (nobody found).
        three_items: a lone person asked with three items (found alone).
        variant_address: the address typed in another notation (found after normalisation).
    """

    twin: float = 0.05
    no_resident_code: float = 0.03
    mistyped_birth_date: float = 0.03
    three_items: float = 0.15
    variant_address: float = 0.10

    def __post_init__(self) -> None:
        shares = (self.twin, self.no_resident_code, self.mistyped_birth_date)
        total = sum(shares) + self.three_items + self.variant_address
        if any(not 0.0 <= s <= 1.0 for s in (*shares, self.three_items, self.variant_address)) or total > 1:
            raise ValueError("register rates are shares between 0 and 1 whose sum is at most 1")


@dataclass(frozen=True, slots=True)
class RegisterPerson:
    """One 住民票 of the register, as J-LIS holds it."""

    index: int
    twin: bool
    """The namesake of the other sex of person ``index`` (not the person themself)."""
    individual_number: IndividualNumber
    name: str
    birth_date: date
    sex: Sex
    address: str
    postal_code: str
    municipality_code: str
    has_resident_code: bool


@dataclass(frozen=True, slots=True)
class Answer:
    """What J-LIS answers to one query."""

    status: MatchStatus
    candidates: tuple[RegisterPerson, ...] = ()
    no_match_reason: NoMatchReason | None = None
    address_normalised: bool = False


@dataclass(frozen=True, slots=True)
class NewEntitlement:
    """One new entitlement as the pension system asks about it, with the answer J-LIS will give.

    ``sex`` is ``None`` for a three-item query.
    """

    index: int
    usage_number: UsageNumber
    name: str
    birth_date: date
    sex: Sex | None
    address: str
    expected: Answer


class NewEntitlementRegister:
    """``size`` people J-LIS can find by 4情報 (plus their namesakes), derived from ``seed``.

    Args:
        size: the number of people (new entitlements), indexes ``0 .. size - 1``.
        seed: makes a different, equally reproducible register.
        rates: the shares of twins, records without a resident code and query variants.
    """

    __slots__ = ("_key", "_numbers", "_per_day", "rates", "seed", "size")

    def __init__(self, size: int, *, seed: int, rates: RegisterRates | None = None) -> None:
        if not 1 <= size <= MAX_SIZE:
            raise ValueError("a register has between one and a hundred million people")
        self.size = size
        self.seed = seed
        self.rates = rates or RegisterRates()
        self._key = hashlib.sha256(f"renkei.jlis.register/{seed}".encode()).digest()
        draws = self._uniforms(b"numbers", 0)
        self._numbers = NumberMap(size, draws[0], draws[1])
        self._per_day = math.ceil(size / SPAN)

    # -- the people J-LIS holds ----------------------------------------------------------------------

    def person(self, index: int, *, twin: bool = False) -> RegisterPerson:
        """Person ``index`` (or, with ``twin``, their namesake of the other sex).

        Raises:
            IndexError: no such person, or person ``index`` has no namesake.
        """
        self._check_index(index)
        u = self._uniforms(b"person", index)
        if twin and self._kind(u) != "twin":
            raise IndexError("this person has no namesake")
        female = (u[0] % 2 == 1) != twin
        municipality = MUNICIPALITIES[u[3] % len(MUNICIPALITIES)]
        address, postal = compose_address(municipality, u[4], u[4] >> 8, u[5], u[5] >> 8)
        return RegisterPerson(
            index=index,
            twin=twin,
            individual_number=self._numbers.number(index, 1 if twin else 0),
            name=compose_name(u[1], u[2], u[0] % 2 == 1),
            birth_date=FIRST_BIRTH_DAY + timedelta(days=index * _A % SPAN),
            sex=Sex.FEMALE if female else Sex.MALE,
            address=address,
            postal_code=postal,
            municipality_code=municipality.code,
            has_resident_code=twin or self._kind(u) != "no_resident_code",
        )

    def born_on(self, day: date) -> list[int]:
        """The indexes of the people born on ``day`` (at most ``ceil(size / SPAN)``)."""
        offset = (day - FIRST_BIRTH_DAY).days
        if not 0 <= offset < SPAN:
            return []
        first = offset * _A_INVERSE % SPAN
        return list(range(first, self.size, SPAN))

    def find(self, *, name: str, birth_date: date, address: str, sex: Sex | None = None) -> Answer:
        """What J-LIS answers to a query by 4情報 (three items when ``sex`` is ``None``)."""
        wanted_name, wanted_address = normalise_name(name), normalise_address(address)
        found: list[RegisterPerson] = []
        without_code = normalised = False
        for index in self.born_on(birth_date):
            u = self._uniforms(b"person", index)
            people = [self.person(index)]
            if self._kind(u) == "twin":
                people.append(self.person(index, twin=True))
            for person in people:
                if normalise_name(person.name) != wanted_name:
                    continue
                if normalise_address(person.address) != wanted_address:
                    continue
                if sex is not None and person.sex is not sex:
                    continue
                if not person.has_resident_code:
                    without_code = True
                    continue
                found.append(person)
                normalised = normalised or person.address != address.strip()
        if not found:
            reason = NoMatchReason.NO_RESIDENT_CODE if without_code else NoMatchReason.NO_RECORD
            return Answer(MatchStatus.NONE, no_match_reason=reason)
        status = MatchStatus.UNIQUE if len(found) == 1 else MatchStatus.MULTIPLE_CANDIDATES
        return Answer(status, tuple(found[:MAX_CANDIDATES]), address_normalised=normalised)

    def locate(self, number: IndividualNumber) -> tuple[int, bool] | None:
        """The ``(index, twin)`` of a number of the register, or ``None``."""
        located = self._numbers.locate(number)
        if located is None:
            return None
        index, generation = located
        if generation == 1 and self._kind(self._uniforms(b"person", index)) != "twin":
            return None
        return index, generation == 1

    # -- what the pension system asks ----------------------------------------------------------------

    def usage_number(self, index: int) -> UsageNumber:
        """The new entitlement's pension certificate number (年金証書記号番号): ``N`` and ten digits."""
        self._check_index(index)
        return UsageNumber(kind=UsageNumberKind.PENSION_CERTIFICATE, value=f"N{index:010d}")

    def index_of_usage_number(self, usage: UsageNumber) -> int | None:
        """The index of the new entitlement with this usage number, or ``None``."""
        value = usage.value
        if usage.kind is not UsageNumberKind.PENSION_CERTIFICATE or len(value) != 11 or value[0] != "N":
            return None
        digits = value[1:]
        index = int(digits) if digits.isascii() and digits.isdigit() else self.size
        return index if index < self.size else None

    def entitlement(self, index: int) -> NewEntitlement:
        """New entitlement ``index`` as the pension system asks about it, with J-LIS's expected answer."""
        person = self.person(index)
        kind = self._kind(self._uniforms(b"person", index))
        usage = self.usage_number(index)
        if kind == "twin":
            twin = self.person(index, twin=True)
            expected = Answer(MatchStatus.MULTIPLE_CANDIDATES, (person, twin))
            return NewEntitlement(
                index, usage, person.name, person.birth_date, None, person.address, expected
            )
        if kind == "no_resident_code":
            expected = Answer(MatchStatus.NONE, no_match_reason=NoMatchReason.NO_RESIDENT_CODE)
            return NewEntitlement(
                index, usage, person.name, person.birth_date, person.sex, person.address, expected
            )
        if kind == "mistyped_birth_date":
            mistyped = FIRST_BIRTH_DAY - timedelta(days=1 + index % 3650)  # before anyone of the register
            expected = Answer(MatchStatus.NONE, no_match_reason=NoMatchReason.NO_RECORD)
            return NewEntitlement(index, usage, person.name, mistyped, person.sex, person.address, expected)
        sex = None if kind == "three_items" else person.sex
        address = variant_notation(person.address) if kind == "variant_address" else person.address
        expected = Answer(MatchStatus.UNIQUE, (person,), address_normalised=kind == "variant_address")
        return NewEntitlement(index, usage, person.name, person.birth_date, sex, address, expected)

    # -- derivations ---------------------------------------------------------------------------------

    def _check_index(self, index: int) -> None:
        if not 0 <= index < self.size:
            raise IndexError("no such person in the register")

    def _uniforms(self, tag: bytes, index: int) -> tuple[int, ...]:
        digest = hashlib.blake2b(_KEYED.pack(index), key=self._key, person=tag, digest_size=64)
        return _EIGHT.unpack(digest.digest())

    def _kind(self, u: tuple[int, ...]) -> str:
        """Which of the register's kinds person ``u`` is (one draw, so the kinds exclude each other)."""
        r, x = self.rates, (u[6] + 0.5) * _SCALE
        for share, kind in (
            (r.twin, "twin"),
            (r.no_resident_code, "no_resident_code"),
            (r.mistyped_birth_date, "mistyped_birth_date"),
            (r.three_items, "three_items"),
            (r.variant_address, "variant_address"),
        ):
            if x < share:
                return kind
            x -= share
        return "four_items"
