"""How fast does Slack get its acknowledgement? Our app against a Bolt app that only acks.

Slack gives an app 3 seconds to answer a command, a click or a form; we promise far less.
This benchmark runs, in one go and on loopback:

* a fake Slack Web API (``tests/slack_fake.py``) in its own process, which both apps call
  after their ack (``auth.test``; ours also ``users.info``, ``views.open``, DMs);
* **minimal**: a Bolt ``AsyncApp`` whose listeners only ``ack()``, served the same way
  ours is (aiohttp, ``process_before_response=False``), in its own process;
* **ours**: the real server (``handlers.web`` with the Bolt app, the services on SQLite,
  the outbox dispatcher and sweeps running), in its own process;

and drives each with 50 concurrent clients (each sends its next request when the last
one is answered) a mix of signed ``/reference`` commands and button clicks (``ask_best``
on distinct requests, so every click does real work after its ack). Rounds alternate
between the two apps so drift on the machine hits both alike. It prints p50 and p99 of
the time to the HTTP answer for each and the ratio; the target is ours' p99 within 1.25x
the minimal app's and under 100 ms.

    python bench/bench_ack_latency.py [--requests 2000] [--clients 50] [--rounds 4] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aiohttp
from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.processes import free_port, serve_until_stopped, spawn, stop  # noqa: E402

SECRET = "bench-signing-secret-0123456789ab"
TOKEN = "xoxb-bench"
REP = ("U0RILEY", "riley.rep@vendor.example", "Riley Rep", "America/New_York")
TARGET_RATIO = 1.25
TARGET_P99_MS = 100.0


# --- the processes ----------------------------------------------------------------------


async def run_fake_slack(port: int) -> None:
    from aiohttp import web

    from tests.slack_fake import FakeSlack

    fake = FakeSlack()
    fake.add_user(*REP)
    fake.add_user("U0PAT", "pat.manager@vendor.example", "Pat Manager")  # told of closed requests
    for n in range(50):
        fake.add_user(f"U0ADV{n:03d}", f"advocate{n}@customer.example", f"Advocate {n}")
    app = web.Application()
    app.router.add_post("/api/{method}", fake._api)
    app.router.add_get("/api/{method}", fake._api)
    app.router.add_post("/upload/{file_id}", fake._upload)
    app.router.add_post("/respond/{token}", fake._respond)
    fake.base_url = f"http://127.0.0.1:{port}"
    # Keep memory flat over a long run: the benchmark never reads the recorded calls.
    fake.calls = _Discard()  # type: ignore[assignment]
    fake.responses = _Discard()  # type: ignore[assignment]
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await serve_until_stopped()


class _Discard(list):  # type: ignore[type-arg]
    def append(self, _item: Any) -> None:
        return None


async def run_minimal(port: int, api_url: str) -> None:
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.cli import freeze_startup_objects

    app = AsyncApp(client=AsyncWebClient(token=TOKEN, base_url=api_url), signing_secret=SECRET,
                   process_before_response=False)

    @app.command(re.compile(".*"))
    async def command(ack: Any) -> None:
        await ack()

    @app.action(re.compile(".*"))
    async def action(ack: Any) -> None:
        await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    freeze_startup_objects()  # the same process tuning as ours: only the app differs
    await serve_until_stopped()


async def run_ours(port: int, api_url: str, database: str) -> None:
    from aiohttp import web

    from bot.bootstrap import open_app
    from bot.cli import freeze_startup_objects
    from bot.config import Settings
    from bot.scheduler import start_scheduler
    from handlers.web import create_web_app

    settings = Settings(database_url=f"sqlite:///{database}", slack_bot_token=TOKEN,
                        slack_signing_secret=SECRET, slack_api_url=api_url,
                        program_managers=["pat.manager@vendor.example"], log_level="WARNING")
    async with open_app(settings) as bot:
        runner = web.AppRunner(create_web_app(bot), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        scheduler = start_scheduler(bot)
        freeze_startup_objects()  # as `advocate-bot serve` does
        try:
            await serve_until_stopped()
        finally:
            await scheduler.stop()
            await runner.cleanup()




def sample_advocate(n: int) -> Any:
    """Advocate ``n`` of the benchmarks' small rosters (Slack knows ``advocate{n}@…``)."""
    from bot.domain.model import Advocate, CompanySize, ReferenceType

    return Advocate(
        email=f"advocate{n}@customer.example", name=f"Advocate {n}",
        company=f"Customer {n}", industry=("Fintech", "Retail", "Health")[n % 3],
        region=("EMEA", "NA", "APAC")[n % 3], company_size=CompanySize.M,
        products=("Payments API",), use_cases=("Checkout",),
        reference_types=frozenset({ReferenceType.EMAIL, ReferenceType.CALL}),
        health_score=80, timezone="Europe/Berlin")


async def seed(database: str, requests: int) -> list[int]:
    """A migrated database with a roster and ``requests`` open requests by the rep, each
    ready for "ask the best available"."""
    from bot.bootstrap import open_app
    from bot.config import Settings
    from bot.domain.model import (
        Identity,
        Person,
        Platform,
        ReferenceRequest,
        ReferenceType,
        RequestState,
    )

    settings = Settings(database_url=f"sqlite:///{database}", log_level="WARNING")
    now = datetime.now(UTC)
    rep = Person(email=REP[1], display_name=REP[2], identity=Identity(
        Platform.SLACK, "T0001", REP[0]), timezone=REP[3])
    async with open_app(settings) as bot:
        async with bot.uow() as uow:
            for n in range(50):
                await uow.advocates.add(sample_advocate(n))
            ids = []
            for n in range(requests):
                request = await uow.requests.add(ReferenceRequest(
                    rep=rep, prospect_company=f"Prospect {n}", reference_type=ReferenceType.EMAIL,
                    needed_by=date(now.year + 1, 1, 1), created_at=now, updated_at=now,
                    industry="Fintech", timezone=REP[3], state=RequestState.MATCHING))
                assert request.id is not None
                ids.append(request.id)
            await uow.commit()
    return ids


async def work_done(database: str) -> dict[str, int]:
    """What ours did after acking the clicks: proof the benchmark measured real work."""
    from sqlalchemy import text

    from storage.db import create_engine

    engine = create_engine(f"sqlite:///{database}")
    try:
        async with engine.connect() as connection:
            asks = await connection.scalar(text("SELECT count(*) FROM asks"))
            closed = await connection.scalar(
                text("SELECT count(*) FROM reference_requests WHERE state = 'unfulfilled'"))
            sent = await connection.scalar(
                text("SELECT count(*) FROM outbox WHERE status = 'sent'"))
            people = await connection.scalar(text("SELECT count(*) FROM people"))
    finally:
        await engine.dispose()
    return {"asks_created": int(asks or 0), "requests_closed_unfulfilled": int(closed or 0),
            "dms_delivered": int(sent or 0), "people_looked_up": int(people or 0)}






def cpu_seconds(pid: int) -> float:
    """CPU time a process has used so far (Linux ``/proc``), its threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def wait_until_idle(processes: list[subprocess.Popen[str]], *, limit: float = 60.0
                          ) -> None:
    """Wait until none of ``processes`` is busy any more (under 5% of a core for 200 ms),
    so work one app left behind (ours finishes its clicks after acking them) never runs
    while the other app is measured."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = sum(cpu_seconds(p.pid) for p in processes)
        await asyncio.sleep(0.2)
        if sum(cpu_seconds(p.pid) for p in processes) - before < 0.01 * len(processes):
            return




# --- the load --------------------------------------------------------------------------


@dataclass
class Load:
    """The payloads one round sends: commands and clicks, alternating."""

    fake_url: str
    request_ids: list[int]
    next_click: int = 0
    sent: int = 0

    def body(self) -> str:
        self.sent += 1
        if self.sent % 2:
            return urllib.parse.urlencode({
                "token": "x", "team_id": "T0001", "team_domain": "vendor",
                "channel_id": "C0SALES", "channel_name": "sales", "user_id": REP[0],
                "user_name": "riley.rep", "command": "/reference", "text": "fintech payments",
                "api_app_id": "A0ADVOCATE", "is_enterprise_install": "false",
                "response_url": f"{self.fake_url}/respond/c{self.sent}",
                "trigger_id": f"{self.sent}.1.trigger"})
        request_id = self.request_ids[self.next_click % len(self.request_ids)]
        self.next_click += 1
        payload = {
            "type": "block_actions", "user": {"id": REP[0], "username": "riley.rep",
                                              "team_id": "T0001"},
            "api_app_id": "A0ADVOCATE", "token": "x", "trigger_id": f"{self.sent}.2.trigger",
            "team": {"id": "T0001", "domain": "vendor"}, "is_enterprise_install": False,
            "container": {"type": "message", "message_ts": f"1700000000.{self.sent:06d}",
                          "channel_id": "D0RILEY", "is_ephemeral": False},
            "channel": {"id": "D0RILEY", "name": "directmessage"},
            "message": {"type": "message", "ts": f"1700000000.{self.sent:06d}", "text": "m"},
            "response_url": f"{self.fake_url}/respond/a{self.sent}",
            "actions": [{"action_id": "ask_best", "block_id": "b", "value": str(request_id),
                         "type": "button", "action_ts": "1700000001.000001"}],
        }
        return urllib.parse.urlencode({"payload": json.dumps(payload)})


async def drive(url: str, load: Load, total: int, clients: int) -> list[float]:
    """``clients`` concurrent senders, ``total`` requests; the latency of each, in ms."""
    verifier = SignatureVerifier(SECRET)
    latencies: list[float] = []
    remaining = total
    connector = aiohttp.TCPConnector(limit=clients)

    async with aiohttp.ClientSession(connector=connector) as http:

        async def client() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                body = load.body()
                ts = str(int(time.time()))
                headers = {"X-Slack-Request-Timestamp": ts,
                           "X-Slack-Signature": verifier.generate_signature(timestamp=ts,
                                                                            body=body) or "",
                           "Content-Type": "application/x-www-form-urlencoded"}
                started = time.perf_counter()
                async with http.post(url, data=body.encode(), headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"{url} answered {response.status}")
                latencies.append((time.perf_counter() - started) * 1000)

        # The load generator must not pause itself: a collection here would be charged
        # to whichever app is being measured. It collects between rounds instead.
        gc.disable()
        try:
            await asyncio.gather(*(client() for _ in range(clients)))
        finally:
            gc.enable()
            gc.collect()
    return latencies


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def bench(requests: int, clients: int, rounds: int) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="ack-bench-"))
    database = str(workdir / "bench.db")
    fake_port, minimal_port, ours_port = free_port(), free_port(), free_port()
    fake_url = f"http://127.0.0.1:{fake_port}"
    api_url = f"{fake_url}/api/"
    request_ids = await seed(database, requests + clients * 2)
    processes = [spawn(__file__, "fake", str(fake_port))]
    try:
        processes.append(spawn(__file__, "minimal", str(minimal_port), api_url))
        processes.append(spawn(__file__, "ours", str(ours_port), api_url, database))
        urls = {"minimal": f"http://127.0.0.1:{minimal_port}/slack/events",
                "ours": f"http://127.0.0.1:{ours_port}/slack/events"}
        load = {name: Load(fake_url, request_ids) for name in urls}
        for name, url in urls.items():  # warm up: first-request costs (auth.test, users.info)
            await drive(url, load[name], clients * 2, clients)
            await wait_until_idle(processes)
        results: dict[str, list[float]] = {name: [] for name in urls}
        per_round = max(1, requests // rounds)
        for _ in range(rounds):
            for name, url in urls.items():
                results[name] += await drive(url, load[name], per_round, clients)
                await wait_until_idle(processes)
        await wait_until_idle(processes)
        work = await work_done(database)
    finally:
        for process in reversed(processes):  # the apps first: they may still call Slack
            stop(process, timeout=20)
        shutil.rmtree(workdir, ignore_errors=True)
    summary: dict[str, Any] = {"clients": clients, "requests_per_app": len(results["ours"]),
                               "work_after_ack": work}
    for name, values in results.items():
        summary[name] = {"p50_ms": round(statistics.median(values), 2),
                         "p99_ms": round(percentile(values, 99), 2),
                         "max_ms": round(max(values), 2)}
    summary["p99_ratio"] = round(summary["ours"]["p99_ms"] / summary["minimal"]["p99_ms"], 3)
    summary["target_met"] = (summary["p99_ratio"] <= TARGET_RATIO
                             and summary["ours"]["p99_ms"] < TARGET_P99_MS)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000,
                        help="measured requests per app (half commands, half clicks)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--role", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.role == "fake":
        asyncio.run(run_fake_slack(int(rest[0])))
        return
    if args.role == "minimal":
        asyncio.run(run_minimal(int(rest[0]), rest[1]))
        return
    if args.role == "ours":
        profile_to = os.environ.get("ACK_BENCH_PROFILE")  # a path: where to dump cProfile stats
        if profile_to:
            import cProfile

            with cProfile.Profile() as profiler:
                asyncio.run(run_ours(int(rest[0]), rest[1], rest[2]))
            profiler.dump_stats(profile_to)
        else:
            asyncio.run(run_ours(int(rest[0]), rest[1], rest[2]))
        return
    summary = asyncio.run(bench(args.requests, args.clients, args.rounds))
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"ack latency, {summary['clients']} concurrent clients, "
          f"{summary['requests_per_app']} signed requests per app (commands + clicks)")
    for name in ("minimal", "ours"):
        s = summary[name]
        print(f"  {name:8s} p50 {s['p50_ms']:7.2f} ms   p99 {s['p99_ms']:7.2f} ms   "
              f"max {s['max_ms']:7.2f} ms")
    work = summary["work_after_ack"]
    print(f"  ours' work after its acks: {work['asks_created']} asks created, "
          f"{work['requests_closed_unfulfilled']} requests closed (nobody left), "
          f"{work['dms_delivered']} DMs delivered")
    print(f"  p99 ratio ours/minimal: {summary['p99_ratio']:.3f} "
          f"(target <= {TARGET_RATIO} and ours p99 < {TARGET_P99_MS:.0f} ms: "
          f"{'met' if summary['target_met'] else 'NOT met'})")


if __name__ == "__main__":
    main()
