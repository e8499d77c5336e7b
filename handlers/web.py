"""The aiohttp application every platform shares.

``/healthz`` answers now; ``/slack/events`` and ``/api/messages`` are added by the Slack and
Teams front ends when their settings are present.
"""

from __future__ import annotations

from aiohttp import web

from bot import __version__
from bot.bootstrap import App

APP_KEY = web.AppKey("advocate_bot", App)


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


def create_web_app(bot_app: App) -> web.Application:
    web_app = web.Application()
    web_app[APP_KEY] = bot_app
    web_app.router.add_get("/healthz", healthz)
    return web_app
