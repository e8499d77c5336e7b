"""Calendar invites (``.ics``) for reference calls.

Chat messages cannot put a call into someone's calendar; an iCalendar file attached to the
confirmation can, in Outlook, Google Calendar and Apple Calendar alike. Each engagement has
one stable ``UID``, so a rescheduled call *updates* the event people already accepted (with
a higher ``SEQUENCE``) instead of leaving a stale copy behind, and a cancellation removes it.

Times are written in UTC (``...Z``) on purpose: every calendar client converts UTC to its
user's own zone correctly, while a ``TZID`` would need a ``VTIMEZONE`` block we would have
to keep right across DST rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import icalendar

from bot.domain.model import ensure_utc

PRODID = "-//advocate-bot//Reference calls//EN"
UID_DOMAIN = "advocate-bot"


class Method(StrEnum):
    """iTIP methods (RFC 5546) we use."""

    REQUEST = "REQUEST"  # a new or updated invitation
    CANCEL = "CANCEL"  # the call is off
    PUBLISH = "PUBLISH"  # no organizer known: a plain event to add, without RSVP


@dataclass(frozen=True, slots=True)
class CalendarPerson:
    """Someone on the invite; ``email`` may be missing for a chat user without one."""

    name: str
    email: str | None


def invite_uid(engagement_id: int) -> str:
    """The event's UID: derived from the engagement only, so every update hits the same event."""
    return f"engagement-{engagement_id}@{UID_DOMAIN}"


def ics_filename(engagement_id: int) -> str:
    return f"reference-call-{engagement_id}.ics"


def _address(who: CalendarPerson, *, attendee: bool) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{who.email}")
    if who.name:
        address.params["cn"] = icalendar.vText(who.name)
    if attendee:
        address.params["role"] = icalendar.vText("REQ-PARTICIPANT")
        address.params["partstat"] = icalendar.vText("NEEDS-ACTION")
        address.params["rsvp"] = icalendar.vText("TRUE")
    return address


def build_invite(
    *,
    engagement_id: int,
    start: datetime,
    end: datetime,
    summary: str,
    description: str,
    meeting_link: str,
    organizer: CalendarPerson | None,
    attendees: Sequence[CalendarPerson],
    sequence: int,
    now: datetime,
    cancelled: bool = False,
) -> str:
    """Build the text of an ``.ics`` file for one reference call.

    ``METHOD:REQUEST`` needs an organizer (RFC 5546); when the organizer has no known email
    the file is published instead, which every client still imports as an event.
    ``sequence`` must grow with every change to the same call (the caller counts changes).
    """
    start, end, now = ensure_utc(start), ensure_utc(end), ensure_utc(now)
    if end <= start:
        raise ValueError(f"a call must end after it starts ({start} .. {end})")
    has_organizer = organizer is not None and bool(organizer.email)
    if cancelled:
        method = Method.CANCEL
    else:
        method = Method.REQUEST if has_organizer else Method.PUBLISH

    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method.value)

    event = icalendar.Event()
    event.add("uid", invite_uid(engagement_id))
    event.add("dtstamp", now)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("sequence", sequence)
    event.add("summary", summary)
    if description:
        event.add("description", description)
    if meeting_link:
        event.add("url", meeting_link)
        event.add("location", meeting_link)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if has_organizer and organizer is not None:
        event.add("organizer", _address(organizer, attendee=False))
    for who in attendees:
        if who.email:
            event.add("attendee", _address(who, attendee=True))
    calendar.add_component(event)
    text: str = calendar.to_ical().decode("utf-8")
    return text
