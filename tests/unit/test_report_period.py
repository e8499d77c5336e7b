"""What ``/advocates report`` reads as a period, and how it names what it cannot read."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.errors import DomainError
from bot.rendering import Renderer
from bot.services.report import parse_period

TODAY = date(2026, 1, 15)


@pytest.mark.parametrize(("typed", "label", "first", "last", "days"), [
    ("", "2025-Q4", date(2025, 10, 1), date(2025, 12, 31), 92),
    ("last-quarter", "2025-Q4", date(2025, 10, 1), date(2025, 12, 31), 92),
    ("  Last   Quarter ", "2025-Q4", date(2025, 10, 1), date(2025, 12, 31), 92),
    ("2026-Q1", "2026-Q1", date(2026, 1, 1), date(2026, 3, 31), 90),
    ("2024q1", "2024-Q1", date(2024, 1, 1), date(2024, 3, 31), 91),  # a leap year
    ("2026-10-01..2026-12-31", "2026-10-01..2026-12-31", date(2026, 10, 1),
     date(2026, 12, 31), 92),
    ("2026-03-02 .. 2026-03-02", "2026-03-02..2026-03-02", date(2026, 3, 2),
     date(2026, 3, 2), 1),
])
def test_periods_people_type(typed: str, label: str, first: date, last: date,
                             days: int) -> None:
    period = parse_period(typed, TODAY)
    assert (period.label, period.first_day, period.last_day, period.days) == (
        label, first, last, days)


def test_the_period_before_has_the_same_length() -> None:
    before = parse_period("2026-Q1", TODAY).previous()
    assert (before.first_day, before.last_day) == (date(2025, 10, 3), date(2025, 12, 31))


@pytest.mark.parametrize(("typed", "code", "words"), [
    ("spring", "report_period", '"spring" is not a period'),
    ("2026-Q5", "report_period", '"2026-Q5" is not a period'),
    ("2026-10-01..", "report_period", "give a quarter like 2026-Q4"),
    ("2026-02-30..2026-03-01", "report_period", "is not a period"),
    ("2026-12-31..2026-10-01", "report_period_backwards",
     "The report's last day (2026-10-01) comes before its first (2026-12-31)"),
])
def test_what_is_not_a_period_is_named(typed: str, code: str, words: str) -> None:
    with pytest.raises(DomainError) as raised:
        parse_period(typed, TODAY)
    assert raised.value.code == code
    assert words in Renderer().problem_text(raised.value)
