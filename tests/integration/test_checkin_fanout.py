"""A quarterly check-in to 1,500 advocates, end to end on a SQLite file: every advocate
gets exactly one check-in DM although Slack answers 429 and 5xx along the way, nothing
becomes a dead letter, and the dispatcher logs its progress.

Real pieces: the migrations, ``run_due_jobs`` queueing the check-ins, the
``OutboxDispatcher``, the ``SlackMessenger`` with the Block Kit renderer and slack_sdk's
client over HTTP to ``FakeSlack``, which fails a seeded share of the posts. Time is a
``FixedClock`` moved past each ``next_attempt_at`` instead of slept through (Retry-After
to the second is unit-tested in ``tests/unit/test_dispatch.py``).
"""

from __future__ import annotations

import logging
import shutil
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.model import Platform
from bot.domain.policy import ProgramPolicy
from bot.jobs import run_due_jobs
from bot.services.context import ServiceContext
from bot.services.dispatch import DispatchStats, OutboxDispatcher
from handlers.slack.blockkit import slack_renderer
from handlers.slack.messenger import SlackMessenger
from storage.db import create_engine
from storage.tables import AdvocateRow, OutboxRow, PersonRow
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes import FixedClock
from tests.slack_fake import FakeSlack

ADVOCATES = 1500  # bench/bench_checkin_fanout.py runs 5,000 and times it
# Wednesday 1 April 2026, 10:00 in Berlin: the first business day of Q2, check-in time.
NOW = datetime(2026, 4, 1, 8, tzinfo=UTC)
ZONE = "Europe/Berlin"


def user_id(n: int) -> str:
    return f"U{n:05d}"


@pytest.fixture
async def engine(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    path = tmp_path / "fanout.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_engine(f"sqlite:///{path}")
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    try:
        yield fake
    finally:
        await fake.stop()


async def add_advocates_on_slack(engine: AsyncEngine, count: int) -> None:
    """``count`` active advocates, each linked to a Slack user (bulk, not 5,000 use cases:
    the roster import is tested elsewhere)."""
    advocates, people = [], []
    for n in range(1, count + 1):
        email = f"advocate{n}@customer{n}.example"
        advocates.append({
            "id": n, "email": email, "email_key": email, "name": f"Advocate {n}",
            "company": f"Customer {n}", "products": [], "use_cases": [],
            "languages": ["English"], "reference_types": ["call"], "do_not_use_with": [],
            "status": "active", "timezone": ZONE, "points": n % 50,
            "joined_on": date(2025, 1, 1),
        })
        people.append({
            "platform": Platform.SLACK.value, "workspace_id": "T0001", "user_id": user_id(n),
            "email": email, "email_key": email, "display_name": f"Advocate {n}",
            "timezone": ZONE, "updated_at": NOW,
        })
    async with engine.begin() as connection:
        await connection.execute(insert(AdvocateRow), advocates)
        await connection.execute(insert(PersonRow), people)


async def outbox_counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(OutboxRow.status, func.count()).where(OutboxRow.template == "check_in")
            .group_by(OutboxRow.status))
        return {status: count for status, count in rows}


async def test_a_check_in_reaches_every_advocate_once_each_through_429s_and_5xx(
        engine: AsyncEngine, slack: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    await add_advocates_on_slack(engine, ADVOCATES)
    clock = FixedClock(NOW)
    uow = SqlUnitOfWorkFactory(engine)
    ctx = ServiceContext(uow=uow, clock=clock, policy=ProgramPolicy(),
                         program_timezone=ZONE)

    runs = await run_due_jobs(ctx, NOW)

    assert [(r.job, r.period, r.queued) for r in runs if r.job == "check_ins"] == [
        ("check_ins", "2026-Q2", ADVOCATES)]
    assert await outbox_counts(engine) == {"pending": ADVOCATES}

    # 0.5% of the posts answered 429 (Retry-After: 1), 3% a 5xx; one of each up front.
    slack.fail_randomly("chat.postMessage", rate_limited=0.005, server_error=0.03,
                        seed=2026)
    slack.fail_next("chat.postMessage", 503)
    slack.fail_next("chat.postMessage", 429, "ratelimited", retry_after=1)
    async with aiohttp.ClientSession() as session:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url, session=session)
        dispatcher = OutboxDispatcher(
            uow, {Platform.SLACK: SlackMessenger(client, slack_renderer())}, clock,
            base_delay=2.0)
        total = DispatchStats()
        with caplog.at_level(logging.INFO, logger="bot.services.dispatch"):
            for _ in range(1000):
                stats = await dispatcher.run_once(limit=100)
                total += stats
                if stats == DispatchStats():
                    if (await outbox_counts(engine)).keys() == {"sent"}:
                        break
                    clock.advance(seconds=10)  # past any backoff still pending
                else:
                    clock.advance(seconds=1)  # past a Retry-After: 1
            # Another replica (or a restart) finds nothing left to send.
            assert await dispatcher.run_once() == DispatchStats()

    posts = slack.calls_to("chat.postMessage")
    delivered = Counter(str(c.args["channel"]) for c in posts if c.answer and c.answer["ok"])
    assert len(delivered) == ADVOCATES
    assert set(delivered.values()) == {1}  # none twice
    assert set(delivered) == {user_id(n) for n in range(1, ADVOCATES + 1)}  # none lost
    refused = len(posts) - ADVOCATES
    assert refused >= 2 + 0.025 * ADVOCATES  # the failures really happened...
    assert total.retried == refused  # ...and each one was retried, not dropped
    assert total.dead == 0 and total.sent == ADVOCATES
    assert await outbox_counts(engine) == {"sent": ADVOCATES}
    texts = [c.args for c in posts[:1]]
    assert texts and texts[0]["blocks"]  # Block Kit, not just a text fallback

    progress = [r.getMessage() for r in caplog.records if r.getMessage().startswith("outbox pass")]
    assert progress, "the dispatcher logs a line per pass"
    assert f"since start: {ADVOCATES} sent" in progress[-1]
