"""Events API callbacks: ``app_home_opened`` publishes the person's App Home.

Bolt acknowledges events itself, before this runs. Slack retries a callback it thinks
failed (same ``event_id``, with ``X-Slack-Retry-Num``); the event's key makes the retry a
no-op, so a slow first delivery is never worked twice.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext as BoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.idempotency import event_key, retry_number
from handlers.slack.listeners import SlackDeps, publish_home

log = logging.getLogger(__name__)


async def on_home_opened(body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient,
                         request: AsyncBoltRequest, context: BoltContext) -> None:
    deps: SlackDeps = context["deps"]
    if event.get("tab") != "home":
        return  # the Messages tab: nothing to draw
    retry = retry_number(request.headers)
    if retry:
        log.info("Slack retried event %s (attempt %s)", body.get("event_id"), retry + 1)

    async def draw() -> None:
        actor = await deps.actor(body)
        await publish_home(deps, client, actor)

    key = event_key(body)
    async with deps.reporting(None, body, client):
        await (deps.once.run(key, draw) if key else draw())


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(on_home_opened)


__all__ = ["on_home_opened", "register"]
