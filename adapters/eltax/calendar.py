"""The yearly calendar of the eLTAX exchanges, as data, for the simulator and the demo.

Facts (domain.md §1.2, §3.1, §3.2; ``D`` documented, ``D-code`` public code, ``I`` inferred):

* [D] Pensions are paid in even months; special collection follows the April, June, August (仮徴収) and
  October, December, February (本徴収) payments.
* [D] Payment reports go to the municipality of the 1 January address by 31 January.
* [I] Target notices (00) by 25 May (地方税法 第321条の7の4; 31 May in 介護保険法 第134条: to be verified);
  request notices (01) by 31 July (第321条の7の5, to be verified).
* [D-code] Collection result notices (22) are refused in even months: they follow each even-month payment
  in the next, odd, month.
* [D] 地方税法施行令 第48条の9の15: a change of the amount notified between the request and 10 October
  applies to the payments from December; one between 11 October and 10 December, from February; later
  ones to none of the fiscal year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from contracts.messages.eltax import TokuchoNoticeCode

__all__ = [
    "CALENDAR",
    "MAIN_MONTHS",
    "PAYMENT_MONTHS",
    "PROVISIONAL_MONTHS",
    "Deadline",
    "change_applies_to",
    "fiscal_year_of",
    "is_allowed",
    "payment_day",
    "reply_on",
]

PAYMENT_MONTHS: Final = (4, 6, 8, 10, 12, 2)
"""Pension payment months, in fiscal-year order [D]."""
PROVISIONAL_MONTHS: Final = (4, 6, 8)
"""仮特別徴収 [D]."""
MAIN_MONTHS: Final = (10, 12, 2)
"""本徴収 [D]."""
PAYMENT_DAY: Final = 15
"""Pensions are paid on the 15th [I]."""


@dataclass(frozen=True, slots=True)
class Deadline:
    """When a notice is due in the fiscal year (``month`` of the fiscal year's calendar, ``day``)."""

    notice: TokuchoNoticeCode
    month: int
    day: int
    source: str


CALENDAR: Final = (
    Deadline(TokuchoNoticeCode.TARGET, 5, 25, "I: 地方税法 第321条の7の4 (5/25 or 5/31, to verify)"),
    Deadline(TokuchoNoticeCode.REQUEST, 7, 31, "I: 地方税法 第321条の7の5 (to verify)"),
    Deadline(TokuchoNoticeCode.REQUEST_RESULT, 8, 31, "I: renkei's simulator"),
)
"""Notices with a yearly deadline; the others follow the payments (22) or happen any time (41, 61)."""


def fiscal_year_of(day: date) -> int:
    """The fiscal year (年度, April to March) ``day`` belongs to."""
    return day.year if day.month >= 4 else day.year - 1


def payment_day(fiscal_year: int, month: int) -> date:
    """The pension payment day of ``month`` in ``fiscal_year`` (February, January, March: the next year)."""
    return date(fiscal_year + (month < 4), month, PAYMENT_DAY)


def is_allowed(code: TokuchoNoticeCode, created_on: date) -> bool:
    """Whether a notice may be created on ``created_on`` (the simulated municipalities refuse it if not).

    22 only in odd months [D-code]; 00 from April up to its deadline [I]; the rest any time.
    """
    if code is TokuchoNoticeCode.COLLECTION_RESULT:
        return created_on.month % 2 == 1
    if code is TokuchoNoticeCode.TARGET:
        return 4 <= created_on.month <= 5 and created_on <= date(created_on.year, 5, 31)
    return True


def reply_on(code: TokuchoNoticeCode, received_on: date) -> date:
    """When a municipality writes its reply ``code`` to a notice received on ``received_on``.

    01 by 31 July of the target notice's fiscal year [I]; 31 thirty days after an additional candidate;
    41 and 61 on the day the collection result arrives (they report what the municipality learnt since).
    """
    if code is TokuchoNoticeCode.REQUEST:
        due = date(fiscal_year_of(received_on), 7, 31)
        return max(received_on, due)
    if code is TokuchoNoticeCode.ADDITIONAL_REQUEST:
        return received_on + timedelta(days=30)
    return received_on


def change_applies_to(changed_on: date, fiscal_year: int) -> tuple[int, ...]:
    """The payment months of ``fiscal_year`` a change of the amount made on ``changed_on`` applies to.

    地方税法施行令 第48条の9の15 [D]: up to 10 October, from December; up to 10 December, from February;
    later, none of the fiscal year.
    """
    if changed_on <= date(fiscal_year, 10, 10):
        return (12, 2)
    if changed_on <= date(fiscal_year, 12, 10):
        return (2,)
    return ()
