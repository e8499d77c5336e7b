"""A running sandbox (``advocate-bot try``'s demo, on a free port) and headless Chromium.

The browser is Debian's ``chromium`` (``/usr/bin/chromium``; Playwright downloads none).
Without it, or without the ``playwright`` package, these tests are skipped, loudly —
except when ``CI=true``, where that fails the run (``.ci/run`` installs the browser).
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.clock import AheadClock
from bot.config import Settings

CHROMIUM = Path("/usr/bin/chromium")
# The sandbox's clock starts here, so the screenshot shows the same times every run.
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _unavailable(why: str) -> None:
    message = f"BROWSER TESTS NOT RUN — {why}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: the browser tests are required on CI)", pytrace=False)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Served:
    """The demo sandbox served from a thread of its own, as ``advocate-bot try`` does."""

    def __init__(self, database: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.today = START.date()
        self.settings = Settings(database_url=f"sqlite:///{database}", port=self.port,
                                 program_managers=["pat.morgan@lumora.example"],
                                 sandbox_enabled=True, _env_file=None)  # type: ignore[call-arg]
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Served:
        self._thread.start()
        if not self._ready.wait(60) or self._error is not None:
            raise RuntimeError(f"the sandbox did not start: {self._error!r}")
        return self

    def __exit__(self, *_: Any) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported by __enter__
            self._error = error
            self._ready.set()

    async def _serve(self) -> None:
        from aiohttp import web

        from bot.bootstrap import open_app
        from bot.scheduler import start_scheduler
        from handlers.sandbox.app import delivered
        from handlers.sandbox.demo import seed
        from handlers.web import create_web_app

        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        clock = AheadClock(START - datetime.now(UTC))
        async with open_app(self.settings, clock=clock) as bot_app:
            await seed(bot_app.sandbox.sandbox, bot_app.clock)
            scheduler = start_scheduler(bot_app)
            await delivered(bot_app)
            runner = web.AppRunner(create_web_app(bot_app), access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port).start()
            self._ready.set()
            try:
                await self._stop.wait()
            finally:
                await scheduler.stop()
                await runner.cleanup()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with Served(tmp_path_factory.mktemp("sandbox") / "demo.db") as served:
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[test]')")
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                              args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
