"""The nomination messages, the decline and onboarding modals and the message action's
form are valid Slack and Teams payloads in English and in Japanese (the invite's words,
the consent wording, the readiness findings all through the catalog)."""

from __future__ import annotations

import pytest

from bot.conversation.replies import Reply
from bot.domain.policy import LimitPolicy
from bot.ports import OutboxMessage
from bot.rendering import Renderer
from handlers.slack.blockkit import slack_renderer
from handlers.slack.listeners import commands as slack_commands
from handlers.slack.messenger import SlackMessenger
from handlers.teams.cards import TeamsCards
from tests.templates.nomination_conversation import nomination_conversation
from tests.templates.test_japanese_payloads import JAPANESE
from tests.templates.test_slack_templates import (
    CASES,
    check_blocks,
    check_message,
    check_view,
    known_values,
    render_message,
)
from tests.templates.test_teams_templates import assert_card

LOCALES = ["en", "ja-JP"]


@pytest.mark.parametrize("locale", LOCALES)
async def test_every_nomination_message_is_valid_on_both_surfaces(locale: str) -> None:
    slack_r = slack_renderer().for_locale(locale)
    teams = TeamsCards(Renderer()).for_locale(locale)
    slack = SlackMessenger(client=None, renderer=slack_r)  # type: ignore[arg-type]
    for case in ("plain", "long"):
        for n, message in enumerate(await nomination_conversation(CASES[case])):
            where = f"{message.template} ({case}, {locale})"
            payload = slack.render(OutboxMessage(id=n, message=message, created_at=None,  # type: ignore[arg-type]
                                                 locale=locale))
            if render_message(slack_r, message) is not None:
                check_message(where, payload)
            else:
                check_blocks(where, payload["blocks"])
            card = teams.outgoing(message.template, message.context).card
            assert_card(card)
            if locale != "en":
                assert JAPANESE.search(payload["text"] + str(payload["blocks"])), where
                assert JAPANESE.search(str(card)), where


@pytest.mark.parametrize("locale", LOCALES)
def test_the_nomination_modals_and_the_message_action_form_are_valid(locale: str) -> None:
    slack_r = slack_renderer().for_locale(locale)
    for form, context in (("onboarding", {"known": known_values("plain"),
                                          "timezone": "Asia/Tokyo",
                                          "program_limits": LimitPolicy(),
                                          "consent_version": "v1"}),
                          ("nomination_decline", {})):
        view = slack_commands.form_view(slack_r, Reply(form, {"subject_id": 4, **context},
                                                       form=form), {})
        check_view(f"{form} ({locale})", view)
        assert locale == "en" or JAPANESE.search(str(view)), form
    task = Renderer().for_locale(locale).render_json("teams/nominate_task.json.j2", {
        "email": "dan@acme.example", "name": "Dan", "reason": "Great API", "reason_max": 500,
        "name_max": 200})
    assert_card(task)
    assert locale == "en" or JAPANESE.search(str(task))
