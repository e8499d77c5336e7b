"""The Slack Block Kit templates render what the services really send into payloads that
slack_sdk's own models accept, for awkward input too.

Contexts are captured the way ``tests/unit/test_templates_text.py`` does it: each
conversation the services can have is played against the fakes, and every queued message
is rendered with the Slack renderer. On top of ``validate_json()``, every block is parsed
back with slack_sdk and must come out unchanged, which validates the nested elements too
and catches a key slack_sdk does not know (it drops those silently).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot.conversation.formspec import FORMS
from bot.domain.errors import InvalidInput, Problem
from bot.domain.model import (
    Ask,
    AskState,
    Engagement,
    EngagementState,
    LimitOverrides,
    Outcome,
    ReferenceRequest,
    ReferenceType,
    RequestState,
    Role,
)
from bot.domain.policy import JobsPolicy, LimitPolicy
from bot.ports import OutboxMessage, OutgoingMessage
from bot.rendering import Renderer, local_time, templates_dir
from bot.services.advocates import advocate_profile, pause_advocate
from bot.services.asks import answer_ask, ask_advocate
from bot.services.checkins import (
    FEEDBACK_MAX_CHARS,
    CheckInChoice,
    answer_check_in,
    send_check_in_reminders,
    send_check_ins,
)
from bot.services.home import Attention, ProgramGlance
from bot.services.intake import KnownValues, RequestDraft
from bot.services.outcomes import COMMENT_MAX_CHARS, record_outcome
from bot.services.recognition import post_top_advocates, recognise_engagements
from bot.services.reminders import due_outcome_prompts, due_reminders
from bot.services.requests import list_requests, submit_request
from bot.services.scheduling import confirm_time, pick_time, reschedule
from handlers.slack import forms, home, ids, intake
from handlers.slack.blockkit import ELLIPSIS, slack_renderer, truncate
from handlers.slack.messenger import SlackMessenger
from tests.templates.nomination_conversation import nomination_conversation
from tests.unit.conftest import (
    PM_EMAIL,
    REP_EMAIL,
    START,
    actor,
    advocate_actor,
    build_advocate,
    outbox,
    person,
    sample_draft,
)
from tests.unit.test_templates_text import EDGE_CASES, World, every_conversation

SLACK = templates_dir() / "slack"
MESSAGE_TEMPLATES = sorted(p.name.removesuffix(".json.j2") for p in SLACK.glob("*.json.j2"))
VIEW_TEMPLATES = sorted(p.name.removesuffix(".json.j2")
                        for p in (SLACK / "views").glob("*.json.j2"))
# Messages that replace an ask in place once it is over: their buttons must be gone.
REPLACEMENTS = ("ask_answered", "ask_withdrawn", "ask_closed", "ask_expired",
                "approval_closed", "check_in_answered")
LONG = ("Tell them about <the migration> & the \"rollout\" 🚀 日本語 " * 60)[:3000]
CASES = {**EDGE_CASES, "long": "X" * 120 + " <&> 日本語 🚀"}
BUTTON_PARTS = {ids.ACTION_ASK_ADVOCATE: 2, ids.ACTION_PICK_SLOT: 2,
                ids.ACTION_CHECKIN_PAUSE: 2}
CHECK_IN_ACTIONS = {ids.ACTION_CHECKIN_KEEP, ids.ACTION_CHECKIN_LIMITS, ids.ACTION_CHECKIN_PAUSE,
                    ids.ACTION_CHECKIN_LEAVE, ids.ACTION_CHECKIN_FEEDBACK}
CHANNEL = "C0PROGRAM"
QUARTER_START = datetime(2026, 4, 1, 7, tzinfo=UTC)  # the Q2 check-ins go out
ACTION_IDS = {value for name, value in vars(ids).items() if name.startswith("ACTION_")}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return slack_renderer()


# --- capturing what the services send ---------------------------------------------------


async def scheduling_conversation(text: str, *, notes: str | None = None
                                  ) -> list[OutgoingMessage]:
    """From a yes to a thank-you, through every scheduling turn (a declined proposal, a
    reschedule by each side, reminders, the outcome), then a no-show in a second program;
    ``text`` is in every free field."""
    sent: list[OutgoingMessage] = []
    w = World()
    rep = actor(person(REP_EMAIL, f"Riley {text}", timezone="America/New_York"))
    ada = await w.advocate("Ada", text, timezone="Asia/Tokyo")
    draft = sample_draft(prospect_company=f"Prospect {text}"[:200],
                         opportunity_name=f"Deal {text}"[:200], notes=notes or f"Notes {text}",
                         meeting_link="https://meet.example/call?id=1&pw=<2>")
    request = (await submit_request(w.ctx, rep, draft)).request
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
    await pick_time(w.ctx, her, eid, proposed=START + timedelta(days=6))
    await confirm_time(w.ctx, rep, eid, accept=True)
    await reschedule(w.ctx, her, eid, reason=f"Sorry {text}")
    await pick_time(w.ctx, her, eid, slot=0)
    call = request.proposed_times[0]
    w.clock.set(call - timedelta(hours=20))
    assert await due_reminders(w.ctx) == 2
    w.clock.set(call - timedelta(minutes=30))
    assert await due_reminders(w.ctx) == 2
    w.clock.set(call + timedelta(hours=1))
    assert await due_outcome_prompts(w.ctx) == 1
    await record_outcome(w.ctx, rep, eid, Outcome.COMPLETED, helpfulness=5,
                         influenced_amount=Decimal("120000.50"))
    sent += outbox(w.db)

    w = World()
    bob = await w.advocate("Bob", text)
    request = (await submit_request(w.ctx, rep, draft)).request
    ask = await ask_advocate(w.ctx, rep, request.id or 0, bob.id)
    assert ask is not None
    await answer_ask(w.ctx, advocate_actor(bob), ask.id or 0, "accept")
    (engagement,) = w.db.state.engagements.values()
    await pick_time(w.ctx, advocate_actor(bob), engagement.id or 0, slot=0)
    w.clock.set(request.proposed_times[0] + timedelta(hours=1))
    await record_outcome(w.ctx, rep, engagement.id or 0, Outcome.NO_SHOW)
    sent += outbox(w.db)
    return sent


async def long_notes_conversation() -> list[OutgoingMessage]:
    """A request whose notes are at the 3,000-character limit and full of characters that
    escaping lengthens, with names longer than any button or header holds."""
    w = World()
    long_name = "Maximilian " + "Alexander-" * 20 + " <&> 日本語"
    ada = await w.advocate(long_name, "x", health_score=100)
    request_id = await w.request("long", notes=LONG)
    ask = await ask_advocate(w.ctx, actor(person(REP_EMAIL, "Riley Rep",
                                                 timezone="America/New_York")),
                             request_id, ada.id)
    assert ask is not None
    return outbox(w.db)


async def check_in_conversation(text: str) -> list[OutgoingMessage]:
    """The Q2 check-in and its reminder to four advocates named with ``text``, then each
    answer once (with feedback ``text``; a program manager answers one for its advocate),
    so every check-in message and every way it is replaced is captured."""
    w = World()
    pm = actor(person(PM_EMAIL, f"Pat {text}", timezone="Europe/Berlin"),
               Role.PROGRAM_MANAGER)
    ada = await w.advocate("Ada", text, timezone="Asia/Tokyo", points=60)
    bob = await w.advocate("Bob", text, points=0)
    cat = await w.advocate("Cat", text, timezone="America/New_York", points=999)
    dan = await w.advocate("Dan", text)
    w.clock.set(QUARTER_START)
    await send_check_ins(w.ctx, QUARTER_START, "2026-Q2")
    reminded = QUARTER_START + timedelta(days=14)
    assert await send_check_in_reminders(w.ctx, reminded, "2026-Q2", QUARTER_START) == 4
    w.clock.set(reminded + timedelta(days=1))
    await answer_check_in(w.ctx, advocate_actor(ada), ada.id or 0, CheckInChoice.KEEP_ACTIVE,
                          feedback=f"Happy to help {text}")
    await answer_check_in(w.ctx, pm, bob.id or 0, CheckInChoice.PAUSE, months=1)
    await answer_check_in(w.ctx, advocate_actor(cat), cat.id or 0, CheckInChoice.CHANGE_LIMITS,
                          limits=LimitOverrides(max_per_90_days=1))
    await answer_check_in(w.ctx, advocate_actor(dan), dan.id or 0, CheckInChoice.LEAVE,
                          feedback=LONG[:FEEDBACK_MAX_CHARS])
    return outbox(w.db)


async def _completed(w: World, advocate_id: int, at: datetime, points: int) -> None:
    async with w.db.uow() as uow:
        request = await uow.requests.add(ReferenceRequest(
            rep=person(REP_EMAIL), prospect_company="Globex", reference_type=ReferenceType.CALL,
            needed_by=at.date(), created_at=at, state=RequestState.COMPLETED, timezone="UTC"))
        ask = await uow.asks.add(Ask(request_id=request.id, advocate_id=advocate_id, rank=1,
                                     created_at=at, expires_at=None, state=AskState.ACCEPTED))
        await uow.engagements.add(Engagement(
            request_id=request.id, advocate_id=advocate_id, ask_id=ask.id,
            reference_type=ReferenceType.SITE_VISIT, accepted_at=at,
            state=EngagementState.COMPLETED, completed_at=at, points_awarded=points))
        await uow.commit()


async def recognition_conversation(text: str) -> list[OutgoingMessage]:
    """Recognition in a program with a channel: a named advocate's posts and milestones, an
    unnamed one's private milestone, the quarter's top advocates (named and counted), and a
    quarter whose top advocates all prefer to stay unnamed."""
    jobs = JobsPolicy(program_channel=f"#{CHANNEL}", milestones=(1, 2))
    w = World(jobs=jobs)
    ada = await w.advocate("Ada", text, public_recognition=True, points=160)
    async with w.db.uow() as uow:  # no company on the roster: the posts must not show "()"
        bob = await uow.advocates.add(build_advocate(name=f"Bob {text}", company=""))
        await uow.commit()
    for advocate in (ada, bob):
        await _completed(w, advocate.id or 0, START - timedelta(days=2), 10)
        await _completed(w, advocate.id or 0, START - timedelta(days=1), 25)
    assert await recognise_engagements(w.ctx, START) > 0
    assert await post_top_advocates(w.ctx, START, "2026-Q2") == 1
    sent = outbox(w.db)

    w = World(jobs=jobs)
    bob = await w.advocate("Bob", text)
    await _completed(w, bob.id or 0, START - timedelta(days=3), 10)
    assert await post_top_advocates(w.ctx, START, "2026-Q2") == 1
    return sent + outbox(w.db)


async def every_message(text: str) -> list[OutgoingMessage]:
    messages = (await every_conversation(text) + await scheduling_conversation(text)
                + await check_in_conversation(text) + await recognition_conversation(text)
                + await nomination_conversation(text))
    if text == CASES["long"]:
        messages += await long_notes_conversation()
        messages += await scheduling_conversation("long", notes=LONG)
    return messages


# --- checking Block Kit ------------------------------------------------------------------


def _normal(value: Any) -> Any:
    return json.loads(json.dumps(value))


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in a payload, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def check_text(where: str, node: dict[str, Any]) -> None:
    """mrkdwn is escaped (we never write links or mentions, so no raw ``<`` or ``>``, and
    every ``&`` starts an escape); plain text is not escaped (Slack shows it as typed)."""
    text = node["text"]
    if node["type"] == "mrkdwn":
        assert "<" not in text and ">" not in text, f"{where}: unescaped mrkdwn {text[:80]!r}"
        assert not re.search(r"&(?!amp;|lt;|gt;)", text), f"{where}: bare & in {text[:80]!r}"
    else:
        assert "&amp;" not in text and "&lt;" not in text, f"{where}: escaped plain text"
    assert text.strip(), f"{where}: empty text"


def check_blocks(where: str, blocks: list[dict[str, Any]]) -> None:
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids)), f"{where}: repeated block_id"
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None, f"{where}: unknown block {block.get('type')}"
        parsed.validate_json()
        assert _normal(parsed.to_dict()) == _normal(block), f"{where}: slack_sdk changed {block}"
    for node in walk(blocks):
        if node.get("type") in ("mrkdwn", "plain_text"):
            check_text(where, node)


def check_message(where: str, payload: dict[str, Any]) -> None:
    assert set(payload) == {"text", "blocks"}, where
    assert 0 < len(payload["text"]) <= 300, f"{where}: notification text"
    assert "\n" not in payload["text"] and "*" not in payload["text"], where
    assert 0 < len(payload["blocks"]) <= 50, where
    check_blocks(where, payload["blocks"])


def check_view(where: str, view: dict[str, Any]) -> None:
    parsed = View(**view)
    parsed.validate_json()
    assert _normal(parsed.to_dict()) == _normal(view), f"{where}: slack_sdk changed the view"
    check_blocks(where, view["blocks"])


def buttons(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [node for node in walk(payload.get("blocks", [])) if node.get("type") == "button"]


def selects(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [node for node in walk(payload.get("blocks", []))
            if node.get("type") == "static_select"]


def render_message(renderer: Renderer, message: OutgoingMessage) -> dict[str, Any] | None:
    name = f"slack/{message.template}.json.j2"
    if not renderer.has(name):
        return None
    payload = renderer.render_json(name, message.context)
    assert isinstance(payload, dict)
    return payload


# --- the message templates ------------------------------------------------------------


async def test_the_conversations_reach_every_slack_message_template() -> None:
    sent = {m.template for m in await every_message("plain")}
    assert set(MESSAGE_TEMPLATES) <= sent, set(MESSAGE_TEMPLATES) - sent
    assert {"matches", "ask", "pick_time", "time_proposed", "call_confirmed", "thank_you",
            "ask_accepted", "approval_request", "outcome_prompt"} <= set(MESSAGE_TEMPLATES)


@pytest.mark.parametrize("case", sorted(CASES))
async def test_every_message_is_valid_block_kit_for_awkward_input(
        case: str, renderer: Renderer) -> None:
    rendered = 0
    for message in await every_message(CASES[case]):
        payload = render_message(renderer, message)
        if payload is not None:
            check_message(f"{message.template} ({case})", payload)
            rendered += 1
    assert rendered >= len(MESSAGE_TEMPLATES)


async def test_every_button_is_a_known_action_with_a_value_the_listener_can_parse(
        renderer: Renderer) -> None:
    seen: set[str] = set()
    for message in await every_message(EDGE_CASES["markup"]):
        payload = render_message(renderer, message)
        for button in buttons(payload or {}):
            assert button["action_id"] in ACTION_IDS, button
            ids.split_value(button["value"], BUTTON_PARTS.get(button["action_id"], 1))
            seen.add(button["action_id"])
        for menu in selects(payload or {}):
            assert menu["action_id"] in ACTION_IDS, menu
            for choice in menu["options"]:
                ids.split_value(choice["value"], BUTTON_PARTS.get(menu["action_id"], 1))
            seen.add(menu["action_id"])
    assert CHECK_IN_ACTIONS <= seen
    assert {ids.ACTION_ASK_ADVOCATE, ids.ACTION_ASK_BEST, ids.ACTION_CANCEL_REQUEST,
            ids.ACTION_ASK_ACCEPT, ids.ACTION_ASK_DECLINE, ids.ACTION_ASK_NOT_NOW,
            ids.ACTION_APPROVE, ids.ACTION_DENY, ids.ACTION_PICK_SLOT,
            ids.ACTION_PROPOSE_TIME, ids.ACTION_CONFIRM_TIME, ids.ACTION_REJECT_TIME,
            ids.ACTION_RESCHEDULE, ids.ACTION_RECORD_OUTCOME, ids.ACTION_ADD_COMMENT} <= seen


async def test_buttons_carry_the_ids_of_what_they_act_on(renderer: Renderer) -> None:
    by_template: dict[str, list[tuple[OutgoingMessage, dict[str, Any]]]] = {}
    for message in await every_message("plain"):
        payload = render_message(renderer, message)
        if payload is not None:
            by_template.setdefault(message.template, []).append((message, payload))
    for message, payload in by_template["ask"]:
        values = {b["action_id"]: b["value"] for b in buttons(payload)}
        assert values == {action: str(message.context["ask_id"]) for action in (
            ids.ACTION_ASK_ACCEPT, ids.ACTION_ASK_DECLINE, ids.ACTION_ASK_NOT_NOW)}
    message, payload = by_template["matches"][0]
    request_id = message.context["request"]["id"]
    asks = [b["value"] for b in buttons(payload) if b["action_id"] == ids.ACTION_ASK_ADVOCATE]
    assert asks == [f"{request_id}:{m['advocate_id']}" for m in message.context["matches"]]
    shown = json.dumps(payload)  # each match's reasons worded, not their codes
    assert " this quarter" in shown and "quarter_load" not in shown
    message, payload = by_template["pick_time"][0]
    slots = [b["value"] for b in buttons(payload) if b["action_id"] == ids.ACTION_PICK_SLOT]
    eid = message.context["engagement_id"]
    assert slots == [f"{eid}:{s['slot']}" for s in message.context["slots"]]
    for message, payload in by_template["time_proposed"]:
        (actions,) = [b for b in payload["blocks"] if b["type"] == "actions"]
        shown = forms.parse_proposed_block_id(actions["block_id"])
        assert shown is not None and shown.isoformat() == message.context["proposed_at"]


async def test_an_answered_ask_loses_its_buttons(renderer: Renderer) -> None:
    found = set()
    for message in await every_message("plain"):
        if message.template in REPLACEMENTS:
            payload = render_message(renderer, message)
            assert payload is not None and not buttons(payload), message.template
            assert not selects(payload), message.template
            found.add(message.template)
    assert found == set(REPLACEMENTS)


async def test_the_check_in_and_its_reminder_offer_every_answer_for_their_advocate(
        renderer: Renderer) -> None:
    found = set()
    for message in await check_in_conversation("plain"):
        if message.template not in ("check_in", "check_in_reminder"):
            continue
        found.add(message.template)
        payload = render_message(renderer, message)
        assert payload is not None
        advocate_id = str(message.context["advocate_id"])
        values = {b["action_id"]: b["value"] for b in buttons(payload)}
        assert values == {action: advocate_id for action in CHECK_IN_ACTIONS
                          if action != ids.ACTION_CHECKIN_PAUSE}
        (menu,) = selects(payload)
        assert menu["action_id"] == ids.ACTION_CHECKIN_PAUSE
        assert [o["value"] for o in menu["options"]] == [f"{advocate_id}:{n}" for n in (1, 3, 6)]
        assert [o["text"]["text"] for o in menu["options"]] == ["1 month", "3 months", "6 months"]
        (leave,) = [b for b in buttons(payload) if b["action_id"] == ids.ACTION_CHECKIN_LEAVE]
        assert leave["style"] == "danger" and leave["confirm"]["confirm"]["text"] == "Leave"
        shown = json.dumps(payload, ensure_ascii=False)
        limits = message.context["limits"]
        assert f"at most {limits['max_per_90_days']} in 90 days" in shown
        if message.template == "check_in":
            assert "*2026-Q1* in numbers" in shown and "*Asks received*" in shown
        else:
            assert "last reminder" in shown and "Asks received" not in shown
    assert found == {"check_in", "check_in_reminder"}


async def test_an_answered_check_in_replaces_its_messages_with_the_answer(
        renderer: Renderer) -> None:
    sent = await check_in_conversation("plain")
    originals = {m.key: m for m in sent if m.template in ("check_in", "check_in_reminder")}
    answered = [m for m in sent if m.template == "check_in_answered"]
    assert len(answered) == 8  # four answers, each replacing the check-in and the reminder
    assert {m.replaces for m in answered} == set(originals)
    for message in answered:
        assert message.recipient.email == originals[message.replaces or ""].recipient.email
    said = {m.context["advocate_name"]: render_message(renderer, m)["text"]  # type: ignore[index]
            for m in answered}
    assert "stay active" in said["Ada plain"]
    assert "paused for 1 month, through Fri 15 May 2026" in said["Bob plain"]
    assert "at most 1 in 90 days" in said["Cat plain"]
    assert said["Dan plain"].startswith("You've left the reference program")
    bob = next(m for m in answered if m.context["advocate_name"] == "Bob plain")
    assert "answered for you by Pat plain" in json.dumps(render_message(renderer, bob))
    ada = next(m for m in answered if m.context["advocate_name"] == "Ada plain")
    assert "Happy to help plain" in json.dumps(render_message(renderer, ada))


async def test_recognition_names_only_whom_the_service_named(renderer: Renderer) -> None:
    sent = await recognition_conversation("plain")
    channel = [m for m in sent if m.recipient.identity is not None
               and m.recipient.identity.user_id == CHANNEL]
    assert {m.template for m in channel} == {"recognition_engagement", "recognition_milestone",
                                             "recognition_top"}
    posts = [json.dumps(render_message(renderer, m), ensure_ascii=False) for m in channel]
    assert all("Bob plain" not in post for post in posts)
    assert any("Ada plain" in post and "+25 points" in post for post in posts)
    first_top, only_unnamed = [p for m, p in zip(channel, posts, strict=True)
                               if m.template == "recognition_top"]
    assert "1. *Ada plain*" in first_top and "1 more top advocate who prefers" in first_top
    assert "1 top advocate who prefers to stay unnamed" in only_unnamed
    private = [m for m in sent if m.template == "milestone_private"]
    assert [m.context["advocate_name"] for m in private] == ["Bob plain"] * 2
    assert ["*first* engagement" in json.dumps(render_message(renderer, m)) for m in private
            ] == [True, False]
    assert "*2nd* engagement" in json.dumps(render_message(renderer, private[1]))


async def test_names_and_notes_come_through_as_typed_escaped_only_where_slack_needs_it(
        renderer: Renderer) -> None:
    text = EDGE_CASES["markup"]
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    payloads = {m.template: render_message(renderer, m)
                for m in await every_conversation(text)}
    dumped = json.dumps(payloads["ask"], ensure_ascii=False)
    assert json.dumps(f"Notes {escaped}", ensure_ascii=False)[1:-1] in dumped
    accepted = json.dumps(payloads["ask_accepted"], ensure_ascii=False)
    assert json.dumps(f"Ada {text}", ensure_ascii=False)[1:-1] in accepted  # plain header
    assert "&amp;#39;" not in dumped and "&#39;" not in dumped


async def test_japanese_and_emoji_survive_untouched(renderer: Renderer) -> None:
    for case in ("japanese", "emoji"):
        text = EDGE_CASES[case]
        for message in await every_conversation(text):
            if message.template == "ask":
                payload = render_message(renderer, message)
                assert text in json.dumps(payload, ensure_ascii=False), case


async def test_long_notes_are_cut_at_slacks_limit_without_breaking_an_escape(
        renderer: Renderer) -> None:
    (ask,) = [m for m in await long_notes_conversation() if m.template == "ask"]
    payload = render_message(renderer, ask)
    assert payload is not None
    texts = [b["text"]["text"] for b in payload["blocks"]
             if b["type"] == "section" and "text" in b]
    (notes,) = [t for t in texts if t.startswith("*Notes from")]
    assert len(notes) <= 3000 and notes.endswith(ELLIPSIS)
    assert not re.search(r"&[a-z]{0,3}" + ELLIPSIS, notes)
    (actions,) = [b for b in payload["blocks"] if b["type"] == "actions"]
    assert actions["elements"][0]["text"]["text"] == "Accept"


def test_truncate_never_splits_an_escape_and_keeps_short_text() -> None:
    assert truncate("short", 10) == "short"
    assert truncate("a" * 11, 10) == "a" * 9 + ELLIPSIS
    assert truncate("abcdef&amp;", 9) == "abcdef" + ELLIPSIS
    assert truncate("abc   def", 5) == "abc" + ELLIPSIS
    for limit in range(1, 40):
        cut = truncate("x &amp; &lt;y&gt; " * 5, limit)
        assert len(cut) <= limit
        assert not re.search(r"&(?!amp;|lt;|gt;)", cut), (limit, cut)


async def test_times_are_shown_in_the_readers_zone(renderer: Renderer) -> None:
    sent = await scheduling_conversation("plain")
    confirmed = [m for m in sent if m.template == "call_confirmed"]
    zones = {m.context["timezone"] for m in confirmed}
    assert {"Asia/Tokyo", "America/New_York"} <= zones
    for message in confirmed:
        payload = json.dumps(render_message(renderer, message), ensure_ascii=False)
        shown = local_time(message.context["starts_at"], message.context["timezone"])
        assert shown in payload, message.context["role"]
    (first_to_tokyo, *_) = [m for m in confirmed if m.context["timezone"] == "Asia/Tokyo"]
    assert "JST" in json.dumps(render_message(renderer, first_to_tokyo))


async def test_the_messenger_sends_these_templates_with_the_slack_renderer(
        renderer: Renderer) -> None:
    (ask,) = [m for m in await every_conversation("plain") if m.template == "ask"][:1]
    messenger = SlackMessenger(AsyncWebClient(token="xoxb-test"), renderer)
    payload = messenger.render(OutboxMessage(id=1, created_at=START, message=ask))
    assert payload == render_message(renderer, ask)


def test_every_slack_template_compiles(renderer: Renderer) -> None:
    names = [*(f"slack/{n}.json.j2" for n in MESSAGE_TEMPLATES),
             *(f"slack/views/{n}.json.j2" for n in VIEW_TEMPLATES)]
    assert len(names) >= 20
    for name in names:
        renderer.env.get_template(name)


# --- the views ----------------------------------------------------------------------------


def known_values(text: str, *, many: int = 0) -> KnownValues:
    extra = tuple(f"{text} {n}" for n in range(many))
    return KnownValues(industries=("Fintech", f"Industry {text}", *extra),
                       products=("Payments API", f"Product {text}", "P" * 200, *extra),
                       use_cases=("Checkout", f"Use case {text}", *extra),
                       regions=("EMEA", f"Region {text}"),
                       languages=("English", "日本語", f"Language {text}"))


def drafts(text: str) -> list[RequestDraft | None]:
    short = text[:100]
    return [
        None,
        RequestDraft(),
        sample_draft(),
        sample_draft(prospect_company=f"Prospect {text}", notes=LONG + text,
                     industry=f"Industry {short}", products=(f"Product {short}", "Gone"),
                     opportunity_name=f"Deal {text}", opportunity_amount=Decimal("1e12"),
                     opportunity_stage=f"Stage {text}", crm_opportunity_id=f"ID {text}",
                     meeting_link="https://meet.example/a?b=1&c=<2>", call_length_minutes=120,
                     parallel_asks="3", proposed_times=(*sample_draft().proposed_times,
                                                        "2026-03-12T10:00", 1773000000),
                     timezone="Mars/Olympus"),
        forms_keywords(text),
        sample_draft(proposed_times=(datetime(9999, 12, 31, tzinfo=UTC), -5, "garbage"),
                     needed_by="not a date", call_length_minutes="forever",
                     opportunity_amount="lots", reference_type=text),
    ]


def forms_keywords(text: str) -> RequestDraft:
    from bot.services.intake import parse_keywords

    return parse_keywords(f"fintech payments EMEA video call {text}", known_values(text))


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_intake_modal_is_valid_for_every_kind_of_draft(case: str,
                                                           renderer: Renderer) -> None:
    text = CASES[case]
    for n, draft in enumerate(drafts(text)):
        for known in (KnownValues(), known_values(text), known_values(text, many=150)):
            view = intake.intake_view(renderer, known=known, draft=draft,
                                     user_timezone="America/Indiana/Indianapolis",
                                     private_metadata=json.dumps({"channel": "C1"}))
            check_view(f"intake {case} draft {n}", view)
            assert view["callback_id"] == ids.VIEW_INTAKE
            assert len(view["blocks"]) <= 100


@pytest.mark.parametrize("case", sorted(CASES))
async def test_the_other_modals_and_the_home_are_valid(case: str, renderer: Renderer) -> None:
    text = CASES[case]
    views = {
        "decline_reason": forms.decline_reason_view(renderer, ask_id=12),
        "propose_time": forms.propose_time_view(renderer, engagement_id=3,
                                                timezone="Asia/Tokyo", latest=None),
        "propose_time_latest": forms.propose_time_view(
            renderer, engagement_id=3, timezone="Nowhere/Else",
            latest=START.date() + timedelta(days=18)),
        "outcome": forms.outcome_view(renderer, engagement_id=3, advocate_name=text,
                                      currency="EUR"),
        "comment": forms.comment_view(renderer, engagement_id=3),
        "own_limits": forms.own_limits_view(renderer, advocate_id=7, current=LimitPolicy(),
                                            program=LimitPolicy()),
        "check_in_limits": forms.check_in_limits_view(renderer, advocate_id=7,
                                                      current=LimitPolicy(cooldown_days=30),
                                                      program=LimitPolicy(max_per_90_days=0)),
        "check_in_feedback": forms.check_in_feedback_view(renderer, advocate_id=7),
        **{f"home_{n}": home.home_view(renderer, context=context)
           for n, context in enumerate(await home_contexts(text))},
    }
    for name, view in views.items():
        check_view(f"{name} ({case})", view)
    assert {views[n]["callback_id"] for n in (
        "decline_reason", "propose_time", "outcome", "comment", "own_limits",
        "check_in_limits", "check_in_feedback")} == {
        ids.VIEW_DECLINE_REASON, ids.VIEW_PROPOSE_TIME, ids.VIEW_OUTCOME, ids.VIEW_COMMENT,
        ids.VIEW_OWN_LIMITS, ids.VIEW_CHECKIN_LIMITS, ids.VIEW_CHECKIN_FEEDBACK}
    assert all(views[n]["private_metadata"] == "7" for n in ("check_in_limits",
                                                             "check_in_feedback"))
    assert all(views[n]["type"] == "home" for n in views if n.startswith("home"))
    for view in views.values():
        for button in buttons(view):
            assert button["action_id"] in ACTION_IDS
            ids.split_value(button["value"], BUTTON_PARTS.get(button["action_id"], 1))
    profile = home.profile_message(renderer, advocate=(await home_contexts(text))[1][
        "advocate"], timezone="Asia/Tokyo")
    check_message(f"profile ({case})", profile)


async def home_contexts(text: str) -> list[dict[str, Any]]:
    """Home contexts from real service runs: a rep with requests, an advocate with a
    booked call and history, a paused advocate, a program manager, nobody at all."""
    w = World()
    rep = actor(person(REP_EMAIL, f"Riley {text}", timezone="America/New_York"))
    ada = await w.advocate("Ada", text, timezone="Asia/Tokyo")
    draft = sample_draft(prospect_company=f"Prospect {text}"[:200])
    for _ in range(3):
        await submit_request(w.ctx, rep, draft)
    request = (await submit_request(w.ctx, rep, draft)).request
    ask = await ask_advocate(w.ctx, rep, request.id or 0, ada.id)
    assert ask is not None
    her = advocate_actor(ada)
    await answer_ask(w.ctx, her, ask.id or 0, "accept")
    (engagement,) = w.db.state.engagements.values()
    await pick_time(w.ctx, her, engagement.id or 0, slot=0)
    requests = await list_requests(w.ctx, rep)
    profile = await advocate_profile(w.ctx, her, ada.id or 0)
    await pause_advocate(w.ctx, her, ada.id or 0)
    paused = await advocate_profile(w.ctx, her, ada.id or 0)
    glance = home.manager_home(ProgramGlance(
        {"open_requests": 4, "waiting": 2},
        (Attention("waiting", {"request_id": 1, "prospect_company": text, "rep": text,
                               "needed_by": "2026-03-05"}),) * 12))
    return [
        {"timezone": "America/New_York", "rep": home.rep_home(requests), "advocate": None,
         "manager": None},
        {"timezone": "Asia/Tokyo", "rep": None, "advocate": home.advocate_home(profile),
         "manager": None},
        {"timezone": "Asia/Tokyo", "rep": home.rep_home([]),
         "advocate": home.advocate_home(paused), "manager": glance},
        {"timezone": "UTC", "rep": None, "advocate": None, "manager": None},
    ]


async def test_the_home_shows_a_section_per_role_and_the_right_pause_button(
        renderer: Renderer) -> None:
    rep_only, advocate, paused, nobody = [home.home_view(renderer, context=c)
                                          for c in await home_contexts("plain")]
    headers = [[b["text"]["text"] for b in v["blocks"] if b["type"] == "header"]
               for v in (rep_only, advocate, paused, nobody)]
    assert headers == [["Your reference requests"], ["Your advocate profile"],
                       ["Your reference requests", "Your advocate profile",
                        "Program at a glance"], []]
    actions = [{b["action_id"] for b in buttons(v)} for v in (rep_only, advocate, paused)]
    assert ids.ACTION_HOME_NEW_REQUEST in actions[0] and ids.ACTION_CANCEL_REQUEST in actions[0]
    assert {ids.ACTION_HOME_PAUSE, ids.ACTION_HOME_LIMITS} <= actions[1]
    assert ids.ACTION_HOME_RESUME not in actions[1]
    assert ids.ACTION_HOME_RESUME in actions[2] and ids.ACTION_HOME_PAUSE not in actions[2]
    dumped = json.dumps(advocate, ensure_ascii=False)
    assert "JST" in dumped  # the booked call, in the advocate's zone
    assert "*Call hours*" in dumped and "any time (Asia/Tokyo)" in dumped  # none set
    # Why a paused advocate is not asked, in words, as Teams' profile card says it too.
    assert "Not asked right now: advocate is paused" in json.dumps(paused, ensure_ascii=False)
    assert "Not asked right now" not in json.dumps(rep_only)


def test_comment_box_allows_what_the_service_accepts(renderer: Renderer) -> None:
    view = forms.comment_view(renderer, engagement_id=1)
    (box,) = [b for b in view["blocks"] if b["type"] == "input"]
    assert box["element"]["max_length"] == COMMENT_MAX_CHARS


BAD = Problem("no_such_record")


def test_an_error_map_always_names_a_block_of_its_modal(renderer: Renderer) -> None:
    view = intake.intake_view(renderer, known=known_values("x"), draft=None,
                             user_timezone="UTC")
    inputs = {b["block_id"] for b in view["blocks"] if b["type"] == "input"}
    assert set(FORMS["intake"].names) == inputs
    errors = forms.form_errors(renderer, "intake", InvalidInput({name: BAD for name in (
        *(f.name for f in dataclasses.fields(RequestDraft)), "slot", "something_else")}))
    assert set(errors) <= inputs
    for form, spec in FORMS.items():  # every modal: any error lands on one of its blocks
        wrong = InvalidInput({name: BAD for name in (*spec.names, *spec.aliases, "", "x")})
        assert set(forms.form_errors(renderer, form, wrong)) <= set(spec.names)


def test_a_plain_renderer_is_given_the_slack_filters_by_the_form_builders() -> None:
    plain = Renderer()
    view = forms.comment_view(plain, engagement_id=1)
    check_view("comment (plain renderer)", view)


def test_a_program_manager_only_home_has_just_the_glance(renderer: Renderer) -> None:
    manager = home.manager_home(ProgramGlance({"open_requests": 1}))
    view = home.home_view(renderer, context={"timezone": "UTC", "rep": None,
                                              "advocate": None, "manager": manager})
    assert [b["text"]["text"] for b in view["blocks"] if b["type"] == "header"] == [
        "Program at a glance"]
    assert not buttons(view)


async def test_the_home_services_result_becomes_a_valid_home_for_each_person(
        renderer: Renderer) -> None:
    home_service = pytest.importorskip("bot.services.home")
    w = World()
    rep = actor(person(REP_EMAIL, "Riley <&>", timezone="America/New_York"))
    ada = await w.advocate("Ada", "x", timezone="Asia/Tokyo")
    await submit_request(w.ctx, rep, sample_draft())
    pm = actor(person("pat.manager@vendor.example", "Pat", timezone="Europe/Berlin"),
               Role.PROGRAM_MANAGER)
    homes = {
        "rep": await home_service.home(w.ctx, rep),
        "advocate": await home_service.home(w.ctx, advocate_actor(ada)),
        "manager": await home_service.home(w.ctx, pm),
    }
    headers = {}
    for who, data in homes.items():
        view = home.home_view(renderer, context=home.home_context(data))
        check_view(f"home of the {who}", view)
        headers[who] = [b["text"]["text"] for b in view["blocks"] if b["type"] == "header"]
    assert headers == {"rep": ["Your reference requests"],
                       "advocate": ["Your advocate profile"],
                       "manager": ["Your reference requests", "Program at a glance"]}


def test_the_time_pickers_say_what_fell_outside_the_hours_and_what_would_suit_both(
        renderer: Renderer) -> None:
    suggested = ["2026-03-09T21:00:00+00:00", "2026-03-09T21:30:00+00:00"]
    request = {"reference_type_label": "Reference call", "needs_call_time": True}
    common = {"engagement_id": 7, "advocate_name": "Aiko", "rep_name": "Riley",
              "slots": [], "outside_hours": 2, "suggested": suggested,
              "call_length_minutes": 30, "timezone": "Asia/Tokyo", "needed_by": "2026-03-20"}
    first = renderer.render_json("slack/pick_time.json.j2", {
        **common, "rep_email": "", "request": request})
    again = renderer.render_json("slack/pick_time_again.json.j2", {
        **common, "reason": "declined", "by_role": "rep", "by_name": "Riley",
        "previous_at": "2026-03-09T14:00:00+00:00", "invite": None, "ics_filename": ""})
    for payload in (first, again):
        check_message("pick_time with no fitting time", payload)
        text = json.dumps(payload)
        assert "2 of the rep's times fall outside your call hours" in text
        assert "Tue 10 Mar, 06:00; Tue 10 Mar, 06:30" in text  # in her zone
        assert [b["action_id"] for b in buttons(payload)] == [
            ids.ACTION_PROPOSE_SUGGESTED, ids.ACTION_PROPOSE_SUGGESTED, ids.ACTION_PROPOSE_TIME]
        first_two = buttons(payload)[:2]
        assert [b["text"]["text"] for b in first_two] == [
            "Tue 10 Mar, 06:00 JST", "Tue 10 Mar, 06:30 JST"]  # the suggestions, as buttons
        assert [ids.split_moment(b["value"]) for b in first_two] == [
            (7, datetime.fromisoformat(t)) for t in suggested]  # …that propose that time


def test_the_matches_show_which_of_the_reps_times_fit_each_advocate(
        renderer: Renderer) -> None:
    at = "2026-03-03T15:00:00+00:00"  # 10:00 in New York, midnight in Tokyo
    match = {"rank": 1, "advocate_id": 4, "name": "Aiko <3", "company": "K", "score": 1,
             "reasons": [], "cautions": [], "timezone": "Asia/Tokyo",
             "times": [{"at": at, "fits": False}]}
    request = {"id": 9, "reference_type_label": "Reference call", "prospect_company": "P",
               "needed_by": "2026-03-20"}
    payload = renderer.render_json("slack/matches.json.j2", {
        "request": request, "matches": [match], "considered": 1, "choose": "rep",
        "timezone": "America/New_York"})
    check_message("matches with hours", payload)
    assert ("Tue 03 Mar, 10:00 your time = Wed 04 Mar, 00:00 for Aiko &lt;3, "
            "outside their call hours") in json.dumps(payload)
    old = {k: v for k, v in match.items() if k not in ("times", "timezone")}  # queued before
    renderer.render_json("slack/matches.json.j2", {
        "request": request, "matches": [old], "considered": 1, "choose": "rep",
        "timezone": "America/New_York"})
