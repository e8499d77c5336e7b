"""``/metrics`` and ``/readyz``, and the middleware that times every request.

* ``GET /metrics`` — Prometheus' text format (``bot.metrics``): outbox backlog and the age
  of its oldest message, deliveries by platform and result, retries, dead letters, job
  runs and durations, roster size by status, request counts and latency histograms per
  route. The two database-backed numbers cost one indexed query each, per scrape. When the
  database cannot answer, the scrape still succeeds with the in-memory series (a failing
  scrape would hide exactly the counters that explain the outage) and
  ``advocate_bot_metrics_database_up`` says 0.
* ``GET /readyz`` — should this replica get traffic? 200 when the database answers and its
  schema is the one this code ships; 503 with the reason otherwise (unreachable, behind:
  run ``advocate-bot db upgrade``, or migrated by a newer version). ``/healthz`` stays the
  cheap liveness check.

``add_observability(web_app, bot_app)`` mounts both and the timing middleware; the route
label is the route's pattern (``/slack/events``), never the raw path, so a scanner probing
random URLs cannot create unbounded series (unmatched paths count as ``unmatched``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.bootstrap import App
from bot.metrics import CONTENT_TYPE, Metrics
from storage.migrate import UPGRADE_HINT
from storage.stats import migration_heads, outbox_backlog, roster_counts, shipped_revisions

log = logging.getLogger(__name__)

OBSERVABILITY_KEY = web.AppKey("advocate_bot_observability", App)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_observability(web_app: web.Application, bot_app: App) -> None:
    """Mount ``/metrics`` and ``/readyz`` and time every request into ``bot_app.metrics``."""
    web_app[OBSERVABILITY_KEY] = bot_app
    web_app.router.add_get("/metrics", metrics)
    web_app.router.add_get("/readyz", readyz)
    web_app.middlewares.append(_timing(bot_app.metrics))


def _timing(metrics: Metrics) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    @web.middleware
    async def timed(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as error:
            status = error.status
            raise
        finally:
            metrics.request_finished(_route(request), request.method, status,
                                     time.perf_counter() - started)

    return timed


def _route(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


async def metrics(request: web.Request) -> web.Response:
    bot_app = request.app[OBSERVABILITY_KEY]
    try:
        backlog = await outbox_backlog(bot_app.engine)
        roster = await roster_counts(bot_app.engine)
    except Exception as error:  # the scrape must still show the in-memory series
        log.warning("metrics: cannot read the database (%s)", type(error).__name__)
        bot_app.metrics.database_up.set(0)
    else:
        bot_app.metrics.set_backlog(backlog.pending, backlog.oldest_age(bot_app.clock.now()))
        bot_app.metrics.set_roster(roster)
        bot_app.metrics.database_up.set(1)
    return web.Response(body=bot_app.metrics.render(),
                        headers={"Content-Type": CONTENT_TYPE})


async def readyz(request: web.Request) -> web.Response:
    """200 ``{"status": "ready"}``, or 503 with ``reason`` saying what is wrong."""
    bot_app = request.app[OBSERVABILITY_KEY]
    head, known = shipped_revisions()
    try:
        heads = await migration_heads(bot_app.engine)
    except Exception as error:
        # The type only: a driver's message can carry the host or the user name.
        return _not_ready(f"database unreachable ({type(error).__name__})")
    if heads == (head,):
        return web.json_response({"status": "ready", "database": "ok", "schema": head})
    if not heads:
        return _not_ready(f"database has no schema yet (this version needs {head}): "
                          f"{UPGRADE_HINT}")
    current = ",".join(heads)
    if set(heads) <= known:
        return _not_ready(f"database schema is at {current}, this version needs {head}: "
                          f"{UPGRADE_HINT}")
    return _not_ready(f"database schema is at {current}, which this version does not know "
                      f"(its newest is {head}): a newer version of advocate-bot migrated it")


def _not_ready(reason: str) -> web.Response:
    return web.json_response({"status": "not ready", "reason": reason}, status=503)


__all__ = ["add_observability"]
