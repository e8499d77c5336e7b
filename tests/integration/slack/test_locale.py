"""Slack: two people in one request each read their own language. Slack's ``users.info``
locale (asked with ``include_locale``) is kept on the person and every outbox message is
rendered in its recipient's: a rep whose Slack is in English, an advocate whose Slack is
in Japanese."""

from __future__ import annotations

import re

from bot.services.asks import ask_advocate
from bot.services.requests import submit_request
from tests.integration.slack.conftest import ADA, RILEY, Slack
from tests.unit.conftest import sample_draft

JAPANESE = re.compile(r"[\u3040-\u30ff]")  # kana: no name or company here has any


async def test_the_rep_reads_english_and_the_advocate_japanese(slack: Slack) -> None:
    slack.fake.locales[ADA[0]] = "ja-JP"
    slack.fake.locales[RILEY[0]] = "en-US"
    ada = await slack.add_advocate(email=ADA[1], name=ADA[2], timezone=ADA[3])
    await slack.actor(ADA)  # Ada has used the bot: Slack told us her locale once
    rep = await slack.actor(RILEY)
    submitted = await submit_request(slack.bot.ctx, rep, sample_draft())
    await ask_advocate(slack.bot.ctx, rep, submitted.request.id or 0, ada.id)
    await slack.deliver()

    (ask,) = slack.dms_to(ADA)
    assert JAPANESE.search(str(ask.args.get("blocks"))), ask.args
    rep_dms = slack.dms_to(RILEY)
    assert rep_dms and not any(JAPANESE.search(str(c.args)) for c in rep_dms)
    async with slack.bot.uow() as uow:
        [stored] = await uow.people.find_by_email(ADA[1])
    assert stored.locale == "ja_JP"
    # users.info was asked once for each, with include_locale; no message asked again
    asked = [c.args.get("user") for c in slack.fake.calls_to("users.info")]
    assert sorted(asked) == sorted([ADA[0], RILEY[0]])
