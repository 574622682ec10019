"""What the simulated network knows: municipalities, what they may be asked, and their synthetic answers.

Everything is a pure function of a seed and the person's code, so that the same query always gets the same
answer and the simulator keeps no personal data: a person's local tax and household are drawn from
HMAC-SHA256(seed, code | municipality | item). Nothing here is real data.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date
from typing import Final

from contracts.individual_number import IndividualNumber

__all__ = [
    "DEMO_MUNICIPALITIES",
    "DEMO_PERMISSIONS",
    "LOCAL_TAX_SPI",
    "PENSION_SPI",
    "REQUESTERS",
    "RESIDENT_RECORD_SPI",
    "Municipality",
    "Permission",
    "Requester",
    "Synthetic",
]

RESIDENT_RECORD_SPI: Final = "TM00000000000011"
"""住民票関係情報 (placeholder code, as in ``contracts/purpose_table.toml`` [[spi]])."""
LOCAL_TAX_SPI: Final = "TM00000000000021"
"""地方税関係情報 (placeholder code)."""
PENSION_SPI: Final = "TM00000000000051"
"""年金給付関係情報, what the federation's 副本 holds (placeholder code)."""
_LETTERS: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_RELATIONS: Final = ("妻", "夫", "子", "父", "母")


@dataclass(frozen=True, slots=True)
class Municipality:
    """A municipality on the network (情報提供者 市町村長).

    Attributes:
        code: 全国地方公共団体コード (six digits).
        name: its name.
        delay_ticks: ticks before its answers are released (0: with the acceptance).
        outage_deliveries: the first deliveries of each query file to it that fail (provider unavailable).
    """

    code: str
    name: str
    delay_ticks: int = 0
    outage_deliveries: int = 0


DEMO_MUNICIPALITIES: Final = (
    Municipality("131016", "千代田区", delay_ticks=0),
    Municipality("011002", "札幌市", delay_ticks=1),
    Municipality("141003", "横浜市", delay_ticks=2),
    Municipality("271004", "大阪市", delay_ticks=3),
    Municipality("401307", "福岡市", delay_ticks=1, outage_deliveries=1),
)
"""Five municipalities: one answers at once, three late, one is down for the first delivery of each file."""


@dataclass(frozen=True, slots=True)
class Permission:
    """What the network lets a task ask a municipality, under one row of the 主務省令 table."""

    jimu_code: str
    current_item: int
    current_article: str
    legacy_item: int | None
    spi_codes: frozenset[str]

    def allows(self, jimu_code: str, item: int, article: str, legacy: int | None, spi_code: str) -> bool:
        """Tell whether this row allows the query."""
        return (jimu_code, item, article, legacy) == (
            self.jimu_code,
            self.current_item,
            self.current_article,
            self.legacy_item,
        ) and spi_code in self.spi_codes


DEMO_PERMISSIONS: Final = (
    Permission("J058", 58, "第60条", 35, frozenset({RESIDENT_RECORD_SPI, LOCAL_TAX_SPI})),
    Permission("J084", 84, "第86条", 59, frozenset({RESIDENT_RECORD_SPI, LOCAL_TAX_SPI})),
)
"""Rows 58 and 84 of 第2条の表 with 市町村長 as provider: 住民票関係情報 and 地方税関係情報."""


@dataclass(frozen=True, slots=True)
class Requester:
    """Another institution the network serves from the federation's 副本."""

    org_code: str
    name: str
    jimu_name: str
    current_item: int
    current_article: str
    legacy_item: int | None


REQUESTERS: Final = (
    Requester("MHLW01", "厚生労働大臣", "健康保険法による保険給付の支給に関する事務", 1, "第3条", 1),
    Requester("KYOKAI", "全国健康保険協会", "健康保険法による保険給付の支給に関する事務", 2, "第4条", 2),
    Requester(
        "CHIKYO",
        "地方公務員共済組合",
        "地方公務員等共済組合法による短期給付の支給に関する事務",
        83,
        "第85条",
        None,
    ),
)


@dataclass(frozen=True, slots=True)
class TaxAnswer:
    """Synthetic 市町村民税 of one person."""

    taxable: bool
    per_capita_levy: int
    income_levy: int


@dataclass(frozen=True, slots=True)
class HouseholdAnswer:
    """Synthetic household of one person."""

    household_head: bool
    relationship: str
    household_size: int


class Synthetic:
    """Deterministic synthetic facts from a seed."""

    def __init__(self, seed: int) -> None:
        self._key = f"renkei-is-simulator/{seed}".encode()

    def draw(self, *parts: str) -> int:
        """A 64-bit draw for ``parts``."""
        digest = hmac.new(self._key, "|".join(parts).encode(), hashlib.sha256).digest()
        return int.from_bytes(digest[:8], "big")

    def code(self, number: IndividualNumber) -> str:
        """The federation's code (符号) of the person with ``number``: 24 capital letters, no digit."""
        value = int.from_bytes(
            hmac.new(self._key, b"code|" + number.reveal().encode(), hashlib.sha256).digest()
        )
        letters = []
        for _ in range(24):
            value, digit = divmod(value, 26)
            letters.append(_LETTERS[digit])
        return "".join(letters)

    def tax(self, code: str, provider: str, tax_year: int) -> TaxAnswer:
        """市町村民税 of a tax year: a quarter are 非課税."""
        h = self.draw("tax", code, provider, str(tax_year))
        if h % 4 == 0:
            return TaxAnswer(False, 0, 0)
        return TaxAnswer(True, 5_000, (h >> 8) % 3_000 * 100)

    def household(self, code: str, provider: str) -> HouseholdAnswer:
        """The household the 住民票 records."""
        h = self.draw("household", code, provider)
        size = 1 + h % 4
        head = size == 1 or (h >> 4) % 2 == 0
        return HouseholdAnswer(head, "世帯主" if head else _RELATIONS[(h >> 8) % len(_RELATIONS)], size)

    def default_tax_year(self, today: date) -> int:
        """The latest tax year with assessed amounts (assessed in June)."""
        return today.year if today.month >= 6 else today.year - 1
