"""Retention rules for numbers (保存期間): until when a number may be kept, and which basis wins.

Every number in the vault carries a :class:`~hub.ports.vault.Retention`: its basis and ``purge_after``, the
last day it may be kept. From the next day on it is *due*, and the retention job erases it as soon as
possible and irrecoverably (PPC guidelines 事業者編 §4-3-(3) B). ``purge_after = None`` means no end date is
known yet (the business that needs the number continues).
"""

from __future__ import annotations

from datetime import date
from typing import Final

from contracts.purpose_table import default_table
from hub.ports.vault import Retention

__all__ = [
    "DEPENDANTS_DECLARATION",
    "dependants_declaration_purge_after",
    "dependants_declaration_retention",
    "is_due",
    "longer_retention",
]

DEPENDANTS_DECLARATION: Final = default_table().held_under["declaration"].retention
"""The retention basis of numbers from a 公的年金等の受給者の扶養親族等申告書: the purpose table's
``declaration`` row says it, with the articles they are obtained and kept under (docs/legal-basis.md)."""


def dependants_declaration_purge_after(filing_deadline: date) -> date:
    """Last day a number from a 扶養親族等申告書 may be kept.

    The declaration is kept "7 years from the day after 10 January of the year following the filing
    deadline" (提出期限の属する年の翌年1月10日の翌日から7年を経過する日まで). Counting, for a deadline in
    year Y:

    * the period starts on 11 January of Y+1. It starts at the beginning of that day, so that day counts
      (民法 140条 ただし書: no first day is left out when a period begins at midnight);
    * a period in years ends at the end of the day before the anniversary of its start (民法 143条 2項):
      11 January of Y+8, less one day, is **10 January of Y+8**, the day "on which 7 years have passed".

    The number may be kept through that day and is due from 11 January of Y+8. Example: a declaration due
    in 2016 is kept until 10 January 2024, which matches the commonly cited 平成28年分 → 2024年1月10日.

    Args:
        filing_deadline: the declaration's filing deadline (提出期限), not the day it was filed.
    """
    return date(filing_deadline.year + 8, 1, 10)


def dependants_declaration_retention(filing_deadline: date) -> Retention:
    """The retention of numbers from a 扶養親族等申告書 with ``filing_deadline``."""
    return Retention(
        basis=DEPENDANTS_DECLARATION, purge_after=dependants_declaration_purge_after(filing_deadline)
    )


def is_due(purge_after: date | None, as_of: date) -> bool:
    """Tell whether a number kept until ``purge_after`` must be erased on ``as_of``."""
    return purge_after is not None and as_of > purge_after


def longer_retention(kept: Retention, new: Retention) -> Retention:
    """The retention that keeps a number longer; ``kept`` wins a tie.

    A number linked for two reasons (a pensioner who is also a dependant on someone's declaration) is kept
    for as long as either reason needs it; a basis without an end date outlasts every dated one.
    """
    if kept.purge_after is None:
        return kept
    if new.purge_after is None or new.purge_after > kept.purge_after:
        return new
    return kept
