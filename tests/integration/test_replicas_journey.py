"""Two replicas on one PostgreSQL, a journey's requests spread across them.

Each step of a reference call — the intake, asking an advocate, her Accept (clicked at
both replicas at the same moment), picking the time — goes to the other replica than the
step before, as a load balancer would send them, and both replicas' outbox dispatchers
deliver at the same time. Every message reaches Slack exactly once, the double click does
one thing, and the journey ends booked.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import text

from bot.bootstrap import open_app
from bot.domain.model import EngagementState
from bot.services.dispatch import OutboxDispatcher
from handlers.slack import ids
from handlers.web import create_web_app
from storage.db import create_engine
from tests.fakes import FixedClock
from tests.integration.conftest import _TERMINATE_OTHERS, _TRUNCATE
from tests.integration.slack.conftest import (
    ADA,
    RILEY,
    START,
    Slack,
    all_text,
    settings_for,
)
from tests.integration.slack.test_end_to_end import button, intake_state, ts_of, with_button
from tests.slack_fake import FakeSlack

pytestmark = pytest.mark.postgres


async def _empty(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(_TERMINATE_OTHERS)
            await connection.execute(text("SET LOCAL lock_timeout = '10s'"))
            await connection.execute(_TRUNCATE)
    finally:
        await engine.dispose()


@pytest.fixture
async def slack_api() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    for user in (RILEY, ADA):
        fake.add_user(*user)
    yield fake
    await fake.stop()


@pytest.fixture
async def replicas(pg_url: str, slack_api: FakeSlack,
                   tmp_path: Path) -> AsyncIterator[list[Slack]]:
    """Two running replicas of the bot (each its own server, engine and dispatcher) on one
    database, sharing the fake Slack and the clock."""
    await _empty(pg_url)
    clock = FixedClock(START)
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(aiohttp.ClientSession())
        harnesses = []
        for _ in range(2):
            bot = await stack.enter_async_context(
                open_app(settings_for(tmp_path, slack_api, database_url=pg_url), clock=clock))
            runner = web.AppRunner(create_web_app(bot), access_log=None)
            await runner.setup()
            stack.push_async_callback(runner.cleanup)
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            dispatcher = OutboxDispatcher(bot.uow, bot.messengers, clock,
                                          directories=list(bot.directories.values()))
            harnesses.append(Slack(bot=bot, fake=slack_api, http=http, clock=clock,
                                   url=f"http://127.0.0.1:{port}/slack/events",
                                   dispatcher=dispatcher))
        yield harnesses
        for harness in harnesses:
            await harness.settle()


async def deliver_on_both(replicas: list[Slack]) -> None:
    """Both replicas finish their listeners, then both dispatchers run at once until
    neither has anything left."""
    for replica in replicas:
        await replica.settle()
    while True:
        passes = await asyncio.gather(*(r.dispatcher.run_once() for r in replicas))
        if not any(p.handled for p in passes):
            return


def posted(fake: FakeSlack) -> Counter[tuple[str, str]]:
    return Counter((str(c.args.get("channel")), str(c.args.get("text")))
                   for c in fake.calls_to("chat.postMessage"))


async def test_a_journey_spread_over_two_replicas_sends_every_message_once(
        replicas: list[Slack], slack_api: FakeSlack) -> None:
    a, b = replicas
    ada = await a.add_advocate(email=ADA[1], name=ADA[2], company="Harbor Bank",
                               timezone=ADA[3])

    # The intake at replica A: Riley's matches arrive once.
    response = await a.submit(RILEY, ids.VIEW_INTAKE, intake_state())
    assert (response.status, response.text) == (200, "")
    await deliver_on_both(replicas)
    [matches] = a.dms_to(RILEY)
    ask_button = button(matches, ids.ACTION_ASK_ADVOCATE)
    assert ask_button["value"].endswith(f":{ada.id}")

    # Riley asks Ada at replica B: one ask reaches her.
    await b.click(RILEY, ids.ACTION_ASK_ADVOCATE, ask_button["value"],
                  message_ts=ts_of(matches))
    await deliver_on_both(replicas)
    [ask] = b.dms_to(ADA)
    accept = button(ask, ids.ACTION_ASK_ACCEPT)

    # Ada's Accept reaches both replicas at once: one acceptance, one update in place.
    first, second = await asyncio.gather(
        a.click(ADA, ids.ACTION_ASK_ACCEPT, accept["value"], message_ts=ts_of(ask)),
        b.click(ADA, ids.ACTION_ASK_ACCEPT, accept["value"], message_ts=ts_of(ask)))
    assert first.status == second.status == 200
    await deliver_on_both(replicas)
    assert len(slack_api.calls_to("chat.update")) == 1
    pick = with_button(a.dms_to(ADA), ids.ACTION_PICK_SLOT)

    # She picks the time at replica B: both are told once, each with the invite.
    await b.click(ADA, ids.ACTION_PICK_SLOT, button(pick, ids.ACTION_PICK_SLOT)["value"],
                  message_ts=ts_of(pick))
    await deliver_on_both(replicas)
    async with a.bot.uow() as uow:
        engagements = await uow.engagements.list_for_advocate(ada.id or 0)
    assert [e.state for e in engagements] == [EngagementState.SCHEDULED]
    assert "11:00" in all_text(a.dms_to(RILEY)[-1].args)  # 15:00 UTC in New York
    assert len(slack_api.uploads) == 2

    # Nothing reached Slack twice, and everything the outbox holds was sent.
    assert [key for key, n in posted(slack_api).items() if n > 1] == []
    async with a.bot.engine.connect() as connection:
        unsent = await connection.scalar(text(
            "SELECT count(*) FROM outbox WHERE status <> 'sent'"))
    assert unsent == 0

