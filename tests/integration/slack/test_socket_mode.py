"""Socket Mode (``SLACK_APP_TOKEN``): Slack pushes payloads down a WebSocket the bot
opened, so no public URL is needed; the same listeners answer them."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

from bot.bootstrap import open_app
from handlers.slack import ids
from handlers.slack.app import build_slack_app, start_socket_mode
from tests.fakes import FixedClock
from tests.integration.slack.conftest import RILEY, START, load_fixture, settings_for
from tests.slack_fake import FakeSlack


async def eventually(condition: Callable[[], bool], *, limit: float = 10.0) -> None:
    """Wait for ``condition``: Socket Mode work happens on its own schedule."""
    for _ in range(int(limit / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"still not true after {limit} s")


async def test_a_command_over_socket_mode_is_acked_on_the_socket_and_answered(
        sqlite_template: Path, tmp_path: Path, fake_slack: FakeSlack) -> None:
    database = tmp_path / "bot.db"
    shutil.copyfile(sqlite_template, database)
    settings = settings_for(database, fake_slack, slack_signing_secret="",
                            slack_app_token="xapp-1-test")
    async with open_app(settings, clock=FixedClock(START)) as bot:
        handler = await start_socket_mode(build_slack_app(bot), settings.slack_app_token)
        try:
            command = load_fixture("req_slash_command")
            command.update(user_id=RILEY[0], command=ids.COMMAND_REFERENCE, text="",
                           response_url=fake_slack.response_url("socket"))
            await fake_slack.socket_outbox.put({
                "envelope_id": "env-1", "type": "slash_commands", "payload": command,
                "accepts_response_payload": True, "retry_attempt": 0})
            await eventually(lambda: bool(fake_slack.socket_replies
                                          and fake_slack.calls_to("views.open")))
        finally:
            await handler.close_async()
    assert [r["envelope_id"] for r in fake_slack.socket_replies] == ["env-1"]
    [opened] = fake_slack.calls_to("views.open")
    assert opened.args["view"]["callback_id"] == ids.VIEW_INTAKE
    [connect] = fake_slack.calls_to("apps.connections.open")
    assert connect.args == {}  # the app token travels in the header, never in the body
