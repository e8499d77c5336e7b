"""Handlers for what people do with buttons and forms: one service call each, and the
reply that the clicked message turns into.

Slack shows most of these replies by updating the message in place through the outbox
(the service queued that update), Teams by answering the click with the reply's card; a
refusal or a form's field errors come back the same way on both.
"""

from __future__ import annotations

from typing import Any

from bot.conversation import commands as c
from bot.conversation.replies import Reply, text_reply
from bot.conversation.views import profile_reply, zone_of
from bot.domain.model import AskState, Engagement, EngagementState
from bot.services import asks, checkins, outcomes, requests, scheduling
from bot.services.advocates import (
    advocate_profile,
    leave_program,
    pause_advocate,
    resume_advocate,
    set_manager_limits,
    set_own_limits,
)
from bot.services.context import ServiceContext
from bot.services.home import engagement_brief


async def submit_intake(ctx: ServiceContext, command: c.SubmitIntake) -> Reply:
    result = await requests.submit_request(ctx, command.actor, command.draft,
                                           choose=command.choose)
    request = result.request
    if not result.matches:
        return text_reply("nobody_fits", "attention", id=request.id)
    return text_reply("request_filed", "good", id=request.id,
                      prospect_company=request.prospect_company,
                      matches=len(result.matches), choose=command.choose)


async def ask(ctx: ServiceContext, command: c.AskAdvocate) -> Reply:
    asked = await asks.ask_advocate(ctx, command.actor, command.request_id,
                                    command.advocate_id)
    if asked is None:
        return text_reply("nobody_left", "attention")
    return text_reply("asked", "good",
                      awaiting_approval=asked.state is AskState.AWAITING_APPROVAL)


async def answer(ctx: ServiceContext, command: c.AnswerAsk) -> Reply:
    answered = await asks.answer_ask(ctx, command.actor, command.ask_id, command.answer,
                                     command.reason)
    tone = "good" if answered.state in (AskState.ACCEPTED, AskState.PENDING) else "default"
    return text_reply("ask_answered", tone, state=answered.state.value)


async def decide(ctx: ServiceContext, command: c.DecideApproval) -> Reply:
    decided = await asks.decide_approval(ctx, command.actor, command.ask_id, command.approve,
                                         command.reason)
    tone = "good" if decided.state in (AskState.ACCEPTED, AskState.PENDING) else "default"
    return text_reply("approval_decided", tone, state=decided.state.value)


def schedule_reply(ctx: ServiceContext, command: c.Command, engagement: Engagement) -> Reply:
    """Where the call stands, in the clicking person's own time zone."""
    moment = engagement.scheduled_at if engagement.state is EngagementState.SCHEDULED \
        else engagement.proposed_at
    booked = engagement.state in (EngagementState.SCHEDULED, EngagementState.PROPOSED)
    return text_reply("schedule_status", "good" if booked else "default",
                      state=engagement.state.value, at=moment if booked else None,
                      timezone=zone_of(ctx, command.actor),
                      awaiting_pick=scheduling.awaiting_pick(engagement))


async def pick(ctx: ServiceContext, command: c.PickTime) -> Reply:
    engagement = await scheduling.pick_time(ctx, command.actor, command.engagement_id,
                                            slot=command.slot, proposed=command.proposed)
    return schedule_reply(ctx, command, engagement)


async def confirm(ctx: ServiceContext, command: c.ConfirmTime) -> Reply:
    engagement = await scheduling.confirm_time(ctx, command.actor, command.engagement_id,
                                               command.accept, proposed=command.shown)
    return schedule_reply(ctx, command, engagement)


async def move(ctx: ServiceContext, command: c.Reschedule) -> Reply:
    engagement = await scheduling.reschedule(ctx, command.actor, command.engagement_id)
    return schedule_reply(ctx, command, engagement)


async def outcome(ctx: ServiceContext, command: c.RecordOutcome) -> Reply:
    engagement = await outcomes.record_outcome(
        ctx, command.actor, command.engagement_id, command.outcome,
        helpfulness=command.helpfulness, influenced_amount=command.influenced_amount)
    return text_reply("outcome_recorded", "good", state=engagement.state.value)


async def comment(ctx: ServiceContext, command: c.AddComment) -> Reply:
    await outcomes.add_comment(ctx, command.actor, command.engagement_id, command.text)
    return text_reply("comment_thanks", "good", comment=" ".join(command.text.split()))


async def check_in(ctx: ServiceContext, command: c.AnswerCheckIn) -> Reply:
    advocate = await checkins.answer_check_in(
        ctx, command.actor, command.advocate_id, command.choice, months=command.months,
        limits=command.limits, feedback=command.feedback)
    until = advocate.unavailable_until.isoformat() \
        if command.choice == "pause" and advocate.unavailable_until else ""
    return text_reply("check_in_answered", "good", choice=str(command.choice), until=until)


async def check_in_feedback(ctx: ServiceContext, command: c.SendCheckInFeedback) -> Reply:
    await checkins.record_check_in_feedback(ctx, command.actor, command.advocate_id,
                                            command.text)
    return text_reply("feedback_thanks", "good")


async def _profile(ctx: ServiceContext, command: c.Command, advocate_id: int) -> Reply:
    return profile_reply(ctx, command.actor,
                         await advocate_profile(ctx, command.actor, advocate_id))


async def show_profile(ctx: ServiceContext, command: c.ShowProfile) -> Reply:
    return await _profile(ctx, command, command.advocate_id)


async def pause_profile(ctx: ServiceContext, command: c.PauseProfile) -> Reply:
    await pause_advocate(ctx, command.actor, command.advocate_id, until=command.until,
                         reason=command.reason)
    return await _profile(ctx, command, command.advocate_id)


async def resume_profile(ctx: ServiceContext, command: c.ResumeProfile) -> Reply:
    await resume_advocate(ctx, command.actor, command.advocate_id)
    return await _profile(ctx, command, command.advocate_id)


async def limits_profile(ctx: ServiceContext, command: c.SetProfileLimits) -> Reply:
    if command.override:
        await set_manager_limits(ctx, command.actor, command.advocate_id, command.limits,
                                 reason=command.reason)
    else:
        await set_own_limits(ctx, command.actor, command.advocate_id, command.limits)
    return await _profile(ctx, command, command.advocate_id)


async def leave_profile(ctx: ServiceContext, command: c.LeaveFromProfile) -> Reply:
    result = await leave_program(ctx, command.actor, command.advocate_id)
    return text_reply("left_program", "good", withdrawn=len(result.withdrawn),
                      kept=len(result.kept))


async def open_form(ctx: ServiceContext, command: c.OpenForm) -> Reply:
    """What a form needs to be shown, checked against the person opening it."""
    context: dict[str, Any] = {"subject_id": command.subject_id}
    if command.form in ("propose_time", "outcome"):
        brief = await engagement_brief(
            ctx, command.actor, command.subject_id,
            as_="advocate" if command.form == "propose_time" else "rep")
        context.update(timezone=brief.advocate_timezone, latest=brief.latest_day,
                       advocate_name=brief.advocate_name)
    elif command.form in ("own_limits", "check_in_limits"):
        profile = await advocate_profile(ctx, command.actor, command.subject_id)
        context.update(current=profile.limits)
    return Reply(command.form, context, form=command.form)


HANDLERS: dict[type[c.Command], Any] = {
    c.SubmitIntake: submit_intake,
    c.AskAdvocate: ask,
    c.AnswerAsk: answer,
    c.DecideApproval: decide,
    c.PickTime: pick,
    c.ConfirmTime: confirm,
    c.Reschedule: move,
    c.RecordOutcome: outcome,
    c.AddComment: comment,
    c.AnswerCheckIn: check_in,
    c.SendCheckInFeedback: check_in_feedback,
    c.ShowProfile: show_profile,
    c.PauseProfile: pause_profile,
    c.ResumeProfile: resume_profile,
    c.SetProfileLimits: limits_profile,
    c.LeaveFromProfile: leave_profile,
    c.OpenForm: open_form,
}
