"""What does refusing a forged Slack request cost, and does a flood of them stall the bot?

The Slack door checks the signature on the raw bytes before anything parses them
(``handlers/slack/verify.py``). This benchmark runs the real server (``handlers.web`` with
the Bolt app, SQLite, a fake Slack Web API) on loopback and measures:

* ``verify()`` alone on a 2 KB and a 1 MiB body (the HMAC is the whole cost);
* the time to the 401 for forged requests: no headers, ``abc`` as timestamp, and a
  fresh timestamp with a wrong signature on a 1 KB and a 1 MB body;
* ``/healthz`` latency while 20 clients send forged 1 MB requests back to back, against
  ``/healthz`` on an idle server: the refusals must not hold up the event loop.

The server runs in its own process (``advocate-bot serve``), the forging clients in a
third one, so the numbers are the server's, not the clients' event loop.

    python bench/bench_doors.py [--requests 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from handlers.slack.verify import verify  # noqa: E402
from tests.slack_fake import FakeSlack  # noqa: E402

SECRET = "0123456789abcdef0123456789abcdef"


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    return f"p50 {p50:7.2f} ms   p99 {p99:7.2f} ms"


def bench_verify() -> None:
    for label, size in (("2 KB", 2048), ("1 MiB", 1024 * 1024)):
        body = b"x" * size
        headers = {"X-Slack-Request-Timestamp": str(int(time.time())),
                   "X-Slack-Signature": "v0=" + "0" * 64}
        runs = 2000 if size < 10_000 else 50
        started = time.perf_counter()
        for _ in range(runs):
            assert verify(SECRET, headers, body) == "signature does not match"
        each = (time.perf_counter() - started) / runs
        print(f"verify() on {label:>5}: {each * 1e6:9.1f} µs per request")


async def timed_posts(http: aiohttp.ClientSession, url: str, body: bytes,
                      headers: dict[str, str], count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        async with http.post(url, data=body, headers=headers) as response:
            await response.read()
            assert response.status == 401, response.status
        times.append(time.perf_counter() - started)
    return times


async def healthz_times(http: aiohttp.ClientSession, url: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        async with http.get(url) as response:
            await response.read()
        times.append(time.perf_counter() - started)
        await asyncio.sleep(0.005)
    return times


async def flood(url: str, seconds: float) -> None:
    """20 clients posting forged 1 MB bodies for ``seconds`` (run in its own process)."""
    fresh = {"Content-Type": "application/x-www-form-urlencoded",
             "X-Slack-Request-Timestamp": str(int(time.time())),
             "X-Slack-Signature": "v0=" + "0" * 64}
    body = b"x" * 1_000_000
    deadline = time.monotonic() + seconds
    sent = 0

    async def client(http: aiohttp.ClientSession) -> None:
        nonlocal sent
        while time.monotonic() < deadline:
            await timed_posts(http, url, body, fresh, 1)
            sent += 1

    async with aiohttp.ClientSession() as http:
        await asyncio.gather(*(client(http) for _ in range(20)))
    print(f"{sent / seconds:.0f}")


async def main(requests: int) -> None:
    bench_verify()
    fake = await FakeSlack().start()
    folder = Path(tempfile.mkdtemp(prefix="bench-doors-"))
    port = 3900 + int(time.time()) % 90
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{folder / 'bot.db'}",
                   "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SECRET,
                   "SLACK_API_URL": fake.api_url, "PORT": str(port), "LOG_LEVEL": "ERROR"}
    environment.pop("ADVOCATE_BOT_CONFIG", None)
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "serve", env=environment, cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    events = f"http://127.0.0.1:{port}/slack/events"
    health = f"http://127.0.0.1:{port}/healthz"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.get(health) as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise SystemExit("the server did not start")
            form = {"Content-Type": "application/x-www-form-urlencoded"}
            fresh = {**form, "X-Slack-Request-Timestamp": str(int(time.time())),
                     "X-Slack-Signature": "v0=" + "0" * 64}
            cases = {
                "no headers": (b"command=/reference", form),
                "timestamp abc": (b"command=/reference", {
                    **fresh, "X-Slack-Request-Timestamp": "abc"}),
                "bad signature, 1 KB": (b"x" * 1024, fresh),
                "bad signature, 1 MB": (b"x" * 1_000_000, fresh),
            }
            for label, (body, headers) in cases.items():
                count = requests if len(body) < 10_000 else max(20, requests // 5)
                times = await timed_posts(http, events, body, headers, count)
                print(f"401 for {label:<20} {ms(times)}   ({count} requests)")
            idle = await healthz_times(http, health, requests)
            print(f"/healthz, idle server         {ms(idle)}")
            seconds = max(2.0, requests * 0.012)
            flooders = await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--flood", events, "--seconds", str(seconds),
                stdout=asyncio.subprocess.PIPE)
            await asyncio.sleep(0.3)
            busy = await healthz_times(http, health, requests)
            rate, _ = await flooders.communicate()
            print(f"/healthz, 20 clients flooding {ms(busy)}   "
                  f"({rate.decode().strip()} forged 1 MB requests/s refused)")
        assert fake.calls == [], "a forged request reached the Web API"
    finally:
        server.send_signal(signal.SIGTERM)
        await asyncio.wait_for(server.wait(), timeout=30)
        await fake.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--flood", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=3.0, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.flood:
        asyncio.run(flood(arguments.flood, arguments.seconds))
    else:
        asyncio.run(main(arguments.requests))
