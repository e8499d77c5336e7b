"""Working hours: when a person may be asked to take a call, or be sent a message.

A person's hours are a daily window (``09:00-18:00``) on some weekdays, in their own time
zone, minus the program's holidays. A window may cross midnight (``22:00-06:00``: it
belongs to the day it starts on, so "Mon-Fri 22:00-06:00" ends on Saturday morning).
Everything here is pure and works in aware datetimes; zones come from ``zoneinfo``, so
daylight-saving changes are the zone's own: a window that starts at a wall-clock time the
clocks skip over starts when the clocks resume, and on the day the clocks go back a window
is as long on the clock as on the wall.

- ``WorkingHours.parse`` reads what people write in a roster or a form
  (``Mon-Fri 09:00-18:00``, ``9-17``, ``weekdays 8:30am-5pm``, ``Mon,Wed,Fri 10-16``).
- ``fits(hours, start, length)``: does a call of ``length`` starting at ``start`` lie
  wholly inside one window?
- ``next_opening(hours, at)``: the first moment at or after ``at`` inside a window (for a
  message that should not arrive at night).
- ``common_slots(a, b, after, length)``: the next start times that fit both people.
- ``day_openings(hours, after)``: when the next few working days begin (the times the
  intake pre-fills).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.errors import InvalidInput, Problem

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_DAYS = frozenset(range(5))  # Monday-Friday
ALL_DAYS = frozenset(range(7))
MAX_TEXT = 80  # longer than any sensible hours text; bounded before any parsing
SEARCH_DAYS = 21  # how far ahead to look for an opening or a common slot
SLOT_STEP = timedelta(minutes=30)
DASHES = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2212": "-"})  # en/em dash, minus

_DAY = r"(mon|tue|wed|thu|fri|sat|sun)[a-z]*"
_CLOCK = r"(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm)?"
_RANGE = re.compile(rf"^{_CLOCK}\s*(?:-|to)\s*{_CLOCK}$")
_DAYS_RANGE = re.compile(rf"^{_DAY}\s*(?:-|to)\s*{_DAY}$")


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """A daily window ``start``-``end`` on ``days`` (0 = Monday) in ``zone``.

    ``end`` before ``start`` crosses midnight; ``start == end`` is the whole day.
    """

    start: time = time(9)
    end: time = time(18)
    days: frozenset[int] = DEFAULT_DAYS
    zone: str = "UTC"
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not self.days or not self.days <= set(range(7)):
            raise ValueError(f"days must be weekday numbers 0-6, not {sorted(self.days)}")
        if self.start.tzinfo or self.end.tzinfo:
            raise ValueError("the window's times are wall-clock times in its zone")
        _zone(self.zone)

    @classmethod
    def parse(cls, text: str, *, zone: str = "UTC", field_name: str = "hours",
              default: WorkingHours | None = None) -> WorkingHours:
        """Hours as people write them; an empty text is ``default`` (or 09:00-18:00,
        Monday-Friday). Anything unreadable is an ``InvalidInput`` on ``field_name``."""
        base = default or cls(zone=zone)
        cleaned = " ".join(text.strip().lower().translate(DASHES).replace(",", " , ").split())
        if not cleaned:
            return WorkingHours(base.start, base.end, base.days, zone, base.holidays)
        if len(cleaned) > MAX_TEXT:
            raise InvalidInput({field_name: Problem("hours_too_long", most=MAX_TEXT)})
        days, window = _split_days(cleaned, field_name)
        found = _RANGE.match(window)
        if found is None:
            raise InvalidInput({field_name: Problem("hours_unreadable")})
        start = _clock(*found.group(1, 2, 3), field_name)
        end = _clock(*found.group(4, 5, 6), field_name)
        return cls(start, end, days if days is not None else base.days, zone, base.holidays)

    def text(self) -> str:
        """The canonical spelling ``parse`` reads back: ``Mon-Fri 09:00-18:00``."""
        return f"{_days_text(self.days)} {self.start:%H:%M}-{self.end:%H:%M}"

    @property
    def tz(self) -> ZoneInfo:
        return _zone(self.zone)

    def windows(self, after: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The windows (UTC start, UTC end) that end after ``after``, in order, for
        ``SEARCH_DAYS`` days."""
        local = after.astimezone(self.tz)
        first = local.date() - timedelta(days=1)  # yesterday's window may cross midnight
        pending: tuple[datetime, datetime] | None = None
        for offset in range(SEARCH_DAYS + 2):
            day = first + timedelta(days=offset)
            if day.weekday() not in self.days or day in self.holidays:
                continue
            start, end = self._window_on(day)
            if pending is not None and start <= pending[1]:  # touching: one window
                pending = (pending[0], max(end, pending[1]))
                continue
            if pending is not None and pending[1] > after:
                yield pending
            pending = (start, end)
        if pending is not None and pending[1] > after:
            yield pending

    def _window_on(self, day: date) -> tuple[datetime, datetime]:
        end_day = day if self.end > self.start else day + timedelta(days=1)
        return _instant(day, self.start, self.tz), _instant(end_day, self.end, self.tz)


def hours_of(text: str, zone: str, default: str) -> WorkingHours:
    """Someone's hours: their own ``text``, else the program's ``default``, in ``zone``.
    A stored text or zone that no longer reads falls back to the default, then to UTC:
    hours never stop a message or a call from being offered at all."""
    for candidate, where in ((text or default, zone), (default, zone), (default, "UTC")):
        try:
            return WorkingHours.parse(candidate, zone=where)
        except (InvalidInput, ValueError):
            continue
    return WorkingHours()


def fits(hours: WorkingHours, start: datetime, length: timedelta = timedelta(0)) -> bool:
    """Does ``[start, start + length]`` lie wholly inside one of ``hours``' windows?"""
    end = start + length
    for opens, closes in hours.windows(start):
        if opens > start:
            return False
        if end <= closes:
            return True
    return False


def next_opening(hours: WorkingHours, at: datetime) -> datetime:
    """The first moment at or after ``at`` inside ``hours`` (``at`` itself if it is inside);
    ``at`` when no window opens within ``SEARCH_DAYS`` days (it never waits forever)."""
    for opens, _ in hours.windows(at):
        return max(opens, at)
    return at


def common_slots(first: WorkingHours, second: WorkingHours, after: datetime,
                 length: timedelta, count: int = 3, step: timedelta = SLOT_STEP
                 ) -> list[datetime]:
    """The next ``count`` call start times after ``after``, on ``step`` boundaries (UTC),
    at which a call of ``length`` fits both people's hours."""
    slots: list[datetime] = []
    for opens, closes in first.windows(after):
        moment = _ceil(max(opens, after + timedelta(microseconds=1)), step)
        while moment + length <= closes and len(slots) < count:
            if fits(second, moment, length):
                slots.append(moment)
            moment += step
        if len(slots) == count:
            break
    return slots


def day_openings(hours: WorkingHours, after: datetime, count: int = 3) -> list[datetime]:
    """The first moment of each of the next ``count`` working days after ``after``'s own
    day (in ``hours``' zone): one time a day, never today."""
    today = after.astimezone(hours.tz).date()
    found: list[datetime] = []
    for opens, _ in hours.windows(after):
        if opens.astimezone(hours.tz).date() > today:
            found.append(opens)
        if len(found) == count:
            break
    return found


def local_instant(day: date, clock: time, zone: str) -> datetime:
    """The instant the wall clock in ``zone`` shows ``clock`` on ``day`` (the moment the
    clocks resume if they skip it)."""
    return _instant(day, clock, _zone(zone))


# --- reading ---------------------------------------------------------------------------------


def _split_days(cleaned: str, field_name: str) -> tuple[frozenset[int] | None, str]:
    """``"mon-fri 9-17"`` → ({0..4}, ``"9-17"``); no days named → (None, the text)."""
    words = cleaned.split(" ")
    days: set[int] = set()
    index = 0
    while index < len(words):
        word = words[index]
        if word == ",":
            index += 1
            continue
        if word in ("weekdays", "workdays"):
            days |= DEFAULT_DAYS
        elif word in ("daily", "everyday", "weekends"):
            days |= ALL_DAYS if word != "weekends" else {5, 6}
        elif (span := _DAYS_RANGE.match(word)) is not None:
            days |= _day_span(span.group(1), span.group(2))
        elif index + 2 < len(words) and words[index + 1] in ("-", "to") \
                and re.fullmatch(_DAY, word) and re.fullmatch(_DAY, words[index + 2]):
            days |= _day_span(word, words[index + 2])
            index += 2
        elif re.fullmatch(_DAY, word):
            days.add(WEEKDAYS.index(word[:3]))
        else:
            break
        index += 1
    window = "".join(words[index:]).replace("to", "-")
    if not window:
        raise InvalidInput({field_name: Problem("hours_unreadable")})
    return (frozenset(days) if days else None), window


def _day_span(first: str, last: str) -> set[int]:
    start, stop = WEEKDAYS.index(first[:3]), WEEKDAYS.index(last[:3])
    return {(start + n) % 7 for n in range((stop - start) % 7 + 1)}


def _clock(hour: str, minute: str | None, half: str | None, field_name: str) -> time:
    h, m = int(hour), int(minute or 0)
    if half:
        if not 1 <= h <= 12:
            raise InvalidInput({field_name: Problem("hours_unreadable")})
        h = h % 12 + (12 if half == "pm" else 0)
    if h == 24 and m == 0:
        return time(0)
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise InvalidInput({field_name: Problem("hours_unreadable")})
    return time(h, m)


def _days_text(days: frozenset[int]) -> str:
    ordered = sorted(days)
    if ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 2:
        return f"{WEEKDAYS[ordered[0]].title()}-{WEEKDAYS[ordered[-1]].title()}"
    return ",".join(WEEKDAYS[d].title() for d in ordered)


# --- time ----------------------------------------------------------------------------------


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def _instant(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """The UTC instant the wall clock in ``tz`` shows ``clock`` on ``day``; a wall time the
    clocks skip (spring forward) is the moment they resume, an ambiguous one (fall back)
    its first occurrence."""
    local = datetime.combine(day, clock, tz)
    instant = local.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == local.replace(tzinfo=None):
        return instant
    # Skipped: between the wall time read with the offset after the jump (earlier) and
    # with the one before it (later) lies the jump; the window opens there.
    probe, latest = local.replace(fold=1).astimezone(UTC), instant
    wall = local.replace(tzinfo=None)
    while probe < latest and probe.astimezone(tz).replace(tzinfo=None) < wall:
        probe += timedelta(minutes=1)
    return probe


def _ceil(moment: datetime, step: timedelta) -> datetime:
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    steps = -((epoch - moment) // step)
    return epoch + steps * step
