"""Nominations on Slack beyond typed words and buttons: the onboarding form, and the two
shortcuts.

* The onboarding modal (``ids.VIEW_ONBOARDING``, opened by Join on an invite) is checked
  against its spec — with the submitted time zone among the choices, since the form
  offered the person's own — then dispatched before the ack, so a refusal lands on its
  field (``answer_form``).
* The message shortcut "Nominate as advocate" (``ids.SHORTCUT_NOMINATE``) nominates the
  message's author (a customer in a Slack Connect channel, say), the message being the
  reason; the answer (filed with its readiness check, or refused) goes to the person's DM.
* The global shortcut "Request a reference" (``ids.SHORTCUT_REQUEST``) opens the intake
  form anywhere.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext as BoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.conversation import commands as c
from bot.conversation.dispatcher import dispatch
from bot.conversation.formspec import FORMS, check
from bot.conversation.nominating import onboarding_answers, onboarding_sources
from bot.domain.errors import InvalidInput, Problem
from bot.services.nominations import REASON_MAX_CHARS
from handlers.slack import forms, ids
from handlers.slack.blockkit import reply_text
from handlers.slack.listeners import Ack, SlackDeps, answer_form, tell_text
from handlers.slack.listeners.commands import show_form
from handlers.slack.listeners.views import submission_key

log = logging.getLogger(__name__)


def onboarding_command(actor: Any, nomination_id: int, view: dict[str, Any]
                       ) -> c.SubmitOnboarding:
    return c.SubmitOnboarding(actor, nomination_id,
                              onboarding_answers(forms.form_values(view, "onboarding")),
                              key=submission_key(view))


async def on_onboarding(ack: Ack, body: dict[str, Any], view: dict[str, Any],
                        client: AsyncWebClient, context: BoltContext) -> None:
    deps: SlackDeps = context["deps"]
    async with deps.reporting(ack, body, client):
        actor = await deps.actor(body)
        errors_for = functools.partial(forms.form_errors, deps.renderer_for(actor), "onboarding")
        nomination_id = forms.metadata_id(view)
        values = forms.form_values(view, "onboarding")
        try:
            if nomination_id is None:
                raise InvalidInput({"": Problem("form_lost")})
            sources = onboarding_sources(deps.ctx, str(values.get("timezone") or ""))
            check(FORMS["onboarding"].fields(sources), values)
        except InvalidInput as error:
            await ack(response_action="errors", errors=errors_for(error))
            return
        await answer_form(ack, deps, onboarding_command(actor, nomination_id, view),
                          errors_for, body, client)


def nominee_of(body: dict[str, Any]) -> tuple[str, str, str]:
    """(author's user id, their workspace, the message text) of a message shortcut."""
    message = body.get("message") or {}
    team = message.get("user_team") or message.get("team") or \
        (body.get("team") or {}).get("id") or ""
    return str(message.get("user") or ""), str(team), str(message.get("text") or "")


def _reason(text: str) -> str:
    words = " ".join(text.split())
    return words if len(words) <= REASON_MAX_CHARS else words[:REASON_MAX_CHARS - 1] + "…"


async def on_nominate_shortcut(ack: Ack, body: dict[str, Any], client: AsyncWebClient,
                               context: BoltContext) -> None:
    deps: SlackDeps = context["deps"]
    async with deps.reporting(ack, body, client):
        await ack()
        async with deps.after_ack():
            actor = await deps.actor(body)
            user_id, team, text = nominee_of(body)
            nominee = await deps.directory.person(user_id, team) if user_id else None
            command = c.Nominate(actor, email=(nominee.email or "") if nominee else "",
                                 reason=_reason(text),
                                 name=nominee.display_name if nominee else "")
            reply = await dispatch(deps.ctx, command)
            await tell_text(reply_text(deps.renderer_for(actor, reply), reply), body, client,
                            None)


async def on_request_shortcut(ack: Ack, body: dict[str, Any], client: AsyncWebClient,
                              context: BoltContext) -> None:
    deps: SlackDeps = context["deps"]
    async with deps.reporting(ack, body, client):
        await ack()
        async with deps.after_ack(urgent=True):
            actor = await deps.actor(body)
            reply = await dispatch(deps.ctx, c.StartRequest(actor))
            renderer = deps.renderer_for(actor, reply)
            if reply.form is not None:
                await show_form({**body, "channel_id": ""}, client, reply, renderer)
            else:
                await tell_text(reply_text(renderer, reply), body, client, None)


def register(app: AsyncApp) -> None:
    app.view(ids.VIEW_ONBOARDING)(on_onboarding)
    app.shortcut(ids.SHORTCUT_NOMINATE)(on_nominate_shortcut)
    app.shortcut(ids.SHORTCUT_REQUEST)(on_request_shortcut)


__all__ = ["nominee_of", "on_nominate_shortcut", "on_onboarding", "on_request_shortcut",
           "onboarding_command", "register"]
