"""Slash commands: ``/reference``, ``/advocate``, ``/advocates``.

Each is acknowledged at once with an empty ack (Slack shows nothing); then the words go
through the one parser every surface uses (``bot.conversation.words``), the command through
the dispatcher, and the reply comes back here to be shown the Slack way: a modal for a
form (its ``trigger_id`` is good for 3 seconds, plenty after an ack), the profile's blocks,
the roster export uploaded into the program manager's DM, anything else as an ephemeral
message in Slack mrkdwn.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.conversation import words
from bot.conversation.dispatcher import dispatch
from bot.conversation.replies import Reply
from bot.rendering import Renderer, slack_escape
from handlers.slack import forms, ids
from handlers.slack.listeners import Ack, SlackDeps

log = logging.getLogger(__name__)

COMMAND_WORDS = {ids.COMMAND_REFERENCE: "reference", ids.COMMAND_ADVOCATE: "advocate",
                 ids.COMMAND_ADVOCATES: "advocates"}


class SlackMarkup:
    """Shared reply text in Slack mrkdwn."""

    def b(self, text: object) -> str:
        return f"*{text}*"

    def t(self, text: object) -> str:
        return slack_escape(text)

    def code(self, text: object) -> str:
        return f"`{text}`"

    def cmd(self, text: str) -> str:
        return f"`/{text}`"


MARKUP = SlackMarkup()


def reply_text(renderer: Renderer, reply: Reply) -> str:
    return "\n".join(renderer.reply_lines(reply, MARKUP))


def opens_modal(body: dict[str, Any]) -> bool:
    """Does this command answer with a modal (its ``trigger_id`` lasts 3 seconds)?"""
    word, rest = words.split_command(body.get("text", ""))
    if body.get("command") == ids.COMMAND_REFERENCE:
        return word not in ("list", "cancel", "help")
    return body.get("command") == ids.COMMAND_ADVOCATE and word == "limits" and "=" not in rest


def register(app: AsyncApp, deps: SlackDeps) -> None:
    async def listener(ack: Ack, body: dict[str, Any], client: AsyncWebClient,
                       respond: AsyncRespond) -> None:
        async with deps.reporting(ack, body, client, respond):
            await ack()
            async with deps.after_ack(urgent=opens_modal(body)):
                await answer(deps, body, client, respond)

    for command in COMMAND_WORDS:
        app.command(command)(listener)


async def answer(deps: SlackDeps, body: dict[str, Any], client: AsyncWebClient,
                 respond: AsyncRespond) -> None:
    """Parse, dispatch, show."""
    actor = await deps.actor(body)
    command = words.read(body.get("text"), actor,
                         command=COMMAND_WORDS.get(str(body.get("command")), ""))
    reply = await dispatch(deps.ctx, command)
    await show(deps, body, client, respond, reply)


async def show(deps: SlackDeps, body: dict[str, Any], client: AsyncWebClient,
               respond: AsyncRespond, reply: Reply) -> None:
    """A reply as Slack shows it."""
    context = reply.context
    if reply.form == "intake":
        metadata = json.dumps({"channel": body.get("channel_id") or ""})
        view = forms.intake_view(deps.renderer, known=context["known"], draft=context["draft"],
                                 user_timezone=context["timezone"], private_metadata=metadata)
        await client.views_open(trigger_id=body["trigger_id"], view=view)
    elif reply.form == "own_limits":
        view = forms.own_limits_view(deps.renderer, advocate_id=context["advocate_id"],
                                     current=context["current"])
        await client.views_open(trigger_id=body["trigger_id"], view=view)
    elif reply.template == "profile":
        message = forms.profile_message(deps.renderer,
                                        advocate=forms.advocate_home(context["profile"]),
                                        timezone=context["timezone"])
        await respond(text=message["text"], blocks=message["blocks"],
                      response_type="ephemeral")
    elif reply.attachment is not None:
        await send_file(deps, body, client, reply)
        await respond(text=reply_text(deps.renderer, Reply("roster_export_sent")),
                      response_type="ephemeral")
    else:
        await respond(text=reply_text(deps.renderer, reply), response_type="ephemeral")


async def send_file(deps: SlackDeps, body: dict[str, Any], client: AsyncWebClient,
                    reply: Reply) -> None:
    """A file reply in the person's DM (never in a channel: the roster export holds every
    advocate's contact details). Posted to the user id, then uploaded into the
    conversation that post names: no ``conversations.open``."""
    assert reply.attachment is not None
    user_id = str(body.get("user_id") or "")
    posted = await client.chat_postMessage(channel=user_id,
                                           text=reply_text(deps.renderer, reply))
    file = reply.attachment
    await client.files_upload_v2(
        channel=str(posted["channel"]), thread_ts=str(posted["ts"]),
        content=file.content.decode(), filename=file.filename, title=file.title)


__all__ = ["MARKUP", "opens_modal", "register", "reply_text", "show"]
