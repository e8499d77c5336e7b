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
from handlers.slack.inflight import InFlight
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


# --- accepting no more than can be finished -----------------------------------------------


def test_the_backlog_is_the_work_accepted_times_its_measured_length_per_slot() -> None:
    queue = InFlight(slots=4)
    assert not queue.saturated
    queue.running, queue.seconds_each = 100, 0.2
    assert queue.backlog_seconds == pytest.approx(5.0) and not queue.saturated
    queue.seconds_each = 0.5
    assert queue.backlog_seconds == pytest.approx(12.5) and queue.saturated


async def test_work_is_timed_into_the_moving_average() -> None:
    queue = InFlight(slots=1, seconds_each=0.0)
    async with queue.hold(), queue.work():
        await asyncio.sleep(0.05)
    assert 0.005 < queue.seconds_each < 0.05  # a fifth of the new measurement
    assert queue.running == 0


async def test_a_drain_gives_up_after_its_limit_and_says_how_many_were_left() -> None:
    queue = InFlight()
    release = asyncio.Event()

    async def listener() -> None:
        async with queue.hold():
            await release.wait()

    task = asyncio.ensure_future(listener())
    await asyncio.sleep(0)
    assert await queue.drain(limit=0.05) == 1
    release.set()
    await task
    assert await queue.drain(limit=0.05) == 0


async def test_while_saturated_a_command_and_a_form_are_turned_away_and_nothing_starts(
        slack: Slack) -> None:
    queue = slack.bot.slack.in_flight
    queue.running, queue.seconds_each = 1_000, 1.0
    try:
        answer = await slack.command(RILEY, ids.COMMAND_REFERENCE, "list")
        assert answer.status == 200
        assert answer.json()["response_type"] == "ephemeral"
        assert "busy" in answer.json()["text"] and "try again" in answer.json()["text"]

        state = intake_state()
        view_blocks = [{"type": "input", "block_id": name} for name in state]
        answer = await slack.submit(RILEY, ids.VIEW_INTAKE, state, blocks=view_blocks)
        errors = answer.json()
        assert errors["response_action"] == "errors"
        assert list(errors["errors"]) == [next(iter(state))]
        assert "submit the form again" in next(iter(errors["errors"].values()))
        await slack.settle()
    finally:
        queue.running = 0
    async with slack.bot.uow() as uow:
        assert await uow.requests.list_for_rep(Person(email=RILEY[1]),
                                               include_closed=True) == []
    assert not slack.fake.calls_to("views.open")
