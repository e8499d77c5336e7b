"""Working hours in the services (issue 15): the matches say which of the rep's times fit
each advocate and prefer those with one; messages that can wait arrive inside the
recipient's hours."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.domain.model import Actor
from bot.rendering import Renderer
from bot.services.context import ServiceContext
from bot.services.ranking import HOURS_WEIGHT
from bot.services.requests import submit_request
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
