"""Modal submissions (``view_submission``): each form becomes one conversation command.

Every form is first checked against its spec (``formspec.check``: required fields,
numbers, lengths, bounds, choices), so a wrong field comes back inline before any
service runs. The intake form is then checked with ``validate_draft`` (pure, no I/O)
before the ack; matching and the rep's DM happen after. The small forms
whose rules need the database (an outcome for a call that has not happened yet, a time
after the request's deadline, limits that are not stricter) are dispatched inside
``answer_form``'s budget for the same reason. A submission is keyed by its view id, so a
form that Slack delivers twice is acted on once (the service claims the key).

The decline and denial reasons are acknowledged before their command runs (the ask and
approval messages are updated through the outbox). The check-in's two forms work the
same way as the small forms: "Change my limits" answers the check-in
(which replaces the check-in message), and the feedback box records the feedback alone.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext as BoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.conversation import commands as c
from bot.conversation.dispatcher import dispatch
from bot.conversation.formspec import FORMS, Sources, check
from bot.conversation.replies import Reply
from bot.domain.errors import InvalidInput, Problem
from bot.rendering import Renderer
from bot.services.checkins import CheckInChoice
from bot.services.intake import validate_draft
from handlers.slack import forms, ids, intake
from handlers.slack.blockkit import reply_text
from handlers.slack.listeners import Ack, SlackDeps, answer_form, publish_home, tell_text

log = logging.getLogger(__name__)

def submission_key(view: dict[str, Any]) -> str:
    return f"slack:submit:{view.get('callback_id')}:{view.get('id')}"


async def on_intake(ack: Ack, body: dict[str, Any], view: dict[str, Any],
                    client: AsyncWebClient, context: BoltContext) -> None:
    """The intake form: checked before the ack, filed after it."""
    deps: SlackDeps = context["deps"]
    async with deps.reporting(ack, body, client):
        actor = await deps.actor(body)  # the directory's copy: no Slack call per submit
        renderer = deps.renderer_for(actor)
        draft = intake.parse_intake(view)
        if not draft.timezone:
            draft = replace(draft, timezone=actor.person.timezone)
        values = forms.form_values(view, "intake")
        sources = Sources(timezone=str(draft.timezone or "UTC"), keep={
            "call_length_minutes": [str(values.get("call_length_minutes") or "")]})
        try:
            check(FORMS["intake"].fields(sources), values)
            validate_draft(draft, now=deps.ctx.now())
        except InvalidInput as error:
            await ack(response_action="errors",
                      errors=forms.form_errors(renderer, "intake", error))
            return
        await ack()
        async with deps.after_ack():
            reply = await dispatch(deps.ctx, c.SubmitIntake(actor, draft,
                                                            key=submission_key(view)))
            await _tell_refusal(renderer, body, client, reply)


async def on_reason(ack: Ack, body: dict[str, Any], view: dict[str, Any],
                    client: AsyncWebClient, context: BoltContext) -> None:
    """A decline's or a denial's optional reason: checked before the ack, acted on after
    (the ask and the approval messages are updated through the outbox)."""
    deps: SlackDeps = context["deps"]
    form, answer = REASON_FORMS[str(view.get("callback_id"))]
    async with deps.reporting(ack, body, client):
        actor = await deps.actor(body)
        renderer = deps.renderer_for(actor)
        try:
            check(FORMS[form].fields(), forms.form_values(view, form))
        except InvalidInput as error:
            await ack(response_action="errors",
                      errors=forms.form_errors(renderer, form, error))
            return
        await ack()
        async with deps.after_ack():
            ask_id = forms.metadata_id(view)
            if ask_id is None:
                await tell_text(reply_text(renderer, Reply("form_lost")), body, client, None)
                return
            command = replace(answer(actor, ask_id, forms.parse_reason(view)),
                              key=submission_key(view))
            reply = await dispatch(deps.ctx, command)
            await _tell_refusal(renderer, body, client, reply)


# callback id → (the form's spec, what its reason answers)
REASON_FORMS: dict[str, tuple[str, Callable[[Any, int, str], c.Command]]] = {
    ids.VIEW_DECLINE_REASON: ("decline_reason",
                              lambda actor, ask_id, why: c.AnswerAsk(actor, ask_id, "decline",
                                                                     why)),
    ids.VIEW_DENY_REASON: ("deny_reason",
                           lambda actor, ask_id, why: c.DecideApproval(actor, ask_id, False,
                                                                       why)),
    ids.VIEW_NOMINATION_DECLINE: ("nomination_decline",
                                  lambda actor, nomination_id, why: c.DecideNomination(
                                      actor, nomination_id, False, why)),
}


async def _tell_refusal(renderer: Renderer, body: dict[str, Any], client: AsyncWebClient,
                        reply: Reply) -> None:
    """After the ack a refusal can only be told, in the person's DM."""
    if reply.template in ("invalid", "refused"):
        await tell_text(reply_text(renderer, reply), body, client, None)


async def on_small_form(ack: Ack, body: dict[str, Any], view: dict[str, Any],
                        client: AsyncWebClient, context: BoltContext) -> None:
    """A form whose command is dispatched before its ack (see ``answer_form``)."""
    deps: SlackDeps = context["deps"]
    form, read = SMALL_FORMS[str(view.get("callback_id"))]
    async with deps.reporting(ack, body, client):
        actor = await deps.actor(body)
        errors_for = functools.partial(forms.form_errors, deps.renderer_for(actor), form)
        subject = forms.metadata_id(view)
        if subject is None:
            await ack(response_action="errors", errors=errors_for(
                InvalidInput({"": Problem("form_lost")})))
            return
        try:
            check(FORMS[form].fields(Sources(program=deps.ctx.policy.limits)),
                  forms.form_values(view, form))
        except InvalidInput as error:
            await ack(response_action="errors", errors=errors_for(error))
            return
        command = read(actor, subject, view)
        if command is None:
            await ack(response_action="errors", errors=errors_for(
                InvalidInput({"": Problem("form_incomplete")})))
            return
        if not isinstance(command, c.SetProfileLimits):  # limits may be set again and again
            command = replace(command, key=submission_key(view))
        reply = await answer_form(ack, deps, command, errors_for, body, client)
        if reply is not None and reply.template == "profile":
            await publish_home(deps, client, actor)


def _propose_time(actor: Any, engagement_id: int, view: dict[str, Any]) -> c.Command | None:
    proposed = forms.parse_propose_time(view)
    return None if proposed is None else c.PickTime(actor, engagement_id, proposed=proposed)


def _outcome(actor: Any, engagement_id: int, view: dict[str, Any]) -> c.Command | None:
    what, helpfulness, amount = forms.parse_outcome(view)
    if what is None:
        return None
    return c.RecordOutcome(actor, engagement_id, what, helpfulness=helpfulness,
                           influenced_amount=amount)


def _comment(actor: Any, engagement_id: int, view: dict[str, Any]) -> c.Command:
    return c.AddComment(actor, engagement_id, forms.parse_comment(view))


def _own_limits(actor: Any, advocate_id: int, view: dict[str, Any]) -> c.Command:
    return c.SetProfileLimits(actor, advocate_id, forms.parse_own_limits(view))


def _pause(actor: Any, advocate_id: int, view: dict[str, Any]) -> c.Command:
    until, reason = forms.parse_pause(view)
    return c.PauseProfile(actor, advocate_id, until, reason)


def _call_hours(actor: Any, advocate_id: int, view: dict[str, Any]) -> c.Command:
    return c.SetMyHours(actor, forms.parse_call_hours(view) or "default")


def _check_in_limits(actor: Any, advocate_id: int, view: dict[str, Any]) -> c.Command:
    return c.AnswerCheckIn(actor, advocate_id, CheckInChoice.CHANGE_LIMITS,
                           limits=forms.parse_own_limits(view))


def _check_in_feedback(actor: Any, advocate_id: int, view: dict[str, Any]) -> c.Command:
    return c.SendCheckInFeedback(actor, advocate_id, forms.parse_check_in_feedback(view))


# callback id → (the form's spec, what its submission becomes)
SMALL_FORMS: dict[str, tuple[str, Callable[..., c.Command | None]]] = {
    ids.VIEW_PROPOSE_TIME: ("propose_time", _propose_time),
    ids.VIEW_OUTCOME: ("outcome", _outcome),
    ids.VIEW_COMMENT: ("comment", _comment),
    ids.VIEW_OWN_LIMITS: ("own_limits", _own_limits),
    ids.VIEW_PAUSE: ("pause", _pause),
    ids.VIEW_CALL_HOURS: ("call_hours", _call_hours),
    ids.VIEW_CHECKIN_LIMITS: ("check_in_limits", _check_in_limits),
    ids.VIEW_CHECKIN_FEEDBACK: ("check_in_feedback", _check_in_feedback),
}


def register(app: AsyncApp) -> None:
    app.view(ids.VIEW_INTAKE)(on_intake)
    for callback_id in REASON_FORMS:
        app.view(callback_id)(on_reason)
    for callback_id in SMALL_FORMS:
        app.view(callback_id)(on_small_form)


__all__ = ["REASON_FORMS", "SMALL_FORMS", "on_intake", "on_reason", "on_small_form",
           "register", "submission_key"]
