"""Working hours in the services (issue 15): the matches say which of the rep's times fit
each advocate and prefer those with one; messages that can wait arrive inside the
recipient's hours."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.conversation.commands import StartRequest
from bot.conversation.dispatcher import dispatch
from bot.domain.model import Actor
from bot.rendering import Renderer
from bot.services.context import ServiceContext
from bot.services.intake import KnownValues, RequestDraft, validate_draft
from bot.services.ranking import HOURS_WEIGHT
from bot.services.requests import submit_request
from handlers.slack.blockkit import slack_renderer
from handlers.slack.intake import intake_view
from handlers.teams.cards import TeamsCards
from handlers.teams.replies import intake_card
from tests.fakes import FakeDatabase
from tests.unit.conftest import AddAdvocate, last_to, sample_draft

# Tuesday 3 March 2026, 15:00 UTC: 10:00 in New York (EST), midnight in Tokyo, 16:00 in
# Berlin.
TEN_IN_NEW_YORK = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
RENDERER = Renderer()


@pytest.fixture
def hours(ctx: ServiceContext) -> ServiceContext:
    return replace(ctx, policy=replace(ctx.policy, default_hours="Mon-Fri 09:00-18:00"))


async def test_the_matches_say_which_times_fit_and_prefer_an_advocate_with_one(
        hours: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate) -> None:
    # Aiko fits the request better (its region), but none of the rep's times are hers.
    aiko = await add_advocate(name="Aiko", timezone="Asia/Tokyo", region="EMEA")
    bo = await add_advocate(name="Bo", timezone="Europe/Berlin", region="APAC")
    await submit_request(hours, rep, sample_draft(proposed_times=(TEN_IN_NEW_YORK,)))

    matches = last_to(db, rep.person.email or "", "matches").context["matches"]
    assert [m["name"] for m in matches] == ["Bo", "Aiko"]  # preferred, nobody dropped
    by_name = {m["name"]: m for m in matches}
    assert by_name["Aiko"]["times"] == [{"at": TEN_IN_NEW_YORK.isoformat(), "fits": False}]
    assert by_name["Bo"]["times"] == [{"at": TEN_IN_NEW_YORK.isoformat(), "fits": True}]
    assert {"code": "call_hours_fit", "params": {"count": 1}} in by_name["Bo"]["reasons"]
    assert not any(r["code"] == "call_hours_fit" for r in by_name["Aiko"]["reasons"])
    assert by_name["Bo"]["score"] - HOURS_WEIGHT < by_name["Aiko"]["score"]
    assert (aiko.id, bo.id) == (by_name["Aiko"]["advocate_id"], by_name["Bo"]["advocate_id"])

    context = last_to(db, rep.person.email or "", "matches").context
    text = RENDERER.text("matches", context)
    assert ("Tue 03 Mar, 10:00 your time = Wed 04 Mar, 00:00 for Aiko, outside their call hours"
            in text)
    assert ("Tue 03 Mar, 10:00 your time = Tue 03 Mar, 16:00 for Bo, inside their call hours"
            in text)
    assert "one of your times is inside their call hours" in text


async def test_with_no_hours_anywhere_the_matches_say_nothing_about_them(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate) -> None:
    await add_advocate(name="Aiko", timezone="Asia/Tokyo")
    await submit_request(ctx, rep, sample_draft(proposed_times=(TEN_IN_NEW_YORK,)))
    context = last_to(db, rep.person.email or "", "matches").context
    assert context["matches"][0]["times"] == [{"at": TEN_IN_NEW_YORK.isoformat(),
                                               "fits": None}]
    assert "your time" not in RENDERER.text("matches", context)


async def test_the_intake_is_prefilled_with_the_start_of_the_reps_next_three_working_days(
        hours: ServiceContext, rep: Actor) -> None:
    # Friday 6 March 2026, 20:00 in New York: Monday to Wednesday, 09:00 there.
    now = datetime(2026, 3, 7, 1, 0, tzinfo=UTC)
    hours.clock.set(now)  # type: ignore[attr-defined]
    reply = await dispatch(hours, StartRequest(rep))
    draft = reply.context["draft"]
    assert [t.isoformat() for t in draft.proposed_times] == [
        "2026-03-09T13:00:00+00:00",  # Monday 09:00 EDT (the clocks went forward on the 8th)
        "2026-03-10T13:00:00+00:00", "2026-03-11T13:00:00+00:00"]
    typed = await dispatch(hours, StartRequest(rep, keywords="fintech"))
    assert len(typed.context["draft"].proposed_times) == 3  # keywords keep the times too
    # The suggestions pass the intake's own checks, and both surfaces show them.
    validate_draft(replace(draft, prospect_company="P", reference_type="call",
                           needed_by="2026-03-20", timezone="America/New_York"), now=now)
    view = intake_view(slack_renderer(), known=KnownValues(), draft=draft,
                       user_timezone="America/New_York")
    pickers = {b["block_id"]: b["element"].get("initial_date_time") for b in view["blocks"]
               if b["type"] == "input" and b["element"]["type"] == "datetimepicker"}
    assert sorted(pickers.values()) == [int(t.timestamp()) for t in draft.proposed_times]
    cards = TeamsCards(Renderer())
    card = intake_card(cards, {**reply.context, "known": KnownValues()})
    shown = json.dumps(card)
    for day in ("2026-03-09", "2026-03-10", "2026-03-11"):
        assert f'"value": "{day}"' in shown
    assert shown.count('"value": "09:00"') == 3  # in the rep's zone


async def test_times_the_rep_typed_are_kept_as_typed() -> None:
    from bot.domain.hours import WorkingHours
    from bot.services.intake import with_suggested_times

    mine = RequestDraft(proposed_times=("2026-03-12T10:00",))
    assert with_suggested_times(mine, WorkingHours(), datetime(2026, 3, 7, tzinfo=UTC)) is mine


# --- quiet hours -------------------------------------------------------------------------

NINE_UTC = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday: 18:00 in Tokyo, 04:00 in New York


def due_at(db: FakeDatabase, email: str, template: str) -> datetime:
    (row,) = [m for m in db.state.outbox.values()
              if m.message.template == template and m.message.recipient.email == email]
    assert row.next_attempt_at is not None
    return row.next_attempt_at


async def test_check_ins_reach_each_advocate_at_nine_in_their_own_zone(
        hours: ServiceContext, db: FakeDatabase, add_advocate: AddAdvocate) -> None:
    from bot.services.checkins import send_check_ins

    aiko = await add_advocate(name="Aiko", timezone="Asia/Tokyo")
    nora = await add_advocate(name="Nora", timezone="America/New_York")
    bea = await add_advocate(name="Bea", timezone="Europe/Berlin")  # 10:00 there: inside
    late = await add_advocate(name="Lu", timezone="Asia/Tokyo", call_hours="Mon-Fri 13-17")
    assert await send_check_ins(hours, NINE_UTC, "2026-Q1", NINE_UTC.date()) == 4
    assert due_at(db, aiko.email, "check_in") == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    assert due_at(db, nora.email, "check_in") == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    assert due_at(db, bea.email, "check_in") == NINE_UTC
    assert due_at(db, late.email, "check_in") == datetime(2026, 3, 3, 4, 0, tzinfo=UTC)
    # With no hours anywhere, still 09:00 where each advocate is (or now, if that passed).
    plain = await add_advocate(name="Ny", timezone="America/New_York")
    await send_check_ins(replace(hours, policy=replace(hours.policy, default_hours="")),
                         NINE_UTC, "2026-Q2", NINE_UTC.date())
    assert due_at(db, plain.email, "check_in") == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


async def test_a_message_that_can_wait_waits_for_the_recipients_hours(
        hours: ServiceContext) -> None:
    from bot.domain.model import Person
    from bot.services.messages import quiet_until

    tokyo = Person(email="aiko@x.example", timezone="Asia/Tokyo")
    assert quiet_until(hours, tokyo, NINE_UTC) == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    morning = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)
    assert quiet_until(hours, tokyo, morning) is None  # 10:00 there: now
    assert quiet_until(hours, tokyo, NINE_UTC, "daily 0-0") is None  # her own hours: any
    no_hours = replace(hours, policy=replace(hours.policy, default_hours=""))
    assert quiet_until(no_hours, tokyo, NINE_UTC) is None


# --- an advocate's own hours -------------------------------------------------------------


async def test_an_advocate_sets_her_own_hours_in_words_and_default_clears_them(
        hours: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate) -> None:
    from bot.conversation.commands import SetMyHours
    from bot.conversation.words import read
    from tests.unit.conftest import advocate_actor

    aiko = await add_advocate(name="Aiko", timezone="Asia/Tokyo")
    her = advocate_actor(aiko)
    command = read("hours weekdays 8am-4pm", her, command="advocate")
    assert command == SetMyHours(her, "weekdays 8am-4pm")
    reply = await dispatch(hours, command)
    assert reply.context["profile"].call_hours == "Mon-Fri 08:00-16:00"
    assert db.state.advocates[aiko.id].call_hours == "Mon-Fri 08:00-16:00"

    refused = await dispatch(hours, read("hours whenever", her, command="advocate"))
    assert refused.template == "invalid"
    assert [p.code for p in refused.context["errors"].values()] == ["hours_unreadable"]
    assert db.state.advocates[aiko.id].call_hours == "Mon-Fri 08:00-16:00"  # unchanged
    cleared = await dispatch(hours, read("hours default", her, command="advocate"))
    assert cleared.context["profile"].call_hours == "Mon-Fri 09:00-18:00"  # the program's
    assert db.state.advocates[aiko.id].call_hours == ""
    not_an_advocate = await dispatch(hours, read("hours 9-17", rep, command="advocate"))
    assert not_an_advocate.template == "refused"


# --- the digest ---------------------------------------------------------------------------


async def test_the_digest_lists_asks_that_had_no_fitting_time_and_reaches_managers_at_nine(
        hours: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate) -> None:
    from datetime import date, timedelta

    from bot.services.asks import answer_ask, ask_advocate
    from bot.services.digest import digest_context, digest_for_week, send_weekly_digest
    from tests.unit.conftest import PM_EMAIL, advocate_actor

    aiko = await add_advocate(name="Aiko", timezone="Asia/Tokyo", call_hours="Mon-Fri 6-9")
    bo = await add_advocate(name="Bo", timezone="Europe/Berlin")
    request = (await submit_request(hours, rep, sample_draft(
        prospect_company="Globex", proposed_times=(TEN_IN_NEW_YORK,)))).request
    fitting = (await submit_request(hours, rep, sample_draft(
        prospect_company="Initech", proposed_times=(TEN_IN_NEW_YORK,)))).request
    for req, advocate in ((request, aiko), (fitting, bo)):
        ask = await ask_advocate(hours, rep, req.id or 0, advocate.id)
        assert ask is not None
        await answer_ask(hours, advocate_actor(advocate), ask.id or 0, "accept")

    next_week = date(2026, 3, 9)  # the digest of the week of 2 March goes out on the 9th
    context = digest_context(await digest_for_week(hours, next_week), chart=False)
    assert context["attention"]["no_fitting_time"] == [
        {"request_id": request.id, "prospect_company": "Globex",
         "rep_email": rep.person.email}]  # not Initech: Bo had a fitting time
    assert context["needs_attention"]
    text = RENDERER.text("digest", context)
    assert (f"Request #{request.id} (Globex, {rep.person.email}): none of the rep's times "
            "were inside the advocate's call hours") in text
    card = json.dumps(TeamsCards(Renderer()).outgoing("digest", context).card)
    assert "(Globex, riley.rep@vendor.example): none of the rep's times were inside" in card
    assert "Globex" not in RENDERER.text("digest", digest_context(
        await digest_for_week(hours, next_week + timedelta(weeks=1)), chart=False))

    # It goes out at the digest time (Monday 09:00) in the manager's own zone.
    from bot.domain.model import Identity, Person, Platform

    async with db.uow() as uow:  # the bot has met the manager in New York
        await uow.people.upsert(Person(email=PM_EMAIL, timezone="America/New_York",
                                       identity=Identity(Platform.SLACK, "T1", "UPAT")))
        await uow.commit()
    monday_nine_utc = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    hours.clock.set(monday_nine_utc)  # type: ignore[attr-defined]
    assert await send_weekly_digest(hours, monday_nine_utc, "2026-W11", next_week) == 1
    assert due_at(db, PM_EMAIL, "digest") == datetime(2026, 3, 9, 13, 0, tzinfo=UTC)  # EDT
