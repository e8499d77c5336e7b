"""Buttons (``block_actions``): acknowledged at once, then one conversation command.

``command_of`` reads a click into a command (pure; button values are parsed with
``ids.split_value``, which refuses anything malformed). A button that changes something
carries the click's key, so a double click, or the same click at two replicas, does it
once: the service claims the key in its own transaction. Buttons that open a form, and the
pause/resume toggles (no-ops when repeated, and rightly clicked again on the same App Home
after the other), need no key.

What the person then sees: a form opens as a modal; the ask, the approval, the scheduling
and check-in messages are updated in place by the service through the outbox; a profile
is redrawn where its button was (the App Home, or the ephemeral ``/advocate me``); a
refusal is told to the person who clicked.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext as BoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.conversation import commands as c
from bot.conversation.dispatcher import dispatch
from bot.conversation.replies import Reply
from bot.domain.model import Actor
from bot.services.checkins import CheckInChoice
from handlers.slack import forms, home, ids
from handlers.slack.blockkit import reply_text
from handlers.slack.idempotency import click_key
from handlers.slack.listeners import Ack, SlackDeps, publish_home, tell_text
from handlers.slack.listeners.commands import show_form

log = logging.getLogger(__name__)

# Replies that tell the clicking person something the outbox does not.
TOLD = frozenset({"refused", "invalid", "unreadable", "stale_button", "nobody_left",
                  "left_program", "language_chosen", "nomination_decision",
                  "invite_answered", "consent_confirmed"})


def _one(action: dict[str, Any]) -> int:
    return ids.split_value(str(action.get("value") or ""), 1)[0]


def _two(action: dict[str, Any]) -> tuple[int, int]:
    first, second = ids.split_value(str(action.get("value") or ""), 2)
    return first, second


def command_of(actor: Actor, action: dict[str, Any]) -> c.Command:
    """The command a click means; ``ValueError`` for a value the bot never wrote."""
    a = ids
    name = action.get("action_id")
    if name == a.ACTION_ASK_ADVOCATE:
        return c.AskAdvocate(actor, *_two(action))
    if name == a.ACTION_ASK_BEST:
        return c.AskAdvocate(actor, _one(action))
    if name == a.ACTION_CANCEL_REQUEST:
        return c.CancelRequest(actor, _one(action))
    if name in (a.ACTION_ASK_ACCEPT, a.ACTION_ASK_NOT_NOW):
        return c.AnswerAsk(actor, _one(action),
                           "accept" if name == a.ACTION_ASK_ACCEPT else "not_now")
    if name == a.ACTION_APPROVE:
        return c.DecideApproval(actor, _one(action), True)
    if name == a.ACTION_PICK_SLOT:
        engagement_id, slot = _two(action)
        return c.PickTime(actor, engagement_id, slot=slot)
    if name == a.ACTION_PROPOSE_SUGGESTED:
        engagement_id, moment = ids.split_moment(str(action.get("value") or ""))
        return c.PickTime(actor, engagement_id, proposed=moment)
    if name in (a.ACTION_CONFIRM_TIME, a.ACTION_REJECT_TIME):
        return c.ConfirmTime(actor, _one(action), name == a.ACTION_CONFIRM_TIME,
                             forms.parse_proposed_block_id(action.get("block_id")))
    if name == a.ACTION_RESCHEDULE:
        return c.Reschedule(actor, _one(action))
    if name == a.ACTION_HOME_NEW_REQUEST:
        return c.StartRequest(actor)
    if name == a.ACTION_HOME_RESUME:
        return c.ResumeProfile(actor, _one(action))
    if name == a.ACTION_PROFILE_LEAVE:
        return c.LeaveFromProfile(actor, _one(action))
    if name == a.ACTION_ROSTER_SHOW:
        return c.ShowProfile(actor, _one(action))
    if name in (a.ACTION_CHECKIN_KEEP, a.ACTION_CHECKIN_LEAVE):
        return c.AnswerCheckIn(actor, _one(action), CheckInChoice.KEEP_ACTIVE
                               if name == a.ACTION_CHECKIN_KEEP else CheckInChoice.LEAVE)
    if name == a.ACTION_CHOOSE_LANGUAGE:
        chosen = str((action.get("selected_option") or {}).get("value") or "")
        return c.ChooseLanguage(actor, chosen[:40])
    if name == a.ACTION_CHECKIN_PAUSE:
        chosen = str((action.get("selected_option") or {}).get("value") or "")
        advocate_id, months = forms.parse_pause_value(chosen)
        return c.AnswerCheckIn(actor, advocate_id, CheckInChoice.PAUSE, months=months)
    if name == a.ACTION_CONSENT_CONFIRM:
        return c.ConfirmConsent(actor, _one(action))
    if name == a.ACTION_NOMINATION_APPROVE:
        return c.DecideNomination(actor, _one(action), True)
    if name in (a.ACTION_INVITE_NOT_NOW, a.ACTION_INVITE_NO_THANKS):
        return c.AnswerInvite(actor, _one(action), "not_now"
                              if name == a.ACTION_INVITE_NOT_NOW else "no_thanks")
    form = OPENS_FORM[str(name)]
    return c.OpenForm(actor, form, _one(action))  # type: ignore[arg-type]


OPENS_FORM: dict[str, str] = {
    ids.ACTION_ASK_DECLINE: "decline_reason",
    ids.ACTION_DENY: "deny_reason",
    ids.ACTION_PROPOSE_TIME: "propose_time",
    ids.ACTION_RECORD_OUTCOME: "outcome",
    ids.ACTION_ADD_COMMENT: "comment",
    ids.ACTION_HOME_LIMITS: "own_limits",
    ids.ACTION_HOME_PAUSE: "pause",
    ids.ACTION_HOME_HOURS: "call_hours",
    ids.ACTION_CHECKIN_LIMITS: "check_in_limits",
    ids.ACTION_CHECKIN_FEEDBACK: "check_in_feedback",
    ids.ACTION_NOMINATION_DECLINE: "nomination_decline",
    ids.ACTION_INVITE_JOIN: "onboarding",
}
UNKEYED = frozenset({*OPENS_FORM, ids.ACTION_HOME_NEW_REQUEST,
                     ids.ACTION_HOME_RESUME, ids.ACTION_ROSTER_SHOW,
                     ids.ACTION_CHOOSE_LANGUAGE})
BUTTONS = (
    ids.ACTION_ASK_ADVOCATE, ids.ACTION_ASK_BEST, ids.ACTION_CANCEL_REQUEST,
    ids.ACTION_ASK_ACCEPT, ids.ACTION_ASK_NOT_NOW, ids.ACTION_APPROVE,
    ids.ACTION_PICK_SLOT, ids.ACTION_PROPOSE_SUGGESTED, ids.ACTION_CONFIRM_TIME,
    ids.ACTION_REJECT_TIME,
    ids.ACTION_RESCHEDULE, ids.ACTION_CHECKIN_KEEP, ids.ACTION_CHECKIN_PAUSE,
    ids.ACTION_CHECKIN_LEAVE, ids.ACTION_PROFILE_LEAVE, ids.ACTION_NOMINATION_APPROVE,
    ids.ACTION_INVITE_NOT_NOW, ids.ACTION_INVITE_NO_THANKS, ids.ACTION_CONSENT_CONFIRM,
    *UNKEYED,
)


def keyed(command: c.Command, body: dict[str, Any], action: dict[str, Any]) -> c.Command:
    if action.get("action_id") in UNKEYED:
        return command
    return replace(command, key=click_key(body, action))


def _from_home(body: dict[str, Any]) -> bool:
    return (body.get("view") or {}).get("type") == "home"


async def on_click(ack: Ack, body: dict[str, Any], action: dict[str, Any],
                   client: AsyncWebClient, respond: AsyncRespond | None,
                   context: BoltContext) -> None:
    """Every button: ack at once, read the click into a command, dispatch, show."""
    deps: SlackDeps = context["deps"]
    async with deps.reporting(ack, body, client, respond):
        await ack()
        opens = action.get("action_id") in OPENS_FORM or \
            action.get("action_id") == ids.ACTION_HOME_NEW_REQUEST
        async with deps.after_ack(urgent=opens):
            actor = await deps.actor(body)
            try:
                command = keyed(command_of(actor, action), body, action)
            except (ValueError, KeyError):
                log.info("a button value the bot never wrote: %r", action.get("value"))
                reply = Reply("stale_button")
            else:
                reply = await dispatch(deps.ctx, command)
            await show_click(deps, body, client, respond, actor, reply)


def register(app: AsyncApp) -> None:
    for action_id in BUTTONS:
        app.action(action_id)(on_click)


async def show_click(deps: SlackDeps, body: dict[str, Any], client: AsyncWebClient,
                     respond: AsyncRespond | None, actor: Actor, reply: Reply) -> None:
    renderer = deps.renderer_for(actor, reply)
    if reply.locale is not None:  # what they read in changed: redraw where they clicked
        actor = replace(actor, locale=reply.locale)
    if reply.form is not None:
        await show_form(body, client, reply, renderer)
    elif reply.template == "profile":
        if _from_home(body):
            await publish_home(deps, client, actor)
        elif respond is not None:
            message = home.profile_message(
                renderer, advocate=home.advocate_home(reply.context["profile"]),
                timezone=reply.context["timezone"])
            await respond(text=message["text"], blocks=message["blocks"],
                          response_type="ephemeral", replace_original=True)
    elif reply.template == "language_chosen" and _from_home(body):
        await publish_home(deps, client, actor)  # the whole page in the chosen language
    elif reply.template in TOLD:
        await tell_text(reply_text(renderer, reply), body, client, respond)
    elif _from_home(body):  # a request cancelled from the App Home: redraw it
        await publish_home(deps, client, actor)


__all__ = ["BUTTONS", "command_of", "on_click", "register", "show_click"]
