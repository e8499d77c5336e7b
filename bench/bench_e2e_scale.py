"""What a person waits for at a real program's size, through the real services and database.

    python bench/bench_e2e_scale.py [--advocates 20000] [--runs 9] [--postgres]

Seeds a roster of ``--advocates`` rows by importing a CRM-shaped CSV (the file
``bench_import.py`` writes; the import is timed), then, over ``--runs`` rounds, times
each step a person waits for, each in its own unit of work as the handlers call them:

* intake submitted → matches: ``submit_request`` (validation, ranking the whole roster
  with the usage committed so far, the matches message queued in the outbox);
* App Home: ``home`` for an advocate (their profile and usage), a rep and a program
  manager (the program at a glance);
* Accept: ``answer_ask`` accepting an ask (limits re-checked with the advocate locked,
  the ask's message queued to be updated in place);
* any click: ``resolve_actor`` for a rep, an advocate and an account owner;

and, once, reading the roster into matching's in-process copy, as ``serve`` does at start
(``load_roster``).

Each figure is the service's time: what the outbox then takes to deliver (the
dispatcher wakes on commit) is ``bench_delivery_latency.py``'s, and the platform's round
trip is not ours. Prints p50 and p95 per step. SQLite in a temporary file by default;
``--postgres`` starts the suite's throwaway server (``tests/postgres.py``). Goals (issue
11): intake → matches < 0.5 s at 20k advocates and < 1 s at 100k; App Home < 0.5 s at
100k; any click < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_import import INDUSTRIES, PRODUCTS, write_csv

from bench.processes import bench_database
from bot.clock import SystemClock
from bot.domain.model import Actor, Person, Role
from bot.services.asks import answer_ask, ask_advocate
from bot.services.context import ServiceContext
from bot.services.home import home
from bot.services.intake import RequestDraft
from bot.services.ranking import load_roster
from bot.services.requests import submit_request
from bot.services.roles import resolve_actor
from bot.services.roster import import_roster
from storage.db import create_engine
from storage.migrate import upgrade
from storage.uow import SqlUnitOfWorkFactory

REP = Actor(Person("rep@vendor.example", "Rita Rep", internal=True), frozenset({Role.REP}))
PM = Actor(Person("pm@vendor.example", "Pat PM", internal=True),
           frozenset({Role.PROGRAM_MANAGER, Role.REP}))
TYPES = ("call", "video_call", "email", "case_study")


async def timed(call: Callable[[], Awaitable[object]]) -> tuple[float, object]:
    start = time.perf_counter()
    result = await call()
    return time.perf_counter() - start, result


def row(label: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, round(len(ms) * 0.95) - 1)]
    return (f"  {label:<34} p50 {statistics.median(ms):8.1f} ms   p95 {p95:8.1f} ms"
            f"   (n={len(ms)})")


async def one_round(ctx: ServiceContext, n: int, times: dict[str, list[float]]) -> None:
    now = ctx.now()
    draft = RequestDraft(
        prospect_company=f"Prospect {n}", reference_type=TYPES[n % len(TYPES)],
        needed_by=(now + timedelta(days=20)).date(), industry=INDUSTRIES[n % len(INDUSTRIES)],
        products=[PRODUCTS[n % len(PRODUCTS)], PRODUCTS[(n + 2) % len(PRODUCTS)]],
        language="English", opportunity_name=f"Deal {n}",
        proposed_times=[(now + timedelta(days=3)).replace(hour=15, minute=0, second=0,
                                                          microsecond=0)])
    seconds, submitted = await timed(lambda: submit_request(ctx, REP, draft))
    times["intake submitted -> matches"].append(seconds)
    matches = submitted.matches  # type: ignore[attr-defined]
    assert matches, "the bench roster must have matches"
    chosen = matches[0].advocate
    ask = await ask_advocate(ctx, REP, submitted.request.id,  # type: ignore[attr-defined]
                             chosen.id)
    assert ask is not None
    advocate = Actor(Person(chosen.email, chosen.name), frozenset({Role.ADVOCATE}))
    seconds, _ = await timed(lambda: answer_ask(ctx, advocate, ask.id or 0, "accept"))
    times["Accept -> ask updated"].append(seconds)
    seconds, _ = await timed(lambda: home(ctx, advocate))
    times["App Home (advocate)"].append(seconds)
    seconds, _ = await timed(lambda: home(ctx, REP))
    times["App Home (rep)"].append(seconds)
    seconds, _ = await timed(lambda: home(ctx, PM))
    times["App Home (program manager)"].append(seconds)
    owner = Person(f"csm{n % 150}@vendor.example")
    for person in (REP.person, advocate.person, owner):
        async def resolve(person: Person = person) -> object:
            async with ctx.uow() as uow:
                return await resolve_actor(ctx, uow, person)
        seconds, _ = await timed(resolve)
        times["any click (resolve_actor)"].append(seconds)


async def bench(url: str, csv_path: Path, runs: int) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        factory = SqlUnitOfWorkFactory(engine)
        ctx = ServiceContext(uow=factory, clock=SystemClock(),
                             program_managers=("pm@vendor.example",))
        seconds, report = await timed(lambda: import_roster(factory, csv_path, now=ctx.now()))
        print(f"  {'import (first)':<34} {seconds:8.2f} s   "
              f"({report.created} created)", flush=True)  # type: ignore[attr-defined]
        seconds, active = await timed(lambda: load_roster(ctx))
        print(f"  {'roster copy read (serve start)':<34} {seconds:8.2f} s   "
              f"({active} active)", flush=True)
        await one_round(ctx, -1, {key: [] for key in KEYS})  # warm caches and connections
        times: dict[str, list[float]] = {key: [] for key in KEYS}
        for n in range(runs):
            await one_round(ctx, n, times)
        for key in KEYS:
            print(row(key, times[key]), flush=True)
    finally:
        await engine.dispose()


KEYS = ("intake submitted -> matches", "App Home (advocate)", "App Home (rep)",
        "App Home (program manager)", "Accept -> ask updated", "any click (resolve_actor)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--advocates", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--postgres", action="store_true",
                        help="on a throwaway PostgreSQL server instead of SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "roster.csv"
        write_csv(csv_path, args.advocates)
        with bench_database(args.postgres, Path(tmp)) as url:
            print(f"{'postgres' if args.postgres else 'sqlite'}, {args.advocates} advocates, "
                  f"{args.runs} runs", flush=True)
            asyncio.run(bench(url, csv_path, args.runs))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS {peak:.0f} MB", flush=True)


if __name__ == "__main__":
    main()
