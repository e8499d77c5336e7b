"""Calendar maths for the scheduled jobs: weeks, quarters, business days, in a time zone.

Pure functions of their arguments (``now`` included), so the question "which period of
which job is due at this moment?" can be answered by a test minute by minute through a
whole quarter, across a daylight-saving change, without a scheduler.

A job's *occurrence* is one period (``"2026-W10"``, ``"2026-Q2"``) and the UTC moment it
becomes due. The scheduler asks every minute; the job runs the latest occurrence whose
moment has passed, as long as it is not older than the job's grace window (a bot that was
down over Monday 09:00 still sends Monday's digest when it comes back at 11:00, but not a
digest for a week long gone). Running the same occurrence twice is harmless because every
message is keyed by (job, period, recipient) in the idempotency ledger.

Local wall times are resolved with ``zoneinfo``: a time that does not exist on a
spring-forward day (02:30 in Europe/Berlin on the last Sunday of March) is taken with the
offset before the change, i.e. one hour later on the clock; a time that happens twice on a
fall-back day is taken at its first occurrence (``fold=0``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True, order=True)
class Occurrence:
    """One period of a recurring job and the UTC moment it falls due."""

    due_at: datetime
    period: str


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_moment(day: date, at: time, zone: str) -> datetime:
    """``day`` at wall-clock ``at`` in ``zone``, as an aware UTC datetime.

    A wall time skipped by a spring-forward change resolves one hour later on the clock
    (the same instant as the pre-change offset); an ambiguous fall-back time resolves to
    its first occurrence.
    """
    return datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=_zone(zone)).astimezone(
        UTC
    )


def local_date(moment: datetime, zone: str) -> date:
    """The calendar day ``moment`` falls on in ``zone``."""
    return moment.astimezone(_zone(zone)).date()


# --- weeks -------------------------------------------------------------------------------


def week_start(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def week_label(day: date) -> str:
    """The ISO week of ``day``: ``"2026-W10"`` (ISO years: 2026-12-31 may be 2027-W01)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_bounds(monday: date, zone: str) -> tuple[datetime, datetime]:
    """The UTC interval [Monday 00:00, next Monday 00:00) of a local week. Not always
    168 hours long: the week of a DST change has 167 or 169."""
    return local_moment(monday, time(0), zone), local_moment(monday + timedelta(days=7), time(0),
                                                              zone)


def weekly_occurrences(now: datetime, weekday: int, at: time, zone: str, *,
                       weeks_back: int = 1) -> list[Occurrence]:
    """This local week's occurrence of a weekly job (weekday 0 = Monday) and the
    ``weeks_back`` before it, oldest first. Labelled by the ISO week they fall in."""
    this_monday = week_start(local_date(now, zone))
    found = []
    for back in range(weeks_back, -1, -1):
        day = this_monday - timedelta(weeks=back) + timedelta(days=weekday)
        found.append(Occurrence(local_moment(day, at, zone), week_label(day)))
    return found


# --- quarters ----------------------------------------------------------------------------


def quarter_of(day: date) -> tuple[int, int]:
    """(year, quarter 1-4) of ``day``."""
    return day.year, (day.month - 1) // 3 + 1


def quarter_label(year: int, quarter: int) -> str:
    return f"{year}-Q{quarter}"


def quarter_start(year: int, quarter: int) -> date:
    return date(year, 3 * (quarter - 1) + 1, 1)


def previous_quarter(year: int, quarter: int) -> tuple[int, int]:
    return (year, quarter - 1) if quarter > 1 else (year - 1, 4)


def next_quarter(year: int, quarter: int) -> tuple[int, int]:
    return (year, quarter + 1) if quarter < 4 else (year + 1, 1)


def quarter_bounds(year: int, quarter: int, zone: str) -> tuple[datetime, datetime]:
    """The UTC interval [first day 00:00, next quarter's first day 00:00) in ``zone``."""
    following = quarter_start(*next_quarter(year, quarter))
    return local_moment(quarter_start(year, quarter), time(0), zone), local_moment(
        following, time(0), zone)


# --- business days -----------------------------------------------------------------------


def is_business_day(day: date, holidays: Iterable[date] = ()) -> bool:
    """Monday to Friday, and not one of the program's holidays."""
    return day.weekday() < 5 and day not in set(holidays)


def first_business_day(year: int, quarter: int, holidays: Iterable[date] = ()) -> date:
    """The quarter's first business day (e.g. 2026-Q1 → Fri 2 January if 1 January is a
    listed holiday, Thu 1 January otherwise)."""
    closed = set(holidays)
    day = quarter_start(year, quarter)
    while not is_business_day(day, closed):
        day += timedelta(days=1)
    return day


def quarterly_occurrences(now: datetime, at: time, zone: str, holidays: Iterable[date] = (),
                          ) -> list[Occurrence]:
    """The previous and the current quarter's first-business-day occurrence, oldest first."""
    closed = tuple(holidays)
    year, quarter = quarter_of(local_date(now, zone))
    found = []
    for y, q in (previous_quarter(year, quarter), (year, quarter)):
        day = first_business_day(y, q, closed)
        found.append(Occurrence(local_moment(day, at, zone), quarter_label(y, q)))
    return found


# --- what is due -------------------------------------------------------------------------


def latest_due(now: datetime, occurrences: Iterable[Occurrence], grace: timedelta
               ) -> Occurrence | None:
    """The newest occurrence at or before ``now`` and no older than ``grace``; None if the
    job has nothing to do now. Only the newest is considered: a later period supersedes an
    earlier one that was missed (two digests in a row would say the same thing twice)."""
    passed = [o for o in occurrences if o.due_at <= now]
    if not passed:
        return None
    newest = max(passed)
    return newest if now - newest.due_at <= grace else None


def parse_weekday(name: str) -> int:
    """``"monday"`` (or ``"mon"``, any case) → 0."""
    key = name.strip().lower()
    for index, day in enumerate(WEEKDAYS):
        if key in (day, day[:3]):
            return index
    raise ValueError(f"{name!r} is not a day of the week (expected e.g. monday)")


__all__ = [
    "WEEKDAYS",
    "Occurrence",
    "first_business_day",
    "is_business_day",
    "latest_due",
    "local_date",
    "local_moment",
    "next_quarter",
    "parse_weekday",
    "previous_quarter",
    "quarter_bounds",
    "quarter_label",
    "quarter_of",
    "quarter_start",
    "quarterly_occurrences",
    "week_bounds",
    "week_label",
    "week_start",
    "weekly_occurrences",
]
