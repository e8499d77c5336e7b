"""``/metrics`` and ``/readyz`` over real HTTP, on the app ``serve`` builds.

The metrics page is read the way Prometheus reads it (the text format, parsed with
prometheus-client's own parser), after the things it counts really happened: messages
queued and delivered through the real dispatcher, a job run, requests answered.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import aiosqlite.core
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from bot.bootstrap import App, open_app
from bot.config import Settings
from bot.domain.model import AdvocateStatus, Identity, Person, Platform
from bot.jobs import run_due_jobs
from bot.ports import DeliveryError, OutgoingMessage
from bot.services.dispatch import OutboxDispatcher
from handlers.web import create_web_app
from storage.db import create_engine
from tests.fakes import FakeMessenger, FixedClock
from tests.unit.conftest import build_advocate

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


class Server:
    def __init__(self, bot: App, url: str, http: aiohttp.ClientSession) -> None:
        self.bot, self.url, self.http = bot, url, http

    async def get(self, path: str) -> tuple[int, str, str]:
        async with self.http.get(self.url + path) as response:
            return response.status, response.headers["Content-Type"], await response.text()

    async def samples(self) -> Samples:
        status, _, body = await self.get("/metrics")
        assert status == 200
        return {(s.name, frozenset(s.labels.items())): s.value
                for family in text_string_to_metric_families(body) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
async def server(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Server]:
    database = tmp_path / "bot.db"
    shutil.copyfile(sqlite_template, database)
    settings = Settings(database_url=f"sqlite:///{database}", program_timezone="Europe/Berlin")
    async with open_app(settings, clock=FixedClock(NOW)) as bot:
        runner = web.AppRunner(create_web_app(bot), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            async with aiohttp.ClientSession() as http:
                yield Server(bot, f"http://127.0.0.1:{port}", http)
        finally:
            await runner.cleanup()
            await bot.engine.dispose()  # an engine a test put in (unplug_database)
            await connection_threads_finished()


async def connection_threads_finished() -> None:
    """Wait for aiosqlite's worker threads to finish before this test's loop closes: a
    connection that failed to open still has its stop to answer on the loop, and a
    thread that answers a closed loop fails the next test."""
    for thread in threading.enumerate():
        if getattr(thread, "_target", None) is aiosqlite.core._connection_worker_thread:
            await asyncio.to_thread(thread.join, 2.0)


async def queue(bot: App, key: str, *, at: datetime, to: Person) -> None:
    async with bot.uow() as uow:
        await uow.outbox.add(OutgoingMessage(recipient=to, template="hello", context={},
                                             key=key), now=at)
        await uow.commit()


async def unplug_database(server: Server, tmp_path: Path) -> None:
    """Point the app at a database file whose folder disappears after start-up (the
    engine refuses a missing folder up front, so it goes once the engine exists)."""
    await server.bot.engine.dispose()
    folder = tmp_path / "gone"
    folder.mkdir()
    server.bot.engine = create_engine(f"sqlite:///{folder / 'bot.db'}")
    folder.rmdir()


RILEY = Person(email="riley@vendor.example", identity=Identity(Platform.SLACK, "T1", "UR"))


async def test_metrics_expose_the_outbox_deliveries_jobs_roster_and_requests(
        server: Server) -> None:
    bot = server.bot
    async with bot.uow() as uow:
        for status in (AdvocateStatus.ACTIVE, AdvocateStatus.ACTIVE, AdvocateStatus.PAUSED):
            await uow.advocates.add(build_advocate(status=status))
        await uow.commit()
    slack = FakeMessenger(Platform.SLACK)
    slack.fail_next += [DeliveryError("HTTP 500"), DeliveryError("ratelimited", retry_after=1)]
    await queue(bot, "sent-after-two-retries", at=NOW, to=RILEY)
    await queue(bot, "dead", at=NOW, to=Person(email="ghost@nowhere.example"))
    await queue(bot, "waiting", at=NOW - timedelta(minutes=5), to=RILEY)
    async with bot.engine.begin() as connection:  # "waiting" is scheduled for later
        await connection.execute(text(
            "UPDATE outbox SET next_attempt_at = :later WHERE key = 'waiting'"),
            {"later": NOW + timedelta(hours=1)})
    dispatcher = OutboxDispatcher(bot.uow, {Platform.SLACK: slack}, bot.clock,
                                  observer=bot.metrics)
    for _ in range(3):
        await dispatcher.run_once()
        bot.clock.advance(seconds=2)  # type: ignore[attr-defined]
    await run_due_jobs(bot.ctx, NOW, observe=bot.metrics.job_finished)
    assert (await server.get("/healthz"))[0] == 200

    status, content_type, _ = await server.get("/metrics")
    samples = await server.samples()

    assert status == 200 and content_type.startswith("text/plain")
    deliveries = "advocate_bot_outbox_deliveries_total"
    assert value(samples, deliveries, platform="slack", result="sent") == 1
    assert value(samples, deliveries, platform="slack", result="retry") == 2
    assert value(samples, deliveries, platform="unknown", result="dead") == 1
    retries = "advocate_bot_outbox_retries_total"
    assert value(samples, retries, platform="slack", cause="error") == 1
    assert value(samples, retries, platform="slack", cause="rate_limited") == 1
    assert value(samples, "advocate_bot_outbox_dead_letters_total", platform="unknown") == 1
    assert value(samples, "advocate_bot_outbox_pending") == 1  # "waiting"
    # Created five minutes before NOW; the clock moved 6 s since.
    assert value(samples, "advocate_bot_outbox_oldest_pending_age_seconds") == 306
    assert value(samples, "advocate_bot_roster_advocates", status="active") == 2
    assert value(samples, "advocate_bot_roster_advocates", status="paused") == 1
    assert value(samples, "advocate_bot_roster_advocates", status="retired") == 0
    assert value(samples, "advocate_bot_job_runs_total", job="recognition", result="ok") == 1
    assert value(samples, "advocate_bot_job_duration_seconds_count", job="recognition") == 1
    assert value(samples, "advocate_bot_http_requests_total", route="/healthz", method="GET",
                 status="200") == 1
    assert value(samples, "advocate_bot_http_request_duration_seconds_count",
                 route="/healthz", method="GET") == 1
    assert value(samples, "advocate_bot_metrics_database_up") == 1


async def test_unknown_paths_share_one_route_label(server: Server) -> None:
    for path in ("/wp-admin", "/.env", "/a/b/c"):
        assert (await server.get(path))[0] == 404

    samples = await server.samples()

    assert value(samples, "advocate_bot_http_requests_total", route="unmatched",
                 method="GET", status="404") == 3
    assert not [key for key in samples if ("route", "/wp-admin") in key[1]]


async def test_metrics_still_answer_when_the_database_does_not(server: Server,
                                                              tmp_path: Path) -> None:
    await server.get("/healthz")
    await unplug_database(server, tmp_path)

    samples = await server.samples()

    assert value(samples, "advocate_bot_metrics_database_up") == 0
    assert value(samples, "advocate_bot_http_requests_total", route="/healthz", method="GET",
                 status="200") == 1


async def test_readyz_is_200_when_the_database_answers_and_its_schema_is_current(
        server: Server) -> None:
    status, _, body = await server.get("/readyz")

    assert status == 200
    assert '"status": "ready"' in body


async def test_readyz_is_503_with_the_reason_when_the_schema_is_behind(server: Server) -> None:
    async with server.bot.engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))

    status, _, body = await server.get("/readyz")

    assert status == 503
    assert "database schema is at 0001, this version needs" in body
    assert "advocate-bot db upgrade" in body


async def test_readyz_is_503_for_a_schema_a_newer_version_migrated(server: Server) -> None:
    async with server.bot.engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))

    status, _, body = await server.get("/readyz")

    assert status == 503
    assert "9999, which this version does not know" in body


async def test_readyz_is_503_when_the_database_is_unreachable(server: Server,
                                                              tmp_path: Path) -> None:
    await unplug_database(server, tmp_path)

    status, _, body = await server.get("/readyz")

    assert status == 503
    assert "database unreachable (OperationalError)" in body
