"""The branches of a request beyond the straight line: declines with a reason, approval by
the account owner, a time the advocate proposes, asks that expire, and the App Home."""

from __future__ import annotations

import asyncio
import json
import types
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.domain.errors import Problem
from bot.domain.model import AdvocateStatus, AskState, EngagementState, RequestState
from bot.services.asks import answer_ask, ask_advocate, expire_asks
from bot.services.requests import submit_request
from bot.services.scheduling import pick_time
from handlers.slack import ids, listeners
from handlers.slack.blockkit import slack_renderer
from tests.fakes import NOT_YOURS
from tests.integration.slack.conftest import (
    ADA,
    PAT,
    RILEY,
    SAM,
    Slack,
    all_text,
    buttons,
    date_input,
    moment_input,
    text_input,
    values,
)
from tests.unit.conftest import sample_draft

OLIVE = ("U0OLIVE", "olive.owner@vendor.example", "Olive Owner", "Europe/Paris")


async def request_with(slack: Slack, *advocates: dict[str, Any], ask: bool = True
                       ) -> tuple[int, list[int]]:
    """Riley's fintech request with these advocates on the roster (best first); the first
    one asked when ``ask``. Returns (request id, advocate ids)."""
    stored = [await slack.add_advocate(**fields) for fields in advocates]
    rep = await slack.actor(RILEY)
    submitted = await submit_request(slack.bot.ctx, rep, sample_draft())
    assert submitted.request.id is not None
    if ask:
        await ask_advocate(slack.bot.ctx, rep, submitted.request.id, stored[0].id)
    await slack.deliver()
    return submitted.request.id, [a.id or 0 for a in stored]


async def asks_of(slack: Slack, request_id: int) -> list[Any]:
    async with slack.bot.uow() as uow:
        return await uow.asks.list_for_request(request_id)


ADA_FIELDS = {"email": ADA[1], "name": ADA[2], "timezone": ADA[3], "health_score": 99}
SAM_FIELDS = {"email": SAM[1], "name": SAM[2], "timezone": SAM[3], "health_score": 60}


async def test_a_decline_with_a_reason_asks_the_next_advocate_and_tells_the_rep(
        slack: Slack) -> None:
    request_id, _ = await request_with(slack, ADA_FIELDS, SAM_FIELDS)
    [ask] = await asks_of(slack, request_id)
    ask_message = slack.dms_to(ADA)[-1]
    decline = [b for b in buttons(ask_message.args) if b["action_id"] == ids.ACTION_ASK_DECLINE]
    assert decline and decline[0]["value"] == str(ask.id)

    await slack.click(ADA, ids.ACTION_ASK_DECLINE, str(ask.id))
    await slack.settle()
    [modal] = slack.modals()
    assert modal["callback_id"] == ids.VIEW_DECLINE_REASON
    response = await slack.submit(ADA, ids.VIEW_DECLINE_REASON,
                                  values(reason=text_input("Busy with our own launch")),
                                  private_metadata=modal["private_metadata"])
    assert (response.status, response.text) == (200, "")
    await slack.deliver()

    first, second = await asks_of(slack, request_id)
    assert first.state is AskState.DECLINED and first.decline_reason == "Busy with our own launch"
    assert second.state is AskState.PENDING
    assert len(slack.dms_to(SAM)) == 1  # the next advocate got the ask
    told = all_text(slack.dms_to(RILEY)[-1].args) + all_text(slack.dms_to(RILEY)[-2].args)
    assert "Ada Advocate" in told and "Busy with our own launch" not in told


class TestApproval:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"require_approval": True}

    async def test_the_account_owner_approves_once_and_only_then_the_advocate_is_asked(
            self, slack: Slack) -> None:
        slack.fake.add_user(*OLIVE)
        request_id, _ = await request_with(slack, {**ADA_FIELDS,
                                                   "account_owner_email": OLIVE[1]})
        [ask] = await asks_of(slack, request_id)
        assert ask.state is AskState.AWAITING_APPROVAL
        assert slack.dms_to(ADA) == []
        [approval] = slack.dms_to(OLIVE)
        assert {ids.ACTION_APPROVE, ids.ACTION_DENY} <= {
            b["action_id"] for b in buttons(approval.args)}

        # Riley cannot approve for Olive; Olive's double click approves once.
        await slack.click(RILEY, ids.ACTION_APPROVE, str(ask.id))
        ts = str(approval.answer["ts"]) if approval.answer else ""
        for _ in range(2):
            await slack.click(OLIVE, ids.ACTION_APPROVE, str(ask.id), message_ts=ts)
        await slack.deliver()
        assert slack.fake.responses[0].args["text"] == NOT_YOURS
        [ask] = await asks_of(slack, request_id)
        assert ask.state is AskState.PENDING and ask.approved_by == OLIVE[1]
        assert len(slack.dms_to(ADA)) == 1
        [closed] = [c for c in slack.fake.calls_to("chat.update") if c.args["channel"] == "D0OLIVE"]
        assert buttons(closed.args) == []

    async def test_deny_asks_why_in_a_modal_and_keeps_the_reason_for_the_audit(
            self, slack: Slack) -> None:
        slack.fake.add_user(*OLIVE)
        request_id, _ = await request_with(slack, {**ADA_FIELDS,
                                                   "account_owner_email": OLIVE[1]})
        [ask] = await asks_of(slack, request_id)
        await slack.click(OLIVE, ids.ACTION_DENY, str(ask.id))
        await slack.settle()
        [modal] = slack.modals()
        assert (modal["callback_id"], modal["private_metadata"]) == (ids.VIEW_DENY_REASON,
                                                                     str(ask.id))
        too_long = values(reason=text_input("x" * 501))
        response = await slack.submit(OLIVE, ids.VIEW_DENY_REASON, too_long,
                                      private_metadata=modal["private_metadata"],
                                      view_id="V0LONG")
        assert set(response.json()["errors"]) == {"reason"}
        [ask] = await asks_of(slack, request_id)
        assert ask.state is AskState.AWAITING_APPROVAL  # nothing happened

        response = await slack.submit(OLIVE, ids.VIEW_DENY_REASON,
                                      values(reason=text_input("Renewal talks this month")),
                                      private_metadata=modal["private_metadata"])
        assert (response.status, response.text) == (200, "")
        await slack.deliver()
        [ask] = await asks_of(slack, request_id)
        assert ask.state is not AskState.AWAITING_APPROVAL
        assert ask.decline_reason == "Renewal talks this month"
        assert slack.dms_to(ADA) == []  # she was never asked


async def test_the_advocate_proposes_a_time_and_the_rep_confirms_it(slack: Slack) -> None:
    request_id, _ = await request_with(slack, ADA_FIELDS)
    [ask] = await asks_of(slack, request_id)
    await answer_ask(slack.bot.ctx, await slack.actor(ADA), ask.id or 0, "accept")
    await slack.deliver()
    async with slack.bot.uow() as uow:
        engagement = await uow.engagements.get_for_request(request_id)
    assert engagement is not None and engagement.id is not None

    await slack.click(ADA, ids.ACTION_PROPOSE_TIME, str(engagement.id))
    await slack.settle()
    [modal] = slack.modals()
    assert modal["callback_id"] == ids.VIEW_PROPOSE_TIME

    # After the needed-by date: refused inline, on the picker.
    late = datetime(2026, 3, 25, 15, 0, tzinfo=UTC)
    response = await slack.submit(ADA, ids.VIEW_PROPOSE_TIME,
                                  values(proposed_time=moment_input(late)),
                                  private_metadata=str(engagement.id))
    assert response.json()["response_action"] == "errors"
    assert "needed by" in response.json()["errors"]["proposed_time"]

    fine = datetime(2026, 3, 12, 14, 0, tzinfo=UTC)
    response = await slack.submit(ADA, ids.VIEW_PROPOSE_TIME,
                                  values(proposed_time=moment_input(fine)),
                                  private_metadata=str(engagement.id))
    assert (response.status, response.text) == (200, "")
    await slack.deliver()
    proposal = slack.dms_to(RILEY)[-1]
    confirm = [b for b in buttons(proposal.args) if b["action_id"] == ids.ACTION_CONFIRM_TIME]
    assert confirm, [b["action_id"] for b in buttons(proposal.args)]
    await slack.click(RILEY, ids.ACTION_CONFIRM_TIME, confirm[0]["value"],
                      block_id=confirm[0]["block_id"])
    await slack.deliver()
    async with slack.bot.uow() as uow:
        booked = await uow.engagements.get(engagement.id)
    assert booked is not None and booked.state is EngagementState.SCHEDULED
    assert booked.scheduled_at == fine


async def test_expired_asks_cascade_then_the_rep_and_manager_hear_it_ran_out(
        slack: Slack) -> None:
    request_id, _ = await request_with(slack, ADA_FIELDS, SAM_FIELDS)
    riley_before, pat_before = len(slack.dms_to(RILEY)), len(slack.dms_to(PAT))

    slack.clock.advance(hours=49)
    assert await expire_asks(slack.bot.ctx) == 1
    await slack.deliver()
    first, second = await asks_of(slack, request_id)
    assert first.state is AskState.EXPIRED and second.state is AskState.PENDING
    assert len(slack.dms_to(SAM)) == 1
    assert len(slack.dms_to(RILEY)) > riley_before  # told Ada did not answer in time
    assert [c.method for c in slack.fake.calls_to("chat.update")
            if c.args["channel"] == "D0ADA"] == ["chat.update"]  # her buttons are gone

    slack.clock.advance(hours=49)
    assert await expire_asks(slack.bot.ctx) == 1
    await slack.deliver()
    async with slack.bot.uow() as uow:
        request = await uow.requests.get(request_id)
    assert request is not None and request.state is RequestState.UNFULFILLED
    # Riley heard of each expiry, of Sam being asked, and that nobody is left.
    assert len(slack.dms_to(RILEY)) == riley_before + 4
    assert len(slack.dms_to(PAT)) == pat_before + 1  # the program manager hears of it


async def test_the_app_home_shows_each_person_their_own_part(slack: Slack) -> None:
    ada_id = (await slack.add_advocate(**ADA_FIELDS)).id
    await slack.open_home(RILEY, "Ev1")
    await slack.open_home(ADA, "Ev2")
    await slack.open_home(PAT, "Ev3")
    await slack.settle()
    [riley], [ada], [pat] = slack.homes(RILEY), slack.homes(ADA), slack.homes(PAT)
    assert riley["type"] == "home"
    assert ids.ACTION_HOME_NEW_REQUEST in str(riley["blocks"])
    assert ids.ACTION_HOME_PAUSE not in str(riley["blocks"])
    assert ids.ACTION_HOME_PAUSE in str(ada["blocks"]) and f"'{ada_id}'" in str(ada["blocks"])
    assert "Active advocates" in all_text(pat)
    assert "Active advocates" not in all_text(riley) + all_text(ada)


async def test_pausing_from_the_app_home_redraws_it(slack: Slack) -> None:
    ada = await slack.add_advocate(**ADA_FIELDS)
    await slack.click(ADA, ids.ACTION_HOME_PAUSE, str(ada.id), home=True)
    await slack.settle()
    [modal] = slack.modals()  # until when and why, both optional: the same form as Teams'
    assert modal["callback_id"] == ids.VIEW_PAUSE
    assert [b["block_id"] for b in modal["blocks"] if b["type"] == "input"] == [
        "until", "reason"]
    past = values(until=date_input("2026-01-01"))
    response = await slack.submit(ADA, ids.VIEW_PAUSE, past, private_metadata=str(ada.id))
    assert response.json()["response_action"] == "errors"  # refused on its field
    assert list(response.json()["errors"]) == ["until"]
    response = await slack.submit(ADA, ids.VIEW_PAUSE, values(), private_metadata=str(ada.id),
                                  view_id="V0PAUSE")
    assert (response.status, response.text) == (200, "")
    await slack.settle()
    async with slack.bot.uow() as uow:
        stored = await uow.advocates.get(ada.id or 0)
    assert stored is not None and stored.status is AdvocateStatus.PAUSED
    [home] = slack.homes(ADA)
    assert ids.ACTION_HOME_RESUME in str(home["blocks"])
    await slack.click(ADA, ids.ACTION_HOME_RESUME, str(ada.id), home=True)
    await slack.settle()
    assert ids.ACTION_HOME_PAUSE in str(slack.homes(ADA)[-1]["blocks"])
    # Pausing someone else from a forged home button is refused, in a DM (no response_url),
    # and so is a forged submission of the form.
    await slack.click(SAM, ids.ACTION_HOME_PAUSE, str(ada.id), home=True)
    await slack.settle()
    [refusal] = [c for c in slack.fake.calls_to("chat.postMessage")
                 if c.args["channel"] == SAM[0]]
    assert refusal.args["text"] == NOT_YOURS
    response = await slack.submit(SAM, ids.VIEW_PAUSE, values(), private_metadata=str(ada.id),
                                  view_id="V0FORGED")
    assert NOT_YOURS in json.dumps(response.json())
    async with slack.bot.uow() as uow:
        stored = await uow.advocates.get(ada.id or 0)
    assert stored is not None and stored.status is AdvocateStatus.ACTIVE


async def test_own_limits_can_only_be_stricter_and_errors_come_back_inline(
        slack: Slack) -> None:
    ada = await slack.add_advocate(**ADA_FIELDS)
    looser = values(max_per_90_days={"type": "number_input", "value": "9"})
    response = await slack.submit(ADA, ids.VIEW_OWN_LIMITS, looser,
                                  private_metadata=str(ada.id))
    assert response.json()["response_action"] == "errors"
    # the spec's words, the same Teams shows (tests/integration/teams/test_handler.py)
    high = slack.bot.ctx.policy.limits.max_per_90_days
    assert response.json()["errors"]["max_per_90_days"] == slack_renderer().problem_text(
        Problem("field_out_of_range", low=0, high=high))
    stricter = values(max_per_90_days={"type": "number_input", "value": "1"})
    response = await slack.submit(ADA, ids.VIEW_OWN_LIMITS, stricter,
                                  private_metadata=str(ada.id))
    assert (response.status, response.text) == (200, "")
    await slack.settle()
    async with slack.bot.uow() as uow:
        stored = await uow.advocates.get(ada.id or 0)
    assert stored is not None and stored.own_limits.max_per_90_days == 1
    assert len(slack.homes(ADA)) == 1  # the home shows the new limits


async def test_a_refusal_after_a_late_ack_is_told_in_a_dm_in_its_own_words(
        slack: Slack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the ack budget the modal closes first; the refusal then arrives in the
    person's DM, worded by its template (not shown inline, not raised)."""
    request_id, _ = await request_with(slack, ADA_FIELDS)
    [ask] = await asks_of(slack, request_id)
    await answer_ask(slack.bot.ctx, await slack.actor(ADA), ask.id or 0, "accept")
    async with slack.bot.uow() as uow:
        engagement = await uow.engagements.get_for_request(request_id)
    assert engagement is not None

    async def too_slow(tasks: set[Any], **_: Any) -> tuple[set[Any], set[Any]]:
        return set(), tasks  # as if the service outlasted Slack's 3 seconds

    slow = types.SimpleNamespace(**{name: getattr(asyncio, name) for name in dir(asyncio)
                                    if not name.startswith("_")})
    slow.wait = too_slow
    monkeypatch.setattr(listeners, "asyncio", slow)  # this module's asyncio only
    early = values(comment=text_input("Lovely people."))  # the call has not happened yet
    before = len(slack.fake.calls_to("chat.postMessage"))
    response = await slack.submit(ADA, ids.VIEW_COMMENT, early,
                                  private_metadata=str(engagement.id))
    assert (response.status, response.text) == (200, "")
    await slack.settle()
    told = [c.args["text"] for c in slack.fake.calls_to("chat.postMessage")[before:]
            if c.args["channel"] == ADA[0]]
    assert told == ["You can comment once the call has taken place."]


async def test_an_outcome_before_the_call_is_refused_inline(slack: Slack) -> None:
    request_id, _ = await request_with(slack, ADA_FIELDS)
    [ask] = await asks_of(slack, request_id)
    ada = await slack.actor(ADA)
    await answer_ask(slack.bot.ctx, ada, ask.id or 0, "accept")
    async with slack.bot.uow() as uow:
        engagement = await uow.engagements.get_for_request(request_id)
    assert engagement is not None
    await pick_time(slack.bot.ctx, ada, engagement.id or 0, slot=0)
    response = await slack.submit(
        RILEY, ids.VIEW_OUTCOME,
        values(outcome={"type": "radio_buttons", "selected_option": {"value": "completed"}},
               helpfulness={"type": "static_select", "selected_option": {"value": "4"}}),
        private_metadata=str(engagement.id))
    assert response.json()["response_action"] == "errors"
    assert "once it has taken place" in " ".join(response.json()["errors"].values())
