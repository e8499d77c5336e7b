"""Two people in one request, each in their own language, end to end over HTTP: Slack.

A rep whose Slack (or Teams) speaks ``en-US`` asks an advocate whose Slack (or Teams)
speaks ``ja-JP``: the rep's form, matches and booking are English, the advocate's ask,
buttons, time choices, confirmation and calendar invite are Japanese, and names and what
people typed come through as typed. The locale comes from the platform (Slack's
``users.info``/``users.lookupByEmail`` with ``include_locale``, Teams' activity
``locale``), is stored with the person, and the outbox renders each message for its
reader. A program manager whose Slack speaks Japanese gets the weekly digest in Japanese.
"""

from __future__ import annotations

import re

from handlers.slack import ids
from tests.integration.slack.conftest import ADA, PAT, RILEY, Slack, all_text, buttons
from tests.integration.slack.test_end_to_end import button, intake_state, ts_of, with_button

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def japanese(text: str) -> bool:
    return bool(JAPANESE.search(text))


async def test_on_slack_the_rep_reads_english_and_the_advocate_japanese(slack: Slack) -> None:
    slack.fake.locales[ADA[0]] = "ja-JP"
    slack.fake.locales[RILEY[0]] = "en-US"
    # In Berlin: the rep's times fall inside her call hours (Tokyo's nights are another test).
    await slack.add_advocate(email=ADA[1], name=ADA[2], company="Harbor Bank",
                             timezone="Europe/Berlin")

    # Riley files the request in English and gets English matches.
    await slack.command(RILEY, ids.COMMAND_REFERENCE, "fintech payments EMEA")
    await slack.settle()
    [modal] = slack.modals()
    assert not japanese(all_text({"blocks": modal["blocks"]}))
    await slack.submit(RILEY, ids.VIEW_INTAKE, intake_state())
    await slack.deliver()
    [matches] = slack.dms_to(RILEY)
    assert not japanese(all_text(matches.args)) and "Ada Advocate" in all_text(matches.args)

    # Ada's ask is Japanese, her name as typed; Riley's "asked" stays English.
    ask_button = button(matches, ids.ACTION_ASK_ADVOCATE)
    await slack.click(RILEY, ids.ACTION_ASK_ADVOCATE, ask_button["value"],
                      message_ts=ts_of(matches))
    await slack.deliver()
    [ask] = slack.dms_to(ADA)
    shown = all_text(ask.args)
    assert japanese(shown) and "Ada Advocate" in shown and "would love your help" not in shown
    assert all(japanese(b["text"]["text"]) for b in buttons(ask.args))

    # She accepts: the times to pick from are Japanese; Riley hears it in English.
    accept = button(ask, ids.ACTION_ASK_ACCEPT)
    await slack.click(ADA, ids.ACTION_ASK_ACCEPT, accept["value"], message_ts=ts_of(ask))
    await slack.deliver()
    pick = with_button(slack.dms_to(ADA), ids.ACTION_PICK_SLOT)
    assert japanese(all_text(pick.args))
    assert not any(japanese(all_text(c.args)) for c in slack.dms_to(RILEY))

    # She picks a time: each confirmation in its reader's language, each invite too.
    slot = button(pick, ids.ACTION_PICK_SLOT)
    await slack.click(ADA, ids.ACTION_PICK_SLOT, slot["value"], message_ts=ts_of(pick))
    await slack.deliver()
    assert not japanese(all_text(slack.dms_to(RILEY)[-1].args))
    assert japanese(all_text(slack.dms_to(ADA)[-1].args))
    invites = [body.decode() for body in slack.fake.uploads if b"BEGIN:VCALENDAR" in body]
    assert len(invites) == 2 and sum(japanese(i) for i in invites) == 1

    # Every message Riley got is English, every one Ada got is Japanese.
    assert not any(japanese(all_text(c.args)) for c in slack.dms_to(RILEY))
    assert all(japanese(all_text(c.args)) for c in slack.dms_to(ADA))


async def test_on_slack_a_japanese_program_manager_gets_the_digest_in_japanese(
        slack: Slack) -> None:
    slack.fake.locales[PAT[0]] = "ja-JP"
    await slack.add_advocate(email=ADA[1], name=ADA[2])
    await slack.command(PAT, ids.COMMAND_ADVOCATES, "digest now")
    await slack.settle()
    await slack.deliver()
    [digest] = [c for c in slack.dms_to(PAT) if c.method == "chat.postMessage"]
    assert japanese(all_text(digest.args))
    assert not re.search(r"Requests opened|Fulfilment rate", all_text(digest.args))
