"""Several replicas on one PostgreSQL: requests filed, submit → matches, and duplicates.

Runs, on loopback:

* a throwaway PostgreSQL server (the test suite's ``tests/postgres.py``), migrated and
  seeded with a roster;
* a fake Slack Web API (``tests/slack_fake.py``) in its own process, which counts what the
  replicas post and answers ``/stats`` with the counts;
* ``--replicas`` (default 3) real servers (``handlers.web`` with the Bolt app, the services,
  the outbox dispatcher woken by PostgreSQL ``LISTEN/NOTIFY``, the scheduler's jobs), each
  in its own process, all on the one database;

then ``--reps`` (default 50) concurrent sales reps, each submitting the intake form
(signed ``view_submission`` payloads) to the replicas in turn, round-robin, for
``--seconds`` (default 60). Each rep also presses "ask the best available" on its first
request at two replicas at once (an in-flight double click), which must ask once.

It prints requests filed per second, submit → matches DM p50/p95 (the request's creation
to its matches message's delivery, from the database), forms accepted but never filed
(must be 0: the replicas are stopped with SIGTERM at the end, as a deploy would), and
the duplicates, which must be 0: messages Slack received more than once (posts beyond
the outbox's sent rows, identical posts) and double clicks that asked twice.

    python bench/bench_replicas.py [--replicas 3] [--reps 50] [--seconds 60] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_ack_latency import sample_advocate  # noqa: E402

from bench.processes import free_port, serve_until_stopped, spawn, stop  # noqa: E402

SECRET = "bench-signing-secret-0123456789ab"
TOKEN = "xoxb-bench"
PM = "pat.manager@vendor.example"
ADVOCATES = 300


def rep(n: int) -> tuple[str, str, str, str]:
    return (f"U0REP{n:04d}", f"rep{n}@vendor.example", f"Rep {n}", "America/New_York")


# --- the processes ----------------------------------------------------------------------


async def run_fake_slack(port: int, reps: int) -> None:
    from collections import Counter

    from aiohttp import web

    from tests.slack_fake import FakeSlack

    fake = FakeSlack()
    for n in range(reps):
        fake.add_user(*rep(n))
    fake.add_user("U0PAT", PM, "Pat Manager", "Europe/Berlin")
    for n in range(ADVOCATES):
        fake.add_user(f"U0ADV{n:04d}", f"advocate{n}@customer.example", f"Advocate {n}")
    counts: Counter[str] = Counter()
    texts: Counter[tuple[str, str]] = Counter()

    class Counting(list):  # type: ignore[type-arg]
        """Keeps counts of what was posted, not the calls (memory stays flat)."""

        def append(self, call: Any) -> None:
            counts[call.method] += 1
            if call.method == "chat.postMessage":
                texts[(str(call.args.get("channel")), str(call.args.get("text")))] += 1

    fake.calls = Counting()  # type: ignore[assignment]
    fake.responses = Counting()  # type: ignore[assignment]

    async def stats(_request: web.Request) -> web.Response:
        repeated = sum(n - 1 for n in texts.values() if n > 1)
        return web.json_response({"calls": dict(counts), "repeated_posts": repeated})

    app = web.Application()
    app.router.add_post("/api/{method}", fake._api)
    app.router.add_get("/api/{method}", fake._api)
    app.router.add_post("/respond/{token}", fake._respond)
    app.router.add_get("/stats", stats)
    fake.base_url = f"http://127.0.0.1:{port}"
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await serve_until_stopped()


async def run_replica(port: int, api_url: str, database_url: str) -> None:
    from aiohttp import web

    from bot.bootstrap import open_app
    from bot.cli import freeze_startup_objects
    from bot.config import Settings
    from bot.scheduler import start_scheduler
    from bot.services.ranking import load_roster
    from handlers.web import create_web_app

    settings = Settings(database_url=database_url, slack_bot_token=TOKEN,
                        slack_signing_secret=SECRET, slack_api_url=api_url,
                        program_managers=[PM], log_level="WARNING")
    async with open_app(settings) as bot:
        await load_roster(bot.ctx)  # matching's copy of the roster, as `serve` reads it
        runner = web.AppRunner(create_web_app(bot), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        scheduler = start_scheduler(bot)
        freeze_startup_objects()
        try:
            await serve_until_stopped()
        finally:
            await scheduler.stop()
            await runner.cleanup()










# --- the data ---------------------------------------------------------------------------


async def seed(database_url: str) -> None:
    from bot.bootstrap import open_app
    from bot.config import Settings

    settings = Settings(database_url=database_url, log_level="WARNING")
    async with open_app(settings) as bot, bot.uow() as uow:
        for n in range(ADVOCATES):
            await uow.advocates.add(sample_advocate(n))
        await uow.commit()


async def outcome(database_url: str, started: datetime) -> dict[str, Any]:
    """What the replicas did, read from the database."""
    from sqlalchemy import text

    from storage.db import create_engine

    engine = create_engine(database_url)
    try:
        async with engine.connect() as db:
            filed = await db.scalar(text(
                "SELECT count(*) FROM reference_requests WHERE created_at >= :t"), {"t": started})
            waits = (await db.execute(text(
                "SELECT extract(epoch FROM o.sent_at - r.created_at) FROM reference_requests r "
                "JOIN outbox o ON o.key = 'matches:' || r.id WHERE o.status = 'sent' "
                "AND r.created_at >= :t"), {"t": started})).scalars().all()
            sent = await db.scalar(text("SELECT count(*) FROM outbox WHERE status = 'sent'"))
            pending = await db.scalar(text(
                "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')"))
            doubled = await db.scalar(text(
                "SELECT count(*) FROM (SELECT request_id FROM asks GROUP BY request_id, "
                "advocate_id HAVING count(*) > 1) AS twice"))
    finally:
        await engine.dispose()
    return {"filed": int(filed or 0), "waits_s": [float(w) for w in waits],
            "sent": int(sent or 0), "pending": int(pending or 0),
            "asked_twice": int(doubled or 0)}


# --- the load ---------------------------------------------------------------------------


def signed(body: str, verifier: SignatureVerifier) -> dict[str, str]:
    ts = str(int(time.time()))
    return {"X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": verifier.generate_signature(timestamp=ts, body=body) or "",
            "Content-Type": "application/x-www-form-urlencoded"}


def intake(who: tuple[str, ...], n: int) -> str:
    soon = datetime.now(UTC) + timedelta(days=10)

    def block(name: str, state: dict[str, Any]) -> dict[str, Any]:
        return {name: {name: state}}

    def chosen(value: str) -> dict[str, Any]:
        return {"type": "static_select",
                "selected_option": {"text": {"type": "plain_text", "text": value},
                                    "value": value}}

    values = {
        **block("prospect_company", {"type": "plain_text_input", "value": f"Prospect {n}"}),
        **block("reference_type", chosen("call")),
        **block("needed_by", {"type": "datepicker",
                              "selected_date": (soon + timedelta(days=10)).date().isoformat()}),
        **block("proposed_time_1", {"type": "datetimepicker",
                                    "selected_date_time": int(soon.timestamp())}),
        **block("timezone", chosen("America/New_York")),
        **block("call_length_minutes", chosen("30")),
        **block("industry", chosen(("Fintech", "Retail", "Health")[n % 3])),
        **block("parallel_asks", chosen("1")),
    }
    payload = {"type": "view_submission", "team": {"id": "T0001", "domain": "vendor"},
               "user": {"id": who[0], "username": who[1].split("@")[0], "team_id": "T0001"},
               "api_app_id": "A0ADVOCATE", "token": "x", "trigger_id": f"{n}.1.trigger",
               "view": {"id": f"V{n}", "team_id": "T0001", "type": "modal",
                        "blocks": [{"type": "input", "block_id": name} for name in values],
                        "private_metadata": "", "callback_id": "intake",
                        "state": {"values": values}, "hash": "1.x", "root_view_id": f"V{n}",
                        "app_id": "A0ADVOCATE", "bot_id": "B0BOT"},
               "response_urls": [], "is_enterprise_install": False}
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


def ask_best(who: tuple[str, ...], request_id: int, fake_url: str, n: int) -> str:
    payload = {
        "type": "block_actions", "user": {"id": who[0], "username": "rep", "team_id": "T0001"},
        "api_app_id": "A0ADVOCATE", "token": "x", "trigger_id": f"{n}.2.trigger",
        "team": {"id": "T0001", "domain": "vendor"}, "is_enterprise_install": False,
        "container": {"type": "message", "message_ts": f"1700000000.{n:06d}",
                      "channel_id": "D" + who[0][1:], "is_ephemeral": False},
        "channel": {"id": "D" + who[0][1:], "name": "directmessage"},
        "message": {"type": "message", "ts": f"1700000000.{n:06d}", "text": "m"},
        "response_url": f"{fake_url}/respond/a{n}",
        "actions": [{"action_id": "ask_best", "block_id": "b", "value": str(request_id),
                     "type": "button", "action_ts": "1700000001.000001"}],
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


async def first_request_of(database_url: str, email: str) -> int | None:
    from sqlalchemy import text

    from storage.db import create_engine

    engine = create_engine(database_url)
    try:
        async with engine.connect() as db:
            found = await db.scalar(text(
                "SELECT min(id) FROM reference_requests WHERE rep_email = :e"), {"e": email})
    finally:
        await engine.dispose()
    return int(found) if found is not None else None


async def drive(urls: list[str], reps: int, seconds: float, fake_url: str,
                database_url: str) -> dict[str, Any]:
    verifier = SignatureVerifier(SECRET)
    deadline = time.monotonic() + seconds
    turn = 0
    statuses: dict[int, int] = {}
    acks: list[float] = []
    answers: dict[str, int] = {}
    accepted = 0

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=reps * 2)) as http:

        async def post(url: str, body: str, *, form: bool = False) -> None:
            nonlocal accepted
            started = time.perf_counter()
            async with http.post(url, data=body.encode(), headers=signed(body, verifier)) as r:
                answer = (await r.read()).decode()[:200]
                statuses[r.status] = statuses.get(r.status, 0) + 1
                if answer:
                    kind = "busy" if "busy" in answer else answer
                    answers[kind] = answers.get(kind, 0) + 1
                elif form and r.status == 200:
                    accepted += 1  # the modal closed: the rep saw it accepted
            acks.append((time.perf_counter() - started) * 1000)

        async def one_rep(n: int) -> None:
            nonlocal turn
            who = rep(n)
            sent = 0
            while time.monotonic() < deadline:
                turn += 1
                await post(urls[turn % len(urls)], intake(who, turn), form=True)
                sent += 1
                if sent == 1:  # an in-flight double click on two replicas at once
                    await asyncio.sleep(1.0)
                    request_id = await first_request_of(database_url, who[1])
                    if request_id is not None:
                        turn += 1
                        body = ask_best(who, request_id, fake_url, turn)
                        await asyncio.gather(post(urls[0], body), post(urls[1 % len(urls)],
                                                                          body))

        await asyncio.gather(*(one_rep(n) for n in range(reps)))
    return {"statuses": statuses, "acks_ms": acks, "answers": answers,
            "forms_accepted": accepted}


async def settled(database_url: str, started: datetime, limit: float = 180.0) -> None:
    """Wait until the replicas are done: the work they acknowledged is filed (the count of
    requests stops growing) and the outbox is empty, for five seconds in a row."""
    deadline = time.monotonic() + limit
    last: tuple[int, int] | None = None
    quiet = 0
    while time.monotonic() < deadline and quiet < 5:
        now = await outcome(database_url, started)
        seen = (now["filed"], now["pending"])
        quiet = quiet + 1 if seen == last and now["pending"] == 0 else 0
        last = seen
        await asyncio.sleep(1.0)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def bench(replicas: int, reps: int, seconds: float) -> dict[str, Any]:
    from tests.postgres import PostgresServer

    server = PostgresServer().start()
    database_url = server.url()
    fake_port = free_port()
    fake_url = f"http://127.0.0.1:{fake_port}"
    processes: list[subprocess.Popen[str]] = []
    try:
        await seed(database_url)
        processes.append(spawn(__file__, "fake", str(fake_port), str(reps)))
        ports = [free_port() for _ in range(replicas)]
        for port in ports:
            processes.append(spawn(__file__, "replica", str(port), f"{fake_url}/api/",
                                   database_url))
        urls = [f"http://127.0.0.1:{port}/slack/events" for port in ports]
        started = datetime.now(UTC)
        load = await drive(urls, reps, seconds, fake_url, database_url)
        await settled(database_url, started)
        done = await outcome(database_url, started)
        async with aiohttp.ClientSession() as http, http.get(f"{fake_url}/stats") as r:
            slack = await r.json()
    finally:
        for process in reversed(processes):
            stop(process)
    try:
        filed_at_the_end = (await outcome(database_url, started))["filed"]
    finally:
        server.stop()
    posted = slack["calls"].get("chat.postMessage", 0) + slack["calls"].get("chat.update", 0)
    waits = done["waits_s"] or [float("nan")]
    return {
        "replicas": replicas, "reps": reps, "seconds": seconds,
        "http_statuses": load["statuses"], "answers": load["answers"],
        "ack_p95_ms": round(percentile(load["acks_ms"], 95), 1),
        "forms_accepted": load["forms_accepted"], "requests_filed": done["filed"],
        "lost": load["forms_accepted"] - filed_at_the_end,
        "filed_per_second": round(done["filed"] / seconds, 2),
        "submit_to_matches_p50_ms": round(statistics.median(waits) * 1000, 1),
        "submit_to_matches_p95_ms": round(percentile(waits, 95) * 1000, 1),
        "matches_delivered": len(done["waits_s"]),
        "outbox_sent": done["sent"], "slack_posts_and_updates": posted,
        "duplicates": {"posts_beyond_outbox": max(0, posted - done["sent"]),
                       "repeated_identical_posts": slack["repeated_posts"],
                       "double_clicks_asked_twice": done["asked_twice"]},
    }


def run_role(role: str | None, args: list[str]) -> bool:
    """Be one of the benchmark's processes (``spawn`` starts this script with ``--role``):
    the fake Slack or a replica; False when this is the benchmark itself."""
    if role == "fake":
        asyncio.run(run_fake_slack(int(args[0]), int(args[1])))
    elif role == "replica":
        asyncio.run(run_replica(int(args[0]), args[1], args[2]))
    return role is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--role", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if run_role(args.role, rest):
        return
    summary = asyncio.run(bench(args.replicas, args.reps, args.seconds))
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"{summary['replicas']} replicas on one PostgreSQL, {summary['reps']} reps for "
          f"{summary['seconds']:.0f} s (HTTP answers: {summary['http_statuses']}; "
          f"turned away busy: {summary['answers'].get('busy', 0)})")
    print(f"  requests filed        {summary['requests_filed']} "
          f"({summary['filed_per_second']}/s) of {summary['forms_accepted']} forms accepted, "
          f"lost {summary['lost']} (must be 0); ack p95 {summary['ack_p95_ms']} ms")
    print(f"  submit -> matches DM  p50 {summary['submit_to_matches_p50_ms']} ms   "
          f"p95 {summary['submit_to_matches_p95_ms']} ms "
          f"({summary['matches_delivered']} delivered)")
    print(f"  outbox sent {summary['outbox_sent']}, Slack posts + updates "
          f"{summary['slack_posts_and_updates']}")
    print(f"  duplicates            {summary['duplicates']} (all must be 0)")


if __name__ == "__main__":
    main()
