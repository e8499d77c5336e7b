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
    assert "Tue 10:00 your time = Wed 00:00 for Aiko, outside their call hours" in text
    assert "Tue 10:00 your time = Tue 16:00 for Bo, inside their call hours" in text
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
    cards = TeamsCards(slack_renderer())
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
