"""The Bolt app: Slack's requests in, listeners registered, errors turned into kind words.

``build_slack_app`` wires a ``slack_bolt`` ``AsyncApp`` to the bot: our ``AsyncWebClient``
(pointed at ``SLACK_API_URL``, so tests run against a local fake), the signing secret,
and ``process_before_response=False``: Bolt sends Slack its HTTP answer as soon as a
listener calls ``ack()``, while the listener carries on with the slow part. Over HTTP the
signature is checked before Bolt sees the request (``handlers.slack.verify``, called by
``handlers.web``), so Bolt's own check, and its error handler below, only ever meet
bodies Slack signed; a workspace the bot is not installed in is refused next.

Failures meet people in one way (``listeners.tell_user``): a ``DomainError`` (not
allowed, invalid input, a limit reached, not found) is the person's to read, so they get
its message, ephemeral where the payload has a ``response_url`` (commands, message
buttons), else as a DM; anything else is logged with its traceback for us and answered
with a short apology for them, never a stack trace. Listeners report their own failures
(see ``listeners``); Bolt's global error handler below catches whatever escapes them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.ports import UnitOfWorkFactory
from handlers.slack.blockkit import slack_renderer
from handlers.slack.directory import SlackDirectory
from handlers.slack.idempotency import Once
from handlers.slack.inflight import InFlight
from handlers.slack.listeners import SlackDeps, register_all, tell_user, user_message
from handlers.slack.messenger import SlackMessenger

if TYPE_CHECKING:
    from bot.bootstrap import App

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlackParts:
    """What the bot needs of Slack, built once by the composition root: one Web API client
    (pointed at ``SLACK_API_URL``, so tests run against a local fake), the messenger the
    outbox delivers through, and the directory that knows who is who."""

    client: AsyncWebClient
    messenger: SlackMessenger
    directory: SlackDirectory
    in_flight: InFlight = field(default_factory=InFlight)  # drained before shutdown


def build_slack(settings: Settings, uow: UnitOfWorkFactory) -> SlackParts:
    client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
    return SlackParts(client, SlackMessenger(client, slack_renderer()),
                      SlackDirectory(client, uow, home_teams=settings.slack_team_id,
                                     rep_group=settings.rep_slack_usergroup))


def build_slack_app(bot_app: App, *, ack_budget: float | None = None) -> AsyncApp:
    """The Bolt app for ``bot_app``'s settings, with every listener registered."""
    settings = bot_app.settings
    if not settings.slack_enabled:
        raise ValueError("Slack is not configured: SLACK_BOT_TOKEN is empty")
    parts: SlackParts = bot_app.slack
    client = parts.client
    app = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret,
        process_before_response=False,
        # Socket Mode payloads are not signed (the WebSocket is authenticated instead);
        # with only an app token, HTTP requests are never routed to this app at all.
        request_verification_enabled=bool(settings.slack_signing_secret),
        name="advocate-bot",
        logger=logging.getLogger("advocate_bot.slack"),
    )
    directory = parts.directory
    deps = SlackDeps(
        bot=bot_app,
        renderer=slack_renderer(),
        directory=directory,
        once=Once(bot_app.uow, bot_app.clock),
        in_flight=parts.in_flight,
    )
    if ack_budget is not None:
        deps.ack_budget = ack_budget
    app.use(_only_our_workspaces(frozenset(settings.slack_team_id)))
    register_all(app, deps)

    @app.error
    async def on_error(error: Exception, body: dict[str, Any], client: AsyncWebClient,
                       respond: AsyncRespond | None) -> None:
        await tell_user(error, body, client, respond,
                        renderer=deps.renderer.for_locale(deps.ctx.program_locale))

    return app


def _only_our_workspaces(configured: frozenset[str]) -> Any:
    """Bolt middleware: serve only the workspace(s) the bot is installed in.

    A signature proves the request came from Slack for this app, not that it came from
    the workspace the program runs in: an app distributed to another workspace (or an
    Enterprise Grid org) gets signed requests from there too, from people whose roles
    the roster knows nothing about. ``SLACK_TEAM_ID`` names the workspaces; without it,
    the bot token's own workspace (``auth.test``, asked once) is the only one. The
    workspace is Bolt's: ``view.app_installed_team_id``, ``team.id`` or the event's
    installation, which in a Slack Connect conversation is the bot's side, so an
    external advocate answering in a shared DM is still served. Over HTTP a refusal is
    403; over Socket Mode the envelope is acknowledged and dropped, as an unacknowledged
    one would be delivered again.
    """
    installed: set[str] = set(configured)

    async def only_our_workspaces(req: AsyncBoltRequest, context: AsyncBoltContext,
                                  client: AsyncWebClient,
                                  next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:
        if not installed:
            answer = await client.auth_test()
            installed.add(str(answer["team_id"]))
        team = context.team_id or context.enterprise_id
        if team not in installed:
            log.warning("refused a Slack request from workspace %.20r: SLACK_TEAM_ID allows %s",
                        team, ", ".join(sorted(installed)))
            if req.mode == "socket_mode":  # acknowledge, or Slack redelivers it
                return BoltResponse(status=200, body="")
            return BoltResponse(status=403, body=json.dumps(
                {"error": "this workspace is not served by this bot"}),
                headers={"content-type": "application/json"})
        return await next()

    return only_our_workspaces


async def start_socket_mode(app: AsyncApp, app_token: str) -> AsyncSocketModeHandler:
    """Connect ``app`` to Slack over Socket Mode (``SLACK_APP_TOKEN``): Slack pushes
    commands, clicks and events down a WebSocket the bot opened, so no public URL is
    needed. The handler acks each envelope over the socket as Bolt acks it; the caller
    closes it (``close_async``) on shutdown."""
    handler = AsyncSocketModeHandler(app, app_token)
    await handler.connect_async()
    return handler


__all__ = [
    "SlackParts",
    "build_slack",
    "build_slack_app",
    "start_socket_mode",
    "tell_user",
    "user_message",
]
