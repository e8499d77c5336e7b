"""Buttons (``block_actions``): acknowledged at once, then one service call.

A button that changes something runs under ``Once`` with the click's key, so a double
click does it once; the service's messages (the ask updated in place with its buttons
gone, the rep told) follow through the outbox. A button that opens a modal does not need
that: opening a form twice changes nothing, and the form's submission is what counts.
Neither do pause/resume, which are no-ops when repeated and may rightly be clicked again
on the same App Home after the other.
The quarterly check-in's answers (keep, pause for 1/3/6 months from its menu, leave) are
keyed clicks like the ask's; the service then replaces the check-in in place with the
answer, so its buttons are gone. "Change my limits" and "Share feedback" open forms.
Button values are parsed with ``ids.split_value``, which refuses anything malformed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.conversation.commands import StartRequest
from bot.conversation.dispatcher import dispatch
from bot.domain.model import Actor
from bot.services.advocates import advocate_profile, pause_advocate, resume_advocate
from bot.services.asks import answer_ask, ask_advocate, decide_approval
from bot.services.checkins import CheckInChoice, answer_check_in
from bot.services.home import engagement_brief
from bot.services.requests import cancel_request
from bot.services.scheduling import confirm_time, pick_time, reschedule
from handlers.slack import forms, ids
from handlers.slack.idempotency import click_key
from handlers.slack.listeners import Ack, SlackDeps, publish_home
from handlers.slack.listeners.commands import show

log = logging.getLogger(__name__)

Work = Callable[[Actor, dict[str, Any], dict[str, Any], AsyncWebClient, AsyncRespond | None],
                Awaitable[None]]


def _one(value: str) -> int:
    return ids.split_value(value, 1)[0]


def _from_home(body: dict[str, Any]) -> bool:
    return (body.get("view") or {}).get("type") == "home"


def register(app: AsyncApp, deps: SlackDeps) -> None:
    ctx = deps.ctx

    def once(action_id: str, work: Work) -> None:
        """A button whose work must happen once per click of that button."""

        async def listener(ack: Ack, body: dict[str, Any], action: dict[str, Any],
                           client: AsyncWebClient, respond: AsyncRespond | None) -> None:
            async with deps.reporting(ack, body, client, respond):
                await ack()
                async with deps.after_ack():
                    actor = await deps.actor(body)
                    await deps.once.run(click_key(body, action),
                                        lambda: work(actor, action, body, client, respond))

        listener.__name__ = f"on_{action_id}"
        app.action(action_id)(listener)

    def plain(action_id: str, work: Work, *, opens_modal: bool = True) -> None:
        """A button that opens a modal (``trigger_id`` is good for 3 seconds), or a toggle
        whose service is a no-op when repeated (pause/resume). A toggle must not be keyed
        by its click: pause, resume, pause again on the same App Home is three changes."""

        async def listener(ack: Ack, body: dict[str, Any], action: dict[str, Any],
                           client: AsyncWebClient, respond: AsyncRespond | None) -> None:
            async with deps.reporting(ack, body, client, respond):
                await ack()
                async with deps.after_ack(urgent=opens_modal):
                    actor = await deps.actor(body)
                    await work(actor, action, body, client, respond)

        listener.__name__ = f"on_{action_id}"
        app.action(action_id)(listener)

    # --- the rep's matches ------------------------------------------------------------

    async def ask_this(actor: Actor, action: dict[str, Any], *_: Any) -> None:
        request_id, advocate_id = ids.split_value(action["value"], 2)
        await ask_advocate(ctx, actor, request_id, advocate_id)

    async def ask_best(actor: Actor, action: dict[str, Any], *_: Any) -> None:
        await ask_advocate(ctx, actor, _one(action["value"]), None)

    async def cancel(actor: Actor, action: dict[str, Any], body: dict[str, Any],
                     client: AsyncWebClient, _respond: Any) -> None:
        await cancel_request(ctx, actor, _one(action["value"]))
        if _from_home(body):
            await publish_home(deps, client, actor)

    once(ids.ACTION_ASK_ADVOCATE, ask_this)
    once(ids.ACTION_ASK_BEST, ask_best)
    once(ids.ACTION_CANCEL_REQUEST, cancel)

    # --- the advocate's ask -----------------------------------------------------------

    async def accept(actor: Actor, action: dict[str, Any], *_: Any) -> None:
        await answer_ask(ctx, actor, _one(action["value"]), "accept")

    async def not_now(actor: Actor, action: dict[str, Any], *_: Any) -> None:
        await answer_ask(ctx, actor, _one(action["value"]), "not_now")

    async def decline(_actor: Actor, action: dict[str, Any], body: dict[str, Any],
                      client: AsyncWebClient, _respond: Any) -> None:
        view = forms.decline_reason_view(deps.renderer, ask_id=_one(action["value"]))
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    once(ids.ACTION_ASK_ACCEPT, accept)
    once(ids.ACTION_ASK_NOT_NOW, not_now)
    plain(ids.ACTION_ASK_DECLINE, decline)

    # --- the account owner's approval -------------------------------------------------

    async def approve(actor: Actor, action: dict[str, Any], *_: Any) -> None:
        await decide_approval(ctx, actor, _one(action["value"]), True)

    async def deny(actor: Actor, action: dict[str, Any], *_: Any) -> None:
        await decide_approval(ctx, actor, _one(action["value"]), False)

    once(ids.ACTION_APPROVE, approve)
    once(ids.ACTION_DENY, deny)

    # --- scheduling -------------------------------------------------------------------

    async def pick_slot(actor: Actor, action: dict[str, Any], *_: Any) -> None:
        engagement_id, slot = ids.split_value(action["value"], 2)
        await pick_time(ctx, actor, engagement_id, slot=slot)

    async def propose(actor: Actor, action: dict[str, Any], body: dict[str, Any],
                      client: AsyncWebClient, _respond: Any) -> None:
        brief = await engagement_brief(ctx, actor, _one(action["value"]), as_="advocate")
        view = forms.propose_time_view(deps.renderer, engagement_id=brief.engagement_id,
                                       timezone=brief.advocate_timezone,
                                       latest=brief.latest_day)
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    async def confirm(actor: Actor, action: dict[str, Any], *_: Any) -> None:
        shown = forms.parse_proposed_block_id(action.get("block_id"))
        await confirm_time(ctx, actor, _one(action["value"]), True, proposed=shown)

    async def reject(actor: Actor, action: dict[str, Any], *_: Any) -> None:
        shown = forms.parse_proposed_block_id(action.get("block_id"))
        await confirm_time(ctx, actor, _one(action["value"]), False, proposed=shown)

    async def move(actor: Actor, action: dict[str, Any], *_: Any) -> None:
        await reschedule(ctx, actor, _one(action["value"]))

    once(ids.ACTION_PICK_SLOT, pick_slot)
    plain(ids.ACTION_PROPOSE_TIME, propose)
    once(ids.ACTION_CONFIRM_TIME, confirm)
    once(ids.ACTION_REJECT_TIME, reject)
    once(ids.ACTION_RESCHEDULE, move)

    # --- after the call ---------------------------------------------------------------

    async def outcome(actor: Actor, action: dict[str, Any], body: dict[str, Any],
                      client: AsyncWebClient, _respond: Any) -> None:
        brief = await engagement_brief(ctx, actor, _one(action["value"]), as_="rep")
        view = forms.outcome_view(deps.renderer, engagement_id=brief.engagement_id,
                                  advocate_name=brief.advocate_name)
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    async def comment(_actor: Actor, action: dict[str, Any], body: dict[str, Any],
                      client: AsyncWebClient, _respond: Any) -> None:
        view = forms.comment_view(deps.renderer, engagement_id=_one(action["value"]))
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    plain(ids.ACTION_RECORD_OUTCOME, outcome)
    plain(ids.ACTION_ADD_COMMENT, comment)

    # --- App Home and /advocate me ----------------------------------------------------

    async def new_request(actor: Actor, _action: dict[str, Any], body: dict[str, Any],
                          client: AsyncWebClient, respond: Any) -> None:
        await show(deps, body, client, respond, await dispatch(ctx, StartRequest(actor)))

    async def refresh(actor: Actor, advocate_id: int, body: dict[str, Any],
                      client: AsyncWebClient, respond: AsyncRespond | None) -> None:
        """Show the change where the button was: the App Home, or the ephemeral profile."""
        if _from_home(body):
            await publish_home(deps, client, actor)
        elif respond is not None:
            profile = await advocate_profile(ctx, actor, advocate_id)
            message = forms.profile_message(
                deps.renderer, advocate=forms.advocate_home(profile),
                timezone=actor.person.timezone or ctx.program_timezone)
            await respond(text=message["text"], blocks=message["blocks"],
                          response_type="ephemeral", replace_original=True)

    async def pause(actor: Actor, action: dict[str, Any], body: dict[str, Any],
                    client: AsyncWebClient, respond: AsyncRespond | None) -> None:
        advocate_id = _one(action["value"])
        await pause_advocate(ctx, actor, advocate_id)
        await refresh(actor, advocate_id, body, client, respond)

    async def resume(actor: Actor, action: dict[str, Any], body: dict[str, Any],
                     client: AsyncWebClient, respond: AsyncRespond | None) -> None:
        advocate_id = _one(action["value"])
        await resume_advocate(ctx, actor, advocate_id)
        await refresh(actor, advocate_id, body, client, respond)

    async def limits(actor: Actor, action: dict[str, Any], body: dict[str, Any],
                     client: AsyncWebClient, _respond: Any) -> None:
        profile = await advocate_profile(ctx, actor, _one(action["value"]))
        assert profile.advocate.id is not None
        view = forms.own_limits_view(deps.renderer, advocate_id=profile.advocate.id,
                                     current=profile.limits)
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    plain(ids.ACTION_HOME_NEW_REQUEST, new_request)
    plain(ids.ACTION_HOME_PAUSE, pause, opens_modal=False)
    plain(ids.ACTION_HOME_RESUME, resume, opens_modal=False)
    plain(ids.ACTION_HOME_LIMITS, limits)

    # --- the quarterly check-in -------------------------------------------------------

    async def check_in_keep(actor: Actor, action: dict[str, Any], *_: Any) -> None:
        await answer_check_in(ctx, actor, _one(action["value"]), CheckInChoice.KEEP_ACTIVE)

    async def check_in_pause(actor: Actor, action: dict[str, Any], *_: Any) -> None:
        chosen = (action.get("selected_option") or {}).get("value") or ""
        advocate_id, months = forms.parse_pause_value(str(chosen))
        await answer_check_in(ctx, actor, advocate_id, CheckInChoice.PAUSE, months=months)

    async def check_in_leave(actor: Actor, action: dict[str, Any], *_: Any) -> None:
        await answer_check_in(ctx, actor, _one(action["value"]), CheckInChoice.LEAVE)

    async def check_in_limits(actor: Actor, action: dict[str, Any], body: dict[str, Any],
                              client: AsyncWebClient, _respond: Any) -> None:
        profile = await advocate_profile(ctx, actor, _one(action["value"]))
        assert profile.advocate.id is not None
        view = forms.check_in_limits_view(deps.renderer, advocate_id=profile.advocate.id,
                                          current=profile.limits)
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    async def check_in_feedback(_actor: Actor, action: dict[str, Any], body: dict[str, Any],
                                client: AsyncWebClient, _respond: Any) -> None:
        view = forms.check_in_feedback_view(deps.renderer, advocate_id=_one(action["value"]))
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    once(ids.ACTION_CHECKIN_KEEP, check_in_keep)
    once(ids.ACTION_CHECKIN_PAUSE, check_in_pause)
    once(ids.ACTION_CHECKIN_LEAVE, check_in_leave)
    plain(ids.ACTION_CHECKIN_LIMITS, check_in_limits)
    plain(ids.ACTION_CHECKIN_FEEDBACK, check_in_feedback)


__all__ = ["register"]
