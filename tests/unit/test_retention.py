"""Retention rules: the 扶養親族等申告書 period, when a number is due, which retention wins."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.core.rules.retention import (
    DEPENDANTS_DECLARATION,
    dependants_declaration_purge_after,
    dependants_declaration_retention,
    is_due,
    longer_retention,
)
from hub.ports.vault import Retention


@pytest.mark.parametrize(
    ("deadline", "last_day"),
    [
        # 平成28年分: deadline in 2016, kept from 2017-01-11 for seven years, to 2024-01-10.
        (date(2016, 1, 15), date(2024, 1, 10)),
        (date(2016, 12, 31), date(2024, 1, 10)),
        (date(2024, 2, 29), date(2032, 1, 10)),
        (date(2025, 1, 1), date(2033, 1, 10)),
    ],
)
def test_dependants_declarations_are_kept_seven_years_from_11_january(deadline: date, last_day: date) -> None:
    assert dependants_declaration_purge_after(deadline) == last_day
    assert dependants_declaration_retention(deadline) == Retention(DEPENDANTS_DECLARATION, last_day)


@given(st.dates(min_value=date(2013, 1, 1), max_value=date(2100, 12, 31)))
def test_the_period_is_seven_years_less_a_day_after_its_start(deadline: date) -> None:
    start = date(deadline.year + 1, 1, 11)  # the day after 10 January of the following year
    last = dependants_declaration_purge_after(deadline)
    assert last == date(start.year + 7, start.month, start.day) - timedelta(days=1)
    assert not is_due(last, last)
    assert is_due(last, last + timedelta(days=1))


def test_due_means_after_the_last_day() -> None:
    assert not is_due(None, date(2999, 1, 1))
    assert not is_due(date(2030, 1, 10), date(2030, 1, 9))
    assert not is_due(date(2030, 1, 10), date(2030, 1, 10))
    assert is_due(date(2030, 1, 10), date(2030, 1, 11))


def test_the_longer_retention_wins() -> None:
    open_ended = Retention("pension.entitlement")
    short, long_ = Retention("a", date(2030, 1, 1)), Retention("b", date(2031, 1, 1))
    assert longer_retention(short, long_) == long_
    assert longer_retention(long_, short) == long_
    assert longer_retention(short, open_ended) == open_ended
    assert longer_retention(open_ended, long_) == open_ended
    assert longer_retention(short, Retention("c", date(2030, 1, 1))) == short  # a tie keeps what is kept
