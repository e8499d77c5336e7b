"""The aiohttp application every platform shares.

``/healthz`` always answers. ``POST /slack/events`` (commands, interactivity and the
Events API, all on one URL as the manifest says) is mounted when Slack is configured for
HTTP, i.e. with a signing secret; ``POST /api/messages`` when Teams is active.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot import __version__
from bot.bootstrap import App
from handlers.observability import add_observability

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncApp

APP_KEY = web.AppKey("advocate_bot", App)
SLACK_KEY: web.AppKey[AsyncApp] = web.AppKey("slack_app")
SLACK_EVENTS_PATH = "/slack/events"


async def healthz(request: web.Request) -> web.Response:
    """Liveness and readiness in one: 200 when the database answers, 503 when it does not."""
    bot_app = request.app[APP_KEY]
    database_ok = await bot_app.database_ok()
    body = {
        "status": "ok" if database_ok else "degraded",
        "version": __version__,
        "database": "ok" if database_ok else "unreachable",
        "platforms": sorted(platform.value for platform in bot_app.messengers),
    }
    return web.json_response(body, status=200 if database_ok else 503)


async def slack_events(request: web.Request) -> web.Response:
    """Hand Slack's request to Bolt, which verifies its signature (401 if it fails),
    acknowledges it and runs the listener."""
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

    bolt_response = await request.app[SLACK_KEY].async_dispatch(await to_bolt_request(request))
    return await to_aiohttp_response(bolt_response)


def create_web_app(bot_app: App, *, slack_app: AsyncApp | None = None) -> web.Application:
    """The server's routes. ``slack_app`` is built from the settings when not given and
    Slack is configured for HTTP (a bot token and a signing secret)."""
    web_app = web.Application()
    web_app[APP_KEY] = bot_app
    web_app.router.add_get("/healthz", healthz)
    add_observability(web_app, bot_app)  # /metrics, /readyz, request timing
    settings = bot_app.settings
    if settings.slack_enabled and settings.slack_signing_secret:
        if slack_app is None:
            from handlers.slack.app import build_slack_app

            slack_app = build_slack_app(bot_app)
        web_app[SLACK_KEY] = slack_app
        web_app.router.add_post(SLACK_EVENTS_PATH, slack_events)
        web_app.on_startup.append(_open_slack_session)
        web_app.on_cleanup.append(_close_slack_session)
    if bot_app.teams is not None:
        bot_app.teams.add_routes(web_app)  # POST /api/messages
    return web_app


async def _open_slack_session(web_app: web.Application) -> None:
    """One HTTP session, kept open, for the Bolt app's Web API calls (``views.open`` and
    the like): without it every call opens and closes a connection of its own, work that
    competes with the acknowledgements on the same event loop."""
    from aiohttp import ClientSession

    web_app[SLACK_KEY].client.session = ClientSession()


async def _close_slack_session(web_app: web.Application) -> None:
    client = web_app[SLACK_KEY].client
    if client.session is not None:
        await client.session.close()
        client.session = None
