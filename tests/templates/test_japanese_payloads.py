"""In Japanese, every Slack payload still passes slack_sdk's model validation and Slack's
length limits, and every Teams card still validates against the Adaptive Card 1.5 schema
within 28 KB: Japanese words are not English words of another length.

The messages are the ones ``test_slack_templates`` and ``test_teams_templates`` capture
from real service runs, with awkward input; here they are rendered with
``Renderer.for_locale("ja")`` and must also come out in Japanese (kana or kanji in every
message), so the check cannot pass on English by accident.
"""

from __future__ import annotations

import re

import pytest

from bot.ports import OutboxMessage
from bot.rendering import Renderer
from handlers.slack.blockkit import slack_renderer
from handlers.slack.messenger import FALLBACK_TEXT_LIMIT, SlackMessenger
from handlers.teams.cards import TeamsCards
from tests.templates.test_slack_templates import (
    CASES,
    check_blocks,
    check_message,
    check_view,
    every_message,
    home_contexts,
    known_values,
    render_message,
)
from tests.templates.test_teams_templates import assert_card

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def slack_ja() -> Renderer:
    return slack_renderer().for_locale("ja-JP")


@pytest.fixture(scope="module")
def teams_ja() -> TeamsCards:
    return TeamsCards(Renderer()).for_locale("ja-JP")


@pytest.mark.parametrize("case", ["plain", "long"])
async def test_every_message_in_japanese_is_valid_on_both_surfaces(
        case: str, slack_ja: Renderer, teams_ja: TeamsCards) -> None:
    slack = SlackMessenger(client=None, renderer=slack_ja)  # type: ignore[arg-type]
    for n, message in enumerate(await every_message(CASES[case])):
        where = f"{message.template} ({case})"
        payload = slack.render(OutboxMessage(id=n, message=message,
                                             created_at=None, locale="ja"))  # type: ignore
        if render_message(slack_ja, message) is not None:  # Block Kit of its own
            check_message(where, payload)
        else:  # the text version in one section, cut to Slack's limits
            check_blocks(where, payload["blocks"])
            assert 0 < len(payload["text"]) <= FALLBACK_TEXT_LIMIT, where
        assert JAPANESE.search(payload["text"] + str(payload["blocks"])), where
        rendered = teams_ja.outgoing(message.template, message.context)
        assert_card(rendered.card)
        assert JAPANESE.search(str(rendered.card)), where


async def test_the_modals_and_the_home_in_japanese_are_valid(slack_ja: Renderer) -> None:
    from handlers.slack import home, intake

    views = {"intake": intake.intake_view(slack_ja, known=known_values("plain"), draft=None,
                                          user_timezone="Asia/Tokyo", private_metadata="{}"),
             **{f"home_{n}": home.home_view(slack_ja, context=c)
                for n, c in enumerate(await home_contexts(CASES["long"]))}}
    for name, view in views.items():
        check_view(name, view)
        # The language menu names 日本語 in every language: it proves nothing here.
        blocks = [b for b in view["blocks"] if b.get("block_id") != "language"]
        assert JAPANESE.search(str(blocks)), name
