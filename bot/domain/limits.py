"""Burnout limits: may we ask this advocate now, and may they accept?

docs/product.md ("Burnout limits") promises advocates they will not be over-used. These
functions are the single place that promise is decided, so the matcher, the asking
service and the accepting transaction can never disagree about it.

How time is counted (every rule works on moments, never on calendar days, so the answer
does not depend on anybody's time zone):

* A rolling window of N days is any half-open span ``[s, s + N days)``. Two engagements
  share such a window exactly when they are less than N days apart, so an engagement
  exactly 90 days ago no longer counts toward the 90-day cap, and its slot frees at that
  very moment.
* The caps are checked for every window that contains the new engagement, so a call
  already scheduled for next month counts just like one last month.
* The cooldown needs at least ``cooldown_days`` between two engagements, before *or*
  after: exactly 14 days apart is fine.
* ``unavailable_until`` is a date on the advocate's own calendar, inclusive: someone on
  leave until 3 April is not asked before midnight at the start of 4 April where they live.

An open ask reserves a slot: when asking, the open asks are counted as if they were
engagements at the new one's moment. When accepting, the ask being accepted is itself
open, so reservations are left out there.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.errors import InvalidInput, LimitReached, Problem
from bot.domain.model import Advocate, AdvocateStatus, LimitOverrides, Usage, ensure_utc
from bot.domain.policy import LimitPolicy

DAY = timedelta(days=1)
QUARTER_WINDOW_DAYS = 90
YEAR_WINDOW_DAYS = 365
MAX_COOLDOWN_DAYS = 3650  # ten years; more is a typo, and would overflow date maths

_CAP_FIELDS = ("max_per_90_days", "max_per_365_days", "max_open_asks")
_OVERRIDE_FIELDS = (*_CAP_FIELDS, "cooldown_days")
_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class LimitCheck:
    """The answer to "may we?": every rule that says no (a ``Problem`` each, worded by
    ``templates/text/reasons/<code>.txt.j2``), and when they all stop saying it."""

    allowed: bool
    reasons: tuple[Problem, ...] = ()
    until: datetime | None = None

    def raise_if_blocked(self) -> None:
        """Turn a refusal into the domain error services let bubble up to the user."""
        if not self.allowed:
            raise LimitReached(list(self.reasons))


ALLOWED = LimitCheck(allowed=True)


# --- effective limits -------------------------------------------------------------------


def has_overrides(overrides: LimitOverrides) -> bool:
    """True when any field is set. Spelled out (no generator) because matching calls it
    for every advocate on the roster."""
    return not (
        overrides.max_per_90_days is None
        and overrides.max_per_365_days is None
        and overrides.cooldown_days is None
        and overrides.max_open_asks is None
    )


def effective_limits(policy: LimitPolicy, advocate: Advocate) -> LimitPolicy:
    """The limits that apply to one advocate.

    A program manager's per-advocate values replace the program's (they may loosen, e.g.
    for a champion who loves to talk); the advocate's own values can then only tighten
    the result, because the point of letting advocates set limits is that their wish wins.
    """
    manager, own = advocate.manager_limits, advocate.own_limits
    if not has_overrides(manager) and not has_overrides(own):
        return policy
    changes: dict[str, int] = {}
    for name in _OVERRIDE_FIELDS:
        value: int = getattr(policy, name)
        managed = getattr(manager, name)
        if managed is not None:
            value = managed
        wished = getattr(own, name)
        if wished is not None:
            value = max(value, wished) if name == "cooldown_days" else min(value, wished)
        changes[name] = value
    return replace(policy, **changes)


def validate_own_limits(requested: LimitOverrides, policy: LimitPolicy) -> None:
    """Refuse limits an advocate may not set: negative, not whole numbers, or looser than
    ``policy``. Raises ``InvalidInput`` naming every bad field so a form can mark each."""
    errors: dict[str, Problem] = {}
    for name in _OVERRIDE_FIELDS:
        value = getattr(requested, name)
        if value is None:
            continue
        limit: int = getattr(policy, name)
        if isinstance(value, bool) or not isinstance(value, int):
            errors[name] = Problem("limit_not_whole", field=name)
        elif value < 0:
            errors[name] = Problem("limit_negative", field=name)
        elif name == "cooldown_days":
            if value < limit:
                errors[name] = Problem("cooldown_below_program", least=limit)
            elif value > MAX_COOLDOWN_DAYS:
                errors[name] = Problem("limit_at_most", field=name, most=MAX_COOLDOWN_DAYS,
                                       program=False)
        elif value > limit:
            errors[name] = Problem("limit_at_most", field=name, most=limit, program=True)
    if errors:
        raise InvalidInput(errors)


# --- the checks -------------------------------------------------------------------------


def check_can_ask(advocate: Advocate, usage: Usage, policy: LimitPolicy,
                  now: datetime) -> LimitCheck:
    """May we send this advocate a new ask now? Used when matching and when asking.

    Every failing rule is reported, so a program manager sees the whole picture at once.
    """
    now = ensure_utc(now)
    limits = effective_limits(policy, advocate)
    return _check(advocate, usage, limits, now, now, reserved=usage.open_asks, asking=True)


def check_can_accept(advocate: Advocate, usage: Usage, policy: LimitPolicy, now: datetime,
                     *, at: datetime | None = None) -> LimitCheck:
    """May the advocate accept an ask now, for an engagement at ``at`` (default ``now``)?

    Called inside the transaction that records the acceptance, with the advocate locked,
    and with ``usage`` not yet holding the new engagement. ``until`` is then the earliest
    moment an engagement could be placed that passes every rule.
    """
    now = ensure_utc(now)
    moment = now if at is None else ensure_utc(at)
    limits = effective_limits(policy, advocate)
    return _check(advocate, usage, limits, now, moment, reserved=0, asking=False)


def decline_snooze_until(usage: Usage, policy: LimitPolicy, now: datetime) -> datetime | None:
    """When a decline completes a streak, the moment the advocate's snooze ends.

    ``usage`` already counts the decline just recorded. ``>=`` rather than ``==``: if the
    last answers are all declines, the advocate is still saying no, so every further
    decline in the same streak snoozes again.
    """
    if policy.decline_streak <= 0 or policy.decline_snooze_days <= 0:
        return None
    if usage.consecutive_declines < policy.decline_streak:
        return None
    return _shift(ensure_utc(now), timedelta(days=policy.decline_snooze_days))


# --- implementation ---------------------------------------------------------------------


class _Blockers:
    """The rules that say no, each with the moment it alone would stop saying it
    (None: time alone will not clear it). Parallel lists: cheaper than an object each."""

    __slots__ = ("clears", "reasons")

    def __init__(self) -> None:
        self.reasons: list[Problem] = []
        self.clears: list[datetime | None] = []

    def add(self, reason: Problem, clears: datetime | None) -> None:
        self.reasons.append(reason)
        self.clears.append(clears)


def _check(advocate: Advocate, usage: Usage, limits: LimitPolicy, now: datetime,
           moment: datetime, *, reserved: int, asking: bool) -> LimitCheck:
    if limits.cooldown_days > MAX_COOLDOWN_DAYS:  # a typo must not overflow the date maths
        limits = replace(limits, cooldown_days=MAX_COOLDOWN_DAYS)
    # In UTC: adding days to a moment in a zone with daylight saving would add wall-clock
    # days, an hour off across a change.
    times = sorted(t.astimezone(UTC) for t in usage.engagement_times)
    found = _blockers(advocate, times, usage.open_asks, limits, now, moment,
                      reserved=reserved, asking=asking)
    if not found.reasons:
        return ALLOWED
    until = _until(advocate, times, limits, moment, reserved, found.clears)
    return LimitCheck(allowed=False, reasons=tuple(found.reasons),
                      until=until.astimezone(UTC) if until is not None else None)


def _blockers(advocate: Advocate, times: list[datetime], open_asks: int,
              limits: LimitPolicy, now: datetime, moment: datetime, *,
              reserved: int, asking: bool) -> _Blockers:
    """Every rule that says no. ``times`` must be sorted."""
    found = _Blockers()
    if advocate.status != AdvocateStatus.ACTIVE:
        found.add(Problem("advocate_status", status=advocate.status), None)
    snoozed = advocate.snoozed_until
    if snoozed is not None and snoozed > now:
        found.add(Problem("snoozed_until", until=snoozed.astimezone(UTC)),
                  snoozed.astimezone(UTC))
    if _on_leave(advocate, now):
        assert advocate.unavailable_until is not None
        found.add(Problem("on_leave", through=advocate.unavailable_until), _leave_ends(advocate))
    if times or reserved or min(limits.max_per_90_days, limits.max_per_365_days) <= 0:
        for days, cap in ((QUARTER_WINDOW_DAYS, limits.max_per_90_days),
                          (YEAR_WINDOW_DAYS, limits.max_per_365_days)):
            _cap_blocker(found, times, moment, days, cap, reserved)
    if times and limits.cooldown_days > 0:
        _cooldown_blocker(found, times, moment, limits.cooldown_days)
    if asking and open_asks >= limits.max_open_asks:
        found.add(Problem("open_asks_full", open=open_asks, most=limits.max_open_asks), None)
    return found


def _cap_blocker(found: _Blockers, times: list[datetime], moment: datetime, days: int,
                 cap: int, reserved: int) -> None:
    window = days_span(days)
    lo = bisect_right(times, moment - window)
    now_end = bisect_right(times, moment)
    ahead = now_end < len(times) and times[now_end] < _shift(moment, window)
    used = _peak_sorted(times, moment, window) if ahead else now_end - lo
    if used + reserved < cap:
        return
    clears: datetime | None
    if ahead:
        clears = _first_clear(moment, (_shift(t, window) for t in times),
                              lambda y: _peak_sorted(times, y, window) + reserved < cap)
    else:  # the slot frees when enough of the oldest engagements leave the window
        drop = used + reserved - cap + 1
        clears = _shift(times[lo + drop - 1], window) if drop <= used else None
    found.add(Problem("engagement_cap", used=used, cap=cap, days=days,
                      around=_day(moment) if ahead else None, reserved=reserved,
                      next_slot=_day(clears) if clears else None), clears)


def _cooldown_blocker(found: _Blockers, times: list[datetime], moment: datetime,
                      cooldown_days: int) -> None:
    cooldown = days_span(cooldown_days)
    if times[-1] <= moment:  # nothing ahead: clear once the latest is far enough behind
        nearest = times[-1]
        if moment - nearest >= cooldown:
            return
        clears: datetime | None = _shift(nearest, cooldown)
    else:
        close = [t for t in times if abs(t - moment) < cooldown]
        if not close:
            return
        nearest = close[-1]
        clears = _first_clear(moment, (_shift(t, cooldown) for t in times),
                              lambda y: not _in_cooldown(times, y, cooldown_days))
    found.add(Problem("in_cooldown", engaged=_day(nearest), days=cooldown_days,
                      clear=_day(clears) if clears else None), clears)


def _in_cooldown(times: list[datetime], moment: datetime, cooldown_days: int) -> bool:
    """Is any engagement less than ``cooldown_days`` before or after ``moment``?"""
    if cooldown_days <= 0:
        return False
    cooldown = days_span(cooldown_days)
    i = bisect_right(times, moment - cooldown)
    return i < len(times) and times[i] < _shift(moment, cooldown)


def window_peak(times: Iterable[datetime], moment: datetime, window: timedelta) -> int:
    """The most engagements in any one rolling window that contains ``moment``."""
    return _peak_sorted(sorted(times), moment, window)


def _peak_sorted(times: list[datetime], moment: datetime, window: timedelta) -> int:
    """``window_peak`` on sorted times.

    Only engagements less than one window away can share a window with ``moment``; the
    fullest such window can be slid right until it starts at one of them (or at
    ``moment``) without losing any, so trying those starts is exact.
    """
    lo = bisect_right(times, moment - window)
    hi = bisect_left(times, _shift(moment, window))
    if lo >= hi:
        return 0
    mid = bisect_right(times, moment, lo, hi)
    if mid == hi:  # the usual case: nothing scheduled ahead
        return hi - lo
    best = hi - bisect_left(times, moment, lo, hi)  # the window starting at ``moment``
    for i in range(lo, mid):
        best = max(best, bisect_left(times, _shift(times[i], window), i, hi) - i)
    return best


def _first_clear(moment: datetime, candidates: Iterable[datetime],
                 passes: Callable[[datetime], bool]) -> datetime | None:
    """The earliest of the ``candidates`` after ``moment`` at which ``passes`` holds.

    A rule here only goes from failing to passing when an engagement leaves a window, so
    those moments are the only places to look.
    """
    for y in sorted({c for c in candidates if c > moment}):
        if passes(y):
            return y
    return None


def _until(advocate: Advocate, times: list[datetime], limits: LimitPolicy,
           moment: datetime, reserved: int, clears: list[datetime | None]) -> datetime | None:
    """The earliest moment every blocking rule passes together, if time alone gets there.

    With nothing scheduled ahead each rule, once clear, stays clear, so that is the latest
    of their clearing moments. An engagement ahead can block a moment one rule alone
    allows, so then the moments engagements leave windows are tried in order.
    """
    known = [c for c in clears if c is not None]
    if len(known) < len(clears):
        return None
    earliest = max(known)  # before it, the rule that clears last still fails
    if not times or times[-1] <= moment or _passes_at(advocate, times, limits, earliest,
                                                      reserved):
        return earliest
    candidates: set[datetime] = set()
    for days in (limits.cooldown_days, QUARTER_WINDOW_DAYS, YEAR_WINDOW_DAYS):
        if days > 0:
            candidates.update(_shift(t, days_span(days)) for t in times)
    for y in sorted(c for c in candidates if c > earliest):
        if _passes_at(advocate, times, limits, y, reserved):
            return y
    return None


def _passes_at(advocate: Advocate, times: list[datetime], limits: LimitPolicy,
               moment: datetime, reserved: int) -> bool:
    """Do the rules that time can clear all pass for an engagement at ``moment``?"""
    return not (
        _snoozed(advocate, moment)
        or _on_leave(advocate, moment)
        or _peak_sorted(times, moment, days_span(QUARTER_WINDOW_DAYS)) + reserved
        >= limits.max_per_90_days
        or _peak_sorted(times, moment, days_span(YEAR_WINDOW_DAYS)) + reserved
        >= limits.max_per_365_days
        or _in_cooldown(times, moment, limits.cooldown_days)
    )


def _snoozed(advocate: Advocate, moment: datetime) -> bool:
    return advocate.snoozed_until is not None and advocate.snoozed_until > moment


def _on_leave(advocate: Advocate, moment: datetime) -> bool:
    until = advocate.unavailable_until
    if until is None:
        return False
    return moment.astimezone(advocate_zone(advocate.timezone)).date() <= until


def _leave_ends(advocate: Advocate) -> datetime | None:
    """Midnight after the last day of leave, in the advocate's zone, as UTC."""
    until = advocate.unavailable_until
    if until is None or until >= date.max:
        return None
    zone = advocate_zone(advocate.timezone)
    first_day_back = until + DAY
    end = datetime.combine(first_day_back, time(0), tzinfo=zone).astimezone(UTC)
    # A zone whose clocks jump at midnight has no 00:00 that day; step past the gap.
    while end.astimezone(zone).date() < first_day_back:
        end += timedelta(hours=1)
    return end


@lru_cache(maxsize=1024)
def advocate_zone(name: str) -> tzinfo:
    """The zone an advocate lives in; an unknown name falls back to UTC rather than
    making the advocate unaskable over a roster typo."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return UTC


@lru_cache(maxsize=256)
def days_span(days: int) -> timedelta:
    """``timedelta(days=days)``, memoised: building one costs more than the rule using it."""
    return timedelta(days=days)


def _shift(moment: datetime, delta: timedelta) -> datetime:
    """``moment + delta``, saturating instead of overflowing past the year 9999."""
    try:
        return moment + delta
    except OverflowError:
        return _FAR_FUTURE


def _day(moment: datetime) -> date:
    """Dates in reasons are UTC days; ``LimitCheck.until`` carries the exact moment for
    anyone who wants to show it in a person's own zone."""
    return moment.astimezone(UTC).date()
