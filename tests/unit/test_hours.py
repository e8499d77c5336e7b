"""Working hours (``bot.domain.hours``): reading them, and the moments inside them across
time zones, daylight-saving changes, windows across midnight, weekends and holidays."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.errors import InvalidInput
from bot.domain.hours import WorkingHours, common_slots, fits, next_opening

TOKYO, NEW_YORK, BERLIN = "Asia/Tokyo", "America/New_York", "Europe/Berlin"
HOUR = timedelta(hours=1)


def at(zone: str, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=ZoneInfo(zone)).astimezone(UTC)  # type: ignore[misc]


@pytest.mark.parametrize(("text", "start", "end", "days"), [
    ("Mon-Fri 09:00-18:00", time(9), time(18), {0, 1, 2, 3, 4}),
    ("9-17", time(9), time(17), {0, 1, 2, 3, 4}),
    ("weekdays 8:30am-5pm", time(8, 30), time(17), {0, 1, 2, 3, 4}),
    ("Mon, Wed, Fri 10-16", time(10), time(16), {0, 2, 4}),
    ("Saturday to Sunday 10h00 to 14h00", time(10), time(14), {5, 6}),
    ("Fri-Mon 12:00\u201320:00", time(12), time(20), {4, 5, 6, 0}),
    ("daily 22:00-06:00", time(22), time(6), set(range(7))),
    ("weekends 0-24", time(0), time(0), {5, 6}),
    ("  TUE 7.30 - 15.45 ", time(7, 30), time(15, 45), {1}),
])
def test_hours_read_as_people_write_them(text: str, start: time, end: time,
                                         days: set[int]) -> None:
    hours = WorkingHours.parse(text, zone=TOKYO)
    assert (hours.start, hours.end, hours.days, hours.zone) == (start, end, days, TOKYO)
    assert WorkingHours.parse(hours.text(), zone=TOKYO) == hours


def test_no_hours_are_the_default_window_in_the_persons_zone() -> None:
    assert WorkingHours.parse("", zone=TOKYO) == WorkingHours(zone=TOKYO)
    assert WorkingHours(zone=TOKYO).text() == "Mon-Fri 09:00-18:00"
    evenings = WorkingHours(time(17), time(21), frozenset({0}))
    assert WorkingHours.parse(" ", zone=BERLIN, default=evenings) == \
        WorkingHours(time(17), time(21), frozenset({0}), BERLIN)


@pytest.mark.parametrize("text", ["whenever", "9-25", "13pm-2pm", "9:75-17", "Mon-Fri",
                                  "9 17", "x" * 200, "1" * 5000 + "-2"])
def test_unreadable_hours_are_an_error_on_the_field(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        WorkingHours.parse(text, field_name="call_hours")
    assert list(refused.value.errors) == ["call_hours"]


def test_an_unknown_zone_or_no_days_cannot_make_hours() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        WorkingHours(zone="Mars/Olympus")
    with pytest.raises(ValueError, match="days"):
        WorkingHours(days=frozenset())


def test_ten_in_new_york_is_midnight_in_tokyo_and_outside_her_hours() -> None:
    aiko = WorkingHours(zone=TOKYO)
    proposed = at(NEW_YORK, 2026, 12, 7, 10, 0)  # Monday 10:00 EST = Tuesday 00:00 JST
    assert proposed.astimezone(ZoneInfo(TOKYO)).hour == 0
    assert not fits(aiko, proposed, 30 * timedelta(minutes=1))
    assert fits(WorkingHours(zone=NEW_YORK), proposed, HOUR)


def test_a_call_must_end_inside_the_window_too() -> None:
    hours = WorkingHours(zone=BERLIN)
    assert fits(hours, at(BERLIN, 2026, 12, 7, 17, 30), timedelta(minutes=30))
    assert not fits(hours, at(BERLIN, 2026, 12, 7, 17, 31), timedelta(minutes=30))
    assert not fits(hours, at(BERLIN, 2026, 12, 5, 10, 0), HOUR)  # a Saturday


def test_a_window_across_midnight_belongs_to_the_day_it_starts() -> None:
    nights = WorkingHours(time(22), time(6), frozenset({0}), BERLIN)  # Monday nights
    assert fits(nights, at(BERLIN, 2026, 12, 8, 2, 0), HOUR)  # Tuesday 02:00
    assert not fits(nights, at(BERLIN, 2026, 12, 8, 5, 30), HOUR)  # past 06:00
    assert not fits(nights, at(BERLIN, 2026, 12, 7, 2, 0), HOUR)  # Sunday's night: no
    assert next_opening(nights, at(BERLIN, 2026, 12, 8, 7, 0)) == at(BERLIN, 2026, 12, 14, 22)


def test_whole_days_in_a_row_are_one_window() -> None:
    weekend = WorkingHours(time(0), time(0), frozenset({5, 6}), BERLIN)
    assert fits(weekend, at(BERLIN, 2026, 12, 5, 23, 30), HOUR)  # Saturday into Sunday
    assert not fits(weekend, at(BERLIN, 2026, 12, 6, 23, 30), HOUR)  # into Monday


def test_holidays_have_no_window() -> None:
    hours = WorkingHours(zone=TOKYO, holidays=frozenset({date(2026, 12, 31)}))
    assert not fits(hours, at(TOKYO, 2026, 12, 31, 10), HOUR)
    assert next_opening(hours, at(TOKYO, 2026, 12, 30, 19)) == at(TOKYO, 2027, 1, 1, 9)


def test_a_window_that_starts_in_the_skipped_hour_opens_when_the_clocks_resume() -> None:
    early = WorkingHours(time(2, 30), time(5), frozenset(range(7)), NEW_YORK)
    # 2026-03-08: New York's clocks jump from 02:00 EST to 03:00 EDT.
    opens = next_opening(early, datetime(2026, 3, 8, 0, 0, tzinfo=UTC))
    assert opens == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 03:00 EDT
    assert opens.astimezone(ZoneInfo(NEW_YORK)).hour == 3


def test_on_the_night_the_clocks_go_back_a_window_is_an_hour_longer() -> None:
    night = WorkingHours(time(1), time(3), frozenset(range(7)), NEW_YORK)
    # 2026-11-01: 01:00-02:00 happens twice; 01:00 EDT = 05:00 UTC to 03:00 EST = 08:00 UTC.
    assert fits(night, datetime(2026, 11, 1, 5, 0, tzinfo=UTC), 3 * HOUR)
    assert not fits(night, datetime(2026, 11, 2, 6, 0, tzinfo=UTC), 3 * HOUR)


def test_three_slots_inside_both_a_new_york_reps_and_a_tokyo_advocates_hours() -> None:
    rep = WorkingHours(time(8), time(20), zone=NEW_YORK)
    aiko = WorkingHours(zone=TOKYO)
    slots = common_slots(rep, aiko, at(NEW_YORK, 2026, 12, 7, 10, 0), timedelta(minutes=30))
    assert len(slots) == 3
    for slot in slots:
        assert fits(rep, slot, timedelta(minutes=30)) and fits(aiko, slot, timedelta(minutes=30))
    # Monday 19:00 New York = Tuesday 09:00 Tokyo: the first time both can talk.
    assert slots[0] == at(NEW_YORK, 2026, 12, 7, 19, 0)
    assert slots[1] - slots[0] == timedelta(minutes=30)


def test_people_with_no_common_hours_get_no_slots() -> None:
    mornings = WorkingHours(time(9), time(10), frozenset(range(7)), "UTC")
    evenings = WorkingHours(time(20), time(21), frozenset(range(7)), "UTC")
    assert common_slots(mornings, evenings, datetime(2026, 1, 1, tzinfo=UTC), HOUR) == []


# --- properties -------------------------------------------------------------------------------

ZONES = st.sampled_from([TOKYO, NEW_YORK, BERLIN, "UTC", "Australia/Sydney", "Asia/Kolkata",
                         "America/St_Johns", "Pacific/Chatham", "Europe/London"])
CLOCKS = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
DAYS = st.frozensets(st.integers(0, 6), min_size=1)
HOURS = st.builds(WorkingHours, CLOCKS, CLOCKS, DAYS, ZONES)
MOMENTS = st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31),
                       timezones=st.just(UTC)).map(lambda d: d.replace(microsecond=0))


@settings(max_examples=60, deadline=None)
@given(HOURS)
def test_the_canonical_text_reads_back_as_the_same_hours(hours: WorkingHours) -> None:
    assert WorkingHours.parse(hours.text(), zone=hours.zone) == hours


@settings(max_examples=60, deadline=None)
@given(HOURS, MOMENTS)
def test_the_next_opening_is_the_first_moment_inside(hours: WorkingHours,
                                                     moment: datetime) -> None:
    opening = next_opening(hours, moment)
    assert opening >= moment
    assert fits(hours, opening)
    if opening > moment:  # nothing inside between: the minute before it is outside
        assert not fits(hours, max(moment, opening - timedelta(minutes=1)))


@settings(max_examples=40, deadline=None)
@given(HOURS, HOURS, MOMENTS, st.sampled_from([15, 30, 60]))
def test_common_slots_fit_both_and_none_is_skipped(first: WorkingHours,
                                                   second: WorkingHours, moment: datetime,
                                                   minutes: int) -> None:
    length = timedelta(minutes=minutes)
    slots = common_slots(first, second, moment, length)
    assert slots == sorted(set(slots)) and len(slots) <= 3
    for slot in slots:
        assert slot > moment and slot.minute % 30 == 0 and slot.second == 0
        assert fits(first, slot, length) and fits(second, slot, length)
    if slots:  # every half hour before the last slot that fits both is among them
        probe = moment.replace(minute=0, second=0) + timedelta(minutes=30)
        while probe < slots[-1]:
            if probe > moment and fits(first, probe, length) and fits(second, probe, length):
                assert probe in slots
            probe += timedelta(minutes=30)


def test_day_openings_are_the_next_working_days_starts_never_today() -> None:
    from bot.domain.hours import day_openings

    tokyo = WorkingHours.parse("Mon-Fri 10-17", zone="Asia/Tokyo")
    tokyo = replace(tokyo, holidays=frozenset({date(2026, 3, 10)}))
    thursday_morning = datetime(2026, 3, 5, 0, 30, tzinfo=UTC)  # 09:30 on Thursday there
    assert [t.astimezone(tokyo.tz).strftime("%a %d %H:%M")
            for t in day_openings(tokyo, thursday_morning)] == [
        "Fri 06 10:00", "Mon 09 10:00", "Wed 11 10:00"]  # not Thursday, not the holiday
