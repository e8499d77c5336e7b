"""Every Teams card renders, for awkward input, into JSON the Adaptive Card 1.5 schema
accepts (``msteams`` removed first: it is Teams' extension) and within Teams' 28 KB.

Contexts are the ones the services really queue: each conversation is played against
the fakes (``tests/unit/test_templates_text.py`` for requests and asks, recognition from
``test_slack_templates.py``, scheduling and the weekly digest here, the digest over the
hand-computed ``tests/digest_fixture.py``), with the awkward text in every free field.
"""

from __future__ import annotations

import base64
import json
import random
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import adaptive_cards
import jsonschema
import pytest

from bot.conversation.clicks import command_of, parse_action
from bot.conversation.commands import PickTime
from bot.conversation.dispatcher import advocate_view
from bot.domain.errors import Problem
from bot.domain.model import (
    Advocate,
    Engagement,
    EngagementState,
    LimitOverrides,
    Outcome,
    ReferenceType,
    Role,
)
from bot.domain.policy import LimitPolicy
from bot.ports import OutgoingMessage
from bot.rendering import Renderer, templates_dir
from bot.services.advocates import advocate_profile, pause_advocate
from bot.services.asks import answer_ask, ask_advocate
from bot.services.checkins import send_check_in_reminders, send_check_ins
from bot.services.context import ServiceContext
from bot.services.digest import send_digest_now, send_weekly_digest
from bot.services.intake import KnownValues
from bot.services.outcomes import record_outcome
from bot.services.reminders import due_outcome_prompts, due_reminders
from bot.services.requests import submit_request
from bot.services.scheduling import confirm_time, pick_time, reschedule
from handlers.teams.cards import (
    ACTIVITY_HEADROOM,
    MAX_CARD_BYTES,
    RenderedMessage,
    TeamsCards,
    card_size,
)
from tests import digest_fixture
from tests.fakes import FakeDatabase, FixedClock
from tests.integration.teams.conftest import texts, without_host_config
from tests.templates.nomination_conversation import nomination_conversation
from tests.templates.test_slack_templates import recognition_conversation
from tests.unit.conftest import (
    PM_EMAIL,
    REP_EMAIL,
    START,
    actor,
    advocate_actor,
    outbox,
    person,
)
from tests.unit.conftest import sample_draft as draft
from tests.unit.test_templates_text import EDGE_CASES, World, every_conversation

SCHEMA = jsonschema.Draft6Validator(json.loads(
    (Path(adaptive_cards.__file__).parent / "schemas" / "schema-1.5.json").read_text()))
TEAMS = templates_dir() / "teams"
CARD_TEMPLATES = sorted(p.name.removesuffix(".json.j2") for p in TEAMS.glob("*.json.j2"))
UI_CARDS = {"intake", "status", "welcome", "request_list", "message", "profile", "roster",
            "nominate_task"}  # the message action's task module (test_nominations_http)
LONG = ("Tell them about <the migration> & the \"rollout\" 🚀 日本語 " * 60)[:3000]


def schema_errors(card: dict[str, Any]) -> list[str]:
    return [f"{list(e.path)}: {e.message[:200]}"
            for e in SCHEMA.iter_errors(without_host_config(card))]


def assert_card(card: dict[str, Any]) -> None:
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    assert not schema_errors(card), schema_errors(card)
    assert card_size(card) <= MAX_CARD_BYTES
    for execute in _executes(card):
        assert execute["data"]["verb"] == execute["verb"]
        assert execute["fallback"] == {**{k: v for k, v in execute.items()
                                          if k in ("title", "data", "style")},
                                       "type": "Action.Submit"}


def _executes(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node] if node.get("type") == "Action.Execute" else []
        return found + [e for v in node.values() for e in _executes(v)]
    if isinstance(node, list):
        return [e for v in node for e in _executes(v)]
    return []


@pytest.fixture(scope="module")
def cards() -> TeamsCards:
    return TeamsCards(Renderer())


async def scheduling_conversation(text: str, *, notes: str | None = None
                                  ) -> list[OutgoingMessage]:
    """A yes through every scheduling turn to a thank-you, and a no-show elsewhere."""
    w = World()
    rep = actor(person(REP_EMAIL, f"Riley {text}", timezone="America/New_York"))
    ada = await w.advocate("Ada", text, timezone="Asia/Tokyo")
    sample = draft(prospect_company=f"Prospect {text}"[:200], notes=notes or f"Notes {text}",
                   meeting_link="https://meet.example/call?id=1&pw=<2>")
    request = (await submit_request(w.ctx, rep, sample)).request
    ask = await ask_advocate(w.ctx, rep, request.id or 0, ada.id)
    assert ask is not None
    her = advocate_actor(ada)
    await answer_ask(w.ctx, her, ask.id or 0, "accept")
    (engagement,) = w.db.state.engagements.values()
    eid = engagement.id or 0
    await pick_time(w.ctx, her, eid, proposed=START + timedelta(days=5))
    await confirm_time(w.ctx, rep, eid, accept=False)
    await pick_time(w.ctx, her, eid, slot=1)
    await reschedule(w.ctx, rep, eid, reason=f"Because {text}")
    await pick_time(w.ctx, her, eid, slot=0)
    call = request.proposed_times[0]
    w.clock.set(call - timedelta(minutes=30))
    await due_reminders(w.ctx)
    w.clock.set(call + timedelta(hours=1))
    await due_outcome_prompts(w.ctx)
    await record_outcome(w.ctx, rep, eid, Outcome.COMPLETED, helpfulness=4,
                         influenced_amount=Decimal("1200.5"))
    sent = outbox(w.db)

    w = World()
    bob = await w.advocate("Bob", text)
    request = (await submit_request(w.ctx, rep, sample)).request
    ask = await ask_advocate(w.ctx, rep, request.id or 0, bob.id)
    assert ask is not None
    await answer_ask(w.ctx, advocate_actor(bob), ask.id or 0, "accept")
    (engagement,) = w.db.state.engagements.values()
    await pick_time(w.ctx, advocate_actor(bob), engagement.id or 0, slot=0)
    w.clock.set(request.proposed_times[0] + timedelta(hours=1))
    await record_outcome(w.ctx, rep, engagement.id or 0, Outcome.NO_SHOW)
    return sent + outbox(w.db)


async def check_in_conversation(text: str) -> list[OutgoingMessage]:
    """The quarterly check-in and its reminder to an advocate named with ``text``."""
    w = World()
    await w.advocate("Ada", text)
    await send_check_ins(w.ctx, w.clock.now(), "2026-Q2")
    await send_check_in_reminders(w.ctx, w.clock.now() + timedelta(days=7), "2026-Q2",
                                  since=w.clock.now())
    return outbox(w.db)


async def digest_conversation(text: str, *, names: str | None = None
                              ) -> list[OutgoingMessage]:
    """The weekly digest of the hand-computed fixture as the scheduler queues it, with
    ``names`` (default ``text``) after every advocate's name and ``text`` after every
    prospect's; then ``advocates digest now`` in an empty program (nothing to attend to)."""
    db = FakeDatabase()
    ctx = ServiceContext(uow=db.uow, clock=FixedClock(START), program_managers=(PM_EMAIL,),
                         program_timezone=digest_fixture.ZONE)
    ids = await digest_fixture.load(db.uow)
    async with db.uow() as uow:
        for name, advocate_id in ids.items():
            advocate = await uow.advocates.get(advocate_id)
            assert advocate is not None
            await uow.advocates.update(replace(advocate, name=f"{name} {names or text}"))
        for request in list(db.state.requests.values()):
            await uow.requests.update(replace(request, prospect_company=f"Globex {text}"))
        await uow.commit()
    assert await send_weekly_digest(ctx, START, "2026-W10", digest_fixture.PERIOD_DAY) == 1
    sent = [m for m in outbox(db) if m.template == "digest"]

    w = World()
    await send_digest_now(w.ctx, actor(person(PM_EMAIL, f"Pat {text}"), Role.PROGRAM_MANAGER))
    return sent + outbox(w.db)


async def every_message(text: str) -> list[OutgoingMessage]:
    return (await every_conversation(text) + await scheduling_conversation(text)
            + await check_in_conversation(text) + await recognition_conversation(text)
            + await digest_conversation(text) + await nomination_conversation(text))


async def test_the_conversations_reach_every_message_card() -> None:
    templates = {m.template for m in await every_message("x")}
    assert set(CARD_TEMPLATES) - UI_CARDS <= templates


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
async def test_every_message_is_a_valid_card_for_awkward_input(case: str,
                                                               cards: TeamsCards) -> None:
    text = EDGE_CASES[case]
    for message in await every_message(text):
        rendered = cards.outgoing(message.template, message.context)
        card = rendered.card
        assert_card(card)
        assert rendered.text.strip()
        if message.template in ("ask", "matches", "thank_you") and case != "newlines":
            assert any(text.strip() in block for block in texts(card)), message.template
        if message.template == "digest":
            # The chart is in the card, with room left for the rest of the activity.
            assert_chart_in_card(rendered, chart_of(cards, message.context))
            if message.context["period"] == "2026-W10" and case != "newlines":
                assert any(f"Ada {text}" in title for title, _ in _facts(card))
                assert any(f"Globex {text}" in block for block in texts(card))
        if message.template == "milestone_private" and case != "newlines":
            assert any(f"Bob {text}, that was your" in block for block in texts(card))


async def test_a_markdown_link_people_typed_stays_inert_in_every_card(
        cards: TeamsCards) -> None:
    """A rep's notes ``[Verify](https://evil…)`` must not become a disguised link in the
    advocate's ask (or anywhere else): the words stay as typed, the link does not work."""
    typed = "[Verify your account](https://evil.example/login)"
    seen = 0
    for message in await every_message(typed):
        for block in texts(cards.outgoing(message.template, message.context).card):
            assert "](" not in block, (message.template, block)
            seen += "[Verify your account]" in block
    assert seen  # the typed words are still shown


def chart_of(cards: TeamsCards, context: dict[str, Any]) -> str:
    """The chart a message's context makes, as the base64 the card carries."""
    png = cards.renderer.chart_png(context)
    assert png is not None
    return base64.b64encode(png).decode()


def drawing(cards: TeamsCards, chart: str) -> TeamsCards:
    """``cards`` whose renderer draws ``chart`` (base64) for every chart: a busy one."""
    cards.renderer.chart_png = lambda _context: base64.b64decode(chart)  # type: ignore
    return cards


def assert_chart_in_card(rendered: RenderedMessage, chart_png: str) -> None:
    (image,) = _images(rendered.card)
    assert image["url"] == "data:image/png;base64," + chart_png
    assert base64.b64decode(chart_png).startswith(b"\x89PNG\r\n\x1a\n")
    assert image["altText"]
    assert card_size(rendered.card) <= MAX_CARD_BYTES - ACTIVITY_HEADROOM
    assert rendered.follow_up_images == ()


async def test_the_digest_card_shows_the_week_its_numbers_what_needs_attention_and_the_chart(
        cards: TeamsCards) -> None:
    weekly, empty = await digest_conversation("plain")
    rendered = cards.outgoing("digest", weekly.context)
    card = rendered.card
    assert texts(card)[:2] == ["Reference program: week 2026-W10",
                                "2026-02-23 to 2026-03-01 (Europe/Berlin)"]
    facts = dict(_facts(card))
    # Every number, each with its change against the week before (digest_fixture.EXPECTED).
    assert len(facts) >= len(weekly.context["metrics"]) == 11
    assert facts["Requests opened"] == "4 (up 2)"
    assert facts["Median time to accept"] == "15.0 h (down 9.0 h)"
    assert facts["Fulfilment rate"] == "50% (same as the week before)"
    assert facts["Influenced pipeline"] == "10,000.00 (up 5,000.00)"
    assert facts["1. Ada plain"] == "10 points from 1 engagement"
    lines = texts(card)
    attention = lines[lines.index("Needs your attention") + 1:]
    assert attention[:5] == [
        "• Request #14 (Globex plain, riley.rep@vendor.example) has waited 19 days for an "
        "advocate; needed by 2026-03-20",
        "• Ada plain is at a limit: 3 of 3 in 90 days, 3 of 8 in 365 days",
        "• Ben plain is near a limit: 2 of 3 in 90 days, 2 of 8 in 365 days",
        "• Ben plain renews on 2026-03-31: go easy on asks",
        "• A \"ask\" message to gone@customer.example could not be delivered: user_not_found",
    ]
    assert "Requests vs fulfilled, last 12 weeks" in lines
    assert_chart_in_card(rendered, chart_of(cards, weekly.context))
    assert "Requests opened: *4* (up 2)" in card["fallbackText"]

    quiet = cards.outgoing("digest", empty.context).card
    assert "Nothing needs your attention this week." in texts(quiet)
    assert "Needs your attention" not in texts(quiet)
    assert dict(_facts(quiet))["Requests opened"] == "0 (same as the week before)"
    assert len(_images(quiet)) == 1


async def test_long_names_are_cut_so_the_digest_keeps_its_chart_in_the_card(
        cards: TeamsCards) -> None:
    weekly, _ = await digest_conversation("long", names=LONG)
    rendered = cards.outgoing("digest", weekly.context)
    assert_card(rendered.card)
    assert_chart_in_card(rendered, chart_of(cards, weekly.context))
    assert any(title.startswith("1. Ada Tell them") and title.endswith("…")
               for title, _ in _facts(rendered.card))


def _png_of(size: int) -> str:
    """Base64 of ``size`` bytes that start like a PNG and do not compress (a busy chart)."""
    noise = random.Random(size).randbytes(size - 8)
    return base64.b64encode(b"\x89PNG\r\n\x1a\n" + noise).decode()


async def test_a_chart_too_big_for_the_card_follows_it_or_gives_way_to_the_numbers(
        cards: TeamsCards) -> None:
    (weekly, _) = await digest_conversation("plain")
    big = _png_of(19_000)  # ~25 KB of base64: fits a message, not a card beside the rest
    rendered = drawing(cards, big).outgoing("digest", weekly.context)
    assert_card(rendered.card)
    assert _images(rendered.card) == []
    assert "The 12-week chart follows below." in texts(rendered.card)
    (image,) = rendered.follow_up_images
    assert (image.name, image.media_type) == ("digest-2026-W10.png", "image/png")
    assert image.data_url == "data:image/png;base64," + big
    assert image.size <= MAX_CARD_BYTES - ACTIVITY_HEADROOM

    huge = _png_of(30_000)  # ~40 KB of base64: no Teams message can carry it
    rendered = drawing(cards, huge).outgoing("digest", weekly.context)
    assert_card(rendered.card)
    assert rendered.follow_up_images == () and _images(rendered.card) == []
    trend = dict(_facts(rendered.card))
    assert trend["2026-W09"] == "4 opened, 1 fulfilled"
    assert trend["2025-W50"] == "0 opened, 0 fulfilled"
    assert huge not in json.dumps(rendered.card)


async def test_a_private_milestone_is_a_card_of_its_own(cards: TeamsCards) -> None:
    private = [m for m in await recognition_conversation("plain")
               if m.template == "milestone_private"]
    first, second = (cards.outgoing(m.template, m.context).card for m in private)
    assert texts(first)[:2] == ["🏆 Milestone!",
                                 "Bob plain, that was your first engagement with us: thank you!"]
    assert "Bob plain, that was your 2nd engagement with us: thank you!" in texts(second)
    assert dict(_facts(second)) == {"Points": str(private[1].context["total_points"]),
                                    "Tier": private[1].context["tier"]}


async def test_a_card_over_28_kb_keeps_its_buttons_and_loses_text(cards: TeamsCards) -> None:
    huge = "<&> 日本語 🚀 " * 4000
    for message in await scheduling_conversation("long", notes=LONG):
        if message.template != "ask":
            continue
        context = {**message.context, "request": {**message.context["request"], "notes": huge}}
        card, _ = cards.message("ask", context)
        assert_card(card)
        assert {e["verb"] for e in _executes(card)} == {"ask.accept", "ask.decline",
                                                        "ask.not_now"}
        assert texts(card)[-1] == "…"


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
def test_the_intake_form_is_valid_with_values_and_errors(case: str, cards: TeamsCards) -> None:
    text = EDGE_CASES[case]
    known = KnownValues(products=(f"Payments {text}", "Cards, Debit", "Ledger"),
                        use_cases=(text,))
    values = {"prospect_company": text, "notes": LONG, "products": f"Payments {text}",
              "call_length_minutes": "45.0", "timezone": "Asia/Tokyo",
              "proposed_time_1.date": "2026-03-10", "proposed_time_1.time": "09:30"}
    bad = Problem("not_a_date_time", typed=f"Bad {text}")
    errors = {"prospect_company": bad, "proposed_times": Problem("times_in_past"),
              "needed_by": Problem("needed_by_missing")}
    card = cards.intake(form_id="f1", values=values, errors=errors, known=known)
    assert_card(card)
    inputs = {e["id"]: e for e in _inputs(card)}
    assert inputs["prospect_company"]["value"] == text
    assert inputs["call_length_minutes"]["value"] == "45"  # a choice: the shared lengths
    assert [c["value"] for c in inputs["products"]["choices"]] == [
        f"Payments {text}".strip(), "Ledger"]  # a value with a comma cannot come back
    assert cards.renderer.problem_text(bad) in texts(card)
    empty = cards.intake(form_id="f2", values={}, errors={}, known=KnownValues())
    assert_card(empty)
    assert {e["id"]: e for e in _inputs(empty)}["products"]["type"] == "Input.Text"


def test_the_interactive_cards_are_valid(cards: TeamsCards) -> None:
    for text in EDGE_CASES.values():
        assert_card(cards.welcome(name=text, bot_name=text))
        assert_card(cards.status(text, [text, text], tone="attention"))
        assert_card(cards.request_list([{"id": n, "prospect_company": text,
                                         "reference_type_label": "Reference call",
                                         "needed_by": "2026-03-20", "state": "awaiting_approval"}
                                        for n in range(25)]))
    assert_card(cards.request_list([]))


def _verbs(card: dict[str, Any]) -> set[str]:
    return {e["verb"] for e in _executes(card)}


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
async def test_the_profile_card_is_valid_for_each_viewer_and_state(case: str,
                                                                   cards: TeamsCards) -> None:
    text = EDGE_CASES[case]
    w = World()
    ada = await w.advocate("Ada", text, timezone="Asia/Tokyo",
                           manager_limits=LimitOverrides(max_per_90_days=5))
    async with w.db.uow() as uow:  # 31 calls done and 12 to come: the card shows 10 of each
        for days in range(31):
            await uow.engagements.add(Engagement(
                request_id=0, advocate_id=ada.id or 0, ask_id=0,
                reference_type=ReferenceType.CALL, accepted_at=START - timedelta(days=days),
                state=EngagementState.COMPLETED, points_awarded=10))
        for days in range(12):
            await uow.engagements.add(Engagement(
                request_id=0, advocate_id=ada.id or 0, ask_id=0,
                reference_type=ReferenceType.VIDEO_CALL, accepted_at=START,
                scheduled_at=START + timedelta(days=days + 1),
                state=EngagementState.SCHEDULED))
        await uow.commit()
    her, pat = advocate_actor(ada), actor(person(PM_EMAIL, text), Role.PROGRAM_MANAGER)
    program = LimitPolicy()
    profile = await advocate_profile(w.ctx, her, ada.id or 0)
    mine = cards.profile(profile, viewer="self", timezone="Asia/Tokyo", program_limits=program,
                         today=START.date())
    assert_card(mine)
    assert _verbs(mine) == {"profile.pause", "profile.limits", "profile.hours",
                            "profile.leave", "language.choose"}
    assert any(f"Ada {text}" in t for t in texts(mine))
    assert sum(t.startswith("Reference call, ") for t in texts(mine)) == 10
    assert "Reference call, 02 Mar 2026: completed, 10 points" in texts(mine)
    upcoming = [t for t in texts(mine) if t.startswith("Video call with")]
    assert len(upcoming) == 10
    assert upcoming[0].startswith("Video call with a rep: Tue 03 Mar 2026, 18:00 JST (reference #")
    limits = {e["id"]: e for e in _inputs_anywhere(mine) if e["type"] == "Input.Number"}
    # An advocate may only be stricter: the program's counts are the ceiling, its rest the
    # floor, even when a manager loosened the 90-day limit to 5.
    assert (limits["max_per_90_days"]["max"], limits["max_per_90_days"]["value"]) == (3, 3)
    assert limits["cooldown_days"]["min"] == 14
    [blocked] = [t for t in texts(mine) if t.startswith("Not asked right now: ")]
    assert blocked.startswith(  # the reasons, worded: 31 done and 12 to come
        "Not asked right now: 43 of 5 engagements within 90 days of 2026-03-02 (next slot ")
    assert "-day cooldown (clear " in blocked and "{" not in blocked

    await pause_advocate(w.ctx, her, ada.id or 0)
    profile = await advocate_profile(w.ctx, pat, ada.id or 0)
    theirs = cards.profile(profile, viewer="manager", timezone="Europe/Berlin",
                           program_limits=program)
    assert_card(theirs)
    assert _verbs(theirs) == {"profile.resume", "roster.limits"}
    override = {e["id"]: e for e in _inputs_anywhere(theirs)}
    assert override["max_per_90_days"]["value"] == 5
    assert "value" not in override["cooldown_days"]  # no override: the program's value
    assert override["reason"]["isRequired"] is True
    assert any(ada.email in t for t in texts(theirs))
    assert any(t.startswith("Not asked right now: advocate is paused; ") for t in texts(theirs))

    bob = await w.advocate("Bob", LONG * 4)
    long_one = cards.profile(await advocate_profile(w.ctx, pat, bob.id or 0),
                             viewer="manager", timezone="UTC", program_limits=program)
    assert_card(long_one)


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
async def test_the_roster_card_is_valid_and_keeps_under_28_kb(case: str,
                                                              cards: TeamsCards) -> None:
    text = EDGE_CASES[case]
    w = World()
    found = [await w.advocate(f"Ada{n}", LONG if n == 0 else text) for n in range(30)]
    card = cards.roster([advocate_view(a) for a in found], query=text)
    assert_card(card)
    assert len(_executes(card)) == 20
    assert {e["data"]["advocate_id"] for e in _executes(card)} == {a.id for a in found[:20]}
    assert texts(card)[-1] == "10 more: add a word to narrow it down."
    assert_card(cards.roster([], query=""))


def test_the_schema_check_is_not_a_rubber_stamp() -> None:
    bad = {"type": "AdaptiveCard", "version": "1.5",
           "body": [{"type": "TextBlock", "txt": "typo"}],
           "actions": [{"type": "Action.Execute", "verb": "x", "dataa": {}}]}
    assert schema_errors(bad)


def _of_type(card: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == kind:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card.get("body", []))
    return found


def _images(card: dict[str, Any]) -> list[dict[str, Any]]:
    return _of_type(card, "Image")


def _facts(card: dict[str, Any]) -> list[tuple[str, str]]:
    """Every FactSet's facts, in order, as (title, value)."""
    return [(f["title"], f["value"]) for fact_set in _of_type(card, "FactSet")
            for f in fact_set["facts"]]


def _inputs_anywhere(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Inputs in the body and in the show cards under the buttons."""
    return _inputs({"body": [card.get("body", []), card.get("actions", [])]})


def _inputs(card: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
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


def test_suggested_times_are_buttons_that_propose_that_time(cards: TeamsCards) -> None:
    suggested = ["2026-03-09T21:00:00+00:00", "2026-03-09T21:30:00+00:00"]
    card = cards.renderer.render_json("teams/pick_time.json.j2", {
        "lines": [{"text": "x", "gap": False}], "fallback_text": "x", "engagement_id": 7,
        "slots": [], "outside_hours": 1, "suggested": suggested, "timezone": "Asia/Tokyo"})
    assert_card(card)
    proposals = [e for e in _executes(card) if e["verb"] == "schedule.suggest"]
    assert [e["title"] for e in proposals] == ["Tue 10 Mar, 06:00", "Tue 10 Mar, 06:30"]
    her = advocate_actor(Advocate(id=3, name="Aiko", email="aiko@x.example", company="X"))
    commands = [command_of(her, parse_action(e["data"]), zone="Asia/Tokyo") for e in proposals]
    assert commands == [PickTime(her, 7, proposed=datetime.fromisoformat(t)) for t in suggested]
