"""The Teams bot over botbuilder's TestAdapter with ``channel_id="msteams"``: typed
commands, the intake form and its validation, Universal Actions that refresh the card in
place, the Action.Submit fallback, and what the bot remembers about each person."""

from __future__ import annotations

from datetime import timedelta

import pytest
from botbuilder.core.adapters import TestFlow
from botbuilder.schema import Activity

from bot.domain.model import AskState, Identity, Platform
from bot.services.dispatch import OutboxDispatcher
from bot.services.requests import submit_request
from tests.fakes import NOT_YOURS
from tests.integration.teams.conftest import (
    TENANT,
    TeamsWorld,
    action,
    actions,
    assert_valid_card,
    cards_in,
    texts,
)
from tests.unit.conftest import REP_EMAIL, START, build_advocate, sample_draft
from tests.unit.conftest import actor as make_actor
from tests.unit.conftest import person as make_person

ADA_EMAIL = "ada@customer.example"


def good_form(**changes: str) -> dict[str, str]:
    needed = (START + timedelta(days=18)).date().isoformat()
    fields = {
        "prospect_company": "Globex \"Bank\" <&> 銀行", "reference_type": "call",
        "needed_by": needed, "proposed_time_1.date": (START + timedelta(days=8)).date().isoformat(),
        "proposed_time_1.time": "15:00", "timezone": "Europe/Berlin", "call_length_minutes": "30",
        "parallel_asks": "1",
        "industry": "Fintech", "region": "EMEA", "products": "Payments API",
        "notes": "Migration 🚀\nsecond line",
    }
    fields.update(changes)
    return fields


async def add_ada(world: TeamsWorld) -> int:
    async with world.db.uow() as uow:
        stored = await uow.advocates.add(build_advocate(email=ADA_EMAIL, name="Ada Lovelace",
                                                        timezone="Asia/Tokyo"))
        await uow.commit()
    assert stored.id is not None
    return stored.id


async def test_installing_the_app_welcomes_and_remembers_how_to_reach_the_person(
        world: TeamsWorld) -> None:
    rita = world.person("Rita Rep", REP_EMAIL, timezone="America/Chicago")
    sent = await rita.install()
    (welcome,) = cards_in(sent)
    assert_valid_card(welcome)
    assert action(welcome, "intake.open")
    identity = Identity(Platform.TEAMS, TENANT, rita.user_id)
    async with world.db.uow() as uow:
        stored = await uow.people.get_by_identity(identity)
        reference = await uow.people.conversation_reference(identity)
    assert stored is not None and stored.email == REP_EMAIL
    assert stored.timezone == "America/Chicago"  # Teams' localTimezone, cached per person
    assert reference is not None
    assert reference["conversation"]["id"] == f"a:{rita.user_id}"
    assert reference["serviceUrl"].startswith("https://smba.")
    assert "activityId" not in reference


async def test_a_group_chat_never_becomes_someones_address(world: TeamsWorld) -> None:
    rita = world.person("Rita Rep", REP_EMAIL)
    rita.adapter.template.conversation.conversation_type = "groupChat"
    await rita.say("help")
    async with world.db.uow() as uow:
        assert await uow.people.conversation_reference(
            Identity(Platform.TEAMS, TENANT, rita.user_id)) is None


async def test_a_bad_time_zone_from_the_client_keeps_the_cached_one(world: TeamsWorld) -> None:
    rita = world.person("Rita Rep", REP_EMAIL, timezone="Europe/Paris")
    await rita.say("help")
    rita.timezone = "Not/AZone"
    await rita.say("help")
    async with world.db.uow() as uow:
        stored = await uow.people.get_by_identity(Identity(Platform.TEAMS, TENANT, rita.user_id))
    assert stored is not None and stored.timezone == "Europe/Paris"


async def test_reference_with_keywords_prefills_the_form_through_test_flow(
        world: TeamsWorld) -> None:
    await add_ada(world)
    rita = world.person("Rita Rep", REP_EMAIL)
    rita.adapter.template.local_timezone = "Europe/Berlin"

    def is_prefilled_form(reply: Activity, description: str | None = None) -> None:
        (card,) = cards_in([reply])
        assert_valid_card(card)
        inputs = {e["id"]: e for e in _inputs(card)}
        assert inputs["industry"]["value"] == "Fintech"
        assert inputs["region"]["value"] == "EMEA"
        assert inputs["products"]["value"] == "Payments API"
        assert inputs["prospect_company"]["isRequired"] is True
        assert inputs["prospect_company"]["errorMessage"]
        assert inputs["notes"]["value"] == "migration"

    flow = TestFlow(None, rita.adapter)
    rita.adapter.logic = world.bot.on_turn
    flow = await flow.send("reference fintech payments EMEA migration")
    await flow.assert_reply(is_prefilled_form)


async def test_server_side_errors_reshow_the_form_with_each_error_on_its_field(
        world: TeamsWorld) -> None:
    rita = world.person("Rita Rep", REP_EMAIL)
    (form,) = cards_in(await rita.say("reference"))
    bad = good_form(needed_by="2020-01-01", meeting_link="ftp://nope", timezone="Mars/Base")
    body = await rita.click(action(form, "intake.submit", choose="rep"), **bad)
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    card = body["value"]
    assert_valid_card(card)
    shown = texts(card)
    assert "This date has already passed." in shown
    assert "Give a full link starting with https://." in shown
    assert any("Mars/Base" in t for t in shown)
    inputs = {e["id"]: e for e in _inputs(card)}
    assert inputs["prospect_company"]["value"] == bad["prospect_company"]
    assert inputs["notes"]["value"] == bad["notes"]
    # The error sits right under its field.
    body_ids = [e.get("id") or e.get("text") for e in card["body"]]
    assert body_ids[body_ids.index("needed_by") + 1] == "This date has already passed."
    assert world.db.state.requests == {}


async def test_a_valid_form_files_one_request_even_when_sent_twice(world: TeamsWorld) -> None:
    await add_ada(world)
    rita = world.person("Rita Rep", REP_EMAIL)
    (form,) = cards_in(await rita.say("reference"))
    submit = action(form, "intake.submit", choose="rep")
    first = await rita.click(submit, **good_form())
    assert_valid_card(first["value"])
    assert texts(first["value"])[0].startswith("Request #")
    assert not actions(first["value"])  # nothing left to click twice
    again = await rita.click(submit, **good_form())
    assert texts(again["value"])[0] == "That was done already."
    assert len(world.db.state.requests) == 1
    (request,) = world.db.state.requests.values()
    assert request.prospect_company == "Globex \"Bank\" <&> 銀行"
    assert request.rep.identity == Identity(Platform.TEAMS, TENANT, rita.user_id)
    assert request.timezone == "Europe/Berlin"
    assert [t.isoformat() for t in request.proposed_times] == ["2026-03-10T14:00:00+00:00"]
    assert [m.message.template for m in world.db.state.outbox.values()] == ["matches"]


async def test_the_advocate_consents_on_the_card_and_a_second_click_does_nothing(
        world: TeamsWorld) -> None:
    ada_id = await add_ada(world)
    ada = world.person("Ada Lovelace", ADA_EMAIL, timezone="Asia/Tokyo")
    await ada.install()
    rep = make_actor(make_person(REP_EMAIL, "Riley Rep", timezone="America/New_York"))
    request = (await submit_request(world.ctx, rep, sample_draft())).request
    from bot.services.asks import ask_advocate

    await ask_advocate(world.ctx, rep, request.id or 0, ada_id)
    dispatcher = OutboxDispatcher(world.db.uow, {Platform.TEAMS: world.messenger}, world.clock)
    await dispatcher.run_once()  # the rep is on Slack here: only the ask goes out
    (ask_card,) = cards_in(world.outbound.activity_buffer)
    assert_valid_card(ask_card)
    assert any("Reference call" in t or "reference call" in t for t in texts(ask_card))

    accept = action(ask_card, "ask.accept")
    assert accept["fallback"]["type"] == "Action.Submit"
    body = await ada.click(accept)
    refreshed = body["value"]
    assert_valid_card(refreshed)
    assert texts(refreshed)[0] == "You said yes. Thank you!"
    assert not actions(refreshed)
    again = await ada.click(accept)  # an old copy of the card, clicked again
    assert texts(again["value"])[0] == "You said yes. Thank you!"
    (ask,) = world.db.state.asks.values()
    assert ask.state == AskState.ACCEPTED
    assert len(world.db.state.engagements) == 1


async def test_the_submit_fallback_updates_the_card_it_came_from(world: TeamsWorld) -> None:
    ada_id = await add_ada(world)
    ada = world.person("Ada Lovelace", ADA_EMAIL)
    await ada.install()
    rep = make_actor(make_person(REP_EMAIL, "Riley Rep"))
    request = (await submit_request(world.ctx, rep, sample_draft())).request
    from bot.services.asks import ask_advocate

    ask = await ask_advocate(world.ctx, rep, request.id or 0, ada_id)
    assert ask is not None
    card, _ = world.cards.message("ask", _context_of(world, "ask"))
    decline = action(card, "ask.decline")
    sent = await ada.submit(decline, reply_to="activity-7", reason="Busy \"quarter\" <end>")
    assert sent == []
    (updated,) = ada.adapter.updated_activities
    assert updated.id == "activity-7"
    (refreshed,) = cards_in([updated])
    assert texts(refreshed)[0] == "You declined. Thanks for letting us know."
    stored = world.db.state.asks[ask.id or 0]
    assert stored.state == AskState.DECLINED
    assert stored.decline_reason == "Busy \"quarter\" <end>"


async def test_someone_else_clicking_an_ask_is_refused_and_the_card_stays(
        world: TeamsWorld) -> None:
    ada_id = await add_ada(world)
    rep = make_actor(make_person(REP_EMAIL, "Riley Rep"))
    request = (await submit_request(world.ctx, rep, sample_draft())).request
    from bot.services.asks import ask_advocate

    ask = await ask_advocate(world.ctx, rep, request.id or 0, ada_id)
    assert ask is not None
    mallory = world.person("Mallory", "mallory@vendor.example")
    body = await mallory.click({"verb": "ask.accept", "data": {"ask_id": ask.id}})
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert body["value"] == NOT_YOURS
    assert world.db.state.asks[ask.id or 0].state == AskState.PENDING


async def test_a_forged_or_stale_button_gets_a_message_not_an_error(world: TeamsWorld) -> None:
    rita = world.person("Rita Rep", REP_EMAIL)
    for button in ({"verb": "admin.drop_tables", "data": {}},
                   {"verb": "ask.accept", "data": {"ask_id": "1; DROP"}},
                   {"verb": "ask.accept", "data": {"ask_id": 999}}):
        body = await rita.click(button)
        assert body["type"] == "application/vnd.microsoft.activity.message"
        assert body["value"]


async def test_reference_list_and_cancel_by_message(world: TeamsWorld) -> None:
    await add_ada(world)
    rita = world.person("Rita Rep", REP_EMAIL)
    (form,) = cards_in(await rita.say("reference"))
    await rita.click(action(form, "intake.submit", choose="rep"), **good_form())
    (listing,) = cards_in(await rita.say("reference list"))
    assert_valid_card(listing)
    (request,) = world.db.state.requests.values()
    assert any(t.startswith(f"#{request.id} · Globex") for t in texts(listing))
    assert action(listing, "request.cancel", request_id=request.id)
    (done,) = cards_in(await rita.say(f"reference cancel #{request.id}"))
    assert texts(done)[0] == f"Request #{request.id} (Globex \"Bank\" <&> 銀行) is cancelled."
    assert world.db.state.requests[request.id or 0].state.value == "cancelled"
    (usage,) = await rita.say("reference cancel")
    assert "reference cancel 12" in (usage.text or "")


async def test_an_unknown_message_gets_the_help_card(world: TeamsWorld) -> None:
    rita = world.person("Rita Rep", REP_EMAIL)
    sent = await rita.say("<at>Advocate Bot</at> what can you do?")
    assert "what can you do?" in (sent[0].text or "")
    (card,) = cards_in(sent)
    assert action(card, "intake.open")


# --- helpers ------------------------------------------------------------------------------


def _inputs(card: dict) -> list[dict]:
    found: list[dict] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Input."):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card.get("body", []))
    return found


def _context_of(world: TeamsWorld, template: str) -> dict:
    (message,) = [m.message for m in world.db.state.outbox.values()
                  if m.message.template == template]
    return message.context


async def test_the_quarterly_check_in_is_answered_on_its_card(world: TeamsWorld) -> None:
    from bot.services.checkins import send_check_ins

    ada_id = await add_ada(world)
    ada = world.person("Ada Lovelace", ADA_EMAIL, timezone="Asia/Tokyo")
    await send_check_ins(world.ctx, world.clock.now(), "2026-Q2")
    card, _ = world.cards.message("check_in", _context_of(world, "check_in"))
    assert_valid_card(card)
    body = await ada.click(action(card, "checkin.answer", choice="change_limits"),
                           max_per_90_days="2", max_per_365_days="5.0", cooldown_days="30",
                           feedback="More fintech please 🙏")
    assert texts(body["value"])[0] == "Your limits are updated."
    stored = world.db.state.advocates[ada_id]
    assert (stored.own_limits.max_per_90_days, stored.own_limits.max_per_365_days,
            stored.own_limits.cooldown_days) == (2, 5, 30)
    body = await ada.click(action(card, "checkin.answer", choice="pause"), months="3")
    assert texts(body["value"])[0].startswith("You're paused. (until 2026-06-")
    body = await ada.click(action(card, "checkin.answer", choice="pause"), months="2.5")
    assert body["type"] == "application/vnd.microsoft.activity.message"


@pytest.mark.parametrize("typed", ["en", "EN", "English", "英語"])
async def test_a_language_typed_as_a_code_or_a_name_finds_the_advocates_who_speak_it(
        world: TeamsWorld, typed: str) -> None:
    """An old Teams client without menus sends what the rep typed: ``en`` must find the
    roster's "English" speakers, not close the request as unfulfilled."""
    async with world.db.uow() as uow:
        await uow.advocates.add(build_advocate(email=ADA_EMAIL, name="Ada Lovelace",
                                               languages=("English", "German")))
        await uow.commit()
    rita = world.person("Rita Rep", REP_EMAIL)
    (form,) = cards_in(await rita.say("reference"))
    answer = await rita.click(action(form, "intake.submit", choose="rep"),
                              **good_form(language=typed))
    assert texts(answer["value"])[0].startswith("Request #"), texts(answer["value"])
    assert "nobody fits" not in texts(answer["value"])[0]
    (request,) = world.db.state.requests.values()
    assert request.language == "English"


async def test_the_rep_reports_the_outcome_on_its_card_and_the_spec_checks_it_first(
        world: TeamsWorld) -> None:
    from bot.domain.errors import Problem
    from bot.domain.model import EngagementState
    from bot.services.asks import answer_ask, ask_advocate
    from bot.services.reminders import due_outcome_prompts
    from bot.services.scheduling import pick_time
    from tests.unit.conftest import advocate_actor

    ada_id = await add_ada(world)
    rep = make_actor(make_person(REP_EMAIL, "Rita Rep"))
    request = (await submit_request(world.ctx, rep, sample_draft())).request
    ask = await ask_advocate(world.ctx, rep, request.id or 0, ada_id)
    assert ask is not None
    ada = advocate_actor(world.db.state.advocates[ada_id])
    await answer_ask(world.ctx, ada, ask.id or 0, "accept")
    (engagement,) = world.db.state.engagements.values()
    await pick_time(world.ctx, ada, engagement.id or 0, slot=0)
    world.clock.set(request.proposed_times[0] + timedelta(hours=1))
    assert await due_outcome_prompts(world.ctx) == 1
    card, _ = world.cards.message("outcome_prompt", _context_of(world, "outcome_prompt"))
    assert_valid_card(card)
    rita = world.person("Rita Rep", REP_EMAIL)
    save = action(card, "outcome.record")

    # A rating the form never offered: refused on the spec, before the service.
    body = await rita.click(save, outcome="completed", helpfulness="9")
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert world.cards.renderer.problem_text(Problem("field_not_a_choice")) in body["value"]
    assert world.db.state.engagements[engagement.id or 0].state is not \
        EngagementState.COMPLETED

    body = await rita.click(save, helpfulness="5")  # no outcome chosen: said on the field
    assert world.cards.renderer.problem_text(Problem("field_required")) in body["value"]
    body = await rita.click(save, outcome="completed", helpfulness="5",
                            influenced_amount="1200")
    stored = world.db.state.engagements[engagement.id or 0]
    assert stored.state is EngagementState.COMPLETED, body
    assert (stored.helpfulness, stored.influenced_amount) == (5, 1200)


async def test_limits_past_the_programs_are_refused_with_the_same_words_as_on_slack(
        world: TeamsWorld) -> None:
    from bot.domain.errors import Problem

    ada_id = await add_ada(world)
    ada = world.person("Ada Lovelace", ADA_EMAIL, timezone="Asia/Tokyo")
    (card,) = cards_in(await ada.say("advocate me"))
    body = await ada.click(action(card, "profile.limits"), max_per_90_days="9")
    program = world.ctx.policy.limits.max_per_90_days
    words = world.cards.renderer.problem_text(Problem("field_out_of_range", low=0,
                                                      high=program))
    assert f"Most references in any 90 days: {words}" in body["value"]  # which box, too
    assert world.db.state.advocates[ada_id].own_limits.max_per_90_days is None
    body = await ada.click(action(card, "profile.limits"), max_per_90_days="1")
    assert world.db.state.advocates[ada_id].own_limits.max_per_90_days == 1
