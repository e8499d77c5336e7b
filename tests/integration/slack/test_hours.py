"""Working hours over HTTP on Slack (issue 15): a rep in New York and an advocate in Tokyo.

The advocate is never offered a time outside her hours: the rep's 10:00 is her midnight,
so she is offered three times inside both people's hours, as buttons; the one she clicks
is proposed, the rep confirms it and the call books inside both windows. A call reminder
goes out at once, whatever the hour; a check-in queued at 09:00 UTC reaches her at 09:00
in Tokyo and a New York advocate at 09:00 in New York.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.hours import WorkingHours, fits
from bot.domain.model import EngagementState
from bot.services.checkins import send_check_ins
from bot.services.reminders import due_reminders
from handlers.slack import ids
from tests.integration.slack.conftest import (
    RILEY,
    START,
    Response,
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
from tests.integration.slack.test_end_to_end import button, ts_of, with_button

AIKO = ("U0AIKO", "aiko@kumo.example", "Aiko Tanaka", "Asia/Tokyo")
NORA = ("U0NORA", "nora@empire.example", "Nora Park", "America/New_York")
TEN_IN_NEW_YORK = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)  # midnight in Tokyo
NINE_IN_NEW_YORK = datetime(2026, 3, 4, 14, 0, tzinfo=UTC)  # 23:00 in Tokyo
HERS = WorkingHours.parse("Mon-Fri 07:00-18:00", zone="Asia/Tokyo")
RILEYS = WorkingHours.parse("Mon-Fri 09:00-18:00", zone="America/New_York")  # the default
CALL = timedelta(minutes=30)


def intake() -> dict:
    return values(
        prospect_company=text_input("Globex Bank"), reference_type=select("call"),
        needed_by=date_input("2026-03-20"), proposed_time_1=moment_input(TEN_IN_NEW_YORK),
        proposed_time_2=moment_input(NINE_IN_NEW_YORK), timezone=select("America/New_York"),
        call_length_minutes=select("30"), industry=select("Fintech"), region=select("EMEA"),
        products=multi("Payments API"), use_cases=multi("Checkout"))


async def test_a_new_york_rep_and_a_tokyo_advocate_meet_inside_both_their_hours(
        slack: Slack) -> None:
    for user in (AIKO, NORA):
        slack.fake.add_user(*user)
    aiko = await slack.add_advocate(email=AIKO[1], name=AIKO[2], company="Kumo KK",
                                    timezone=AIKO[3])
    await slack.add_advocate(email=NORA[1], name=NORA[2], company="Empire Inc",
                                    timezone=NORA[3], industry="Retail")

    # 1. Aiko says when she takes calls, in words.
    response = await slack.command(AIKO, ids.COMMAND_ADVOCATE, "hours Mon-Fri 7am-6pm")
    assert response.status == 200
    await slack.settle()
    async with slack.bot.uow() as uow:
        stored = await uow.advocates.get(aiko.id or 0)
    assert stored is not None and stored.call_hours == "Mon-Fri 07:00-18:00"

    # 2. Riley's form comes with times already in it: his next three working mornings.
    await slack.command(RILEY, ids.COMMAND_REFERENCE)
    await slack.settle()
    pickers = [b["element"].get("initial_date_time") for b in slack.modals()[-1]["blocks"]
               if b["type"] == "input" and b["element"]["type"] == "datetimepicker"]
    assert pickers == [int(datetime(2026, 3, day, 14, 0, tzinfo=UTC).timestamp())
                       for day in (3, 4, 5)]  # 09:00 in New York, Tuesday to Thursday

    # 3. He proposes his own times; the matches say what they are for Aiko.
    response = await slack.submit(RILEY, ids.VIEW_INTAKE, intake())
    assert (response.status, response.text) == (200, "")
    await slack.deliver()
    matches = slack.dms_to(RILEY)[-1]
    shown = all_text(matches.args)
    assert ("Tue 03 Mar, 10:00 your time = Wed 04 Mar, 00:00 for Aiko Tanaka, "
            "outside their call hours") in shown
    ask = next(b for b in buttons(matches.args) if b["action_id"] == ids.ACTION_ASK_ADVOCATE
               and b["value"].endswith(f":{aiko.id}"))
    await slack.click(RILEY, ids.ACTION_ASK_ADVOCATE, ask["value"], message_ts=ts_of(matches))
    await slack.deliver()

    # 4. Aiko accepts: none of Riley's times is offered, three suggestions are.
    asked = with_button(slack.dms_to(AIKO), ids.ACTION_ASK_ACCEPT)
    await slack.click(AIKO, ids.ACTION_ASK_ACCEPT, button(asked, ids.ACTION_ASK_ACCEPT)["value"],
                      message_ts=ts_of(asked))
    await slack.deliver()
    pick = with_button(slack.dms_to(AIKO), ids.ACTION_PROPOSE_SUGGESTED)
    offered = [b["action_id"] for b in buttons(pick.args)]
    assert ids.ACTION_PICK_SLOT not in offered
    suggestions = [ids.split_moment(b["value"]) for b in buttons(pick.args)
                   if b["action_id"] == ids.ACTION_PROPOSE_SUGGESTED]
    assert len(suggestions) == 3
    assert all(fits(HERS, at, CALL) and fits(RILEYS, at, CALL) for _, at in suggestions)
    engagement_id, first = suggestions[0]
    assert first == datetime(2026, 3, 2, 22, 0, tzinfo=UTC)  # 17:00 his Monday, 07:00 her Tuesday

    # 5. A forged click on Riley's midnight time is refused; nothing is booked.
    await slack.click(AIKO, ids.ACTION_PICK_SLOT, f"{engagement_id}:0", message_ts=ts_of(pick))
    await slack.deliver()
    assert any("outside your call hours" in text for text in slack.ephemeral_texts())

    # 6. She clicks the first suggestion: it is proposed, Riley confirms, the call books.
    chosen = next(b for b in buttons(pick.args) if b["action_id"] == ids.ACTION_PROPOSE_SUGGESTED)
    await slack.click(AIKO, ids.ACTION_PROPOSE_SUGGESTED, chosen["value"], message_ts=ts_of(pick))
    await slack.deliver()
    proposal = with_button(slack.dms_to(RILEY), ids.ACTION_CONFIRM_TIME)
    confirm = button(proposal, ids.ACTION_CONFIRM_TIME)
    block = next(b["block_id"] for b in proposal.args["blocks"] if b.get("type") == "actions"
                 and any(e.get("action_id") == ids.ACTION_CONFIRM_TIME for e in b["elements"]))
    await slack.click(RILEY, ids.ACTION_CONFIRM_TIME, confirm["value"], block_id=block,
                      message_ts=ts_of(proposal))
    await slack.deliver()
    async with slack.bot.uow() as uow:
        engagement = await uow.engagements.get(engagement_id)
    assert engagement is not None and engagement.state is EngagementState.SCHEDULED
    assert engagement.scheduled_at == first
    assert "07:00" in all_text(slack.dms_to(AIKO)[-1].args)  # her confirmation, her time

    # 7. The reminder goes now, though it is 04:00 for Riley and 18:00 for Aiko.
    before = {who: len(slack.dms_to(who)) for who in (RILEY, AIKO)}
    assert await due_reminders(slack.bot.ctx) == 2
    await slack.deliver()
    assert {who: len(slack.dms_to(who)) for who in (RILEY, AIKO)} == {
        who: count + 1 for who, count in before.items()}

    # 8. The check-in queued at 09:00 UTC: 09:00 in New York for Nora, 09:00 in Tokyo
    #    the next day for Aiko (it is already evening there).
    assert slack.clock.now() == START  # 09:00 UTC, Monday
    assert await send_check_ins(slack.bot.ctx, START, "2026-Q1", START.date()) == 2
    counts = {who: len(slack.dms_to(who)) for who in (AIKO, NORA)}
    await slack.deliver()
    assert {who: len(slack.dms_to(who)) for who in (AIKO, NORA)} == counts
    slack.clock.set(datetime(2026, 3, 2, 14, 0, tzinfo=UTC))  # 09:00 EST
    await slack.deliver()
    assert (len(slack.dms_to(NORA)), len(slack.dms_to(AIKO))) == (counts[NORA] + 1, counts[AIKO])
    slack.clock.set(datetime(2026, 3, 3, 0, 0, tzinfo=UTC))  # 09:00 JST, Tuesday
    await slack.deliver()
    assert len(slack.dms_to(AIKO)) == counts[AIKO] + 1


async def test_an_advocate_changes_her_call_hours_from_her_app_home(slack: Slack) -> None:
    slack.fake.add_user(*AIKO)
    aiko = await slack.add_advocate(email=AIKO[1], name=AIKO[2], timezone=AIKO[3],
                                    call_hours="Mon-Fri 07:00-18:00")
    await slack.open_home(AIKO, "EvHours")
    await slack.settle()
    home = slack.homes(AIKO)[-1]
    assert "Mon-Fri 07:00-18:00" in all_text(home)
    change = next(b for b in buttons(home) if b["action_id"] == ids.ACTION_HOME_HOURS)
    await slack.click(AIKO, ids.ACTION_HOME_HOURS, change["value"], home=True)
    await slack.settle()
    modal = slack.modals()[-1]
    assert modal["callback_id"] == ids.VIEW_CALL_HOURS
    (field,) = [b for b in modal["blocks"] if b["type"] == "input"]
    assert field["element"]["initial_value"] == "Mon-Fri 07:00-18:00"

    async def submit(text: str) -> Response:
        return await slack.submit(AIKO, ids.VIEW_CALL_HOURS,
                                  values(hours=text_input(text)),
                                  private_metadata=modal["private_metadata"],
                                  view_id=f"V0HOURS{len(text)}")

    async def stored() -> str:
        async with slack.bot.uow() as uow:
            found = await uow.advocates.get(aiko.id or 0)
        assert found is not None
        return found.call_hours

    refused = await submit("whenever")  # unreadable: said on the field, nothing changes
    assert refused.json()["response_action"] == "errors" and "hours" in refused.json()["errors"]
    assert await stored() == "Mon-Fri 07:00-18:00"
    assert (await submit("weekdays 8am-5pm")).status == 200
    await slack.settle()
    assert await stored() == "Mon-Fri 08:00-17:00"
    assert "Mon-Fri 08:00-17:00" in all_text(slack.homes(AIKO)[-1])  # the home redrawn
    await submit("")  # empty: back to the program's hours
    await slack.settle()
    assert await stored() == ""
