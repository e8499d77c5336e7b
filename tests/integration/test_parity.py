"""Slack and Teams serve the same conversation, checked from the conversation layer's own
tables: every command a person can give by button or form is reachable on both surfaces,
every command has one handler, and every form (``bot.conversation.formspec.FORMS``)
shows exactly its spec's fields, requirements, bounds and choices on both. (Typed words
are one parser for both: tests/unit/test_conversation_words.)
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.conversation import clicks as teams_commands
from bot.conversation import commands as c
from bot.conversation.dispatcher import HANDLERS
from bot.conversation.forms import LIMIT_NAMES, forgive
from bot.conversation.formspec import FORMS, Kind, Sources
from bot.conversation.replies import Reply
from bot.domain.model import LimitOverrides
from bot.domain.policy import LimitPolicy
from bot.rendering import Renderer
from bot.services.intake import KnownValues, RequestDraft
from handlers.slack import ids
from handlers.slack.blockkit import slack_renderer
from handlers.slack.listeners import actions as slack_actions
from handlers.slack.listeners import commands as slack_commands
from handlers.slack.listeners import nominations as slack_nominations
from handlers.slack.listeners import views as slack_views
from handlers.teams.cards import TeamsCards, form_fields
from tests.unit.conftest import actor

ACTOR = actor("riley@vendor.example")
# Commands a surface may present as a separate form first (Slack's modals); Teams puts
# the same inputs on the card itself, so it never needs them.
PRESENTATION_ONLY = {c.OpenForm, c.StartRequest}
KNOWN = KnownValues(industries=("Fintech", "Retail"), regions=("EMEA", "APAC"),
                    languages=("English", "Japanese"), products=("Payments API", "Ledger"),
                    use_cases=("Checkout",))


def test_every_command_has_exactly_one_handler() -> None:
    every = {*c.TYPED_COMMANDS, *c.BUTTON_COMMANDS, c.OpenForm}
    assert every == set(HANDLERS)


def slack_button_commands() -> set[type[c.Command]]:
    values = {ids.ACTION_ASK_ADVOCATE: "1:2", ids.ACTION_PICK_SLOT: "1:0",
              ids.ACTION_PROPOSE_SUGGESTED: "1:2030-01-02T10:00:00+00:00"}
    found = set()
    for action_id in slack_actions.BUTTONS:
        action: dict[str, Any] = {"action_id": action_id, "value": values.get(action_id, "1"),
                                  "selected_option": {"value": "1:3"}, "block_id": "b"}
        found.add(type(slack_actions.command_of(ACTOR, action)))
    return found


def slack_form_commands() -> set[type[c.Command]]:
    """What each modal's submission becomes (views.py reads them)."""
    def state(**inputs: dict[str, Any]) -> dict[str, Any]:
        return {"state": {"values": {k: {k: v} for k, v in inputs.items()}}}

    filled = {
        slack_views._propose_time: state(proposed_time={
            "type": "datetimepicker", "selected_date_time": 1893456000}),
        slack_views._outcome: state(outcome={
            "type": "static_select", "selected_option": {"value": "completed"}}),
        slack_views._comment: state(comment={"type": "plain_text_input", "value": "x"}),
        slack_views._own_limits: state(),
        slack_views._pause: state(until={"type": "datepicker", "selected_date": "2030-01-02"}),
        slack_views._call_hours: state(hours={"type": "plain_text_input", "value": "9-17"}),
        slack_views._check_in_limits: state(),
        slack_views._check_in_feedback: state(feedback={"type": "plain_text_input",
                                                        "value": "x"}),
    }
    found = {type(read(ACTOR, 1, view)) for read, view in filled.items()}
    found.add(type(slack_nominations.onboarding_command(ACTOR, 1, state(
        consent={"type": "radio_buttons", "selected_option": {"value": "agree"}}))))
    reasons = {type(answer(ACTOR, 1, "why")) for _, answer in slack_views.REASON_FORMS.values()}
    return found | reasons | {c.SubmitIntake}


def teams_commands_served() -> set[type[c.Command]]:
    data = {"request_id": "1", "advocate_id": "2", "ask_id": "3", "engagement_id": "4",
            "slot": "0", "proposed_time.date": "2030-01-02", "proposed_time.time": "10:00",
            "choice": "keep_active", "form_id": "f", "outcome": "completed",
            "at": "2030-01-02T10:00:00+00:00", "nomination_id": "5"}
    found = set()
    for verb in teams_commands.VERBS:
        action = teams_commands.CardAction(verb, data)
        command = teams_commands.command_of(ACTOR, action, zone="UTC", draft=RequestDraft())
        found.add(type(command))
    return found


def test_every_button_and_form_command_is_served_by_both_slack_and_teams() -> None:
    needed = set(c.BUTTON_COMMANDS)
    slack = slack_button_commands() | slack_form_commands()
    teams = teams_commands_served()
    assert needed - PRESENTATION_ONLY <= slack, needed - slack
    assert needed - PRESENTATION_ONLY <= teams, needed - teams


# --- the same forms, from their specs --------------------------------------------------------

PROGRAM = LimitPolicy(max_per_90_days=4, max_per_365_days=9, cooldown_days=10, max_open_asks=3)
CURRENT = LimitPolicy(max_per_90_days=2, max_per_365_days=9, cooldown_days=21, max_open_asks=1)
SOURCES = Sources(known=KNOWN, timezone="Asia/Tokyo", limits=CURRENT, program=PROGRAM)
# What each form is opened with (the dispatcher's form replies): every spec needs one, so
# a new form is covered here the moment it is declared.
OPENED: dict[str, dict[str, Any]] = {
    "intake": {"known": KNOWN, "draft": None, "timezone": "Asia/Tokyo"},
    "decline_reason": {},
    "deny_reason": {},
    "propose_time": {"timezone": "Asia/Tokyo", "latest": date(2030, 1, 9)},
    "outcome": {"advocate_name": "Ada", "currency": "EUR"},
    "comment": {},
    "own_limits": {"current": CURRENT, "program_limits": PROGRAM},
    "check_in_limits": {"current": CURRENT, "program_limits": PROGRAM},
    "check_in_feedback": {},
    "pause": {"today": date(2030, 1, 1)},
    "call_hours": {"hours": "Mon-Fri 09:00-17:00"},
    "nomination_decline": {},
    "onboarding": {"known": KNOWN, "timezone": "Asia/Tokyo", "program_limits": PROGRAM,
                   "consent_version": "v1"},
}


def test_every_form_spec_is_opened_here() -> None:
    assert set(OPENED) == set(FORMS)


def slack_form(form: str) -> list[dict[str, Any]]:
    """The input blocks of the modal Slack opens for ``form`` (its production path)."""
    reply = Reply(form, {"subject_id": 1, **OPENED[form]}, form=form)
    view = slack_commands.form_view(slack_renderer(), reply, {"channel_id": "C1"})
    return [b for b in view["blocks"] if b["type"] == "input"]


def _message_card(renderer: Renderer, template: str, **context: Any) -> dict[str, Any]:
    card: dict[str, Any] = renderer.render_json(
        f"teams/{template}.json.j2",
        {"lines": [{"text": "x", "gap": False}], "fallback_text": "x", **context})
    return card


def teams_cards() -> list[dict[str, Any]]:
    """Every Teams card that carries a form, as a person receives it."""
    renderer = slack_renderer()
    cards = TeamsCards(renderer, program=PROGRAM)
    profile = {"advocate_id": 1, "name": "Ada", "email": "ada@x.example", "company": "X",
               "availability": {"state": "active", "until": None}, "tier": "Bronze",
               "points": 0, "next_tier": None, "usage": [], "cooldown_days": 21,
               "blocked": [], "can_pause": True, "can_resume": False, "retired": False,
               "call_hours": "Mon-Fri 09:00-18:00", "timezone": "Asia/Tokyo",
               "upcoming": [], "history": []}  # bot.conversation.views.profile_view
    limits = {name: getattr(CURRENT, name) for name in LIMIT_NAMES}
    return [
        cards.intake(form_id="f", values={"timezone": "Asia/Tokyo"}, errors={}, known=KNOWN),
        _message_card(renderer, "ask", ask_id=1),
        _message_card(renderer, "approval_request", ask_id=1),
        _message_card(renderer, "pick_time", engagement_id=1, slots=[], outside_hours=0,
                      suggested=[], timezone="Asia/Tokyo"),
        _message_card(renderer, "outcome_prompt", engagement_id=1),
        _message_card(renderer, "thank_you", engagement_id=1),
        _message_card(renderer, "check_in", advocate_id=1, limits=limits, pause_months=[1]),
        _message_card(renderer, "nomination_review", nomination={"id": 1}),
        _message_card(renderer, "nomination_invite", nomination_id=1, consent_version="v1",
                      program_limits={n: getattr(PROGRAM, n) for n in LIMIT_NAMES},
                      timezone="Asia/Tokyo", known={
                          "languages": list(KNOWN.languages), "products": list(KNOWN.products),
                          "use_cases": list(KNOWN.use_cases)}),
        renderer.render_json("teams/profile.json.j2", {
            "advocate": profile, "viewer": "self", "min_date": None, "overrides": [],
            "timezone": "Asia/Tokyo", "pause": form_fields("pause"),
            "own_limits": form_fields("own_limits", limits=CURRENT, program=PROGRAM),
            "call_hours": form_fields("call_hours", {"hours": "Mon-Fri 09:00-17:00"})}),
    ]


def _inputs(node: Any) -> list[dict[str, Any]]:
    """Inputs in a card body, not inside a ShowCard's card (those belong to its button)."""
    if isinstance(node, list):
        return [i for item in node for i in _inputs(item)]
    if not isinstance(node, dict) or node.get("type") == "Action.ShowCard":
        return []
    found = [node] if str(node.get("type", "")).startswith("Input.") else []
    return found + [i for key, value in node.items() if key != "actions"
                    for i in _inputs(value)]


def _submits(card: dict[str, Any]) -> list[tuple[str, dict[str, Any], list[dict[str, Any]]]]:
    """(verb, data, the inputs it submits) for every button of a card and its ShowCards."""
    found = []
    for action in card.get("actions", []):
        if action["type"] == "Action.ShowCard":
            found += _submits(action["card"])
        elif action["type"] == "Action.Execute":
            found.append((action["verb"], action["data"], _inputs(card["body"])))
    return found


def teams_forms() -> dict[str, list[dict[str, Any]]]:
    """The inputs each form's button submits in Teams, by the form it submits."""
    forms: dict[str, list[dict[str, Any]]] = {}
    for card in teams_cards():
        for verb, data, inputs in _submits(card):
            form = teams_commands.form_of(teams_commands.CardAction(verb, data))
            if form is not None:
                assert forms.setdefault(form, inputs) == inputs, form
    return forms


def _field_of(input_id: str) -> str:
    return input_id.removesuffix(".date").removesuffix(".time")


@pytest.mark.parametrize("form", sorted(FORMS))
def test_slack_renders_exactly_the_forms_fields_and_choices(form: str) -> None:
    spec = FORMS[form].fields(SOURCES)
    blocks = slack_form(form)
    assert [b["block_id"] for b in blocks] == [f.name for f in spec] == [
        b["element"]["action_id"] for b in blocks]
    for field, block in zip(spec, blocks, strict=True):
        element = block["element"]
        assert block["optional"] is not field.required, field.name
        assert [o["value"] for o in element.get("options", [])] == [
            c.value for c in field.choices], field.name
        assert element.get("max_length") == field.max_length or field.kind is not Kind.TEXT
        if field.kind is Kind.NUMBER:
            assert (element.get("min_value"), element.get("max_value")) == (
                str(field.low), str(field.high)), field.name


@pytest.mark.parametrize("form", sorted(FORMS))
def test_teams_renders_exactly_the_forms_fields_and_choices(form: str) -> None:
    spec = {f.name: f for f in FORMS[form].fields(SOURCES)}
    inputs = teams_forms()[form]
    assert [i["id"] for i in inputs] == [  # a date-and-time is a day and a time box
        name for f in spec.values() for name in (
            [f"{f.name}.date", f"{f.name}.time"] if f.kind is Kind.DATETIME else [f.name])]
    for element in inputs:
        field = spec[_field_of(element["id"])]
        assert bool(element.get("isRequired")) is field.required, field.name
        assert [c["value"] for c in element.get("choices", [])] == [
            c.value for c in field.choices], field.name
        assert element.get("maxLength") == field.max_length or field.kind in (
            Kind.SELECT, Kind.MULTI_SELECT, Kind.RADIO, Kind.NUMBER, Kind.DATE,
            Kind.DATETIME)
        if field.kind is Kind.NUMBER:
            assert (element.get("min"), element.get("max")) == (
                float(field.low or 0), float(field.high or 0)), field.name


def test_every_form_is_served_by_both_surfaces() -> None:
    assert set(teams_forms()) == set(FORMS)
    slack = [form for form, _ in (*slack_views.SMALL_FORMS.values(),
                                  *slack_views.REASON_FORMS.values())]
    assert {"intake", "onboarding", *slack} == set(FORMS)  # onboarding: listeners.nominations


@pytest.mark.parametrize("typed", ["en", "EN", "English", "english", "英語", "en-GB"])
def test_a_typed_language_finds_the_roster_spelling_on_every_surface(typed: str) -> None:
    assert forgive(RequestDraft(language=typed), KNOWN).language == "English"
    assert forgive(RequestDraft(language="日本語"), KNOWN).language == "Japanese"
    assert forgive(RequestDraft(industry="fintech", region="emea"), KNOWN) == \
        RequestDraft(industry="Fintech", region="EMEA")


def test_a_value_the_roster_does_not_know_is_kept_as_typed() -> None:
    assert forgive(RequestDraft(language="Klingon"), KNOWN).language == "Klingon"
    assert LimitOverrides() == LimitOverrides()  # nothing else changes
