"""``advocate …`` (an advocate about themself) and ``advocates …`` (program managers) typed
to the bot in Teams, over botbuilder's TestAdapter with ``channel_id="msteams"``: the
profile card and its buttons refreshed in place, the roster words, the export as a file,
and the polite refusals."""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

from botbuilder.core.adapters import TestFlow
from botbuilder.schema import Activity

from bot.domain.model import AdvocateStatus, LimitOverrides
from handlers.teams.messenger import FILE_CONSENT_CONTENT_TYPE
from tests.fakes import NOT_YOURS
from tests.integration.teams.conftest import (
    TeamsPerson,
    TeamsWorld,
    action,
    actions,
    assert_valid_card,
    cards_in,
    texts,
)
from tests.integration.teams.test_handler import ADA_EMAIL, add_ada
from tests.unit.conftest import PM_EMAIL, REP_EMAIL, build_advocate

REFUSAL = "Sorry, only a program manager can manage the advocate roster."


def facts(card: dict[str, Any]) -> dict[str, str]:
    return {f["title"]: f["value"] for block in card["body"] if block["type"] == "FactSet"
            for f in block["facts"]}


def verbs(card: dict[str, Any]) -> set[str]:
    return {a["verb"] for a in actions(card)}


async def one_card(person: TeamsPerson, text: str) -> dict[str, Any]:
    (card,) = cards_in(await person.say(text))
    assert_valid_card(card)
    return card


async def one_text(person: TeamsPerson, text: str) -> str:
    sent = await person.say(text)
    assert cards_in(sent) == [], [texts(c) for c in cards_in(sent)]
    (reply,) = sent
    return reply.text or ""


async def stored(world: TeamsWorld, advocate_id: int) -> Any:
    async with world.db.uow() as uow:
        return await uow.advocates.get(advocate_id)


# --- advocate … (about oneself) ------------------------------------------------------------


async def test_advocate_me_shows_the_profile_card_through_test_flow(world: TeamsWorld) -> None:
    await add_ada(world)
    ada = world.person("Ada Lovelace", ADA_EMAIL, timezone="Asia/Tokyo")

    def is_profile(reply: Activity, description: str | None = None) -> None:
        (card,) = cards_in([reply])
        assert_valid_card(card)
        assert texts(card)[0] == "Your advocate profile"
        assert facts(card)["Status"] == "active"
        assert facts(card)["Limits used"] == "0 of 3 in 90 days · 0 of 8 in 365 days · " \
                                             "0 of 2 open asks"
        assert verbs(card) == {"profile.pause", "profile.limits", "profile.hours",
                               "profile.leave", "language.choose"}
        assert all(a["fallback"]["type"] == "Action.Submit" for a in actions(card))

    ada.adapter.logic = world.bot.on_turn
    flow = await TestFlow(None, ada.adapter).send("advocate me")
    await flow.assert_reply(is_profile)


async def test_someone_not_on_the_roster_is_told_kindly(world: TeamsWorld) -> None:
    rita = world.person("Rita Rep", REP_EMAIL)
    for text in ("advocate me", "advocate pause", "advocate leave"):
        assert "not on the advocate roster" in await one_text(rita, text)
    help_text = await one_text(rita, "advocate")
    assert help_text.startswith("**advocate me** shows your advocate profile")
    assert "**advocates find" not in help_text  # the roster's words are for managers
    assert await one_text(rita, "advocate dance") == help_text


async def test_an_advocate_pauses_until_a_day_and_resumes_on_the_refreshed_card(
        world: TeamsWorld) -> None:
    ada_id = await add_ada(world)
    ada = world.person("Ada Lovelace", ADA_EMAIL)
    card = await one_card(ada, "advocate pause until 2026-04-01")
    assert facts(card)["Status"] == "on leave through 2026-04-01"
    assert (await stored(world, ada_id)).unavailable_until == date(2026, 4, 1)
    assert verbs(card) == {"profile.resume", "profile.limits", "profile.hours", "profile.leave",
                           "language.choose"}

    body = await ada.click(action(card, "profile.resume"))  # Action.Execute
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    refreshed = body["value"]
    assert_valid_card(refreshed)
    assert facts(refreshed)["Status"] == "active"
    assert "profile.resume" not in verbs(refreshed) and "profile.pause" in verbs(refreshed)
    assert (await stored(world, ada_id)).unavailable_until is None

    # The pause button's own form: a day, or nothing for "until I resume".
    body = await ada.click(action(refreshed, "profile.pause"), until="")
    assert facts(body["value"])["Status"] == "paused"
    assert (await stored(world, ada_id)).status is AdvocateStatus.PAUSED
    card = await one_card(ada, "advocate resume")
    assert facts(card)["Status"] == "active"


async def test_a_bad_or_past_day_is_explained_and_changes_nothing(world: TeamsWorld) -> None:
    ada_id = await add_ada(world)
    ada = world.person("Ada Lovelace", ADA_EMAIL)
    assert await one_text(ada, "advocate pause until someday") == \
        "The day 'someday' is not a date; write YYYY-MM-DD, e.g. 2026-04-01."
    assert await one_text(ada, "advocate pause until 2020-01-01") == "Pick a day from today on."
    card = await one_card(ada, "advocate me")
    body = await ada.click(action(card, "profile.pause"), until="2020-01-01")
    assert body == {"statusCode": 200, "type": "application/vnd.microsoft.activity.message",
                    "value": "Pick a day from today on."}
    advocate = await stored(world, ada_id)
    assert advocate.status is AdvocateStatus.ACTIVE and advocate.unavailable_until is None


async def test_the_submit_fallback_pauses_and_updates_the_profile_it_came_from(
        world: TeamsWorld) -> None:
    ada_id = await add_ada(world)
    ada = world.person("Ada Lovelace", ADA_EMAIL)
    card = await one_card(ada, "advocate me")
    sent = await ada.submit(action(card, "profile.pause"), reply_to="activity-3",
                            until="2026-05-01")
    assert sent == []
    (updated,) = ada.adapter.updated_activities
    assert updated.id == "activity-3"
    (refreshed,) = cards_in([updated])
    assert facts(refreshed)["Status"] == "on leave through 2026-05-01"
    assert (await stored(world, ada_id)).unavailable_until == date(2026, 5, 1)


async def test_an_advocate_sets_stricter_limits_by_word_and_on_the_card(
        world: TeamsWorld) -> None:
    ada_id = await add_ada(world)
    ada = world.person("Ada Lovelace", ADA_EMAIL)
    card = await one_card(ada, "advocate limits 90d=2 cooldown=30")
    assert facts(card)["Rest between references"] == "30 days"
    assert facts(card)["Call hours"] == "any time (Asia/Tokyo)"  # this program sets none
    assert (await stored(world, ada_id)).own_limits == LimitOverrides(max_per_90_days=2,
                                                                      cooldown_days=30)
    assert await one_text(ada, "advocate limits 90d=9") == \
        "The 90-day limit can be at most 3 (the program's limit)."

    body = await ada.click(action(card, "profile.limits"), max_per_90_days="1",
                           max_per_365_days="4", cooldown_days="21", max_open_asks="1")
    assert facts(body["value"])["Limits used"].startswith("0 of 1 in 90 days")
    assert (await stored(world, ada_id)).own_limits == LimitOverrides(1, 4, 21, 1)
    card = await one_card(ada, "advocate limits clear")
    assert (await stored(world, ada_id)).own_limits == LimitOverrides()


async def test_an_advocate_leaves_the_program(world: TeamsWorld) -> None:
    ada_id = await add_ada(world)
    ada = world.person("Ada Lovelace", ADA_EMAIL)
    card = await one_card(ada, "advocate leave")
    assert texts(card)[0] == "You've left the advocate program."
    assert not actions(card)
    assert (await stored(world, ada_id)).status is AdvocateStatus.RETIRED
    card = await one_card(ada, "advocate me")
    assert facts(card)["Status"] == "left the program"
    assert not actions(card)


# --- advocates … (program managers) --------------------------------------------------------


async def test_everyone_but_a_program_manager_is_politely_refused(world: TeamsWorld) -> None:
    ada_id = await add_ada(world)
    rita = world.person("Rita Rep", REP_EMAIL)
    ada = world.person("Ada Lovelace", ADA_EMAIL)  # an advocate is not a manager either
    for person in (rita, ada):
        for text in ("advocates", "advocates find fintech", f"advocates show {ADA_EMAIL}",
                     f"advocates pause {ADA_EMAIL}", f"advocates resume {ADA_EMAIL}",
                     f"advocates limits {ADA_EMAIL} 90d=9 because I said so",
                     "advocates export", "advocates digest now"):
            assert await one_text(person, text) == REFUSAL, text
    assert (await stored(world, ada_id)).manager_limits == LimitOverrides()
    assert world.db.state.outbox == {}
    # A button from a manager's card, clicked by someone else, is refused as well.
    body = await rita.click({"verb": "roster.limits",
                             "data": {"advocate_id": ada_id, "max_per_90_days": "9",
                                      "reason": "sneaky"}})
    assert body["value"] == "Sorry, only a program manager can override an advocate's limits."
    body = await rita.click({"verb": "roster.show", "data": {"advocate_id": ada_id}})
    assert body["value"] == NOT_YOURS


async def test_a_program_manager_finds_and_opens_a_profile_from_the_list(
        world: TeamsWorld) -> None:
    ada_id = await add_ada(world)
    pat = world.person("Pat Manager", PM_EMAIL)
    assert (await one_text(pat, "advocates")).startswith(
        "For program managers: **advocates find WORDS**")
    found = await one_card(pat, "advocates find fintech lovelace")
    assert f"Ada Lovelace <{ADA_EMAIL}>" in texts(found)
    body = await pat.click(action(found, "roster.show", advocate_id=ada_id))
    profile = body["value"]
    assert_valid_card(profile)
    assert texts(profile)[0] == "Advocate profile: Ada Lovelace"
    assert verbs(profile) == {"profile.pause", "roster.limits"}
    nobody = await one_card(pat, "advocates find zzz")
    assert not actions(nobody)
    shown = await one_card(pat, "advocates show lovelace")
    assert texts(shown)[0] == "Advocate profile: Ada Lovelace"


async def test_a_program_manager_pauses_resumes_and_overrides_with_a_reason(
        world: TeamsWorld) -> None:
    ada_id = await add_ada(world)
    pat = world.person("Pat Manager", PM_EMAIL)
    card = await one_card(pat, "advocates pause Ada Lovelace until 2026-04-01 because leave")
    assert texts(card)[0] == "Ada Lovelace is paused through 2026-04-01."
    assert (await stored(world, ada_id)).unavailable_until == date(2026, 4, 1)
    told = [m.message for m in world.db.state.outbox.values()]
    assert [m.template for m in told] == ["advocate_paused"]
    assert told[0].context["reason"] == "leave"
    card = await one_card(pat, f"advocates resume {ADA_EMAIL}")
    assert texts(card)[0] == "Ada Lovelace can be asked again."
    assert (await stored(world, ada_id)).unavailable_until is None

    assert await one_text(pat, "advocates limits Ada 90d=5") == \
        "Say why you are overriding this advocate's limits (it is audited)."
    assert await one_text(pat, "advocates limits Ada weekly=2") == \
        '"weekly" is not a limit; use 90d, 365d, cooldown or open.'
    card = await one_card(pat, "advocates limits Ada 90d=5 because renewal push")
    assert texts(card)[0] == "Ada Lovelace's limits are updated."
    assert texts(card)[1].startswith("5 in 90 days")
    assert (await stored(world, ada_id)).manager_limits == LimitOverrides(max_per_90_days=5)
    card = await one_card(pat, "advocates limits Ada")
    assert texts(card)[0] == "Ada Lovelace's limits:"
    async with world.db.uow() as uow:
        audit = await uow.audit.list(subject=f"advocate:{ada_id}")
    override = [e for e in audit if e.action == "limit.override"]
    assert len(override) == 1 and override[0].detail["reason"] == "renewal push"

    # The override form on the profile card, refreshed in place.
    profile = await one_card(pat, f"advocates show {ADA_EMAIL}")
    body = await pat.click(action(profile, "roster.limits"), max_per_90_days="6",
                           max_per_365_days="", cooldown_days="", max_open_asks="",
                           reason="big quarter")
    assert texts(body["value"])[0] == "Advocate profile: Ada Lovelace"
    assert (await stored(world, ada_id)).manager_limits == LimitOverrides(max_per_90_days=6)


async def test_an_ambiguous_name_lists_who_fits(world: TeamsWorld) -> None:
    async with world.db.uow() as uow:
        for email, name in (("a1@x.example", "Alex One"), ("a2@x.example", "Alex Two")):
            await uow.advocates.add(build_advocate(email=email, name=name))
        await uow.commit()
    pat = world.person("Pat Manager", PM_EMAIL)
    reply = await one_text(pat, "advocates pause alex")
    assert "2 advocates fit" in reply and "a1@x.example" in reply and "a2@x.example" in reply


async def test_export_in_teams_is_a_file_consent_card_without_the_data(
        world: TeamsWorld) -> None:
    await add_ada(world)
    pat = world.person("Pat Manager", PM_EMAIL)
    note, consent = await pat.say("advocates export")
    assert note.text == "The advocate roster as of today: 1 advocate(s), CSV attached."
    (attachment,) = consent.attachments
    assert attachment.content_type == FILE_CONSENT_CONTENT_TYPE
    assert attachment.name == "advocates-2026-03-02.csv"
    content = attachment.content
    assert content["acceptContext"] == {"export": "roster",
                                        "filename": "advocates-2026-03-02.csv"}
    assert content["sizeInBytes"] > len(ADA_EMAIL)
    assert ADA_EMAIL not in str(content)  # made again, for a manager, when accepted


async def test_export_in_the_emulator_is_an_inline_csv(world: TeamsWorld) -> None:
    await add_ada(world)
    pat = world.person("Pat Manager", PM_EMAIL)
    pat.adapter.template.channel_id = "emulator"
    _, inline = await pat.say("advocates export")
    (attachment,) = inline.attachments
    assert attachment.content_type == "text/csv"
    head, _, data = attachment.content_url.partition(",")
    assert head == "data:text/csv;base64"
    csv_text = base64.b64decode(data).decode()
    assert csv_text.splitlines()[0].startswith("Email,")
    assert ADA_EMAIL in csv_text


async def test_digest_now_goes_to_the_manager_who_asked(world: TeamsWorld) -> None:
    pat = world.person("Pat Manager", PM_EMAIL)
    assert await one_text(pat, "advocates digest now") == \
        "This week's digest so far is on its way to your direct messages with me."
    (message,) = [m.message for m in world.db.state.outbox.values()]
    assert message.template == "digest"
    assert message.recipient.email == PM_EMAIL
    assert message.recipient.identity is not None
    assert message.recipient.identity.user_id == pat.user_id
