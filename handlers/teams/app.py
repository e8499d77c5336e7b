"""The Teams front end, assembled: adapter, bot, messenger and the ``/api/messages`` route.

``build_teams(bot_app)`` is everything ``bootstrap``/``web`` need from Teams, so botbuilder
stays inside ``handlers/teams``. One ``CloudAdapter`` serves both directions: inbound
activities (``handle``) and proactive messages (``TeamsMessenger``).

Authentication follows the Bot Framework: with ``MicrosoftAppId`` set, every request must
carry a valid Bot Framework token (anything else gets 401); without it the adapter runs in
the unauthenticated local mode the Bot Framework Emulator uses, and ``startup_message``
says so loudly, because such a server must never face the internet.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import jwt
from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)

from bot.bootstrap import App
from bot.config import Settings
from handlers.teams.cards import TeamsCards
from handlers.teams.handler import AdvocateTeamsBot, MemberEmail, teams_member_email
from handlers.teams.messenger import TeamsMessenger

log = logging.getLogger(__name__)

ROUTE = "/api/messages"


class _BotFrameworkConfig:
    """The attribute names botbuilder's configuration classes read."""

    def __init__(self, settings: Settings) -> None:
        self.APP_ID = settings.microsoft_app_id
        self.APP_PASSWORD = settings.microsoft_app_password
        self.APP_TYPE = settings.microsoft_app_type
        self.APP_TENANTID = settings.microsoft_app_tenant_id


@dataclass
class TeamsFrontEnd:
    adapter: CloudAdapter
    bot: AdvocateTeamsBot
    messenger: TeamsMessenger
    app_id: str

    @property
    def authenticated(self) -> bool:
        return bool(self.app_id)

    def startup_message(self) -> str:
        if self.authenticated:
            return (f"Teams: {ROUTE} (Bot Framework tokens required, app id "
                    f"{self.app_id})")
        return (f"Teams: {ROUTE} in UNAUTHENTICATED local mode (Bot Framework Emulator): "
                "anyone who can reach this port can act as any user. Set MicrosoftAppId and "
                "MicrosoftAppPassword before exposing it.")

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
        try:
            await request.json()
        except (ValueError, json.JSONDecodeError):
            return web.json_response({"error": "body is not JSON"}, status=400)
        try:
            response = await self.adapter.process(request, self.bot)
        except jwt.PyJWTError:  # a token that is not even a JWT: as unauthorized as none
            raise web.HTTPUnauthorized() from None
        return response if response is not None else web.Response(status=201)


def build_teams(bot_app: App, *, member_email: MemberEmail = teams_member_email,
                adapter: CloudAdapter | None = None) -> TeamsFrontEnd:
    """Wire the Teams front end for ``bot_app``; call it only when ``teams_active``."""
    settings = bot_app.settings
    if adapter is None:
        adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(
            _BotFrameworkConfig(settings)))
    adapter.on_turn_error = _on_turn_error
    cards = TeamsCards(bot_app.renderer)
    bot = AdvocateTeamsBot(bot_app.ctx, cards, bot_name=settings.teams_bot_name,
                           member_email=member_email)
    messenger = TeamsMessenger(
        adapter, cards, bot_app.uow, app_id=settings.microsoft_app_id,
        program_managers=settings.program_managers,
        program_timezone=settings.program_timezone, clock=bot_app.clock)
    front = TeamsFrontEnd(adapter=adapter, bot=bot, messenger=messenger,
                          app_id=settings.microsoft_app_id)
    (log.info if front.authenticated else log.warning)(front.startup_message())
    return front


async def _on_turn_error(turn_context: TurnContext, error: Exception) -> None:
    """A bug must not go unseen: log it with its traceback, and tell the user plainly."""
    log.error("Teams turn failed: %r", error, exc_info=error)
    try:
        await turn_context.send_activity(
            "Sorry, something went wrong on my side. Please try again in a minute.")
    except Exception:  # the connector may be what failed
        log.warning("could not tell the user about the failure", exc_info=True)
