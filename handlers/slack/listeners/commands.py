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
from slack_bolt.context.async_context import AsyncBoltContext as BoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.conversation import nominating, words
from bot.conversation.dispatcher import dispatch
from bot.conversation.formspec import Sources
from bot.conversation.replies import Reply
from bot.rendering import Renderer
from bot.services import nominations
from handlers.slack import blockkit, forms, home, ids, intake
from handlers.slack.blockkit import reply_text
from handlers.slack.listeners import Ack, SlackDeps

log = logging.getLogger(__name__)

COMMAND_WORDS = {ids.COMMAND_REFERENCE: "reference", ids.COMMAND_ADVOCATE: "advocate",
                 ids.COMMAND_ADVOCATES: "advocates"}


def opens_modal(body: dict[str, Any]) -> bool:
    """Does this command answer with a modal (its ``trigger_id`` lasts 3 seconds)?"""
    word, rest = words.split_command(body.get("text", ""))
    if body.get("command") == ids.COMMAND_REFERENCE:
        return word not in ("list", "cancel", "help")
    return body.get("command") == ids.COMMAND_ADVOCATE and word == "limits" and "=" not in rest


async def on_command(ack: Ack, body: dict[str, Any], client: AsyncWebClient,
                     respond: AsyncRespond, context: BoltContext) -> None:
    """Every slash command: ack at once (an empty ack: Slack shows nothing), then answer."""
    deps: SlackDeps = context["deps"]
    async with deps.reporting(ack, body, client, respond):
        await ack()
        async with deps.after_ack(urgent=opens_modal(body)):
            await answer(deps, body, client, respond)


def register(app: AsyncApp) -> None:
    for command in COMMAND_WORDS:
        app.command(command)(on_command)


async def answer(deps: SlackDeps, body: dict[str, Any], client: AsyncWebClient,
                 respond: AsyncRespond) -> None:
    """Parse, dispatch, show."""
    actor = await deps.actor(body)
    command = words.read(body.get("text"), actor,
                         command=COMMAND_WORDS.get(str(body.get("command")), ""))
    reply = await dispatch(deps.ctx, command)
    await show(deps, body, client, respond, reply, deps.renderer_for(actor, reply))


async def show(deps: SlackDeps, body: dict[str, Any], client: AsyncWebClient,
               respond: AsyncRespond, reply: Reply, renderer: Renderer) -> None:
    """A reply as Slack shows it, in the reader's language."""
    context = reply.context
    if reply.form is not None:
        await show_form(body, client, reply, renderer)
    elif reply.template == "profile":
        message = home.profile_message(renderer,
                                        advocate=home.advocate_home(context["profile"]),
                                        timezone=context["timezone"])
        await respond(text=message["text"], blocks=message["blocks"],
                      response_type="ephemeral")
    elif reply.template == nominations.INVITE:  # `advocate join`: the invite, with buttons
        message = blockkit.install(renderer).render_json(
            f"slack/{reply.template}.json.j2", dict(context))
        await respond(text=message["text"], blocks=message["blocks"],
                      response_type="ephemeral")
    elif renderer.has(f"slack/replies/{reply.template}.json.j2"):
        text = reply_text(renderer, reply)
        message = blockkit.install(renderer).render_json(
            f"slack/replies/{reply.template}.json.j2", {**context, "text": text})
        await respond(text=message["text"], blocks=message["blocks"],
                      response_type="ephemeral")
    elif reply.attachment is not None:
        await send_file(body, client, reply, renderer)
        await respond(text=reply_text(renderer, Reply("roster_export_sent")),
                      response_type="ephemeral")
    else:
        await respond(text=reply_text(renderer, reply), response_type="ephemeral")


def form_view(renderer: Renderer, reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
    """The modal for a form reply (``bot.conversation`` names the forms)."""
    context, name = reply.context, reply.form
    if name == "intake":
        metadata = json.dumps({"channel": body.get("channel_id") or ""})
        return intake.intake_view(renderer, known=context["known"], draft=context["draft"],
                                 user_timezone=context["timezone"], private_metadata=metadata)
    subject = int(context["subject_id"])
    if name == "own_limits":
        return forms.own_limits_view(renderer, advocate_id=subject, current=context["current"],
                                     program=context["program_limits"])
    if name == "check_in_limits":
        return forms.check_in_limits_view(renderer, advocate_id=subject,
                                          current=context["current"],
                                          program=context["program_limits"])
    if name == "check_in_feedback":
        return forms.check_in_feedback_view(renderer, advocate_id=subject)
    if name == "decline_reason":
        return forms.decline_reason_view(renderer, ask_id=subject)
    if name == "deny_reason":
        return forms.deny_reason_view(renderer, ask_id=subject)
    if name == "propose_time":
        return forms.propose_time_view(renderer, engagement_id=subject,
                                       timezone=context["timezone"], latest=context["latest"])
    if name == "outcome":
        return forms.outcome_view(renderer, engagement_id=subject,
                                  advocate_name=context["advocate_name"],
                                  currency=context["currency"])
    if name == "comment":
        return forms.comment_view(renderer, engagement_id=subject)
    if name == "pause":
        return forms.pause_view(renderer, advocate_id=subject)
    if name == "call_hours":
        return forms.call_hours_view(renderer, advocate_id=subject, hours=context["hours"])
    if name in nominating.FORMS:
        return nomination_view(renderer, reply, subject)
    raise KeyError(f"no Slack modal for the form {name!r}")


def nomination_view(renderer: Renderer, reply: Reply, subject: int) -> dict[str, Any]:
    """The decline-reason modal of a nomination, or the onboarding modal of an invite."""
    metadata = {"private_metadata": forms.checked_metadata(subject)}
    if reply.form == "onboarding":
        context = reply.context
        sources = Sources(known=context["known"], timezone=context["timezone"],
                          program=context["program_limits"])
        return forms.render_form(renderer, "onboarding", {
            **metadata, "consent_version": context["consent_version"]}, sources=sources)
    return forms.render_form(renderer, "nomination_decline", metadata)


async def show_form(body: dict[str, Any], client: AsyncWebClient, reply: Reply,
                    renderer: Renderer) -> None:
    """Open the form's modal (the click's or command's ``trigger_id`` lasts 3 seconds)."""
    await client.views_open(trigger_id=body["trigger_id"],
                            view=form_view(renderer, reply, body))


async def send_file(body: dict[str, Any], client: AsyncWebClient, reply: Reply,
                    renderer: Renderer) -> None:
    """A file reply in the person's DM (never in a channel: the roster export holds every
    advocate's contact details). Posted to the user id, then uploaded into the
    conversation that post names: no ``conversations.open``."""
    assert reply.attachment is not None
    user_id = str(body.get("user_id") or "")
    posted = await client.chat_postMessage(channel=user_id, text=reply_text(renderer, reply))
    file = reply.attachment
    await client.files_upload_v2(
        channel=str(posted["channel"]), thread_ts=str(posted["ts"]),
        content=file.content.decode(), filename=file.filename, title=file.title)


__all__ = ["form_view", "on_command", "opens_modal", "register", "show", "show_form"]
