"""Slash commands: ``/reference``, ``/advocate``, ``/advocates``.

Each is acknowledged at once with an empty ack (Slack shows nothing), and the answer
follows: a modal for ``/reference`` (its ``trigger_id`` is good for 3 seconds, plenty after
an ack), an ephemeral reply through ``respond`` for everything else. Parsing what people
typed is pure and shared with Teams (``handlers.commands``), so it is tested without Slack.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.model import Actor, Advocate, ReferenceRequest, Role
from bot.services.advocates import (
    advocate_profile,
    leave_program,
    pause_advocate,
    resume_advocate,
    set_manager_limits,
)
from bot.services.digest import send_digest_now
from bot.services.home import advocate_named, find_advocates, my_profile
from bot.services.requests import cancel_request, known_values, list_requests, parse_keywords
from bot.services.roles import require
from bot.services.roster import export_roster
from handlers.commands import (
    LimitsArgs,
    PauseArgs,
    parse_limits,
    parse_pause,
    split_command,
)
from handlers.slack import forms, ids
from handlers.slack.listeners import Ack, SlackDeps

log = logging.getLogger(__name__)

IMPORT_FROM_SLACK = (
    "Importing a roster from Slack is not available yet. Run "
    "`advocate-bot advocates import FILE.csv` on the server instead."
)
REFERENCE_HELP = (
    "*/reference* opens a new reference request (words after it pre-fill the form, e.g. "
    "`/reference fintech payments EMEA`).\n"
    "*/reference list* shows your requests · */reference cancel 12* cancels request #12."
)
ADVOCATE_HELP = (
    "*/advocate me* shows your advocate profile, history and limits · "
    "*/advocate pause [until YYYY-MM-DD]* · */advocate resume* · */advocate limits* · "
    "*/advocate leave* takes you off the program."
)
ADVOCATES_HELP = (
    "*/advocates find WORDS* · *show WHO* · *pause WHO [until YYYY-MM-DD] [because …]* · "
    "*resume WHO* · *limits WHO [90d=N] [365d=N] [cooldown=N] [open=N] because …* "
    "(or `limits WHO clear because …`) · *export* · *digest now*.\nWHO is an email or a name."
)


# --- parsing what people typed (the words themselves: ``handlers.commands``) ----------------


def opens_modal(body: dict[str, Any]) -> bool:
    """Does this command answer with a modal (its ``trigger_id`` lasts 3 seconds)?"""
    word, _ = split_command(body.get("text", ""))
    if body.get("command") == ids.COMMAND_REFERENCE:
        return word not in ("list", "cancel", "help")
    return body.get("command") == ids.COMMAND_ADVOCATE and word == "limits"


def request_line(request: ReferenceRequest) -> str:
    """One request in ``/reference list``."""
    label = forms.STATE_LABELS.get(request.state, request.state.value)
    return (f"*#{request.id}* {request.reference_type.label} for "
            f"*{_escape(request.prospect_company)}* · {label} · needed by "
            f"{request.needed_by.isoformat()}")


def advocate_line(advocate: Advocate) -> str:
    """One advocate in ``/advocates find``."""
    where = " · ".join(p for p in (advocate.industry, advocate.region) if p)
    status = "" if advocate.status.value == "active" else f" · _{advocate.status.value}_"
    return (f"*{_escape(advocate.name)}* <{_escape(advocate.email)}>, "
            f"{_escape(advocate.company)}{' · ' + _escape(where) if where else ''}{status}")


def limits_text(name: str, limits: Any) -> str:
    return (f"{_escape(name)}'s limits: {limits.max_per_90_days} in 90 days, "
            f"{limits.max_per_365_days} in 365 days, {limits.cooldown_days} days between "
            f"references, {limits.max_open_asks} open asks at once.")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- listeners -----------------------------------------------------------------------------


async def _reply(respond: AsyncRespond, text: str) -> None:
    await respond(text=text, response_type="ephemeral")


async def open_intake(deps: SlackDeps, client: AsyncWebClient, body: dict[str, Any],
                      keywords: str = "") -> None:
    """Open the request form, pre-filled from ``keywords``."""
    person = await deps.person(body)
    async with deps.ctx.uow() as uow:
        known = await known_values(uow)
    draft = parse_keywords(keywords, known) if keywords else None
    metadata = json.dumps({"channel": body.get("channel_id") or ""})
    view = forms.intake_view(deps.renderer, known=known, draft=draft,
                             user_timezone=person.timezone or deps.ctx.program_timezone,
                             private_metadata=metadata)
    await client.views_open(trigger_id=body["trigger_id"], view=view)


def register(app: AsyncApp, deps: SlackDeps) -> None:
    handlers = {ids.COMMAND_REFERENCE: reference, ids.COMMAND_ADVOCATE: advocate,
                ids.COMMAND_ADVOCATES: advocates}
    for command, handle in handlers.items():
        app.command(command)(_listener(deps, handle))


Handler = Callable[[SlackDeps, dict[str, Any], AsyncWebClient, AsyncRespond], Awaitable[None]]


def _listener(deps: SlackDeps, handle: Handler) -> Callable[..., Awaitable[None]]:
    """Ack at once (an empty ack: Slack shows nothing), then answer."""

    async def listener(ack: Ack, body: dict[str, Any], client: AsyncWebClient,
                       respond: AsyncRespond) -> None:
        async with deps.reporting(ack, body, client, respond):
            await ack()
            async with deps.after_ack(urgent=opens_modal(body)):
                await handle(deps, body, client, respond)

    listener.__name__ = handle.__name__
    return listener


async def reference(deps: SlackDeps, body: dict[str, Any], client: AsyncWebClient,
                    respond: AsyncRespond) -> None:
    """``/reference [keywords] | list | cancel ID | help``."""
    word, rest = split_command(body.get("text", ""))
    if word == "list":
        actor = await deps.actor(body)
        requests = await list_requests(deps.ctx, actor, include_closed=rest == "all")
        if not requests:
            await _reply(respond, "You have no open reference requests. "
                         "Type `/reference` to open one.")
            return
        await _reply(respond, "\n".join(request_line(r) for r in requests[:30]))
    elif word == "cancel":
        number = rest.lstrip("#").split(" ", 1)[0]
        if not number.isdigit():
            await _reply(respond, "Which request? Write `/reference cancel 12`.")
            return
        actor = await deps.actor(body)
        reason = rest.partition(" ")[2].strip()
        request = await cancel_request(deps.ctx, actor, int(number), reason)
        await _reply(respond, f"Request #{request.id} ({_escape(request.prospect_company)}) "
                     "is cancelled; anyone asked is being told.")
    elif word == "help":
        await _reply(respond, REFERENCE_HELP)
    else:
        await open_intake(deps, client, body, (body.get("text") or "").strip())


async def advocate(deps: SlackDeps, body: dict[str, Any], client: AsyncWebClient,
                   respond: AsyncRespond) -> None:
    """``/advocate me | pause [until DATE] | resume | limits | leave``: about oneself."""
    word, rest = split_command(body.get("text", ""))
    if word in ("", "help"):
        await _reply(respond, ADVOCATE_HELP)
        return
    actor = await deps.actor(body)
    if word == "me":
        await show_profile(deps, respond, actor)
        return
    profile = await my_profile(deps.ctx, actor)
    advocate_id = profile.advocate.id
    assert advocate_id is not None
    if word == "pause":
        args = parse_pause(rest)
        await pause_advocate(deps.ctx, actor, advocate_id, until=args.until, reason=args.reason)
        await show_profile(deps, respond, actor)
    elif word == "resume":
        await resume_advocate(deps.ctx, actor, advocate_id)
        await show_profile(deps, respond, actor)
    elif word == "limits":
        view = forms.own_limits_view(deps.renderer, advocate_id=advocate_id,
                                     current=profile.limits)
        await client.views_open(trigger_id=body["trigger_id"], view=view)
    elif word == "leave":
        result = await leave_program(deps.ctx, actor, advocate_id)
        await _reply(respond, "You have left the advocate program; nobody will ask you "
                     f"again. {len(result.withdrawn)} open ask(s) were withdrawn.")
    else:
        await _reply(respond, ADVOCATE_HELP)


async def advocates(deps: SlackDeps, body: dict[str, Any], client: AsyncWebClient,
                    respond: AsyncRespond) -> None:
    """``/advocates …``: the roster, for program managers only."""
    actor = await deps.actor(body)
    require(actor, Role.PROGRAM_MANAGER, action="manage the advocate roster")
    word, rest = split_command(body.get("text", ""))
    ctx = deps.ctx
    if word == "find":
        found = await find_advocates(ctx, actor, rest)
        await _reply(respond, "\n".join(advocate_line(a) for a in found)
                     if found else f"No advocate fits {_escape(rest)!r}.")
    elif word == "show":
        chosen = await advocate_named(ctx, actor, rest)
        assert chosen.id is not None
        profile = await advocate_profile(ctx, actor, chosen.id)
        await _respond_profile(deps, respond, profile, actor)
    elif word == "pause":
        args = parse_pause(rest)
        chosen = await advocate_named(ctx, actor, args.who)
        assert chosen.id is not None
        await pause_advocate(ctx, actor, chosen.id, until=args.until, reason=args.reason)
        until = f" through {args.until.isoformat()}" if args.until else ""
        await _reply(respond, f"{_escape(chosen.name)} is paused{until}; they have been told.")
    elif word == "resume":
        chosen = await advocate_named(ctx, actor, rest)
        assert chosen.id is not None
        await resume_advocate(ctx, actor, chosen.id)
        await _reply(respond, f"{_escape(chosen.name)} can be asked again; they have been told.")
    elif word == "limits":
        args = parse_limits(rest)
        chosen = await advocate_named(ctx, actor, args.who)
        assert chosen.id is not None
        if args.limits is not None:
            await set_manager_limits(ctx, actor, chosen.id, args.limits, reason=args.reason)
        profile = await advocate_profile(ctx, actor, chosen.id)
        await _reply(respond, limits_text(chosen.name, profile.limits))
    elif word == "export":
        await export(deps, client, actor)
        await _reply(respond, "The roster export is in your direct messages with me.")
    elif word == "digest":
        await send_digest_now(ctx, actor)
        await _reply(respond, "This week's digest so far is on its way to your direct "
                     "messages with me.")
    elif word == "import":
        await _reply(respond, IMPORT_FROM_SLACK)
    else:
        await _reply(respond, ADVOCATES_HELP)


async def show_profile(deps: SlackDeps, respond: AsyncRespond, actor: Actor) -> None:
    """``/advocate me``: the actor's profile as an ephemeral message with its buttons."""
    profile = await my_profile(deps.ctx, actor)
    await _respond_profile(deps, respond, profile, actor)


async def _respond_profile(deps: SlackDeps, respond: AsyncRespond, profile: Any,
                           actor: Actor, *, replace: bool = False) -> None:
    message = forms.profile_message(deps.renderer, advocate=forms.advocate_home(profile),
                                    timezone=actor.person.timezone or deps.ctx.program_timezone)
    await respond(text=message["text"], blocks=message["blocks"], response_type="ephemeral",
                  replace_original=replace)


async def export(deps: SlackDeps, client: AsyncWebClient, actor: Actor) -> None:
    """The roster as CSV, in the program manager's DM (never in a channel: it holds
    every advocate's contact details). Posted to the user id, then uploaded into the
    conversation that post names: no ``conversations.open``."""
    assert actor.person.identity is not None
    require(actor, Role.PROGRAM_MANAGER, action="export the advocate roster")
    csv_text = await export_roster(deps.ctx.uow)
    rows = max(csv_text.count("\n") - 1, 0)
    posted = await client.chat_postMessage(
        channel=actor.person.identity.user_id,
        text=f"The advocate roster as of today: {rows} advocate(s), CSV attached.")
    await client.files_upload_v2(
        channel=str(posted["channel"]), thread_ts=str(posted["ts"]), content=csv_text,
        filename=f"advocates-{deps.ctx.now().date().isoformat()}.csv", title="Advocate roster")


__all__ = [
    "LimitsArgs",
    "PauseArgs",
    "advocate_line",
    "export",
    "limits_text",
    "open_intake",
    "parse_limits",
    "parse_pause",
    "register",
    "request_line",
    "show_profile",
    "split_command",
]
