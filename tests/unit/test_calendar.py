"""The ``.ics`` invites: what calendar clients will read back from them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from bot.calendar import CalendarPerson, build_invite, ics_filename, invite_uid

START = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REP = CalendarPerson("Riley Rep", "riley.rep@vendor.example")
ADVOCATE = CalendarPerson("Avery O'Brien", "avery@customer.example")


def invite(**overrides: object) -> str:
    fields: dict[str, object] = {
        "engagement_id": 42,
        "start": START,
        "end": START + timedelta(minutes=30),
        "summary": "Reference call with Avery O'Brien (Customer; Ltd, \"AG\")",
        "description": "Line one, with a comma.\nLine two; 株式会社テスト",
        "meeting_link": "https://meet.example/abc?x=1&y=2",
        "organizer": REP,
        "attendees": [ADVOCATE, REP],
        "sequence": 0,
        "now": NOW,
    }
    fields.update(overrides)
    return build_invite(**fields)  # type: ignore[arg-type]


def event_of(text: str) -> tuple[icalendar.Calendar, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(text)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


def test_an_invite_parses_back_with_its_times_in_utc() -> None:
    text = invite()
    assert "DTSTART:20260310T140000Z" in text
    assert "DTEND:20260310T143000Z" in text
    _, event = event_of(text)
    assert event.decoded("dtstart") == START
    assert event.decoded("dtstart").utcoffset() == timedelta(0)
    assert event.decoded("dtend") == START + timedelta(minutes=30)


def test_aware_times_in_other_zones_are_written_as_utc() -> None:
    tokyo = START.astimezone(ZoneInfo("Asia/Tokyo"))
    text = invite(start=tokyo, end=tokyo + timedelta(minutes=45))
    assert "DTSTART:20260310T140000Z" in text
    assert "DTEND:20260310T144500Z" in text


def test_the_uid_depends_only_on_the_engagement() -> None:
    first = event_of(invite())[1]
    moved = event_of(invite(start=START + timedelta(days=1), end=START + timedelta(days=1, hours=1),
                            sequence=2, summary="other"))[1]
    assert str(first["uid"]) == str(moved["uid"]) == invite_uid(42) == "engagement-42@advocate-bot"
    assert str(event_of(invite(engagement_id=43))[1]["uid"]) != invite_uid(42)
    assert ics_filename(42) == "reference-call-42.ics"


def test_a_request_names_organizer_attendees_link_and_sequence() -> None:
    calendar, event = event_of(invite(sequence=3))
    assert str(calendar["method"]) == "REQUEST"
    assert str(event["organizer"]) == "mailto:riley.rep@vendor.example"
    assert event["organizer"].params["CN"] == "Riley Rep"
    attendees = event["attendee"]
    assert sorted(str(a) for a in attendees) == [
        "mailto:avery@customer.example", "mailto:riley.rep@vendor.example"]
    assert str(event["url"]) == "https://meet.example/abc?x=1&y=2"
    assert str(event["location"]) == "https://meet.example/abc?x=1&y=2"
    assert int(event["sequence"]) == 3
    assert str(event["status"]) == "CONFIRMED"


def test_text_with_commas_semicolons_quotes_newlines_and_japanese_round_trips() -> None:
    _, event = event_of(invite())
    assert str(event["summary"]) == "Reference call with Avery O'Brien (Customer; Ltd, \"AG\")"
    assert str(event["description"]) == "Line one, with a comma.\nLine two; 株式会社テスト"


def test_a_cancellation_keeps_the_uid_and_says_cancelled() -> None:
    calendar, event = event_of(invite(cancelled=True, sequence=1))
    assert str(calendar["method"]) == "CANCEL"
    assert str(event["status"]) == "CANCELLED"
    assert str(event["uid"]) == invite_uid(42)


def test_without_an_organizer_email_the_event_is_published_not_requested() -> None:
    calendar, event = event_of(invite(organizer=CalendarPerson("Riley", None),
                                      attendees=[ADVOCATE, CalendarPerson("Riley", None)]))
    assert str(calendar["method"]) == "PUBLISH"
    assert "organizer" not in event
    assert str(event["attendee"]) == "mailto:avery@customer.example"


def test_no_link_means_no_url_or_location() -> None:
    _, event = event_of(invite(meeting_link=""))
    assert "url" not in event
    assert "location" not in event


def test_naive_or_backwards_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        invite(start=START.replace(tzinfo=None))
    with pytest.raises(ValueError, match="must end after"):
        invite(end=START)
