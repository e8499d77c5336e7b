"""What a person waits for at a real program's size, over HTTP, as Slack sees it.

    python bench/bench_e2e_http.py [--advocates 20000] [--runs 15] [--postgres]

Imports a CRM-shaped roster of ``--advocates`` rows (``bench_import.write_csv``) into a
database (SQLite by default; ``--postgres``: the suite's throwaway server), starts the
real server in a process of its own (``handlers.web`` with the Bolt app, the outbox
dispatcher, the scheduler, the roster copy read at start) against a fake Slack in
another, then sends signed Slack requests one at a time and times, p50 and p95:

* intake submitted → matches DM: the ``view_submission`` POST until Slack receives the
  rep's ``chat.postMessage`` (validation, ranking the whole roster, the outbox);
* click → ack: an "ask the best available" button's HTTP answer;
* App Home → published: ``app_home_opened`` for a program manager (the program at a
  glance over the whole roster) until Slack receives ``views.publish``;

and the server's resident memory after start and at the end (``VmRSS``, peak ``VmHWM``).
Goals (issue 11): intake → matches < 0.5 s at 20k advocates and < 1 s at 100k; App Home
< 0.5 s at 100k; the ack well under Slack's 3 s; ``serve`` < 400 MB at 100k.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_import import write_csv  # noqa: E402
from bench_replicas import (  # noqa: E402
    SECRET,
    ask_best,
    intake,
    rep,
    run_role,
    signed,
)

from bench.processes import bench_database, free_port, spawn, stop  # noqa: E402

RUNS = 15


async def seed(database_url: str, csv_path: Path) -> float:
    """Import the roster; the seconds it took."""
    from bot.bootstrap import open_app
    from bot.config import Settings
    from bot.services.roster import import_roster

    async with open_app(Settings(database_url=database_url, log_level="WARNING")) as bot:
        started = time.perf_counter()
        await import_roster(bot.uow, csv_path, now=datetime.now(UTC))
        return time.perf_counter() - started


def memory_mb(pid: int) -> dict[str, float]:
    """The process's resident and peak resident memory, from ``/proc``."""
    found: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found


class Harness:
    def __init__(self, http: aiohttp.ClientSession, url: str, fake_url: str) -> None:
        self.http, self.url, self.fake_url = http, url, fake_url
        self.verifier = SignatureVerifier(SECRET)

    async def post(self, body: str, content_type: str | None = None) -> float:
        headers = signed(body, self.verifier)
        if content_type:
            headers["Content-Type"] = content_type
        started = time.perf_counter()
        async with self.http.post(self.url, data=body.encode(), headers=headers) as answer:
            await answer.read()
            if answer.status != 200:
                raise RuntimeError(f"the server answered {answer.status}")
        return time.perf_counter() - started

    async def slack_calls(self, method: str) -> int:
        async with self.http.get(f"{self.fake_url}/stats") as answer:
            return int((await answer.json())["calls"].get(method, 0))

    async def until_slack_gets(self, method: str, before: int, limit: float = 30.0) -> None:
        deadline = time.perf_counter() + limit
        while await self.slack_calls(method) <= before:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"Slack never received {method}")
            await asyncio.sleep(0.003)

    async def intake_to_matches(self, n: int) -> float:
        before = await self.slack_calls("chat.postMessage")
        started = time.perf_counter()
        await self.post(intake(rep(0), n))
        await self.until_slack_gets("chat.postMessage", before)
        return time.perf_counter() - started

    async def home_published(self, n: int) -> float:
        event = {"token": "x", "team_id": "T0001", "api_app_id": "A0ADVOCATE",
                 "type": "event_callback", "event_id": f"Ev{n:08d}", "event_time": 1,
                 "event": {"type": "app_home_opened", "user": "U0PAT", "tab": "home",
                           "channel": "D0PAT", "event_ts": f"{n}.000001"}}
        before = await self.slack_calls("views.publish")
        started = time.perf_counter()
        await self.post(json.dumps(event), "application/json")
        await self.until_slack_gets("views.publish", before)
        return time.perf_counter() - started


def summary(label: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * len(ms)) - 1)]
    return f"  {label:<34} p50 {statistics.median(ms):8.1f} ms   p95 {p95:8.1f} ms"


async def request_ids(database_url: str) -> list[int]:
    from sqlalchemy import text

    from storage.db import create_engine

    engine = create_engine(database_url)
    try:
        async with engine.connect() as db:
            rows = await db.execute(text("SELECT id FROM reference_requests ORDER BY id"))
            return [int(r) for r in rows.scalars()]
    finally:
        await engine.dispose()


async def drive(url: str, fake_url: str, database_url: str, runs: int
                ) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"intake submitted -> matches DM": [],
                                     "click -> ack": [], "App Home -> published": []}
    async with aiohttp.ClientSession() as http:
        harness = Harness(http, url, fake_url)
        await harness.intake_to_matches(0)  # warm: the rep's first lookup, connections
        await harness.home_published(0)
        for n in range(1, runs + 1):
            times["intake submitted -> matches DM"].append(await harness.intake_to_matches(n))
            times["App Home -> published"].append(await harness.home_published(n))
        for n, request_id in enumerate((await request_ids(database_url))[:runs]):
            times["click -> ack"].append(
                await harness.post(ask_best(rep(0), request_id, fake_url, 10_000 + n)))
    return times


async def bench(database_url: str, csv_path: Path, runs: int) -> None:
    print(f"  {'import (first)':<34} {await seed(database_url, csv_path):8.2f} s", flush=True)
    fake_port, port = free_port(), free_port()
    fake_url = f"http://127.0.0.1:{fake_port}"
    fake = spawn(__file__, "fake", str(fake_port), "1")
    started = time.perf_counter()
    server = spawn(__file__, "replica", str(port), f"{fake_url}/api/", database_url)
    print(f"  {'serve ready (roster copy read)':<34} {time.perf_counter() - started:8.2f} s",
          flush=True)
    try:
        at_start = memory_mb(server.pid)
        times = await drive(f"http://127.0.0.1:{port}/slack/events", fake_url, database_url,
                            runs)
        at_end = memory_mb(server.pid)
    finally:
        stop(server)
        stop(fake)
    for label, seconds in times.items():
        print(summary(label, seconds), flush=True)
    print(f"  serve memory: {at_start['VmRSS']:.0f} MB after start, {at_end['VmRSS']:.0f} MB "
          f"at the end, peak {at_end['VmHWM']:.0f} MB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--advocates", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--postgres", action="store_true",
                        help="on a throwaway PostgreSQL server instead of SQLite")
    parser.add_argument("--role", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if run_role(args.role, rest):
        return
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "roster.csv"
        write_csv(csv_path, args.advocates)
        with bench_database(args.postgres, Path(tmp)) as url:
            print(f"{'postgres' if args.postgres else 'sqlite'}, {args.advocates} advocates, "
                  f"{args.runs} runs, over HTTP", flush=True)
            asyncio.run(bench(url, csv_path, args.runs))


if __name__ == "__main__":
    main()
