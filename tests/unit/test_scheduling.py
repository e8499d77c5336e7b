"""Booking the call: the advocate picks or proposes a time, the rep confirms, both get a
confirmation in their own zone with an invite, reminders come once each, and the rep is
asked how it went.

The rep is in New York and the advocate in Tokyo; the call on 10 March falls after the US
switch to summer time (8 March 2026) and before nothing in Japan, which has none.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
import pytest

from bot.calendar import invite_uid
from bot.domain.errors import DomainError, InvalidInput, NotAllowed
from bot.domain.model import (
    Actor,
    Advocate,
    Ask,
    AskState,
    Engagement,
    EngagementState,
    Person,
    ReferenceRequest,
    ReferenceType,
    RequestState,
    Role,
)
from bot.ports import OutgoingMessage
from bot.rendering import Renderer
from bot.services.context import ServiceContext
from bot.services.reminders import due_outcome_prompts, due_reminders
from bot.services.scheduling import awaiting_pick, confirm_time, pick_time, reschedule
from tests.fakes import FakeDatabase, FixedClock, ics_of, raises_saying, words
from tests.unit.conftest import (
    PM_EMAIL,
    REP_EMAIL,
    START,
    actor,
    advocate_actor,
    audit_actions,
    build_advocate,
    last_to,
    messages_to,
    outbox,
    person,
    templates_to,
)

# Proposed by the rep: Tue 10 March 14:00 UTC (10:00 EDT, 23:00 JST) and Thu 12 March.
SLOT_0 = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
SLOT_1 = datetime(2026, 3, 12, 16, 0, tzinfo=UTC)
LINK = "https://meet.example/ref-call?id=1&pw=2"
RENDERER = Renderer()
DASH = "\N{EN DASH}"


@dataclass
class Seeded:
    advocate: Advocate
    request: ReferenceRequest
    engagement: Engagement

    @property
    def id(self) -> int:
        assert self.engagement.id is not None
        return self.engagement.id


async def seed_engagement(db: FakeDatabase, rep: Person, *, advocate: dict[str, Any] | None = None,
                          reference_type: ReferenceType = ReferenceType.CALL,
                          proposed_times: tuple[datetime, ...] = (SLOT_0, SLOT_1),
                          needed_by: date = date(2026, 3, 20), meeting_link: str = LINK,
                          call_length_minutes: int = 45, prospect: str = "Northwind Bank",
                          ) -> Seeded:
    """An advocate who just accepted a request: the state ``answer_ask`` leaves behind."""
    async with db.uow() as uow:
        stored = await uow.advocates.add(build_advocate(
            **{"timezone": "Asia/Tokyo", "name": "Aiko Tanaka", "company": "Sakura Pay KK",
               **(advocate or {})}))
        assert stored.id is not None
        request = await uow.requests.add(ReferenceRequest(
            rep=rep, prospect_company=prospect, reference_type=reference_type,
            needed_by=needed_by, created_at=START - timedelta(days=1),
            proposed_times=proposed_times, timezone=rep.timezone or "UTC",
            call_length_minutes=call_length_minutes, meeting_link=meeting_link,
            state=RequestState.ACCEPTED))
        assert request.id is not None
        ask = await uow.asks.add(Ask(request_id=request.id, advocate_id=stored.id, rank=1,
                                     created_at=START - timedelta(hours=5),
                                     expires_at=START + timedelta(hours=43),
                                     state=AskState.ACCEPTED, answered_at=START))
        assert ask.id is not None
        engagement = await uow.engagements.add(Engagement(
            request_id=request.id, advocate_id=stored.id, ask_id=ask.id,
            reference_type=reference_type, accepted_at=START,
            duration_minutes=call_length_minutes))
        await uow.commit()
    return Seeded(stored, request, engagement)


async def reload(db: FakeDatabase, seeded: Seeded) -> tuple[Engagement, ReferenceRequest]:
    async with db.uow() as uow:
        engagement = await uow.engagements.get(seeded.id)
        request = await uow.requests.get(seeded.engagement.request_id)
    assert engagement is not None and request is not None
    return engagement, request


def render(message: OutgoingMessage) -> str:
    """What the person reads (also proves the template has every key it needs)."""
    return RENDERER.text(message.template, message.context)


def render_everything(db: FakeDatabase) -> list[str]:
    return [render(m) for m in outbox(db)]


def parse_ics(message: OutgoingMessage) -> tuple[icalendar.Calendar, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(ics_of(message))
    [event] = calendar.walk("VEVENT")
    return calendar, event


@pytest.fixture
async def booking(db: FakeDatabase, rep_person: Person) -> Seeded:
    return await seed_engagement(db, rep_person)


# --- picking one of the rep's times ------------------------------------------------------


async def test_picking_a_proposed_slot_books_the_call_and_confirms_to_both(
        ctx: ServiceContext, db: FakeDatabase, booking: Seeded) -> None:
    engagement = await pick_time(ctx, advocate_actor(booking.advocate), booking.id, slot=0)

    assert engagement.state is EngagementState.SCHEDULED
    assert engagement.scheduled_at == SLOT_0
    stored, request = await reload(db, booking)
    assert stored.state is EngagementState.SCHEDULED and stored.scheduled_at == SLOT_0
    assert request.state is RequestState.SCHEDULED
    assert templates_to(db, REP_EMAIL) == ["call_confirmed"]
    assert templates_to(db, booking.advocate.email) == ["call_confirmed"]
    assert "engagement.scheduled" in audit_actions(db, f"engagement:{booking.id}")
    assert "request.scheduled" in audit_actions(db, f"request:{request.id}")


async def test_each_person_sees_the_call_in_their_own_zone_across_the_us_dst_change(
        ctx: ServiceContext, db: FakeDatabase, booking: Seeded) -> None:
    await pick_time(ctx, advocate_actor(booking.advocate), booking.id, slot=0)

    to_rep = last_to(db, REP_EMAIL, "call_confirmed")
    to_advocate = last_to(db, booking.advocate.email, "call_confirmed")
    assert to_rep.context["timezone"] == "America/New_York"
    assert to_advocate.context["timezone"] == "Asia/Tokyo"
    rep_text, advocate_text = render(to_rep), render(to_advocate)
    # 14:00 UTC is 10:00 in New York (EDT since 8 March, not 09:00 EST) and 23:00 in Tokyo.
    assert f"Tue 10 Mar 2026, 10:00 EDT {DASH} 10:45 EDT" in rep_text
    assert f"Tue 10 Mar 2026, 23:00 JST {DASH} 23:45 JST" in advocate_text
    for text in (rep_text, advocate_text):
        assert LINK in text
        assert "reference-call-" in text
    assert "Aiko Tanaka" in rep_text and booking.advocate.email in rep_text
    assert "Riley Rep" in advocate_text and REP_EMAIL in advocate_text
    assert "Northwind Bank" in rep_text
    assert "Northwind Bank" not in advocate_text  # the program hides prospect names


async def test_the_invite_parses_back_with_utc_times_and_a_stable_uid(
        ctx: ServiceContext, db: FakeDatabase, booking: Seeded) -> None:
    await pick_time(ctx, advocate_actor(booking.advocate), booking.id, slot=0)

    invites = [last_to(db, REP_EMAIL, "call_confirmed"),
               last_to(db, booking.advocate.email, "call_confirmed")]
    for message in invites:
        calendar, event = parse_ics(message)
        assert str(calendar["method"]) == "REQUEST"
        assert event.decoded("dtstart") == SLOT_0
        assert event.decoded("dtstart").utcoffset() == timedelta(0)
        assert event.decoded("dtend") == SLOT_0 + timedelta(minutes=45)
        assert "DTSTART:20260310T140000Z" in ics_of(message)
        assert str(event["uid"]) == invite_uid(booking.id)
        assert str(event["url"]) == LINK and str(event["location"]) == LINK
        assert str(event["organizer"]) == f"mailto:{REP_EMAIL}"
        assert sorted(str(a) for a in event["attendee"]) == sorted(
            [f"mailto:{booking.advocate.email}", f"mailto:{REP_EMAIL}"])
        assert int(event["sequence"]) == 0
        assert message.context["ics_filename"] == f"reference-call-{booking.id}.ics"
    assert "Northwind Bank" in str(parse_ics(invites[0])[1]["description"])
    assert "Northwind Bank" not in str(parse_ics(invites[1])[1]["description"])


async def test_the_prospect_is_named_to_the_advocate_when_the_program_allows_it(
        ctx: ServiceContext, db: FakeDatabase, booking: Seeded) -> None:
    shown = replace(ctx, policy=replace(ctx.policy, show_prospect_name=True))
    await pick_time(shown, advocate_actor(booking.advocate), booking.id, slot=1)

    to_advocate = last_to(db, booking.advocate.email, "call_confirmed")
    assert "Northwind Bank" in render(to_advocate)
    assert "Northwind Bank" in str(parse_ics(to_advocate)[1]["description"])


async def test_each_invite_is_worded_for_its_reader_and_hides_the_prospect_by_default(
        ctx: ServiceContext, db: FakeDatabase, booking: Seeded) -> None:
    await pick_time(ctx, advocate_actor(booking.advocate), booking.id, slot=0)
    ada = booking.advocate
    _, for_rep = parse_ics(last_to(db, REP_EMAIL, "call_confirmed"))
    _, for_advocate = parse_ics(last_to(db, ada.email, "call_confirmed"))
    assert str(for_rep["summary"]) == f"Reference call with {ada.name} ({ada.company})"
    assert str(for_advocate["summary"]).startswith("Reference call with ")
    assert str(for_rep["uid"]) == str(for_advocate["uid"])  # one event, two wordings
    rep_lines = str(for_rep["description"]).splitlines()
    assert rep_lines[0].endswith(f"for reference request #{booking.request.id}.")
    assert "Prospect: Northwind Bank." in rep_lines
    assert any(line.startswith("Sales rep: ") for line in rep_lines)
    assert "Northwind Bank" not in str(for_advocate["description"])


async def test_picking_twice_changes_nothing_the_second_time(
        ctx: ServiceContext, db: FakeDatabase, booking: Seeded) -> None:
    advocate = advocate_actor(booking.advocate)
    await pick_time(ctx, advocate, booking.id, slot=0)
    before = (len(outbox(db)), len(db.state.audit))

    again = await pick_time(ctx, advocate, booking.id, slot=1)

    assert again.scheduled_at == SLOT_0
    assert (len(outbox(db)), len(db.state.audit)) == before
    assert (await reload(db, booking))[0].scheduled_at == SLOT_0


async def test_only_the_engaged_advocate_can_pick_the_time(
        ctx: ServiceContext, db: FakeDatabase, booking: Seeded, rep: Actor, pm: Actor,
        add_advocate: Any) -> None:
    stranger = advocate_actor(await add_advocate())
    for someone in (rep, pm, stranger):
        with raises_saying(NotAllowed, "isn't yours"):
            await pick_time(ctx, someone, booking.id, slot=0)
    assert outbox(db) == []


@pytest.mark.parametrize(("slot", "message"), [
    (2, "not one of the proposed times"),
    (-1, "not one of the proposed times"),
])
async def test_a_slot_that_does_not_exist_is_refused_on_the_slot_field(
        ctx: ServiceContext, booking: Seeded, slot: int, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        await pick_time(ctx, advocate_actor(booking.advocate), booking.id, slot=slot)
    assert message in words(refused.value)["slot"]


async def test_a_slot_that_has_passed_is_refused(
        ctx: ServiceContext, clock: FixedClock, booking: Seeded) -> None:
    clock.set(SLOT_0 + timedelta(minutes=1))
    with pytest.raises(InvalidInput) as refused:
        await pick_time(ctx, advocate_actor(booking.advocate), booking.id, slot=0)
    assert "already passed" in words(refused.value)["slot"]


async def test_the_choice_must_be_a_slot_or_a_time_not_both_or_neither(
        ctx: ServiceContext, booking: Seeded) -> None:
    advocate = advocate_actor(booking.advocate)
    for kwargs in ({}, {"slot": 0, "proposed": SLOT_1}):
        with pytest.raises(InvalidInput) as refused:
            await pick_time(ctx, advocate, booking.id, **kwargs)
        assert "slot" in words(refused.value)


# --- proposing a new time ----------------------------------------------------------------


async def test_a_new_time_waits_for_the_reps_confirmation_then_books(
        ctx: ServiceContext, db: FakeDatabase, booking: Seeded, rep: Actor) -> None:
    new_time = datetime(2026, 3, 11, 13, 30, tzinfo=UTC)

    proposed = await pick_time(ctx, advocate_actor(booking.advocate), booking.id,
                               proposed=new_time)

    assert proposed.state is EngagementState.PROPOSED
    assert proposed.proposed_at == new_time and proposed.scheduled_at is None
    assert (await reload(db, booking))[1].state is RequestState.ACCEPTED
    ask = last_to(db, REP_EMAIL, "time_proposed")
    assert ask.context["proposed_at"] == new_time.isoformat()
    assert "Wed 11 Mar 2026, 09:30 EDT" in render(ask)
    assert templates_to(db, booking.advocate.email) == []

    booked = await confirm_time(ctx, rep, booking.id, True)

    assert booked.state is EngagementState.SCHEDULED
    assert booked.scheduled_at == new_time and booked.proposed_at is None
    assert (await reload(db, booking))[1].state is RequestState.SCHEDULED
    assert templates_to(db, booking.advocate.email) == ["call_confirmed"]
    assert "Wed 11 Mar 2026, 22:30 JST" in render(last_to(db, booking.advocate.email))


async def test_proposing_one_of_the_reps_own_times_books_at_once(
        ctx: ServiceContext, db: FakeDatabase, booking: Seeded) -> None:
    engagement = await pick_time(ctx, advocate_actor(booking.advocate), booking.id,
                                 proposed=SLOT_1)
    assert engagement.state is EngagementState.SCHEDULED
    assert templates_to(db, REP_EMAIL) == ["call_confirmed"]


async def test_a_program_manager_may_confirm_but_not_another_rep(
        ctx: ServiceContext, db: FakeDatabase, booking: Seeded, other_rep: Actor,
        pm: Actor) -> None:
    await pick_time(ctx, advocate_actor(booking.advocate), booking.id,
                    proposed=SLOT_0 + timedelta(hours=3))
    with raises_saying(NotAllowed, "isn't yours"):
        await confirm_time(ctx, other_rep, booking.id, True)
    with pytest.raises(NotAllowed):
        await confirm_time(ctx, advocate_actor(booking.advocate), booking.id, True)

    assert (await confirm_time(ctx, pm, booking.id, True)).state is EngagementState.SCHEDULED


async def test_declining_a_proposed_time_sends_the_advocate_back_to_picking(
        ctx: ServiceContext, db: FakeDatabase, booking: Seeded, rep: Actor) -> None:
    new_time = datetime(2026, 3, 11, 13, 30, tzinfo=UTC)
    await pick_time(ctx, advocate_actor(booking.advocate), booking.id, proposed=new_time)

    engagement = await confirm_time(ctx, rep, booking.id, False)

    assert engagement.state is EngagementState.ACCEPTED and engagement.proposed_at is None
    assert awaiting_pick(engagement)
    assert awaiting_pick((await reload(db, booking))[0])
    again = last_to(db, booking.advocate.email, "pick_time_again")
    assert again.context["reason"] == "declined"
    assert [s["slot"] for s in again.context["slots"]] == [0, 1]
    text = render(again)
    assert "Riley Rep can't make Wed 11 Mar 2026, 22:30 JST" in text
    assert "1. Tue 10 Mar 2026, 23:00 JST" in text
    assert "engagement.proposal_declined" in audit_actions(db, f"engagement:{booking.id}")

    # The advocate proposes the very same time again: the rep is asked again.
    await pick_time(ctx, advocate_actor(booking.advocate), booking.id, proposed=new_time)
    assert templates_to(db, REP_EMAIL) == ["time_proposed", "time_proposed"]


async def test_confirming_twice_or_from_a_stale_message_changes_nothing(
        ctx: ServiceContext, db: FakeDatabase, booking: Seeded, rep: Actor) -> None:
    first = SLOT_0 + timedelta(hours=2)
    second = SLOT_0 + timedelta(hours=5)
    advocate = advocate_actor(booking.advocate)
    await pick_time(ctx, advocate, booking.id, proposed=first)
    await pick_time(ctx, advocate, booking.id, proposed=first)  # double submission
    assert templates_to(db, REP_EMAIL) == ["time_proposed"]
    await pick_time(ctx, advocate, booking.id, proposed=second)  # changed their mind

    stale = await confirm_time(ctx, rep, booking.id, True, proposed=first)
    assert stale.state is EngagementState.PROPOSED and stale.proposed_at == second
    assert not awaiting_pick(stale)

    await confirm_time(ctx, rep, booking.id, True, proposed=second)
    count = len(outbox(db))
    again = await confirm_time(ctx, rep, booking.id, True)
    declined_late = await confirm_time(ctx, rep, booking.id, False)
    assert again.scheduled_at == second and declined_late.state is EngagementState.SCHEDULED
    assert len(outbox(db)) == count


@pytest.mark.parametrize(("proposed", "message"), [
    (START - timedelta(minutes=5), "in the future"),
    # needed_by is 20 March where the rep is: midnight New York time is 04:00 UTC on 21st.
    (datetime(2026, 3, 21, 4, 0, tzinfo=UTC), "needed by 2026-03-20"),
    (datetime(2026, 3, 25, 12, 0, tzinfo=UTC), "before Sat 21 Mar 2026, 13:00 JST"),
])
async def test_a_new_time_must_be_ahead_and_before_needed_by(
        ctx: ServiceContext, db: FakeDatabase, booking: Seeded, proposed: datetime,
        message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        await pick_time(ctx, advocate_actor(booking.advocate), booking.id, proposed=proposed)
    assert message in words(refused.value)["proposed"]
    assert outbox(db) == []


async def test_the_last_evening_of_needed_by_in_the_reps_zone_is_still_fine(
        ctx: ServiceContext, booking: Seeded) -> None:
    late = datetime(2026, 3, 21, 3, 0, tzinfo=UTC)  # 23:00 EDT on 20 March
    engagement = await pick_time(ctx, advocate_actor(booking.advocate), booking.id,
                                 proposed=late)
    assert engagement.state is EngagementState.PROPOSED


async def test_a_naive_time_is_refused_on_the_field(ctx: ServiceContext, booking: Seeded) -> None:
    with pytest.raises(InvalidInput) as refused:
        await pick_time(ctx, advocate_actor(booking.advocate), booking.id,
                        proposed=datetime(2026, 3, 11, 12, 0))
    assert "time zone" in words(refused.value)["proposed"]


async def test_a_cancelled_request_has_no_call_to_book(
        ctx: ServiceContext, db: FakeDatabase, booking: Seeded) -> None:
    async with db.uow() as uow:
        request = await uow.requests.get(booking.request.id or 0)
        engagement = await uow.engagements.get(booking.id)
        assert request is not None and engagement is not None
        request.state = RequestState.CANCELLED
        engagement.state = EngagementState.CANCELLED
        await uow.requests.update(request)
        await uow.engagements.update(engagement)
        await uow.commit()

    with raises_saying(DomainError, "was cancelled"):
        await pick_time(ctx, advocate_actor(booking.advocate), booking.id, slot=0)


async def test_a_written_reference_has_no_call_to_book(
        ctx: ServiceContext, db: FakeDatabase, rep_person: Person) -> None:
    written = await seed_engagement(db, rep_person, reference_type=ReferenceType.EMAIL,
                                    proposed_times=())
    with raises_saying(DomainError, "no call to book"):
        await pick_time(ctx, advocate_actor(written.advocate), written.id,
                        proposed=SLOT_0)


# --- rescheduling --------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["rep", "advocate", "pm"])
async def test_either_party_can_reschedule_and_the_old_invite_is_cancelled(
        ctx: ServiceContext, db: FakeDatabase, booking: Seeded, rep: Actor, pm: Actor,
        who: str) -> None:
    advocate = advocate_actor(booking.advocate)
    await pick_time(ctx, advocate, booking.id, slot=0)
    by = {"rep": rep, "advocate": advocate, "pm": pm}[who]

    engagement = await reschedule(ctx, by, booking.id, reason="prospect travelling")

    assert engagement.state is EngagementState.ACCEPTED and awaiting_pick(engagement)
    assert (await reload(db, booking))[1].state is RequestState.ACCEPTED
    rep_notice = last_to(db, REP_EMAIL, "call_rescheduled")
    pick_again = last_to(db, booking.advocate.email, "pick_time_again")
    assert pick_again.context["reason"] == "rescheduled"
    assert pick_again.context["previous_at"] == SLOT_0.isoformat()
    assert [s["slot"] for s in pick_again.context["slots"]] == [1]  # not the time called off
    for message in (rep_notice, pick_again):
        calendar, event = parse_ics(message)
        assert str(calendar["method"]) == "CANCEL"
        assert str(event["uid"]) == invite_uid(booking.id)
        assert int(event["sequence"]) == 1
    assert "Tue 10 Mar 2026, 10:00 EDT is off" in render(rep_notice)
    assert "prospect travelling" in render(rep_notice)

    # Picking again books the same calendar event, one sequence further.
    rebooked = await pick_time(ctx, advocate, booking.id, slot=1)
    assert rebooked.scheduled_at == SLOT_1
    confirmation = last_to(db, REP_EMAIL, "call_confirmed")
    _, event = parse_ics(confirmation)
    assert str(event["uid"]) == invite_uid(booking.id)
    assert int(event["sequence"]) == 2
    assert event.decoded("dtstart") == SLOT_1
    assert "Rebooked" in render(confirmation)
    assert templates_to(db, REP_EMAIL) == ["call_confirmed", "call_rescheduled",
                                           "call_confirmed"]


async def test_rescheduling_what_is_not_booked_changes_nothing(
        ctx: ServiceContext, db: FakeDatabase, booking: Seeded, rep: Actor) -> None:
    await reschedule(ctx, rep, booking.id)
    assert outbox(db) == []
    assert audit_actions(db) == []


async def test_strangers_cannot_reschedule(
        ctx: ServiceContext, db: FakeDatabase, booking: Seeded, other_rep: Actor) -> None:
    await pick_time(ctx, advocate_actor(booking.advocate), booking.id, slot=0)
    with pytest.raises(NotAllowed):
        await reschedule(ctx, other_rep, booking.id)


async def test_rescheduling_a_proposal_withdraws_it(
        ctx: ServiceContext, db: FakeDatabase, booking: Seeded, rep: Actor) -> None:
    advocate = advocate_actor(booking.advocate)
    await pick_time(ctx, advocate, booking.id, proposed=SLOT_0 + timedelta(hours=1))

    engagement = await reschedule(ctx, advocate, booking.id)

    assert awaiting_pick(engagement)
    notice = last_to(db, REP_EMAIL, "call_rescheduled")
    assert notice.context["invite"] is None  # nothing was in anyone's calendar yet
    assert "the time Aiko Tanaka proposed" in render(notice)
    # The rep's stale Confirm button now does nothing.
    assert awaiting_pick(await confirm_time(ctx, rep, booking.id, True))
    assert templates_to(db, REP_EMAIL) == ["time_proposed", "call_rescheduled"]


# --- reminders and the outcome prompt -------------------------------------------------------


async def test_reminders_go_once_each_even_when_the_sweep_runs_ten_times(
        ctx: ServiceContext, db: FakeDatabase, clock: FixedClock, booking: Seeded) -> None:
    await pick_time(ctx, advocate_actor(booking.advocate), booking.id, slot=0)

    clock.set(SLOT_0 - timedelta(hours=25))
    assert [await due_reminders(ctx) for _ in range(3)] == [0, 0, 0]

    clock.set(SLOT_0 - timedelta(hours=23))
    assert [await due_reminders(ctx) for _ in range(10)] == [2] + [0] * 9
    clock.set(SLOT_0 - timedelta(minutes=50))
    assert [await due_reminders(ctx) for _ in range(10)] == [2] + [0] * 9
    clock.set(SLOT_0 + timedelta(minutes=1))
    assert await due_reminders(ctx) == 0

    for email, zone_time in ((REP_EMAIL, "10:00 EDT"), (booking.advocate.email, "23:00 JST")):
        reminders = [m for m in messages_to(db, email) if m.template == "call_reminder"]
        assert [m.context["window"] for m in reminders] == ["24h", "1h"]
        assert all(zone_time in render(m) for m in reminders)
    assert "in 50 minutes" in render(last_to(db, REP_EMAIL, "call_reminder"))


async def test_a_call_booked_less_than_an_hour_ahead_gets_only_the_1h_reminder(
        ctx: ServiceContext, db: FakeDatabase, clock: FixedClock, booking: Seeded) -> None:
    clock.set(SLOT_0 - timedelta(minutes=40))
    await pick_time(ctx, advocate_actor(booking.advocate), booking.id, slot=0)
    assert await due_reminders(ctx) == 2
    clock.advance(minutes=10)
    assert await due_reminders(ctx) == 0
    assert [m.context["window"] for m in outbox(db) if m.template == "call_reminder"] == [
        "1h", "1h"]


async def test_a_rescheduled_call_gets_fresh_reminders(
        ctx: ServiceContext, db: FakeDatabase, clock: FixedClock, booking: Seeded,
        rep: Actor) -> None:
    advocate = advocate_actor(booking.advocate)
    await pick_time(ctx, advocate, booking.id, slot=0)
    clock.set(SLOT_0 - timedelta(hours=20))
    assert await due_reminders(ctx) == 2
    await reschedule(ctx, rep, booking.id)
    assert await due_reminders(ctx) == 0  # nothing booked now
    await pick_time(ctx, advocate, booking.id, slot=1)
    clock.set(SLOT_1 - timedelta(hours=2))
    assert await due_reminders(ctx) == 2
    assert await due_reminders(ctx) == 0


async def test_the_rep_is_asked_for_the_outcome_once_after_the_call_ends(
        ctx: ServiceContext, db: FakeDatabase, clock: FixedClock, booking: Seeded) -> None:
    await pick_time(ctx, advocate_actor(booking.advocate), booking.id, slot=0)

    clock.set(SLOT_0 + timedelta(minutes=44))
    assert await due_outcome_prompts(ctx) == 0
    clock.set(SLOT_0 + timedelta(minutes=45))
    assert [await due_outcome_prompts(ctx) for _ in range(5)] == [1, 0, 0, 0, 0]

    prompt = last_to(db, REP_EMAIL, "outcome_prompt")
    assert prompt.context["engagement_id"] == booking.id
    assert prompt.context["outcomes"] == ["completed", "no_show", "rescheduled"]
    assert "Tue 10 Mar 2026, 10:00 EDT" in render(prompt)
    assert "outcome_prompt" not in templates_to(db, booking.advocate.email)


async def test_sweeps_skip_requests_that_are_not_booked(
        ctx: ServiceContext, db: FakeDatabase, clock: FixedClock, booking: Seeded) -> None:
    clock.set(SLOT_0 + timedelta(days=1))
    assert await due_reminders(ctx) == 0
    assert await due_outcome_prompts(ctx) == 0


# --- every message reads well, whatever the names contain -------------------------------------


@pytest.mark.parametrize("name", [
    "O'Brien \"The Bank\" & Sons", "株式会社テスト「日本語」", "<b>x</b> & <@U123> *y*",
    "Rocket 🚀\nLtd",
])
async def test_every_scheduling_message_renders_for_awkward_names(
        ctx: ServiceContext, db: FakeDatabase, clock: FixedClock, name: str) -> None:
    rep = actor(person(REP_EMAIL, name, timezone="America/New_York"))
    seeded = await seed_engagement(db, rep.person, advocate={"name": name, "company": name,
                                                             "title": name},
                                   prospect=name, meeting_link="")
    advocate = advocate_actor(seeded.advocate)
    manager = actor(person(PM_EMAIL, name), Role.PROGRAM_MANAGER)
    await pick_time(ctx, advocate, seeded.id, proposed=SLOT_0 + timedelta(hours=1))
    await confirm_time(ctx, rep, seeded.id, False)
    await pick_time(ctx, advocate, seeded.id, proposed=SLOT_0 + timedelta(hours=2))
    await confirm_time(ctx, manager, seeded.id, True)
    await reschedule(ctx, advocate, seeded.id, reason=name)
    await pick_time(ctx, advocate, seeded.id, slot=0)
    clock.set(SLOT_0 - timedelta(hours=3))
    await due_reminders(ctx)
    clock.set(SLOT_0 - timedelta(minutes=30))
    await due_reminders(ctx)
    clock.set(SLOT_0 + timedelta(hours=1))
    await due_outcome_prompts(ctx)

    texts = render_everything(db)
    assert {m.template for m in outbox(db)} == {
        "time_proposed", "pick_time_again", "call_confirmed", "call_rescheduled",
        "call_reminder", "outcome_prompt"}
    assert all(text and "None" not in text for text in texts)
    assert any(name.strip() in text for text in texts)
