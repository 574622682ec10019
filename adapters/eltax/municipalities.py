"""What the simulated municipalities know and decide, as pure functions of (seed, municipality, person).

Nothing is stored: every decision about a person is drawn from a keyed BLAKE2b hash of the seed, the
municipality code, the person's key (共済年金証書記号番号 or 受給者番号) and what is decided, so the simulator
can run as several processes, answer a redelivered file identically, and tests and the demo can compute what
it will answer without asking it.

The amounts are simple and plausible, not the law's computation: resident tax on pension income is taken as
10% of the pension above 1,530,000 yen (公的年金等控除 and 基礎控除, roughly) plus 5,000 yen 均等割, in
whole hundreds of yen.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from contracts.messages.eltax import TokuchoAmounts

__all__ = ["MunicipalRegister", "Rates"]

_U64: Final = struct.Struct(">Q")
_SCALE: Final = 2.0**-64
LOSS_CATEGORIES: Final = ("01", "02", "03", "04")
"""死亡, 転出, 特別事情, 適用除外."""


@dataclass(frozen=True, slots=True)
class Rates:
    """How often things happen.

    Attributes:
        non_resident: a person the municipality does not know at its address (the report or the target
            record is rejected, E100).
        address_exception: 住所地特例 among the requested (category 02 of 01).
        not_target: 非対象者 (category 03 of 01): nothing is collected.
        loss: a loss of eligibility (41) reported after a collection result.
        provisional_change: a change of next year's provisional amounts (61) after a collection result.
    """

    non_resident: float = 0.03
    address_exception: float = 0.03
    not_target: float = 0.07
    loss: float = 0.04
    provisional_change: float = 0.06

    def __post_init__(self) -> None:
        for name in self.__slots__:
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"rate {name} is not a probability")
        if self.address_exception + self.not_target > 1.0:
            raise ValueError("the request categories exceed certainty")


def _floor100(amount: int) -> int:
    return max(0, amount) // 100 * 100


def _split3(total: int) -> tuple[int, int, int]:
    """Three instalments in hundreds of yen; the first takes the remainder."""
    share = _floor100(total // 3)
    return max(0, total - 2 * share), share, share


class MunicipalRegister:
    """The simulated municipalities' decisions.

    Args:
        seed: the draw's seed (the demo and the tests share one).
        rates: how often things happen.
    """

    __slots__ = ("_key", "rates", "seed")

    def __init__(self, seed: int = 0, rates: Rates | None = None) -> None:
        self.seed = seed
        self.rates = rates or Rates()
        self._key = hashlib.sha256(f"renkei.eltax.municipalities/{seed}".encode()).digest()

    def _unit(self, tag: str, municipality: str, key: str) -> float:
        digest = hashlib.blake2b(
            f"{tag}|{municipality}|{key}".encode(), key=self._key, digest_size=8
        ).digest()
        return float(_U64.unpack(digest)[0]) * _SCALE

    def resident(self, municipality: str, key: str) -> bool:
        """Whether the municipality knows the person at its address (1 January for the reports)."""
        return self._unit("resident", municipality, key) >= self.rates.non_resident

    def request_category(self, municipality: str, key: str) -> str:
        """各種区分 of the request notice (01): 01 対象者, 02 対象者(住所地特例), 03 非対象者."""
        u = self._unit("category", municipality, key)
        if u < self.rates.not_target:
            return "03"
        return "02" if u < self.rates.not_target + self.rates.address_exception else "01"

    @staticmethod
    def annual_tax(annual_pension: int) -> int:
        """The year's resident tax on pension income (see the module's note)."""
        return _floor100(max(0, annual_pension - 1_530_000) // 10 + 5_000)

    def request_amounts(
        self, target_category: str, annual_pension: int, previous_year_tax: int
    ) -> TokuchoAmounts:
        """The amounts of a request (01) for a person of target category 01 新規者 or 02 前年度継続者.

        A new person pays half the year's tax by 普通徴収 in June and August, the other half in October,
        December and February [D]; a continuing one has paid April, June and August at 1/6 of last year's
        tax each and pays the rest in October, December and February. Next year's provisional amounts are
        1/6 of this year's tax each.
        """
        tax = self.annual_tax(annual_pension)
        if target_category == "02":
            paid = 3 * _floor100(previous_year_tax // 6)
            main = _split3(tax - paid)
        else:
            main = _split3(tax // 2)
        provisional = _floor100(tax // 6)
        return TokuchoAmounts(
            main_october=main[0],
            main_december=main[1],
            main_february=main[2],
            provisional_april=provisional,
            provisional_june=provisional,
            provisional_august=provisional,
        )

    def loss(self, municipality: str, key: str, collected_on: date) -> tuple[str, date] | None:
        """A loss of eligibility (41) learnt after the collection of ``collected_on``: category and date."""
        u = self._unit("loss", municipality, key)
        if u >= self.rates.loss:
            return None
        share = u / self.rates.loss if self.rates.loss else 0.0
        category = LOSS_CATEGORIES[0 if share < 0.4 else 1 if share < 0.8 else 2 if share < 0.9 else 3]
        return category, collected_on + timedelta(days=1 + int(share * 25))

    def provisional_change(self, municipality: str, key: str, collected: int) -> TokuchoAmounts | None:
        """New provisional amounts (61) for next April, June and August, or ``None``."""
        u = self._unit("change", municipality, key)
        if u >= self.rates.provisional_change:
            return None
        factor = 90 if u < self.rates.provisional_change / 2 else 110
        amount = _floor100(collected * factor // 100)
        return TokuchoAmounts(provisional_april=amount, provisional_june=amount, provisional_august=amount)
