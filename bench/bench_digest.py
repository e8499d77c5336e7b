"""Time the weekly digest over one synthetic year of program history.

    python bench/bench_digest.py [--advocates 5000] [--requests 50000] [--asks 100000]
                                 [--runs 10] [--backends sqlite postgres] [--seed 7]

The year: ``--requests`` requests spread evenly over 52 weeks, each asked ``asks /
requests`` times on average (asks go to random advocates; most are declined or expire,
the last one of a fulfilled request is accepted), 60% fulfilled with an engagement
completed a few days later (points, influenced amounts), 25% unfulfilled, the rest still
open in the last weeks; a few hundred dead letters. Built through SQLAlchemy Core
``executemany`` on a schema made by the real migrations; PostgreSQL is the suite's
throwaway server (``tests/postgres.py``), skipped when its binaries are missing.

Each run builds the whole digest (every aggregate, the 12-week trend, both weeks of
comparison; the chart is excluded, it is not SQL) for the last week of the year.
Target: under 1 s on both databases.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from processes import bench_database
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import SystemClock
from bot.domain.policy import ProgramPolicy
from bot.services.context import ServiceContext
from bot.services.digest import digest_context, digest_for_week
from storage.db import create_engine
from storage.migrate import upgrade
from storage.tables import (
    AdvocateRow,
    AskRow,
    EngagementRow,
    OutboxRow,
    RequestRow,
)
from storage.uow import SqlUnitOfWorkFactory

YEAR_END = datetime(2026, 3, 2, 8, tzinfo=UTC)  # the digest of 2026-W10 is the one timed
YEAR_START = YEAR_END - timedelta(weeks=52)
ZONE = "Europe/Berlin"
CHUNK = 5000


def synthetic_year(advocates: int, requests: int, asks: int, seed: int
                   ) -> dict[Any, list[dict[str, Any]]]:
    rng = random.Random(seed)
    rows: dict[Any, list[dict[str, Any]]] = {AdvocateRow: [], RequestRow: [], AskRow: [],
                                             EngagementRow: [], OutboxRow: []}
    rows[AdvocateRow] = [_advocate(rng, n) for n in range(1, advocates + 1)]
    for n in range(1, requests + 1):
        _request(rng, rows, n, requests, advocates, asks / requests)
    rows[OutboxRow] = [_dead_letter(rng, n) for n in range(300)]
    return rows


def _advocate(rng: random.Random, n: int) -> dict[str, Any]:
    return {
        "id": n, "email": f"advocate{n}@c{n}.example", "email_key": f"advocate{n}@c{n}.example",
        "name": f"Advocate {n}", "company": f"Customer {n // 3}", "products": [],
        "use_cases": [], "languages": ["English"], "reference_types": ["call"],
        "do_not_use_with": [], "status": rng.choices(["active", "paused", "retired"],
                                                     [90, 7, 3])[0],
        "public_recognition": rng.random() < 0.4, "points": rng.randint(0, 200),
        "joined_on": date(2024, 1, 1) + timedelta(days=rng.randint(0, 800)),
        "renewal_date": date(2026, 1, 1) + timedelta(days=rng.randint(0, 400)),
        "own_max_per_90_days": 2 if rng.random() < 0.05 else None,
    }


def _request(rng: random.Random, rows: dict[Any, list[dict[str, Any]]], n: int,
             requests: int, advocates: int, asks_per_request: float) -> None:
    """Request ``n`` of the year, with its asks and, if it got that far, its engagement."""
    created = YEAR_START + timedelta(seconds=span_seconds() * n / (requests + 1))
    fate = rng.random()
    state = ("completed" if fate < 0.6 else "unfulfilled" if fate < 0.85
             else rng.choice(["matching", "asking", "scheduled", "cancelled"]))
    closed = created + timedelta(days=rng.uniform(2, 20))
    rows[RequestRow].append({
        "id": n, "rep_email": f"rep{n % 200}@vendor.example",
        "rep_email_key": f"rep{n % 200}@vendor.example", "prospect_company": f"P{n}",
        "reference_type": "call", "needed_by": (created + timedelta(days=21)).date(),
        "created_at": created, "products": [], "use_cases": [], "proposed_times": [],
        "state": state, "updated_at": min(closed, YEAR_END) if state != "matching"
        else created,
    })
    count = max(1, round(rng.gauss(asks_per_request, 1)))
    advocate = 1
    for k in range(count):
        advocate = rng.randint(1, advocates)
        accepted = state in ("completed", "scheduled") and k == count - 1
        asked = created + timedelta(hours=2 + 30 * k)
        rows[AskRow].append({
            "id": len(rows[AskRow]) + 1, "request_id": n, "advocate_id": advocate,
            "rank": k + 1, "created_at": asked, "expires_at": asked + timedelta(hours=48),
            "state": "accepted" if accepted else rng.choice(["declined", "expired"]),
            "answered_at": asked + timedelta(hours=rng.uniform(1, 40)),
        })
    if state in ("completed", "scheduled"):
        accepted_at = created + timedelta(hours=2 + 30 * (count - 1) + rng.uniform(1, 40))
        call = accepted_at + timedelta(days=rng.uniform(2, 10))
        rows[EngagementRow].append({
            "id": len(rows[EngagementRow]) + 1, "request_id": n, "advocate_id": advocate,
            "ask_id": len(rows[AskRow]), "reference_type": "call", "accepted_at": accepted_at,
            "state": "completed" if state == "completed" else "scheduled",
            "scheduled_at": call, "completed_at": call + timedelta(hours=1)
            if state == "completed" else None,
            "points_awarded": 10 if state == "completed" else 0,
            "influenced_amount": Decimal(rng.randint(0, 500_000))
            if state == "completed" and rng.random() < 0.5 else None,
        })


def _dead_letter(rng: random.Random, n: int) -> dict[str, Any]:
    died = YEAR_START + timedelta(seconds=rng.uniform(0, span_seconds()))
    return {
        "key": f"dead-{n}", "recipient_email": f"advocate{n}@c{n}.example",
        "template": "ask", "context": {}, "status": "dead", "attempts": 8,
        "next_attempt_at": died, "last_error": "user_not_found", "created_at": died,
    }


def span_seconds() -> float:
    return (YEAR_END - YEAR_START).total_seconds()


async def load(engine: AsyncEngine, rows: dict[Any, list[dict[str, Any]]]) -> None:
    await upgrade(engine)
    async with engine.begin() as connection:
        for table, values in rows.items():
            for start in range(0, len(values), CHUNK):
                await connection.execute(insert(table), values[start:start + CHUNK])
        if engine.dialect.name == "postgresql":
            for table in ("advocates", "reference_requests", "asks", "engagements"):
                await connection.exec_driver_sql(
                    f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
            await connection.exec_driver_sql("ANALYZE")
        else:
            await connection.exec_driver_sql("ANALYZE")


async def time_digest(engine: AsyncEngine, runs: int) -> list[float]:
    ctx = ServiceContext(uow=SqlUnitOfWorkFactory(engine), clock=SystemClock(),
                         policy=ProgramPolicy(), program_managers=("pm@vendor.example",),
                         program_timezone=ZONE)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        digest = await digest_for_week(ctx, YEAR_END.date())
        timings.append(time.perf_counter() - started)
    started = time.perf_counter()
    digest_context(digest)
    print(f"    (chart and context once: {1000 * (time.perf_counter() - started):.0f} ms; "
          f"opened {digest.metric('opened').value}, fulfilled "
          f"{digest.metric('fulfilled').value}, near limit "
          f"{digest.metric('near_limit').value}, idle {digest.metric('idle').value})")
    return timings


async def on_loaded_database(backend: str, rows: dict[Any, list[dict[str, Any]]],
                             use: Callable[[AsyncEngine], Awaitable[None]]) -> None:
    """Load ``rows`` into a fresh SQLite file (``sqlite``) or a throwaway PostgreSQL server
    (``postgres``; skipped, saying so, where there is none) and run ``use`` on it."""
    from tests.postgres import PostgresUnavailable

    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(bench_database(backend == "postgres", Path(folder)))
        except PostgresUnavailable as error:
            print(f"{backend}: skipped ({error})")
            return
        engine = create_engine(url)
        try:
            started = time.perf_counter()
            await load(engine, rows)
            print(f"{backend}: loaded in {time.perf_counter() - started:.1f} s")
            await use(engine)
        finally:
            await engine.dispose()


async def bench(backend: str, rows: dict[Any, list[dict[str, Any]]], runs: int) -> None:
    async def timed(engine: AsyncEngine) -> None:
        timings = await time_digest(engine, runs)
        ms = sorted(1000 * t for t in timings)
        print(f"{backend}: digest cold {ms[0] if len(ms) == 1 else 1000 * timings[0]:.0f} ms, "
              f"p50 {statistics.median(ms):.0f} ms, max {ms[-1]:.0f} ms over {runs} runs")

    await on_loaded_database(backend, rows, timed)


def year_parser(description: str, *, advocates: int, requests: int, asks: int,
                runs: int) -> argparse.ArgumentParser:
    """The options every synthetic-year benchmark takes, with its own defaults."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--advocates", type=int, default=advocates)
    parser.add_argument("--requests", type=int, default=requests)
    parser.add_argument("--asks", type=int, default=asks)
    parser.add_argument("--runs", type=int, default=runs)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"],
                        choices=["sqlite", "postgres"])
    return parser


def main() -> None:
    args = year_parser(__doc__.split("\n\n")[0], advocates=5000, requests=50_000,
                       asks=100_000, runs=10).parse_args()
    rows = synthetic_year(args.advocates, args.requests, args.asks, args.seed)
    print(f"{len(rows[AdvocateRow])} advocates, {len(rows[RequestRow])} requests, "
          f"{len(rows[AskRow])} asks, {len(rows[EngagementRow])} engagements")
    for backend in args.backends:
        asyncio.run(bench(backend, rows, args.runs))


if __name__ == "__main__":
    main()
