"""The aiohttp application every platform shares.

``/healthz`` always answers. ``POST /slack/events`` (commands, interactivity and the
Events API, all on one URL as the manifest says) is mounted when Slack is configured for
HTTP, i.e. with a signing secret; ``POST /api/messages`` when Teams is active. Each door
verifies its sender before anything reads the request (see ``slack_events`` and
``handlers.teams.app``); the threat model is in ``docs/security.md``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from bot import __version__
from bot.bootstrap import App
from handlers.observability import add_observability

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncApp

log = logging.getLogger(__name__)

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
    """Verify Slack's signature on the raw bytes, then hand the request to Bolt.

    Nothing reads or logs the body of a request Slack did not sign: it gets 401 and one
    short log line. A signed body the bot cannot read (not UTF-8, not JSON, not an
    object) gets 400; only then does Bolt acknowledge it and run the listener.
    """
    from slack_bolt.adapter.aiohttp import to_aiohttp_response

    from handlers.slack.verify import MAX_BODY_BYTES, SlackRequestError, check_headers, parse
    from handlers.slack.verify import verify as verify_signature

    secret = request.app[APP_KEY].settings.slack_signing_secret
    body: bytes | None = None
    problem = check_headers(request.headers)
    if problem is None:
        if (request.content_length or 0) > MAX_BODY_BYTES:
            problem = "body larger than any Slack request"
        else:
            body = await _read_at_most(request, MAX_BODY_BYTES)
            problem = ("body larger than any Slack request" if body is None
                       else verify_signature(secret, request.headers, body))
    if problem is not None or body is None:
        log.warning("refused a request to %s: %s", SLACK_EVENTS_PATH, problem)
        return web.json_response({"error": "request not signed by Slack"}, status=401)
    try:
        bolt_request = parse(body, request.headers, request.query_string)
    except SlackRequestError as error:
        log.warning("refused a signed request to %s: %s", SLACK_EVENTS_PATH, error)
        return web.json_response({"error": str(error)}, status=400)
    busy = _busy_answer(request.app[APP_KEY], bolt_request.body)
    if busy is not None:
        return busy
    bolt_response = await request.app[SLACK_KEY].async_dispatch(bolt_request)
    return await to_aiohttp_response(bolt_response)


def _busy_answer(bot_app: App, payload: dict[str, Any]) -> web.Response | None:
    """A new command or form turned away while the work already accepted would take too
    long to finish (``handlers.slack.inflight``)."""
    from bot.conversation.replies import Reply
    from handlers.slack.blockkit import reply_text
    from handlers.slack.inflight import busy_answer

    renderer = bot_app.slack.messenger.renderer
    answer = busy_answer(bot_app.slack.in_flight, payload,
                         lambda name: reply_text(renderer, Reply(name)))
    if answer is None:
        return None
    status, text = answer
    return web.Response(status=status, text=text, content_type="application/json")


async def _read_at_most(request: web.Request, limit: int) -> bytes | None:
    """The body, or None as soon as it grows past ``limit`` (a chunked upload has no
    Content-Length to refuse it by)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class _QuietBadRequests(logging.Filter):
    """aiohttp logs a request it cannot even parse (a header line over 8 KB, a broken
    request line) at ERROR with a traceback, so anyone could fill the log with them: one
    short warning instead. Installed on the ``aiohttp.server`` logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg, record.args = "refused a malformed HTTP request: %s", (
                type(error).__name__,)
            record.exc_info = record.exc_text = None
        return True


def _quiet_bad_requests() -> None:
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, _QuietBadRequests) for f in server_log.filters):
        server_log.addFilter(_QuietBadRequests())


def create_web_app(bot_app: App, *, slack_app: AsyncApp | None = None) -> web.Application:
    """The server's routes. ``slack_app`` is built from the settings when not given and
    Slack is configured for HTTP (a bot token and a signing secret)."""
    _quiet_bad_requests()
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
        web_app.on_shutdown.append(_finish_slack_work)
        web_app.on_cleanup.append(_close_slack_session)
    if bot_app.teams is not None:
        bot_app.teams.add_routes(web_app)  # POST /api/messages
    if bot_app.sandbox is not None:
        bot_app.sandbox.add_routes(web_app)  # GET /, its forms and files
    return web_app


async def _open_slack_session(web_app: web.Application) -> None:
    """One HTTP session, kept open, for the Bolt app's Web API calls (``views.open`` and
    the like): without it every call opens and closes a connection of its own, work that
    competes with the acknowledgements on the same event loop."""
    from aiohttp import ClientSession

    web_app[SLACK_KEY].client.session = ClientSession()


async def _finish_slack_work(web_app: web.Application) -> None:
    """Slack's listeners that acknowledged finish before the server stops (aiohttp runs
    this once it no longer takes requests): what a person saw accepted is not lost."""
    await web_app[APP_KEY].slack.in_flight.drain()


async def _close_slack_session(web_app: web.Application) -> None:
    client = web_app[SLACK_KEY].client
    if client.session is not None:
        await client.session.close()
        client.session = None
