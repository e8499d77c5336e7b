"""One reference request from ``/reference`` to a recorded outcome, through Slack.

Everything goes the way it does in production: signed payloads over HTTP to
``/slack/events``, Bolt acking and running the listeners, the services on SQLite, the
outbox dispatcher delivering through the Slack messenger to a fake Web API. The test
reads, step by step, what each person saw: the rep (Riley) and the advocate (Ada, who
came from the CRM roster by email and had never used the bot).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

from bot.domain.model import EngagementState, RequestState
from bot.services.reminders import due_outcome_prompts, due_reminders
from handlers.slack import ids
from tests.integration.slack.conftest import (
    ADA,
    PAT,
    RILEY,
    Slack,
    all_text,
    buttons,
    date_input,
    moment_input,
    multi,
    select,
    text_input,
    values,
)
from tests.slack_fake import Call

FIRST_SLOT = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
SECOND_SLOT = datetime(2026, 3, 11, 16, 30, tzinfo=UTC)


def button(message: Call, action_id: str) -> dict:
    """The first button with ``action_id`` in a posted message (the top match, the
    first slot); fails naming the buttons there are."""
    found = [b for b in buttons(message.args) if b["action_id"] == action_id]
    assert found, (action_id, [b["action_id"] for b in buttons(message.args)])
    return found[0]


def ts_of(message: Call) -> str:
    """The ``ts`` Slack gave a posted message (what a click on it carries)."""
    assert message.answer is not None
    return str(message.answer["ts"])


def with_button(calls: list[Call], action_id: str) -> Call:
    """The newest message that carries a button ``action_id``."""
    found = [c for c in calls if any(b["action_id"] == action_id for b in buttons(c.args))]
    assert found, f"no message with a {action_id} button among {len(calls)}"
    return found[-1]


def intake_state(*, needed_by: str = "2026-03-20") -> dict:
    return values(
        prospect_company=text_input("Globex Bank"),
        reference_type=select("call"),
        needed_by=date_input(needed_by),
        proposed_time_1=moment_input(FIRST_SLOT),
        proposed_time_2=moment_input(SECOND_SLOT),
        timezone=select("America/New_York"),
        call_length_minutes=select("30"),
        industry=select("Fintech"),
        region=select("EMEA"),
        products=multi("Payments API"),
        use_cases=multi("Checkout"),
        notes=text_input("They want to hear about the migration."),
    )


async def test_a_request_walks_from_slash_command_to_recorded_outcome(slack: Slack) -> None:
    ada = await slack.add_advocate(email=ADA[1], name=ADA[2], company="Harbor Bank",
                                   timezone=ADA[3])
    await slack.add_advocate(email="bo@retail.example", name="Bo Retail", industry="Retail",
                             region="NA", products=("Billing",))

    # 1. Riley types /reference with keywords: the form opens, pre-filled.
    response = await slack.command(RILEY, ids.COMMAND_REFERENCE, "fintech payments EMEA")
    assert (response.status, response.text) == (200, "")
    await slack.settle()
    [modal] = slack.modals()
    assert modal["callback_id"] == ids.VIEW_INTAKE
    assert "Fintech" in all_text({"blocks": modal["blocks"]})

    # 2. A date in the past comes back inline, on that field, and nothing is recorded.
    response = await slack.submit(RILEY, ids.VIEW_INTAKE, intake_state(needed_by="2026-02-01"))
    assert response.status == 200
    assert response.json()["response_action"] == "errors"
    errors = response.json()["errors"]
    assert "already passed" in errors["needed_by"]
    assert set(errors) <= {"needed_by", "proposed_time_1"}  # the times are now late, too
    async with slack.bot.uow() as uow:
        assert await uow.requests.get(1) is None  # nothing was recorded

    # 3. The corrected form: Riley gets the matches, with reasons and no contact details.
    response = await slack.submit(RILEY, ids.VIEW_INTAKE, intake_state())
    assert (response.status, response.text) == (200, "")
    await slack.deliver()
    [matches] = slack.dms_to(RILEY)
    shown = all_text(matches.args)
    assert "Ada Advocate" in shown and "Fintech" in shown
    assert ADA[1] not in shown
    ask_button = button(matches, ids.ACTION_ASK_ADVOCATE)
    request_id = int(ask_button["value"].split(":")[0])
    assert ask_button["value"] == f"{request_id}:{ada.id}"
    assert button(matches, ids.ACTION_ASK_BEST)["value"] == str(request_id)

    # 4. Riley asks Ada. She is on the roster by email only: Slack finds her by email.
    await slack.click(RILEY, ids.ACTION_ASK_ADVOCATE, ask_button["value"],
                      message_ts=ts_of(matches))
    await slack.deliver()
    assert [c.args["email"] for c in slack.fake.calls_to("users.lookupByEmail")] == [ADA[1]]
    [ask] = slack.dms_to(ADA)
    assert ask.args["channel"] == ADA[0]  # a DM to the user id, no conversations.open
    assert "Globex" not in all_text(ask.args)  # the prospect stays hidden before consent
    accept = button(ask, ids.ACTION_ASK_ACCEPT)
    assert {ids.ACTION_ASK_DECLINE, ids.ACTION_ASK_NOT_NOW} <= {
        b["action_id"] for b in buttons(ask.args)}

    # 5. Ada double-clicks Accept: one acceptance; her message loses its buttons in place.
    ask_ts = ts_of(ask)
    first, second = await asyncio.gather(
        slack.click(ADA, ids.ACTION_ASK_ACCEPT, accept["value"], message_ts=ask_ts),
        slack.click(ADA, ids.ACTION_ASK_ACCEPT, accept["value"], message_ts=ask_ts))
    assert first.status == second.status == 200
    await slack.deliver()
    updates = slack.fake.calls_to("chat.update")
    assert len(updates) == 1 and updates[0].args["channel"] == "D0ADA"
    assert buttons(updates[0].args) == []
    accepted = [c for c in slack.dms_to(RILEY) if ADA[1] in all_text(c.args)]
    assert len(accepted) == 1  # now that Ada said yes, Riley may see how to reach her
    pick = with_button(slack.dms_to(ADA), ids.ACTION_PICK_SLOT)

    # 6. Ada picks the first time: both get it in their own zone, with a calendar invite.
    slot = button(pick, ids.ACTION_PICK_SLOT)
    engagement_id = int(slot["value"].split(":")[0])
    assert slot["value"] == f"{engagement_id}:0"
    await slack.click(ADA, ids.ACTION_PICK_SLOT, slot["value"], message_ts=ts_of(pick))
    await slack.deliver()
    riley_confirmation = slack.dms_to(RILEY)[-1]
    ada_confirmation = slack.dms_to(ADA)[-1]
    assert "11:00" in all_text(riley_confirmation.args)  # 15:00 UTC in New York (EDT)
    assert "16:00" in all_text(ada_confirmation.args)  # and in Berlin (CET)
    uploads = slack.fake.calls_to("files.completeUploadExternal")
    assert {u.args["channel_id"] for u in uploads} == {"D0RILEY", "D0ADA"}
    assert all(b"BEGIN:VCALENDAR" in body for body in slack.fake.uploads)

    # 7. The day before, both are reminded, once however often the sweep runs.
    slack.clock.set(datetime(2026, 3, 9, 16, 0, tzinfo=UTC))
    for _ in range(3):
        await due_reminders(slack.bot.ctx)
    before = len(slack.fake.calls_to("chat.postMessage"))
    await slack.deliver()
    assert len(slack.fake.calls_to("chat.postMessage")) == before + 2

    # 8. After the call Riley is asked how it went and reports it in a modal.
    slack.clock.set(datetime(2026, 3, 10, 16, 0, tzinfo=UTC))
    await due_outcome_prompts(slack.bot.ctx)
    await slack.deliver()
    prompt = with_button(slack.dms_to(RILEY), ids.ACTION_RECORD_OUTCOME)
    await slack.click(RILEY, ids.ACTION_RECORD_OUTCOME,
                      button(prompt, ids.ACTION_RECORD_OUTCOME)["value"], message_ts=ts_of(prompt))
    await slack.settle()
    outcome_modal = slack.modals()[-1]
    assert outcome_modal["callback_id"] == ids.VIEW_OUTCOME
    assert outcome_modal["private_metadata"] == str(engagement_id)
    response = await slack.submit(
        RILEY, ids.VIEW_OUTCOME, values(outcome=select("completed"), helpfulness=select("5"),
                                        influenced_amount=text_input("120000")),
        private_metadata=str(engagement_id), view_id="V0OUTCOME")
    assert (response.status, response.text) == (200, "")
    await slack.deliver()

    # 9. Ada is thanked and leaves a comment.
    thanks = with_button(slack.dms_to(ADA), ids.ACTION_ADD_COMMENT)
    await slack.click(ADA, ids.ACTION_ADD_COMMENT, button(thanks, ids.ACTION_ADD_COMMENT)["value"],
                      message_ts=ts_of(thanks))
    await slack.settle()
    assert slack.modals()[-1]["callback_id"] == ids.VIEW_COMMENT
    response = await slack.submit(ADA, ids.VIEW_COMMENT,
                                  values(comment=text_input("Great questions from Globex!")),
                                  private_metadata=str(engagement_id), view_id="V0COMMENT")
    assert (response.status, response.text) == (200, "")
    await slack.settle()

    async with slack.bot.uow() as uow:
        request = await uow.requests.get(request_id)
        engagement = await uow.engagements.get(engagement_id)
        stored_ada = await uow.advocates.get(ada.id or 0)
        dead = await uow.outbox.dead_letters(since=datetime(2026, 1, 1, tzinfo=UTC))
    assert request is not None and request.state is RequestState.COMPLETED
    assert engagement is not None and engagement.state is EngagementState.COMPLETED
    assert engagement.helpfulness == 5 and engagement.influenced_amount == Decimal("120000")
    assert engagement.advocate_comment == "Great questions from Globex!"
    assert stored_ada is not None and stored_ada.points > 0
    assert dead == []
    # Who is who was asked once per person, however many messages and clicks there were
    # (Ada too: finding her by email to deliver the ask cannot tell whether she is a guest).
    assert sorted(c.args["user"] for c in slack.fake.calls_to("users.info")) == [
        ADA[0], RILEY[0]]
    assert slack.fake.calls_to("conversations.open") == []
    assert max(slack.ack_times) < 3.0



async def test_typed_text_never_pings_a_channel_or_hides_a_link_in_any_message(
        slack: Slack) -> None:
    """A prospect company typed as ``<!channel>`` and a Slack link: every message that
    names it, its notification text included, shows it escaped."""
    # An empty roster: nobody fits, so the program managers hear of it too.
    evil = "Evil <!channel> <https://evil.example|Click to verify>"
    state = {**intake_state(), **values(prospect_company=text_input(evil))}
    response = await slack.submit(RILEY, ids.VIEW_INTAKE, state)
    assert (response.status, response.text) == (200, "")
    await slack.deliver()
    posted = slack.fake.calls_to("chat.postMessage")
    assert {c.args["channel"] for c in posted} == {RILEY[0], PAT[0]}  # rep and manager
    for call in posted:
        text = str(call.args.get("text", ""))
        assert "<!channel>" not in text and "<https://evil" not in text, text
        assert "<!channel>" not in str(call.args.get("blocks", ""))
