"""The quarterly check-in answered in Slack: signed clicks and form submissions over HTTP,
the roster changed through the same rules as ``/advocate me``, the check-in updated in
place (``chat.update``) with no buttons left, repeats and strangers turned away politely."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from bot.domain.model import Advocate, AdvocateStatus, AuditEntry
from bot.services.checkins import send_check_ins
from handlers.slack import ids
from tests.fakes import NOT_YOURS
from tests.integration.slack.conftest import (
    ADA,
    SAM,
    Response,
    Slack,
    all_text,
    buttons,
    load_fixture,
    text_input,
    values,
)
from tests.slack_fake import Call

QUARTER_START = datetime(2026, 4, 1, 7, tzinfo=UTC)  # the Q2 check-ins go out
ANSWERED_AT = datetime(2026, 4, 2, 9, tzinfo=UTC)  # 2 April in Ada's Berlin


async def check_in(slack: Slack, **fields: Any) -> tuple[int, str]:
    """Ada on the roster, her Q2 check-in delivered to her DM; (her id, the message ts)."""
    slack.clock.set(QUARTER_START)
    ada = await slack.add_advocate(email=ADA[1], name=ADA[2], timezone=ADA[3], **fields)
    assert ada.id is not None
    assert await send_check_ins(slack.bot.ctx, QUARTER_START, "2026-Q2") == 1
    await slack.deliver()
    [posted] = slack.dms_to(ADA)
    assert posted.method == "chat.postMessage" and posted.answer is not None
    assert {b["action_id"] for b in buttons(posted.args)} == {
        ids.ACTION_CHECKIN_KEEP, ids.ACTION_CHECKIN_LIMITS, ids.ACTION_CHECKIN_LEAVE,
        ids.ACTION_CHECKIN_FEEDBACK}
    assert pause_menu(posted.args)["options"][1]["value"] == f"{ada.id}:3"
    slack.clock.set(ANSWERED_AT)
    return ada.id, str(posted.answer["ts"])


def pause_menu(message: dict[str, Any]) -> dict[str, Any]:
    [menu] = [e for b in message.get("blocks") or [] for e in b.get("elements") or []
              if isinstance(e, dict) and e.get("type") == "static_select"]
    return menu


async def choose(slack: Slack, user: tuple[str, ...], action_id: str, value: str, *,
                 message_ts: str) -> Response:
    """``user`` picks the option valued ``value`` from a menu in their DM."""
    payload = load_fixture("req_block_actions")
    payload["user"].update(id=user[0], username=user[1].split("@")[0])
    payload["container"]["message_ts"] = message_ts
    payload["message"]["ts"] = message_ts
    payload["response_url"] = slack.fake.response_url(f"choose{message_ts}{value}")
    payload["actions"] = [{
        "type": "static_select", "action_id": action_id, "block_id": "check_in",
        "selected_option": {"text": {"type": "plain_text", "text": value}, "value": value},
        "placeholder": {"type": "plain_text", "text": "Pause for…"},
        "action_ts": "1700000100.000300",
    }]
    return await slack.post_payload(payload)


async def roster(slack: Slack, advocate_id: int) -> Advocate:
    async with slack.bot.uow() as uow:
        advocate = await uow.advocates.get(advocate_id)
    assert advocate is not None
    return advocate


async def audit_of(slack: Slack, advocate_id: int, action: str) -> list[AuditEntry]:
    async with slack.bot.uow() as uow:
        entries = await uow.audit.list(subject=f"advocate:{advocate_id}")
    return [e for e in entries if e.action == action]


def updates(slack: Slack, ts: str) -> list[Call]:
    return [c for c in slack.fake.calls_to("chat.update")
            if c.args.get("channel") == "D" + ADA[0][1:] and c.args.get("ts") == ts]


def assert_answered(slack: Slack, ts: str, *words: str) -> None:
    """The check-in was updated in place exactly once: no buttons or menus, the answer."""
    [update] = updates(slack, ts)
    assert buttons(update.args) == []
    assert "static_select" not in str(update.args.get("blocks"))
    shown = all_text(update.args)
    for word in words:
        assert word in shown, (word, shown)


async def test_keep_me_active_ends_a_leave_once_however_often_it_is_clicked(
        slack: Slack) -> None:
    ada_id, ts = await check_in(slack, unavailable_until=date(2026, 5, 1))
    for _ in range(2):  # a double click
        response = await slack.click(ADA, ids.ACTION_CHECKIN_KEEP, str(ada_id), message_ts=ts,
                                     block_id="check_in")
        assert (response.status, response.text) == (200, "")
    await slack.deliver()
    advocate = await roster(slack, ada_id)
    assert (advocate.status, advocate.unavailable_until) == (AdvocateStatus.ACTIVE, None)
    assert [e.detail["choice"] for e in await audit_of(slack, ada_id, "checkin.answered")] == [
        "keep_active"]
    assert_answered(slack, ts, "stay active")
    assert slack.fake.responses == []  # nothing to apologise for


async def test_pausing_for_three_months_from_the_menu_puts_the_advocate_on_leave(
        slack: Slack) -> None:
    ada_id, ts = await check_in(slack)
    for _ in range(2):
        response = await choose(slack, ADA, ids.ACTION_CHECKIN_PAUSE, f"{ada_id}:3",
                                message_ts=ts)
        assert response.status == 200
    await slack.deliver()
    advocate = await roster(slack, ada_id)
    # 2 April in Berlin + 3 months, through the day before; a dated pause keeps the status.
    assert (advocate.status, advocate.unavailable_until) == (AdvocateStatus.ACTIVE,
                                                             date(2026, 7, 1))
    [entry] = await audit_of(slack, ada_id, "checkin.answered")
    assert (entry.detail["choice"], entry.detail["months"]) == ("pause", 3)
    assert_answered(slack, ts, "paused", "3 months", "Wed 01 Jul 2026")


async def test_a_forged_pause_length_changes_nothing_and_is_explained(slack: Slack) -> None:
    ada_id, ts = await check_in(slack)
    await choose(slack, ADA, ids.ACTION_CHECKIN_PAUSE, f"{ada_id}:2", message_ts=ts)
    await slack.deliver()
    assert (await roster(slack, ada_id)).unavailable_until is None
    assert updates(slack, ts) == []
    assert any("1, 3 or 6 months" in text for text in slack.ephemeral_texts())


async def test_changing_limits_opens_the_form_and_saving_answers_the_check_in(
        slack: Slack) -> None:
    ada_id, ts = await check_in(slack)
    await slack.click(ADA, ids.ACTION_CHECKIN_LIMITS, str(ada_id), message_ts=ts)
    await slack.settle()
    [modal] = slack.modals()
    assert (modal["callback_id"], modal["private_metadata"]) == (ids.VIEW_CHECKIN_LIMITS,
                                                                str(ada_id))

    looser = values(max_per_90_days={"type": "number_input", "value": "9"})
    response = await slack.submit(ADA, ids.VIEW_CHECKIN_LIMITS, looser,
                                  private_metadata=modal["private_metadata"], view_id="V0LOOSE")
    assert response.json()["response_action"] == "errors"
    assert "max_per_90_days" in response.json()["errors"]
    assert updates(slack, ts) == []

    stricter = values(max_per_90_days={"type": "number_input", "value": "1"},
                      cooldown_days={"type": "number_input", "value": "30"})
    response = await slack.submit(ADA, ids.VIEW_CHECKIN_LIMITS, stricter,
                                  private_metadata=modal["private_metadata"])
    assert (response.status, response.text) == (200, "")
    await slack.deliver()
    limits = (await roster(slack, ada_id)).own_limits
    assert (limits.max_per_90_days, limits.cooldown_days) == (1, 30)
    assert_answered(slack, ts, "limits are updated", "at most 1 in 90 days", "30 days apart")


async def test_leaving_retires_the_advocate_and_closes_the_check_in(slack: Slack) -> None:
    ada_id, ts = await check_in(slack)
    await slack.click(ADA, ids.ACTION_CHECKIN_LEAVE, str(ada_id), message_ts=ts)
    await slack.deliver()
    assert (await roster(slack, ada_id)).status is AdvocateStatus.RETIRED
    assert_answered(slack, ts, "left the reference program")


async def test_feedback_alone_is_recorded_and_the_check_in_stays_open(slack: Slack) -> None:
    ada_id, ts = await check_in(slack)
    await slack.click(ADA, ids.ACTION_CHECKIN_FEEDBACK, str(ada_id), message_ts=ts)
    await slack.settle()
    [modal] = slack.modals()
    assert modal["callback_id"] == ids.VIEW_CHECKIN_FEEDBACK

    response = await slack.submit(ADA, ids.VIEW_CHECKIN_FEEDBACK, values(feedback=text_input(
        "   ")), private_metadata=modal["private_metadata"], view_id="V0EMPTY")
    assert set(response.json()["errors"]) == {"feedback"}

    response = await slack.submit(ADA, ids.VIEW_CHECKIN_FEEDBACK, values(feedback=text_input(
        "More fintech calls, please & thanks")), private_metadata=modal["private_metadata"])
    assert (response.status, response.text) == (200, "")
    await slack.deliver()
    [entry] = await audit_of(slack, ada_id, "checkin.feedback")
    assert entry.detail["feedback"] == "More fintech calls, please & thanks"
    assert await audit_of(slack, ada_id, "checkin.answered") == []
    advocate = await roster(slack, ada_id)
    assert (advocate.status, advocate.unavailable_until) == (AdvocateStatus.ACTIVE, None)
    assert updates(slack, ts) == []  # the buttons are still there to answer with


async def test_someone_else_clicking_is_refused_politely_and_nothing_changes(
        slack: Slack) -> None:
    ada_id, ts = await check_in(slack)
    await slack.click(SAM, ids.ACTION_CHECKIN_LEAVE, str(ada_id), message_ts=ts)
    await choose(slack, SAM, ids.ACTION_CHECKIN_PAUSE, f"{ada_id}:6", message_ts=ts)
    await slack.deliver()
    advocate = await roster(slack, ada_id)
    assert (advocate.status, advocate.unavailable_until) == (AdvocateStatus.ACTIVE, None)
    assert await audit_of(slack, ada_id, "checkin.answered") == []
    assert updates(slack, ts) == []
    refusals = slack.ephemeral_texts()
    assert len(refusals) == 2
    assert all(text == NOT_YOURS for text in refusals)

    # Ada herself still can, afterwards.
    await slack.click(ADA, ids.ACTION_CHECKIN_KEEP, str(ada_id), message_ts=ts)
    await slack.deliver()
    assert_answered(slack, ts, "stay active")
