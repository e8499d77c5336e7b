"""How long after an advocate clicks Accept the ask updates in place, and how long a
Slack 500 on that update delays it: the outbox dispatcher woken by commits against the
same loop polling every second with the old fixed 5-second first retry.

    python bench/bench_delivery_latency.py [--clicks 40] [--modes poll,wake]

Everything is real except Slack: ``open_app`` on a migrated SQLite file, ``handlers.web``
with the Bolt app on 127.0.0.1, the ``SlackMessenger`` and ``SlackDirectory`` over HTTP
to ``FakeSlack`` (``tests/slack_fake.py``), the services and the ``OutboxDispatcher``'s
``run_forever`` on the system clock. For each click a fresh advocate is asked (through
the services, not timed) and, once the ask's DM is posted, clicks Accept: a signed
``block_actions`` POST to ``/slack/events``. Measured: from sending that POST to the fake
receiving the ``chat.update`` of the ask (the moment the advocate sees it change).

Modes (same code, same process, one after the other):

* ``poll`` — what main did: the dispatcher is not told about commits (it polls each
  second) and retries a 5xx after a fixed 5 s (``base_delay=5, jitter=0``);
* ``wake`` — as ``serve`` wires it now: the unit-of-work factory's commit signal wakes
  the dispatcher, retries start within a second with jitter.

Scenarios: ``click`` (Slack answers every call) and ``click-after-500`` (the first
``chat.update`` after the click gets a 500, so the update arrives with the first retry).
Targets: ``click`` p95 < 0.3 s; ``click-after-500`` < 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from aiohttp import web

from bot.bootstrap import App, open_app
from bot.config import Settings
from bot.services.asks import ask_advocate
from bot.services.dispatch import OutboxDispatcher, Wakeup
from bot.services.intake import RequestDraft
from bot.services.requests import submit_request
from bot.services.roles import resolve_actor
from handlers.slack import ids
from handlers.slack.directory import SlackDirectory
from handlers.web import create_web_app
from storage.migrate import upgrade
from tests.integration.slack.conftest import SECRET, load_fixture, signed_headers
from tests.slack_fake import Call, FakeSlack
from tests.unit.conftest import build_advocate

RILEY = ("U0RILEY", "riley.rep@vendor.example", "Riley Rep", "America/New_York")
TIMEOUT = 30.0  # seconds for one update to arrive before the bench gives up


class TimedCalls(list[Call]):
    """The fake's call log, stamping each call with when it arrived."""

    def append(self, call: Call) -> None:
        call.arrived = time.perf_counter()  # type: ignore[attr-defined]
        super().append(call)


@dataclass
class Harness:
    bot: App
    fake: FakeSlack
    url: str
    http: aiohttp.ClientSession
    serial: int = 0

    async def ask_new_advocate(self) -> tuple[tuple[str, str], int, str]:
        """A fresh advocate asked by Riley; returns (user, ask id, the ask's message ts)
        once the ask's DM has reached Slack."""
        self.serial += 1
        n = self.serial
        user_id, email = f"U0ADV{n:04d}", f"advocate{n}@customer{n}.example"
        self.fake.add_user(user_id, email, f"Advocate {n}", "Europe/Berlin")
        async with self.bot.uow() as uow:
            advocate = await uow.advocates.add(build_advocate(email=email,
                                                              name=f"Advocate {n}"))
            await uow.commit()
        directory = self.bot.directories[next(iter(self.bot.directories))]
        assert isinstance(directory, SlackDirectory)
        async with self.bot.uow() as uow:
            rep = await resolve_actor(self.bot.ctx, uow, await directory.person(RILEY[0],
                                                                                  "T0001"))
        submitted = await submit_request(self.bot.ctx, rep, draft())
        assert submitted.request.id is not None and advocate.id is not None
        ask = await ask_advocate(self.bot.ctx, rep, submitted.request.id, advocate.id)
        assert ask is not None and ask.id is not None
        posted = await self.wait_for(lambda c: c.method == "chat.postMessage"
                                     and c.args.get("channel") == user_id
                                     and bool(c.answer and c.answer.get("ok")))
        assert posted.answer is not None
        return (user_id, email), ask.id, str(posted.answer["ts"])

    async def click_accept(self, user: tuple[str, str], ask_id: int, ts: str) -> float:
        """Accept as ``user``; seconds from the POST to the ask's successful update."""
        payload = load_fixture("req_block_actions")
        payload["user"].update(id=user[0], username=user[1].split("@")[0])
        payload["trigger_id"] = f"{ask_id}.1.trigger"
        payload["container"]["message_ts"] = ts
        payload["message"]["ts"] = ts
        payload["response_url"] = self.fake.response_url(f"click{ask_id}")
        payload["actions"][0].update(action_id=ids.ACTION_ASK_ACCEPT, value=str(ask_id),
                                     block_id="buttons")
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        channel = "D" + user[0][1:]
        started = time.perf_counter()
        async with self.http.post(self.url, data=body.encode(),
                                  headers=signed_headers(body, secret=SECRET)) as response:
            assert response.status == 200, await response.text()
        updated = await self.wait_for(lambda c: c.method == "chat.update"
                                      and c.args.get("channel") == channel
                                      and c.args.get("ts") == ts
                                      and bool(c.answer and c.answer.get("ok")))
        return float(updated.arrived) - started  # type: ignore[attr-defined]

    async def wait_for(self, match: Any) -> Call:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            found = [c for c in self.fake.calls if c.answer is not None and match(c)]
            if found:
                return found[0]
            await asyncio.sleep(0.002)
        raise TimeoutError("Slack never got the expected call")


def draft() -> RequestDraft:
    """A valid intake a week out, proposing weekday afternoons (Berlin working hours)."""
    day = datetime.now(UTC).date() + timedelta(days=7)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    times = [datetime(day.year, day.month, day.day, 13, tzinfo=UTC) + timedelta(days=k)
             for k in (0, 1)]
    return RequestDraft(prospect_company="Globex Bank", reference_type="call",
                        needed_by=day + timedelta(days=14), industry="Fintech",
                        region="EMEA", company_size="201-1000", products=("Payments API",),
                        use_cases=("Checkout",), proposed_times=times,
                        timezone="America/New_York", call_length_minutes=30)


def dispatcher_for(bot: App, mode: str) -> OutboxDispatcher:
    directories = list(bot.directories.values())
    if mode == "poll":
        return OutboxDispatcher(bot.uow, bot.messengers, bot.clock, directories=directories,
                                base_delay=5.0, jitter=0.0, wakeup=Wakeup())  # never set
    return OutboxDispatcher(bot.uow, bot.messengers, bot.clock, directories=directories,
                            wakeup=bot.outbox_wakeup)


async def run(mode: str, scenario: str, clicks: int, folder: Path) -> list[float]:
    fake = await FakeSlack().start()
    fake.calls = TimedCalls()
    fake.add_user(*RILEY)
    database = folder / f"{mode}-{scenario}.db"
    settings = Settings(database_url=f"sqlite:///{database}", slack_bot_token="xoxb-bench",
                        slack_signing_secret=SECRET, slack_api_url=fake.api_url,
                        program_timezone="Europe/Berlin")
    latencies: list[float] = []
    async with open_app(settings) as bot:
        await upgrade(bot.engine)
        runner = web.AppRunner(create_web_app(bot), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        stop = asyncio.Event()
        worker = asyncio.create_task(dispatcher_for(bot, mode).run_forever(stop))
        try:
            async with aiohttp.ClientSession() as http:
                harness = Harness(bot, fake, f"http://127.0.0.1:{port}/slack/events", http)
                for _ in range(clicks):
                    user, ask_id, ts = await harness.ask_new_advocate()
                    await asyncio.sleep(0.05)  # let the pass that posted the ask finish
                    if scenario == "click-after-500":
                        fake.fail_next("chat.update", 500, "internal_error")
                    latencies.append(await harness.click_accept(user, ask_id, ts))
        finally:
            stop.set()
            await worker
            await runner.cleanup()
            await fake.stop()
    return latencies


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (f"p50 {statistics.median(ordered) * 1000:7.0f} ms   p95 {p95 * 1000:7.0f} ms   "
            f"max {ordered[-1] * 1000:7.0f} ms")


async def main(clicks: int, modes: list[str], scenarios: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for scenario in scenarios:
            for mode in modes:
                latencies = await run(mode, scenario, clicks, Path(folder))
                print(f"{scenario:16s} {mode:5s} ({len(latencies)} clicks): "
                      f"{summary(latencies)}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clicks", type=int, default=40)
    parser.add_argument("--modes", default="poll,wake")
    parser.add_argument("--scenarios", default="click,click-after-500")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(main(args.clicks, args.modes.split(","), args.scenarios.split(",")))
