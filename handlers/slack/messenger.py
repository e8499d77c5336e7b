"""Delivers outbox messages to Slack through the Web API.

DMs are posted with the user id as the channel (Slack opens the IM itself; no
``conversations.open`` per message). A message that replaces an earlier one is a
``chat.update`` of that message (``platform_ref`` is ``"channel:ts"``). A message whose
context carries an ``ics`` invite gets it uploaded into the same conversation, and one
with a ``chart`` (the digest's trend, drawn by ``Renderer.chart_png``) gets the image
uploaded in its thread; the program report's charts, CSV and XLSX
(``Renderer.report_files``) follow in the thread too.

Rendering: ``templates/slack/<template>.json.j2`` when it exists (Block Kit with buttons),
else the plain-text template in one section block. Slack's errors become ``DeliveryError``:
429 carries its ``Retry-After``; 5xx and network trouble are retried; errors that no retry
can fix (a deleted user, a revoked token) are permanent.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.model import Platform
from bot.ports import DeliveryError, OutboxMessage
from bot.rendering import Renderer, slack_escape

SECTION_TEXT_LIMIT = 3000  # Slack's cap for a section block's text
FALLBACK_TEXT_LIMIT = 4000  # chat.postMessage truncates `text` beyond 40k; keep notifications short

PERMANENT_ERRORS = frozenset(
    {
        "account_inactive",
        "channel_not_found",
        "user_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "missing_scope",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "cannot_dm_bot",
        "user_disabled",
        "message_not_found",
        "cant_update_message",
    }
)


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, ending with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class SlackMessenger:
    platform = Platform.SLACK

    def __init__(self, client: AsyncWebClient, renderer: Renderer) -> None:
        self.client = client
        self.renderer = renderer

    def render(self, message: OutboxMessage) -> dict[str, Any]:
        """``{"text": ..., "blocks": [...]}`` for ``chat.postMessage`` / ``chat.update``."""
        m = message.message
        renderer = self.renderer.for_locale(message.locale)
        text = renderer.text(m.template, m.context)
        rich = f"slack/{m.template}.json.j2"
        if renderer.has(rich):
            payload = renderer.render_json(rich, m.context)
            payload.setdefault("text", truncate(slack_escape(text), FALLBACK_TEXT_LIMIT))
            return payload
        # The top-level text is the notification and the fallback, and Slack reads it as
        # mrkdwn: what people typed must not become a <!channel> ping or a disguised link.
        return {
            "text": truncate(slack_escape(text), FALLBACK_TEXT_LIMIT),
            "blocks": [
                {
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": truncate(slack_escape(text), SECTION_TEXT_LIMIT),
                    },
                }
            ],
        }

    async def deliver(self, message: OutboxMessage) -> str | None:
        recipient = message.message.recipient
        if recipient.identity is None or recipient.identity.platform != Platform.SLACK:
            raise DeliveryError(
                f"{recipient.email or 'recipient'} has no Slack identity", permanent=True
            )
        payload = self.render(message)
        renderer = self.renderer.for_locale(message.locale)
        try:
            if message.replaces_ref:
                channel, ts = message.replaces_ref.split(":", 1)
                response = await self.client.chat_update(channel=channel, ts=ts, **payload)
            else:
                response = await self.client.chat_postMessage(
                    channel=recipient.identity.user_id, **payload
                )
            channel, ts = str(response["channel"]), str(response["ts"])
            ics = renderer.invite_ics(message.message.context)
            if ics and not message.replaces_ref:
                await self.client.files_upload_v2(
                    channel=channel,
                    thread_ts=ts,
                    content=str(ics),
                    filename=str(message.message.context.get("ics_filename", "invite.ics")),
                    title=renderer.text("files/invite_title", {}),
                )
            chart = None if message.replaces_ref else renderer.chart_png(
                message.message.context)
            if chart:
                await self.client.files_upload_v2(
                    channel=channel,
                    thread_ts=ts,
                    content=chart,
                    filename=str(message.message.context.get("chart_filename", "chart.png")),
                    title=renderer.text("files/chart_title", {}),
                )
            if not message.replaces_ref:  # the program report's charts and files
                for file in await asyncio.to_thread(renderer.report_files,
                                                    message.message.context):
                    await self.client.files_upload_v2(
                        channel=channel, thread_ts=ts, content=file.content,
                        filename=file.filename, title=file.title)
        except SlackApiError as error:
            raise _delivery_error(error) from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryError(f"Slack unreachable: {error!r}") from error
        return f"{channel}:{ts}"


def _delivery_error(error: SlackApiError) -> DeliveryError:
    response = error.response
    status = getattr(response, "status_code", 0) or 0
    code = ""
    data = getattr(response, "data", None)
    if isinstance(data, dict):
        code = str(data.get("error", ""))
    elif isinstance(data, (bytes, str)):
        try:
            code = str(json.loads(data).get("error", ""))
        except (ValueError, AttributeError):
            code = ""
    if status == 429 or code == "ratelimited":
        headers = getattr(response, "headers", {}) or {}
        retry_after = headers.get("Retry-After") or headers.get("retry-after") or "1"
        return DeliveryError(f"Slack rate limit ({code or 429})", retry_after=float(retry_after))
    if status >= 500:
        return DeliveryError(f"Slack answered {status} {code}".strip())
    return DeliveryError(f"Slack refused: {code or status}", permanent=code in PERMANENT_ERRORS)
