"""Every Teams card renders, for awkward input, into JSON the Adaptive Card 1.5 schema
accepts (``msteams`` removed first: it is Teams' extension) and within Teams' 28 KB.

Contexts are the ones the services really queue: each conversation is played against
the fakes (``tests/unit/test_templates_text.py`` for requests and asks, a scheduling one
here), with the awkward text in every free field.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import adaptive_cards
import jsonschema
import pytest

from bot.domain.model import (
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
from bot.services.outcomes import record_outcome
from bot.services.requests import KnownValues, submit_request
from bot.services.scheduling import (
    confirm_time,
    due_outcome_prompts,
    due_reminders,
    pick_time,
    reschedule,
)
from handlers.teams.cards import MAX_CARD_BYTES, TeamsCards, card_size, without_host_config
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
UI_CARDS = {"intake", "status", "welcome", "request_list", "message", "profile", "roster"}
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


async def test_the_conversations_reach_every_message_card() -> None:
    sent = (await every_conversation("x") + await scheduling_conversation("x")
            + await check_in_conversation("x"))
    templates = {m.template for m in sent}
    assert set(CARD_TEMPLATES) - UI_CARDS <= templates


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
async def test_every_message_is_a_valid_card_for_awkward_input(case: str,
                                                               cards: TeamsCards) -> None:
    text = EDGE_CASES[case]
    for message in (await every_conversation(text) + await scheduling_conversation(text)
                    + await check_in_conversation(text)):
        card, plain = cards.message(message.template, message.context)
        assert_card(card)
        assert plain.strip()
        if message.template in ("ask", "matches", "thank_you") and case != "newlines":
            assert any(text.strip() in block for block in _texts(card)), message.template


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
        assert _texts(card)[-1] == "…"


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
def test_the_intake_form_is_valid_with_values_and_errors(case: str, cards: TeamsCards) -> None:
    text = EDGE_CASES[case]
    known = KnownValues(products=(f"Payments {text}", "Cards, Debit", "Ledger"),
                        use_cases=(text,))
    values = {"prospect_company": text, "notes": LONG, "products": f"Payments {text}",
              "call_length_minutes": "45.0", "timezone": "Asia/Tokyo",
              "proposed_date_1": "2026-03-10", "proposed_time_1": "09:30"}
    errors = {"prospect_company": f"Bad {text}", "proposed_times": "Every proposed time must "
              "be in the future.", "needed_by": "When do you need the reference by?"}
    card = cards.intake(form_id="f1", values=values, errors=errors, known=known)
    assert_card(card)
    inputs = {e["id"]: e for e in _inputs(card)}
    assert inputs["prospect_company"]["value"] == text
    assert inputs["call_length_minutes"]["value"] == 45
    assert [c["value"] for c in inputs["products"]["choices"]] == [f"Payments {text}", "Ledger"]
    assert f"Bad {text}" in _texts(card)
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
    assert _verbs(mine) == {"profile.pause", "profile.limits", "profile.leave"}
    assert any(f"Ada {text}" in t for t in _texts(mine))
    assert sum(t.startswith("Reference call, ") for t in _texts(mine)) == 10
    assert "Reference call, 02 Mar 2026: completed, 10 points" in _texts(mine)
    upcoming = [t for t in _texts(mine) if t.startswith("Video call with")]
    assert len(upcoming) == 10
    assert upcoming[0].startswith("Video call with a rep: Tue 03 Mar 2026, 18:00 JST (reference #")
    limits = {e["id"]: e for e in _inputs_anywhere(mine) if e["type"] == "Input.Number"}
    # An advocate may only be stricter: the program's counts are the ceiling, its rest the
    # floor, even when a manager loosened the 90-day limit to 5.
    assert (limits["max_per_90_days"]["max"], limits["max_per_90_days"]["value"]) == (3, 3)
    assert limits["cooldown_days"]["min"] == 14

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
    assert any(ada.email in t for t in _texts(theirs))

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
    card = cards.roster(found, query=text)
    assert_card(card)
    assert len(_executes(card)) == 20
    assert {e["data"]["advocate_id"] for e in _executes(card)} == {a.id for a in found[:20]}
    assert _texts(card)[-1] == "10 more: add a word to narrow it down."
    assert_card(cards.roster([], query=""))


def test_the_schema_check_is_not_a_rubber_stamp() -> None:
    bad = {"type": "AdaptiveCard", "version": "1.5",
           "body": [{"type": "TextBlock", "txt": "typo"}],
           "actions": [{"type": "Action.Execute", "verb": "x", "dataa": {}}]}
    assert schema_errors(bad)


def _texts(card: dict[str, Any]) -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card.get("body", []))
    return found


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
