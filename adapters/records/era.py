"""Japanese eras (元号) as counterpart files write dates: an era code and the year within the era.

Today's user is the eLTAX payment report.

Codes 1–4 (明治, 大正, 昭和, 平成) are those the public validator of the 総務省通達形式 accepts (D-code);
5 for 令和 is renkei's inference, pending the current eLTAX specification. The 年分 is written as a year of
令和 (two digits), so tax years before 2019 cannot be written.
"""

from __future__ import annotations

from datetime import date
from typing import Final

__all__ = ["ERAS", "REIWA", "from_era", "tax_year_from_reiwa", "tax_year_to_reiwa", "to_era"]

ERAS: Final = (
    (1, "明治", date(1868, 10, 23)),
    (2, "大正", date(1912, 7, 30)),
    (3, "昭和", date(1926, 12, 25)),
    (4, "平成", date(1989, 1, 8)),
    (5, "令和", date(2019, 5, 1)),
)
"""``(code, name, first day)`` of each era, oldest first."""
REIWA: Final = 5


def to_era(day: date) -> tuple[int, int] | None:
    """``(era code, year of the era)`` of ``day``, or ``None`` before 明治."""
    for code, _, start in reversed(ERAS):
        if day >= start:
            return code, day.year - start.year + 1
    return None


def from_era(code: int, year: int, month: int, day: int) -> date | None:
    """The date of an era date, or ``None`` when it does not exist (or lies outside its era)."""
    index = code - 1
    if not 0 <= index < len(ERAS) or year < 1:
        return None
    start = ERAS[index][2]
    try:
        result = date(start.year + year - 1, month, day)
    except ValueError:
        return None
    end = ERAS[index + 1][2] if index + 1 < len(ERAS) else date.max
    return result if start <= result < end else None


def tax_year_to_reiwa(tax_year: int) -> int | None:
    """The 年分 of a tax year as a year of 令和 (2019 is 令和元年), or ``None`` before 2019."""
    return tax_year - 2018 if tax_year >= 2019 else None


def tax_year_from_reiwa(year: int) -> int:
    """The tax year of a 年分 written as a year of 令和."""
    return year + 2018
