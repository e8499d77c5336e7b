"""Time a quarterly check-in to 5,000 advocates against a rate-limited fake Slack.

    python bench/bench_checkin_fanout.py [--advocates 5000] [--rate 100] [--concurrency 8]
    python bench/bench_checkin_fanout.py --queue-only     # just queueing the check-ins

``FakeSlack`` (``tests/slack_fake.py``) answers ``chat.postMessage`` beyond ``--rate``
calls per second per workspace (a token bucket, burst = rate) with 429 and a whole-second
``Retry-After``, as Slack does. The check-ins are queued by the real ``run_due_jobs`` on a
SQLite file migrated by the real migrations (timed on its own: target < 2 s for 5,000),
then the real ``OutboxDispatcher``
(``run_forever``, system clock, real sleeps) delivers them through the real
``SlackMessenger`` until every one is sent. Reported: elapsed time against the minimum the
rate limit allows (``advocates / rate``), and how many calls were refused on the way.
Target: at most 1.1x.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select

from bot.clock import SystemClock
from bot.domain.model import Platform
from bot.domain.policy import ProgramPolicy
from bot.jobs import run_due_jobs
from bot.services.context import ServiceContext
from bot.services.dispatch import OutboxDispatcher
from handlers.slack.blockkit import slack_renderer
from handlers.slack.messenger import SlackMessenger
from storage.db import create_engine
from storage.migrate import upgrade
from storage.tables import OutboxRow
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes import FixedClock
from tests.integration.test_checkin_fanout import NOW, ZONE, add_advocates_on_slack
from tests.slack_fake import FakeSlack


async def pending(uow: SqlUnitOfWorkFactory) -> int:
    async with uow.engine.connect() as connection:
        return int(await connection.scalar(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.status == "pending"))
            or 0)


async def bench(advocates: int, rate: float, concurrency: int, queue_only: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{folder}/bench.db")
        slack = await FakeSlack().start()
        try:
            await upgrade(engine)
            await add_advocates_on_slack(engine, advocates)
            uow = SqlUnitOfWorkFactory(engine)
            ctx = ServiceContext(uow=uow, clock=FixedClock(NOW), policy=ProgramPolicy(),
                                 program_timezone=ZONE)
            started = time.perf_counter()
            await run_due_jobs(ctx, NOW)
            queued_in = time.perf_counter() - started
            print(f"queued {await pending(uow)} check-ins in {queued_in:.2f} s "
                  "(run_due_jobs: ledger claims and outbox rows, in batches)", flush=True)
            if queue_only:
                return

            limit = slack.rate_limit("chat.postMessage", per_second=rate)
            async with aiohttp.ClientSession() as session:
                client = AsyncWebClient(token="xoxb-bench", base_url=slack.api_url,
                                        session=session)
                dispatcher = OutboxDispatcher(
                    uow, {Platform.SLACK: SlackMessenger(client, slack_renderer())},
                    SystemClock(), concurrency=concurrency)
                stop = asyncio.Event()
                started = time.perf_counter()
                worker = asyncio.create_task(dispatcher.run_forever(stop))
                while dispatcher.totals.sent < advocates and not worker.done():  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
                elapsed = time.perf_counter() - started
                stop.set()
                await worker
            left = await pending(uow)
        finally:
            await slack.stop()
            await engine.dispose()
    posts = slack.calls_to("chat.postMessage")
    floor = advocates / rate
    totals = dispatcher.totals
    print(f"{advocates} check-ins at {rate:g}/s (concurrency {concurrency}): "
          f"{elapsed:.1f} s, minimum {floor:.1f} s, ratio {elapsed / floor:.3f}")
    print(f"  {len(posts)} chat.postMessage calls, {limit.limited} answered 429; "
          f"sent {totals.sent}, retried {totals.retried}, deferred {totals.deferred}, "
          f"dead {totals.dead}, still pending {left}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--advocates", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--verbose", action="store_true", help="log every dispatcher pass")
    parser.add_argument("--queue-only", action="store_true",
                        help="time queueing the check-ins, skip delivering them")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR,
                        format="%(asctime)s %(message)s")
    asyncio.run(bench(args.advocates, args.rate, args.concurrency, args.queue_only))


if __name__ == "__main__":
    main()
