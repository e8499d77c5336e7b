"""Burnout limits: who may be asked, who may accept, and when they may be again.

Defaults under test (``LimitPolicy()``): 3 engagements per rolling 90 days, 8 per 365,
14 days between two engagements, 2 open asks, 2 declines in a row snooze for 30 days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.errors import InvalidInput, LimitReached
from bot.domain.limits import (
    LimitCheck,
    check_can_accept,
    check_can_ask,
    decline_snooze_until,
    effective_limits,
    validate_own_limits,
    window_peak,
)
from bot.domain.model import Advocate, AdvocateStatus, LimitOverrides, Usage
from bot.domain.policy import LimitPolicy
from tests.fakes import phrases, words

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday morning
POLICY = LimitPolicy()


def advocate(**fields: object) -> Advocate:
    defaults: dict[str, object] = {"email": "ada@customer.example", "name": "Ada Lovelace",
                                   "company": "Customer Ltd", "id": 1, "timezone": "UTC"}
    return Advocate(**{**defaults, **fields})  # type: ignore[arg-type]


def ago(days: float = 0, **more: float) -> datetime:
    return NOW - timedelta(days=days, **more)


def ahead(days: float = 0, **more: float) -> datetime:
    return NOW + timedelta(days=days, **more)


def worded(check: LimitCheck) -> tuple[bool, tuple[str, ...], datetime | None]:
    """A check as a person reads it: allowed, each reason's words, and until when."""
    return check.allowed, phrases(check.reasons), check.until


def used(*times: datetime, open_asks: int = 0, declines: int = 0) -> Usage:
    return Usage(engagement_times=tuple(times), open_asks=open_asks,
                 consecutive_declines=declines,
                 last_engaged_at=max(times) if times else None)


# --- asking: the simple yes -------------------------------------------------------------


def test_an_active_advocate_with_nothing_on_their_plate_may_be_asked() -> None:
    assert check_can_ask(advocate(), Usage(), POLICY, NOW) == LimitCheck(allowed=True)


def test_a_naive_now_is_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError, match="naive"):
        check_can_ask(advocate(), Usage(), POLICY, NOW.replace(tzinfo=None))


# --- status, snooze, leave --------------------------------------------------------------


@pytest.mark.parametrize("status", [AdvocateStatus.PAUSED, AdvocateStatus.RETIRED])
def test_a_paused_or_retired_advocate_is_never_asked_and_time_does_not_change_that(
        status: AdvocateStatus) -> None:
    check = check_can_ask(advocate(status=status), Usage(), POLICY, NOW)
    assert worded(check) == (False, (f"advocate is {status.value}",), None)


def test_a_snoozed_advocate_is_not_asked_until_the_snooze_ends() -> None:
    snoozed = advocate(snoozed_until=ahead(3))
    check = check_can_ask(snoozed, Usage(), POLICY, NOW)
    assert worded(check) == (False, ("snoozed until 2026-03-05 09:00 UTC",), ahead(3))
    assert check_can_ask(snoozed, Usage(), POLICY, ahead(3)).allowed


def test_a_snooze_that_has_ended_does_not_block() -> None:
    assert check_can_ask(advocate(snoozed_until=ago(1)), Usage(), POLICY, NOW).allowed


def test_an_advocate_on_leave_is_not_asked_through_the_last_day_of_leave() -> None:
    on_leave = advocate(unavailable_until=date(2026, 3, 2))
    check = check_can_ask(on_leave, Usage(), POLICY, NOW)
    assert worded(check) == (False, ("on leave through 2026-03-02",),
                               datetime(2026, 3, 3, tzinfo=UTC))


def test_leave_that_ended_yesterday_does_not_block() -> None:
    assert check_can_ask(advocate(unavailable_until=date(2026, 3, 1)), Usage(), POLICY,
                         NOW).allowed


def test_leave_ends_at_midnight_where_the_advocate_lives() -> None:
    # 16:00 UTC on 2 March is already 01:00 on 3 March in Tokyo: the leave is over there.
    in_tokyo = advocate(unavailable_until=date(2026, 3, 2), timezone="Asia/Tokyo")
    assert check_can_ask(in_tokyo, Usage(), POLICY, NOW.replace(hour=16)).allowed
    # 05:00 UTC on 3 March is still 21:00 on 2 March in Los Angeles.
    in_la = advocate(unavailable_until=date(2026, 3, 2), timezone="America/Los_Angeles")
    check = check_can_ask(in_la, Usage(), POLICY, datetime(2026, 3, 3, 5, tzinfo=UTC))
    assert not check.allowed
    assert check.until == datetime(2026, 3, 3, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert check.until.tzinfo is UTC


def test_an_unknown_time_zone_counts_leave_in_utc_instead_of_failing() -> None:
    typo = advocate(unavailable_until=date(2026, 3, 2), timezone="Mars/Olympus_Mons")
    assert check_can_ask(typo, Usage(), POLICY, NOW).until == datetime(2026, 3, 3, tzinfo=UTC)


# --- the 90-day and 365-day caps --------------------------------------------------------


def test_three_engagements_in_the_last_90_days_fill_the_quarter() -> None:
    check = check_can_ask(advocate(), used(ago(80), ago(50), ago(20)), POLICY, NOW)
    assert worded(check) == (
        False, ("3 of 3 engagements in the last 90 days (next slot 2026-03-12)",), ago(80 - 90))


def test_an_engagement_exactly_90_days_ago_no_longer_counts() -> None:
    assert check_can_ask(advocate(), used(ago(90), ago(50), ago(20)), POLICY, NOW).allowed


def test_an_engagement_a_second_short_of_90_days_ago_still_counts() -> None:
    check = check_can_ask(advocate(), used(ago(90, seconds=-1), ago(50), ago(20)), POLICY, NOW)
    assert not check.allowed
    assert check.until == NOW + timedelta(seconds=1)


def test_eight_engagements_in_a_year_fill_the_year_even_with_a_quiet_quarter() -> None:
    year = [ago(100 + 30 * i) for i in range(8)]  # 100 ... 310 days ago
    check = check_can_ask(advocate(), used(*year), POLICY, NOW)
    assert phrases(check.reasons) == (
        "8 of 8 engagements in the last 365 days (next slot 2026-04-26)",)
    assert check.until == ago(310 - 365)


def test_an_engagement_exactly_365_days_ago_no_longer_counts() -> None:
    year = [ago(365), *(ago(100 + 30 * i) for i in range(7))]
    assert check_can_ask(advocate(), used(*year), POLICY, NOW).allowed


def test_a_pending_ask_reserves_a_slot_in_the_90_day_cap() -> None:
    check = check_can_ask(advocate(), used(ago(80), ago(20), open_asks=1), POLICY, NOW)
    assert worded(check) == (False, (
        "2 of 3 engagements in the last 90 days and 1 open ask holding a slot "
        "(next slot 2026-03-12)",), ago(80 - 90))


def test_open_asks_that_fill_a_cap_on_their_own_leave_no_date_to_wait_for() -> None:
    policy = LimitPolicy(max_per_90_days=2, max_open_asks=3)
    check = check_can_ask(advocate(), used(open_asks=2), policy, NOW)
    assert phrases(check.reasons) == ("0 of 2 engagements in the last 90 days and 2 open asks "
                             "holding a slot (no slot opens with time)",)
    assert check.until is None


def test_calls_already_scheduled_ahead_count_toward_the_cap() -> None:
    check = check_can_ask(advocate(), used(ahead(20), ahead(40), ahead(60)), POLICY, NOW)
    assert phrases(check.reasons) == (
        "3 of 3 engagements within 90 days of 2026-03-02 (next slot 2026-06-20)",)
    assert check.until == ahead(20 + 90)  # the first call has left every window with now
    assert check_can_ask(advocate(), used(ahead(20), ahead(40), ahead(60)), POLICY,
                         check.until).allowed


def test_a_zero_cap_blocks_everyone_for_good() -> None:
    check = check_can_ask(advocate(), Usage(), LimitPolicy(max_per_365_days=0), NOW)
    assert phrases(check.reasons) == (
        "0 of 0 engagements in the last 365 days (no slot opens with time)",)
    assert check.until is None


# --- cooldown ---------------------------------------------------------------------------


def test_an_engagement_inside_the_cooldown_blocks_until_it_is_14_days_old() -> None:
    check = check_can_ask(advocate(), used(ago(13)), POLICY, NOW)
    assert worded(check) == (False, (
        "engagement on 2026-02-17 is within the 14-day cooldown (clear 2026-03-03)",), ahead(1))


def test_an_engagement_exactly_14_days_ago_is_out_of_the_cooldown() -> None:
    assert check_can_ask(advocate(), used(ago(14)), POLICY, NOW).allowed


def test_a_call_scheduled_within_the_cooldown_ahead_blocks_an_ask_now() -> None:
    check = check_can_ask(advocate(), used(ahead(10)), POLICY, NOW)
    assert phrases(check.reasons) == (
        "engagement on 2026-03-12 is within the 14-day cooldown (clear 2026-03-26)",)
    assert check.until == ahead(24)


def test_a_call_scheduled_exactly_14_days_ahead_does_not_block() -> None:
    assert check_can_ask(advocate(), used(ahead(14)), POLICY, NOW).allowed


def test_no_cooldown_lets_engagements_sit_side_by_side() -> None:
    assert check_can_ask(advocate(), used(ago(0)), LimitPolicy(cooldown_days=0), NOW).allowed


# --- open asks, all reasons, until ------------------------------------------------------


def test_two_open_asks_are_the_most_an_advocate_holds() -> None:
    check = check_can_ask(advocate(), used(open_asks=2), POLICY, NOW)
    assert worded(check) == (False, ("2 of 2 open asks",), None)
    assert check_can_ask(advocate(), used(open_asks=1), POLICY, NOW).allowed


def test_every_failing_rule_is_reported_not_just_the_first() -> None:
    tired = advocate(status=AdvocateStatus.PAUSED, snoozed_until=ahead(3),
                     unavailable_until=date(2026, 3, 4))
    check = check_can_ask(tired, used(ago(80), ago(50), ago(5), open_asks=2), POLICY, NOW)
    assert phrases(check.reasons) == (
        "advocate is paused",
        "snoozed until 2026-03-05 09:00 UTC",
        "on leave through 2026-03-04",
        "3 of 3 engagements in the last 90 days and 2 open asks holding a slot "
        "(next slot 2026-05-26)",
        "engagement on 2026-02-25 is within the 14-day cooldown (clear 2026-03-11)",
        "2 of 2 open asks",
    )
    assert check.until is None


def test_until_waits_for_the_last_rule_to_clear() -> None:
    check = check_can_ask(advocate(snoozed_until=ahead(3)), used(ago(5)), POLICY, NOW)
    assert check.until == ahead(9)  # the snooze clears first, the cooldown later


def test_until_skips_a_moment_a_call_scheduled_ahead_still_blocks() -> None:
    # The past call's cooldown clears in 4 days, but then the call in 10 days is too close.
    check = check_can_ask(advocate(), used(ago(10), ahead(10)), POLICY, NOW)
    assert check.until == ahead(24)


def test_a_refusal_becomes_a_limit_reached_error_with_its_reasons() -> None:
    check = check_can_ask(advocate(), used(open_asks=2), POLICY, NOW)
    with pytest.raises(LimitReached) as raised:
        check.raise_if_blocked()
    assert phrases(raised.value.reasons) == ("2 of 2 open asks",)
    check_can_ask(advocate(), Usage(), POLICY, NOW).raise_if_blocked()  # allowed: no error


# --- time zones -------------------------------------------------------------------------


def test_a_moment_given_in_another_zone_is_the_same_moment() -> None:
    tokyo, new_york = ZoneInfo("Asia/Tokyo"), ZoneInfo("America/New_York")
    usage = used(*(t.astimezone(tokyo) for t in (ago(80), ago(50), ago(20))))
    in_utc = check_can_ask(advocate(), used(ago(80), ago(50), ago(20)), POLICY, NOW)
    in_zones = check_can_ask(advocate(), usage, POLICY, NOW.astimezone(new_york))
    assert in_zones == in_utc
    assert in_zones.until is not None and in_zones.until.tzinfo is UTC


def test_the_boundary_holds_across_zones_too() -> None:
    exactly_14_days = ago(14).astimezone(ZoneInfo("Pacific/Kiritimati"))
    assert check_can_ask(advocate(), used(exactly_14_days), POLICY,
                         NOW.astimezone(ZoneInfo("America/Adak"))).allowed


# --- per-advocate limits ----------------------------------------------------------------


def test_without_overrides_the_program_policy_applies_as_is() -> None:
    assert effective_limits(POLICY, advocate()) is POLICY


def test_an_advocates_own_limits_can_only_make_things_stricter() -> None:
    own = LimitOverrides(max_per_90_days=5, max_per_365_days=4, cooldown_days=7,
                         max_open_asks=1)
    limits = effective_limits(POLICY, advocate(own_limits=own))
    assert (limits.max_per_90_days, limits.max_per_365_days, limits.cooldown_days,
            limits.max_open_asks) == (3, 4, 14, 1)


def test_a_longer_cooldown_is_the_stricter_one() -> None:
    limits = effective_limits(POLICY, advocate(own_limits=LimitOverrides(cooldown_days=30)))
    assert limits.cooldown_days == 30


def test_a_program_manager_may_loosen_an_advocates_limits() -> None:
    managed = LimitOverrides(max_per_90_days=5, cooldown_days=7)
    limits = effective_limits(POLICY, advocate(manager_limits=managed))
    assert (limits.max_per_90_days, limits.cooldown_days, limits.max_per_365_days) == (5, 7, 8)


def test_the_advocates_own_wish_wins_over_a_managers_looser_value() -> None:
    both = advocate(manager_limits=LimitOverrides(max_per_90_days=5, cooldown_days=7),
                    own_limits=LimitOverrides(max_per_90_days=2, cooldown_days=10))
    limits = effective_limits(POLICY, both)
    assert (limits.max_per_90_days, limits.cooldown_days) == (2, 10)


def test_the_checks_use_the_advocates_own_limits() -> None:
    shy = advocate(own_limits=LimitOverrides(max_per_90_days=1))
    check = check_can_ask(shy, used(ago(30)), POLICY, NOW)
    assert phrases(check.reasons) == (
        "1 of 1 engagements in the last 90 days (next slot 2026-05-01)",)


def test_the_checks_use_a_managers_looser_limits() -> None:
    keen = advocate(manager_limits=LimitOverrides(max_per_90_days=5, cooldown_days=7))
    assert check_can_ask(keen, used(ago(70), ago(50), ago(30), ago(8)), POLICY, NOW).allowed


def test_an_advocate_may_set_limits_stricter_than_or_equal_to_the_programs() -> None:
    validate_own_limits(LimitOverrides(), POLICY)
    validate_own_limits(LimitOverrides(max_per_90_days=1, max_per_365_days=8,
                                       cooldown_days=14, max_open_asks=0), POLICY)


def test_looser_or_nonsense_own_limits_are_refused_field_by_field() -> None:
    with pytest.raises(InvalidInput) as raised:
        validate_own_limits(LimitOverrides(max_per_90_days=4, max_per_365_days=-1,
                                           cooldown_days=7, max_open_asks=3), POLICY)
    assert words(raised.value) == {
        "max_per_90_days": "The 90-day limit can be at most 3 (the program's limit).",
        "max_per_365_days": "The 365-day limit cannot be negative.",
        "cooldown_days": "The rest between references must be at least 14 days "
                         "(the program's minimum).",
        "max_open_asks": "The open-asks limit can be at most 2 (the program's limit).",
    }


@pytest.mark.parametrize(("field", "value", "message"), [
    ("max_per_90_days", True, "The 90-day limit must be a whole number."),
    ("max_open_asks", 1.5, "The open-asks limit must be a whole number."),
    ("cooldown_days", 3651, "The rest between references can be at most 3650 days."),
])
def test_own_limits_must_be_sensible_whole_numbers(field: str, value: object,
                                                   message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        validate_own_limits(LimitOverrides(**{field: value}), POLICY)  # type: ignore[arg-type]
    assert words(raised.value) == {field: message}


# --- accepting --------------------------------------------------------------------------


def test_accepting_ignores_open_asks_because_the_ask_being_accepted_is_one() -> None:
    assert check_can_accept(advocate(), used(open_asks=2), POLICY, NOW).allowed


def test_accepting_counts_engagements_only_not_reservations() -> None:
    assert check_can_accept(advocate(), used(ago(80), ago(20), open_asks=2), POLICY, NOW).allowed
    assert not check_can_accept(advocate(), used(ago(80), ago(50), ago(20)), POLICY, NOW).allowed


def test_accepting_still_respects_status_snooze_and_leave() -> None:
    assert not check_can_accept(advocate(status=AdvocateStatus.PAUSED), Usage(), POLICY,
                                NOW).allowed
    assert not check_can_accept(advocate(snoozed_until=ahead(1)), Usage(), POLICY, NOW).allowed
    assert not check_can_accept(advocate(unavailable_until=date(2026, 3, 2)), Usage(), POLICY,
                                NOW).allowed


def test_accepting_a_call_counts_the_windows_around_the_call_time() -> None:
    busy = used(ago(80), ago(60), ago(40))
    assert not check_can_accept(advocate(), busy, POLICY, NOW).allowed
    # A call in 15 days sits 95 days after the oldest: only two share a window with it.
    assert check_can_accept(advocate(), busy, POLICY, NOW, at=ahead(15)).allowed


def test_accepting_a_call_measures_the_cooldown_from_the_call_time() -> None:
    assert check_can_accept(advocate(), used(ago(10)), POLICY, NOW, at=ahead(4)).allowed
    check = check_can_accept(advocate(), used(ago(10)), POLICY, NOW, at=ahead(3))
    assert phrases(check.reasons) == (
        "engagement on 2026-02-20 is within the 14-day cooldown (clear 2026-03-06)",)
    assert check.until == ahead(4)


def test_accepting_counts_later_calls_in_windows_that_contain_the_new_one() -> None:
    later = used(ago(50), ahead(30), ahead(60))
    assert check_can_accept(advocate(), later, POLICY, NOW).allowed
    crowded = used(ago(50), ahead(30), ahead(60), ahead(75))
    check = check_can_accept(advocate(), crowded, POLICY, NOW)
    assert phrases(check.reasons) == (
        "3 of 3 engagements within 90 days of 2026-03-02 (next slot 2026-06-30)",)


# --- decline streak ---------------------------------------------------------------------


def test_one_decline_does_not_snooze() -> None:
    assert decline_snooze_until(used(declines=1), POLICY, NOW) is None


def test_two_declines_in_a_row_snooze_the_advocate_for_30_days() -> None:
    assert decline_snooze_until(used(declines=2), POLICY, NOW) == ahead(30)


def test_declining_again_after_the_snooze_snoozes_again() -> None:
    assert decline_snooze_until(used(declines=3), POLICY, NOW) == ahead(30)


def test_a_streak_setting_of_zero_turns_the_decline_snooze_off() -> None:
    assert decline_snooze_until(used(declines=5), LimitPolicy(decline_streak=0), NOW) is None


def test_the_decline_snooze_ends_at_a_utc_moment_whatever_zone_now_was_given_in() -> None:
    until = decline_snooze_until(used(declines=2), POLICY,
                                 NOW.astimezone(ZoneInfo("Europe/Berlin")))
    assert until == ahead(30)
    assert until is not None and until.tzinfo is UTC


# --- window maths -----------------------------------------------------------------------


def test_the_fullest_window_around_a_moment_may_lie_ahead_of_it() -> None:
    window = timedelta(days=90)
    assert window_peak([ago(80), ahead(5), ahead(85)], NOW, window) == 2
    assert window_peak([ago(89), ago(1), ahead(89)], NOW, window) == 2
    assert window_peak([ago(90), ahead(90)], NOW, window) == 0


# --- properties -------------------------------------------------------------------------

offsets = st.lists(st.integers(min_value=-200 * 24, max_value=200 * 24), max_size=6)
zones = st.sampled_from(["UTC", "Asia/Tokyo", "America/Los_Angeles", "Pacific/Kiritimati",
                         "Europe/Berlin"])


@settings(max_examples=150, deadline=None)
@given(hours=offsets, open_asks=st.integers(0, 3), snooze_hours=st.none() | st.integers(-48, 400),
       leave_days=st.none() | st.integers(-3, 20), zone=zones)
def test_until_is_the_first_moment_an_ask_would_be_allowed(
        hours: list[int], open_asks: int, snooze_hours: int | None, leave_days: int | None,
        zone: str) -> None:
    subject = advocate(
        timezone=zone,
        snoozed_until=None if snooze_hours is None else ahead(hours=snooze_hours),
        unavailable_until=None if leave_days is None else NOW.date() + timedelta(leave_days))
    usage = used(*(ahead(hours=h) for h in hours), open_asks=open_asks)
    check = check_can_ask(subject, usage, POLICY, NOW)
    assert check.allowed == (not check.reasons)
    if check.until is not None:
        assert check.until > NOW
        assert check_can_ask(subject, usage, POLICY, check.until).allowed
        assert not check_can_ask(subject, usage, POLICY,
                                 check.until - timedelta(microseconds=1)).allowed


@settings(max_examples=100, deadline=None)
@given(hours=offsets, open_asks=st.integers(0, 3), zone=zones)
def test_the_answer_does_not_depend_on_the_zone_moments_are_written_in(
        hours: list[int], open_asks: int, zone: str) -> None:
    there = ZoneInfo(zone)
    in_utc = used(*(ahead(hours=h) for h in hours), open_asks=open_asks)
    elsewhere = used(*(ahead(hours=h).astimezone(there) for h in hours), open_asks=open_asks)
    assert (check_can_ask(advocate(), elsewhere, POLICY, NOW.astimezone(there))
            == check_can_ask(advocate(), in_utc, POLICY, NOW))
