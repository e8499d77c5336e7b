"""Week, quarter and business-day maths in a time zone (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.periods import (
    Occurrence,
    first_business_day,
    latest_due,
    local_moment,
    parse_weekday,
    quarter_bounds,
    quarterly_occurrences,
    week_bounds,
    week_label,
    weekly_occurrences,
)

BERLIN = "Europe/Berlin"


def test_monday_nine_in_berlin_moves_an_hour_in_utc_across_the_spring_change() -> None:
    before = weekly_occurrences(datetime(2026, 3, 24, tzinfo=UTC), 0, time(9), BERLIN)[-1]
    after = weekly_occurrences(datetime(2026, 3, 31, tzinfo=UTC), 0, time(9), BERLIN)[-1]
    assert before == Occurrence(datetime(2026, 3, 23, 8, tzinfo=UTC), "2026-W13")
    assert after == Occurrence(datetime(2026, 3, 30, 7, tzinfo=UTC), "2026-W14")


def test_a_wall_time_skipped_by_the_change_happens_an_hour_later_on_the_clock() -> None:
    assert local_moment(date(2026, 3, 29), time(2, 30), BERLIN) == datetime(
        2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST
    assert local_moment(date(2026, 10, 25), time(2, 30), BERLIN) == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC)  # the first 02:30 (CEST)


def test_the_week_of_a_dst_change_is_167_hours_long() -> None:
    start, end = week_bounds(date(2026, 3, 23), BERLIN)
    assert end - start == timedelta(hours=167)


def test_iso_weeks_belong_to_iso_years() -> None:
    assert week_label(date(2026, 12, 31)) == "2026-W53"
    assert week_label(date(2027, 1, 1)) == "2026-W53"
    assert week_label(date(2025, 12, 29)) == "2026-W01"


def test_the_first_business_day_skips_weekends_and_listed_holidays() -> None:
    assert first_business_day(2026, 1) == date(2026, 1, 1)
    assert first_business_day(2026, 1, [date(2026, 1, 1)]) == date(2026, 1, 2)
    assert first_business_day(2026, 2, [date(2026, 4, 1)]) == date(2026, 4, 2)
    assert first_business_day(2026, 4) == date(2026, 10, 1)
    assert first_business_day(2027, 1, [date(2027, 1, 1)]) == date(2027, 1, 4)  # Fri → Mon


def test_quarter_bounds_are_local_midnights() -> None:
    start, end = quarter_bounds(2026, 2, BERLIN)
    assert start == datetime(2026, 3, 31, 22, tzinfo=UTC)
    assert end == datetime(2026, 6, 30, 22, tzinfo=UTC)
    assert [o.period for o in quarterly_occurrences(datetime(2026, 1, 5, tzinfo=UTC), time(9),
                                                    BERLIN)] == ["2025-Q4", "2026-Q1"]


def test_only_the_newest_passed_occurrence_inside_the_grace_is_due() -> None:
    week = [Occurrence(datetime(2026, 3, 2, 8, tzinfo=UTC), "2026-W10"),
            Occurrence(datetime(2026, 3, 9, 8, tzinfo=UTC), "2026-W11")]
    grace = timedelta(hours=24)
    assert latest_due(datetime(2026, 3, 2, 7, 59, tzinfo=UTC), week, grace) is None
    assert latest_due(datetime(2026, 3, 2, 8, tzinfo=UTC), week, grace) == week[0]
    assert latest_due(datetime(2026, 3, 3, 8, tzinfo=UTC), week, grace) == week[0]
    assert latest_due(datetime(2026, 3, 3, 8, 1, tzinfo=UTC), week, grace) is None
    assert latest_due(datetime(2026, 3, 9, 9, tzinfo=UTC), week, grace) == week[1]


def test_names_parse_or_say_what_they_expected() -> None:
    assert parse_weekday("Tue") == 1 and parse_weekday("sunday") == 6
    with pytest.raises(ValueError, match="day of the week"):
        parse_weekday("someday")


@settings(max_examples=100)  # hypothesis' own default, as before the ci profile
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                    timezones=st.just(UTC)),
       st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kolkata",
                        "Australia/Sydney", "UTC"]))
def test_this_weeks_occurrence_is_on_the_weekday_at_the_time_where_possible(
        now: datetime, zone: str) -> None:
    occurrence = weekly_occurrences(now, 2, time(9, 30), zone)[-1]
    local = occurrence.due_at.astimezone(ZoneInfo(zone))
    assert local.weekday() == 2 and (local.hour, local.minute) == (9, 30)
    assert occurrence.period == week_label(local.date())
