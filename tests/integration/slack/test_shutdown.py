"""Stopping the server never loses what Slack was told it got.

Bolt acknowledges a submitted intake at once and files it afterwards; a server stopped in
between (a deploy, a scaled-down replica: SIGTERM, then ``runner.cleanup()``) must finish
that work before it closes the database, or the rep's form closed on a request that was
never filed.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

import handlers.slack.listeners.views as views
from bot.bootstrap import open_app
from bot.domain.model import Person
from handlers.slack import ids
from handlers.web import create_web_app
from tests.fakes import FixedClock
from tests.integration.slack.conftest import RILEY, START, Slack, settings_for
from tests.integration.slack.test_end_to_end import intake_state
from tests.slack_fake import FakeSlack

SLOW = 0.5  # seconds the filing takes after the ack


def slowed(real: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def dispatch(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(SLOW)
        return await real(*args, **kwargs)
    return dispatch


async def test_an_intake_acknowledged_before_shutdown_is_filed_before_the_server_stops(
        sqlite_template: Path, tmp_path: Path, fake_slack: FakeSlack,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "dispatch", slowed(views.dispatch))
    database = tmp_path / "bot.db"
    shutil.copyfile(sqlite_template, database)
    clock = FixedClock(START)
    async with open_app(settings_for(database, fake_slack), clock=clock) as bot:
        runner = web.AppRunner(create_web_app(bot), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        async with aiohttp.ClientSession() as http:
            slack = Slack(bot=bot, fake=fake_slack, url=f"http://127.0.0.1:{port}/slack/events",
                          http=http, clock=clock, dispatcher=None)  # type: ignore[arg-type]
            response = await slack.submit(RILEY, ids.VIEW_INTAKE, intake_state())
            assert (response.status, response.text) == (200, "")  # the form closed

            await runner.cleanup()  # what `serve` does on SIGTERM

            async with bot.uow() as uow:
                filed = await uow.requests.list_for_rep(Person(email=RILEY[1]),
                                                        include_closed=True)
            assert [r.prospect_company for r in filed] == ["Globex Bank"]
            assert bot.slack.in_flight.running == 0
