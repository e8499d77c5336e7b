"""Slack and Teams serve the same conversation, checked from the conversation layer's own
tables: every command a person can give by button or form is reachable on both surfaces,
every command has one handler, and the intake and limits forms offer the same fields and
choices on both. (Typed words are one parser for both: tests/unit/test_conversation_words.)
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.conversation import commands as c
from bot.conversation.dispatcher import HANDLERS
from bot.conversation.forms import forgive, intake_choices, limit_fields
from bot.domain.model import LimitOverrides
from bot.domain.policy import LimitPolicy
from bot.rendering import Renderer
from bot.services.intake import KnownValues, RequestDraft
from handlers.slack import forms as slack_forms
from handlers.slack import ids
from handlers.slack import intake as slack_intake_modal
from handlers.slack.blockkit import slack_renderer
from handlers.slack.listeners import actions as slack_actions
from handlers.slack.listeners import views as slack_views
from handlers.teams import commands as teams_commands
from handlers.teams.cards import TeamsCards
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
    values = {ids.ACTION_ASK_ADVOCATE: "1:2", ids.ACTION_PICK_SLOT: "1:0"}
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
        slack_views._check_in_limits: state(),
        slack_views._check_in_feedback: state(feedback={"type": "plain_text_input",
                                                        "value": "x"}),
    }
    found = {type(read(ACTOR, 1, view)) for read, view in filled.items()}
    return found | {c.SubmitIntake, c.AnswerAsk}  # the intake and decline-reason modals


def teams_commands_served() -> set[type[c.Command]]:
    data = {"request_id": "1", "advocate_id": "2", "ask_id": "3", "engagement_id": "4",
            "slot": "0", "proposed_date": "2030-01-02", "proposed_time": "10:00",
            "choice": "keep_active", "form_id": "f"}
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


# --- the same forms -------------------------------------------------------------------------


def slack_intake(renderer: Renderer) -> dict[str, dict[str, Any]]:
    view = slack_intake_modal.intake_view(renderer, known=KNOWN, draft=None,
                                         user_timezone="Asia/Tokyo")
    return {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}


def teams_intake(renderer: Renderer) -> dict[str, dict[str, Any]]:
    card = TeamsCards(renderer).intake(form_id="f", values={"timezone": "Asia/Tokyo"},
                                       errors={}, known=KNOWN, today=date(2030, 1, 1))
    found: dict[str, dict[str, Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Input."):
                found[node["id"]] = node
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card["body"])
    return found


def test_the_intake_form_has_the_same_fields_on_both_surfaces() -> None:
    slack, teams = slack_intake(slack_renderer()), teams_intake(slack_renderer())
    # A proposed time is one date-and-time picker in Slack, a day and a time box in Teams.
    slack_fields = {"proposed_time" if k.startswith("proposed_time_") else k for k in slack}
    teams_fields = {"proposed_time" if k.startswith(("proposed_date_", "proposed_time_"))
                    else k for k in teams}
    assert slack_fields == teams_fields


@pytest.mark.parametrize("field", ["reference_type", "company_size", "call_length_minutes",
                                   "parallel_asks", "timezone", "industry", "region",
                                   "language", "products", "use_cases"])
def test_each_intake_menu_offers_the_same_choices_on_both_surfaces(field: str) -> None:
    slack = slack_intake(slack_renderer())[field]
    teams = teams_intake(slack_renderer())[field]
    slack_values = [o["value"] for o in slack["options"]]
    teams_values = [o["value"] for o in teams["choices"]]
    shared = [ch.value for ch in intake_choices(KNOWN, timezone="Asia/Tokyo")[field]]
    assert slack_values == teams_values == shared


def test_the_limits_form_has_the_same_fields_labels_and_bounds_on_both_surfaces() -> None:
    program = LimitPolicy()
    shared = limit_fields(program, program)
    view = slack_forms.own_limits_view(slack_renderer(), advocate_id=1, current=program)
    slack = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert [f.name for f in shared] == list(slack)
    assert [f.label for f in shared] == [b["label"]["text"] for b in slack.values()]
    cooldown = next(f for f in shared if f.name == "cooldown_days")
    assert cooldown.high == 3650  # the domain's bound, not a surface's own


@pytest.mark.parametrize("typed", ["en", "EN", "English", "english", "英語", "en-GB"])
def test_a_typed_language_finds_the_roster_spelling_on_every_surface(typed: str) -> None:
    assert forgive(RequestDraft(language=typed), KNOWN).language == "English"
    assert forgive(RequestDraft(language="日本語"), KNOWN).language == "Japanese"
    assert forgive(RequestDraft(industry="fintech", region="emea"), KNOWN) == \
        RequestDraft(industry="Fintech", region="EMEA")


def test_a_value_the_roster_does_not_know_is_kept_as_typed() -> None:
    assert forgive(RequestDraft(language="Klingon"), KNOWN).language == "Klingon"
    assert LimitOverrides() == LimitOverrides()  # nothing else changes
