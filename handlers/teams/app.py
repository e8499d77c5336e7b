"""The Teams front end, assembled: adapter, bot, messenger and the ``/api/messages`` route.

``build_teams(bot_app)`` is everything ``bootstrap``/``web`` need from Teams, so botbuilder
stays inside ``handlers/teams``. One ``CloudAdapter`` serves both directions: inbound
activities (``handle``) and proactive messages (``TeamsMessenger``).

Authentication follows the Bot Framework: with ``MicrosoftAppId`` set, every request must
carry a valid Bot Framework token (anything else gets 401); without it the adapter runs in
the unauthenticated local mode the Bot Framework Emulator uses, and ``startup_message``
says so loudly, because such a server must never face the internet (the settings refuse
that mode on a ``HOST`` that is not a loopback address).

Two more doors, both in front of the bot's own code: a body that is not an activity
(``[1]``, ``null``, ``{"from": "x"}``) is answered 400 before botbuilder parses it (it
raised, and answered 500); and an activity from a tenant outside ``Settings.teams_tenants``
is refused with 403 after its token was checked, before the bot reads a word of it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import jwt
from aiohttp import web
from botbuilder.core import Bot, TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity

from bot.config import Settings
from handlers.payloads import has_lone_surrogate
from handlers.teams.cards import TeamsCards
from handlers.teams.graph import GraphGroups
from handlers.teams.handler import AdvocateTeamsBot, MemberEmail, teams_member_email
from handlers.teams.messenger import TeamsMessenger
from handlers.teams.replies import text_of

if TYPE_CHECKING:
    from bot.bootstrap import App

log = logging.getLogger(__name__)

ROUTE = "/api/messages"
# Teams' ids ("29:1f…", "a:1Qb…", "19:…@thread.tacv2;messageid=…", the Emulator's GUIDs and
# "|livechat") are short and URL-safe; the conversation's id goes into the connector's URL
# for the reply, where a control character, a brace, a non-ASCII character or a URL
# longer than servers take fails inside botbuilder.
_TEAMS_ID = re.compile(r"[\w:@.;=,+/|~!*'()$-]{1,512}", re.ASCII)
# A token botbuilder can take apart: "Bearer " and a JWT (base64url parts, dots).
_BEARER = re.compile(r"Bearer [A-Za-z0-9_=-]+\.[A-Za-z0-9_=.-]+")


class _BotFrameworkConfig:
    """The attribute names botbuilder's configuration classes read."""

    def __init__(self, settings: Settings) -> None:
        self.APP_ID = settings.microsoft_app_id
        self.APP_PASSWORD = settings.microsoft_app_password
        self.APP_TYPE = settings.microsoft_app_type
        self.APP_TENANTID = settings.microsoft_app_tenant_id


class TenantRefused(Exception):
    """An authenticated activity from a tenant the bot does not serve."""


def activity_problem(body: Any) -> str | None:
    """Why ``body`` is not an activity the bot can take, or None.

    Every activity the Bot Framework delivers names its type, sender, conversation,
    channel and service URL; the bot's code relies on each of them, so one missing or of
    the wrong kind is the sender's mistake (400), not a crash in the bot (500).
    """
    if not isinstance(body, dict):
        return "the body is not a JSON object (an activity)"
    if has_lone_surrogate(body):
        return "the activity has text that is not valid Unicode"
    try:
        activity = Activity().deserialize(body)
    except Exception:  # msrest's DeserializationError, or an AttributeError inside it
        return "the activity has a field of the wrong type"
    for name, value in (("type", activity.type), ("channelId", activity.channel_id),
                        ("serviceUrl", activity.service_url)):
        if not isinstance(value, str) or not value:
            return f"the activity has no {name}"
    if not isinstance(body.get("type"), str):
        return "the activity's type is not text"
    if activity.from_property is None or not activity.from_property.id:
        return "the activity has no from.id"
    if activity.conversation is None or not activity.conversation.id:
        return "the activity has no conversation.id"
    if not all(_TEAMS_ID.fullmatch(str(value)) for value in (
            activity.from_property.id, activity.conversation.id)):
        return "the activity's from.id or conversation.id is not a Teams id"
    if not all(_TEAMS_ID.fullmatch(str(value)) for value in (
            activity.id, activity.reply_to_id) if value):  # replies go to their URLs
        return "the activity's id or replyToId is not a Teams id"
    return None


def activity_tenant(activity: Activity) -> str | None:
    """The tenant Teams says the activity comes from (``conversation.tenantId``, else
    ``channelData.tenant.id``), lower-cased; None when it names none."""
    tenant = activity.conversation.tenant_id if activity.conversation is not None else None
    if not tenant and isinstance(activity.channel_data, dict):
        named = activity.channel_data.get("tenant")
        tenant = named.get("id") if isinstance(named, dict) else None
    return tenant.lower() if isinstance(tenant, str) and tenant else None


@dataclass
class TenantGate:
    """The bot behind a tenant check: the adapter calls ``on_turn`` only after it has
    verified the token, so the check reads a tenant the Bot Framework vouched for.
    An empty ``tenants`` lets every tenant in (a multi-tenant app with no tenant set)."""

    bot: Bot
    tenants: frozenset[str] = field(default_factory=frozenset)

    async def on_turn(self, turn_context: TurnContext) -> None:
        if self.tenants and activity_tenant(turn_context.activity) not in self.tenants:
            raise TenantRefused(activity_tenant(turn_context.activity))
        await self.bot.on_turn(turn_context)


@dataclass
class TeamsFrontEnd:
    adapter: CloudAdapter
    bot: AdvocateTeamsBot
    messenger: TeamsMessenger
    app_id: str
    tenants: frozenset[str] = field(default_factory=frozenset)

    @property
    def authenticated(self) -> bool:
        return bool(self.app_id)

    def startup_message(self) -> str:
        tenants = (f"tenants {', '.join(sorted(self.tenants))} only" if self.tenants else
                   "every tenant (set TEAMS_ALLOWED_TENANTS to name yours)")
        if self.authenticated:
            return (f"Teams: {ROUTE} (Bot Framework tokens required, app id "
                    f"{self.app_id}; {tenants})")
        return (f"Teams: {ROUTE} in UNAUTHENTICATED local mode (Bot Framework Emulator): "
                "anyone who can reach this port can act as any user. Set MicrosoftAppId and "
                f"MicrosoftAppPassword before exposing it. Serving {tenants}.")

    def add_routes(self, web_app: web.Application) -> None:
        """Mount ``POST /api/messages``, unless the app already has it (``create_web_app``
        may mount it itself; aiohttp refuses a route registered twice)."""
        if any(getattr(r.resource, "canonical", None) == ROUTE and r.method == "POST"
               for r in web_app.router.routes()):
            return
        web_app.router.add_post(ROUTE, self.handle)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """POST /api/messages: one activity in, its (invoke) response out."""
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.json_response({"error": "expected application/json"}, status=415)
        if self.authenticated and not _BEARER.fullmatch(
                request.headers.get("Authorization", "")):
            return web.json_response({"error": "no Bot Framework token"}, status=401)
        try:
            body = await request.json()
        except (ValueError, json.JSONDecodeError, UnicodeDecodeError):
            return web.json_response({"error": "body is not JSON"}, status=400)
        problem = activity_problem(body)
        if problem is not None:
            log.warning("refused a request to %s: %s", ROUTE, problem)
            return web.json_response({"error": problem}, status=400)
        try:
            response = await self.adapter.process(
                request, TenantGate(self.bot, self.tenants))
        except jwt.PyJWTError:  # a token that is not even a JWT: as unauthorized as none
            raise web.HTTPUnauthorized() from None
        except TenantRefused as refused:
            log.warning("refused a Teams activity from tenant %.40r: not in "
                        "TEAMS_ALLOWED_TENANTS", refused.args[0])
            return web.json_response({"error": "this tenant is not served by this bot"},
                                     status=403)
        if response is not None and response.status == HTTPStatus.NOT_IMPLEMENTED:
            # botbuilder's answer to an invoke the bot has no handler for: the sender's
            # request is what is unsupported, not the server broken.
            return web.json_response({"error": "this invoke is not handled by this bot"},
                                     status=400)
        return response if response is not None else web.Response(status=201)


def build_teams(bot_app: App, *, member_email: MemberEmail = teams_member_email,
                adapter: CloudAdapter | None = None) -> TeamsFrontEnd:
    """Wire the Teams front end for ``bot_app``; call it only when ``teams_active``."""
    settings = bot_app.settings
    if adapter is None:
        adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(
            _BotFrameworkConfig(settings)))
    cards = TeamsCards(bot_app.renderer, program=bot_app.ctx.policy.limits)
    adapter.on_turn_error = turn_error(cards)
    rep_group = GraphGroups(
        settings.rep_teams_group, settings.microsoft_app_tenant_id, settings.microsoft_app_id,
        settings.microsoft_app_password, graph_url=settings.graph_api_url,
        login_url=settings.microsoft_login_url) if settings.rep_teams_group else None
    bot = AdvocateTeamsBot(bot_app.ctx, cards, bot_name=settings.teams_bot_name,
                           member_email=member_email, rep_group=rep_group)
    messenger = TeamsMessenger(adapter, cards, bot_app.uow, app_id=settings.microsoft_app_id)
    front = TeamsFrontEnd(adapter=adapter, bot=bot, messenger=messenger,
                          app_id=settings.microsoft_app_id, tenants=settings.teams_tenants)
    (log.info if front.authenticated else log.warning)(front.startup_message())
    return front


def turn_error(cards: TeamsCards) -> Callable[[TurnContext, Exception], Awaitable[None]]:
    """The adapter's error handler: a bug must not go unseen, so it is logged with its
    traceback and the user is told plainly. A refused tenant is no bug: it goes back out
    of ``adapter.process`` to ``handle``, which answers 403 without a word to the sender."""

    async def on_turn_error(turn_context: TurnContext, error: Exception) -> None:
        if isinstance(error, TenantRefused):
            raise error
        log.error("Teams turn failed: %r", error, exc_info=error)
        try:
            await turn_context.send_activity(text_of(cards, "sorry"))
        except Exception:  # the connector may be what failed
            log.warning("could not tell the user about the failure", exc_info=True)

    return on_turn_error
