"""Time resolving who is acting (``bot.services.roles.resolve_actor``) at roster sizes.

    python bench/bench_resolve_actor.py [--sizes 1000 25000] [--runs 200] [--before-runs 10]

Every click and command resolves the actor's roles in a unit of work of its own. This
builds a roster of each size on SQLite (real migrations, rows written with the import's
``upsert_many``), then times one resolution per unit of work for three kinds of people
in turn: a rep (on no roster row: the worst case for a scan), an advocate and an account
owner. "before" is the roster scan the service used to do (every advocate loaded to find
an account owner), reproduced here as the baseline; "after" is the service as it is.
Target: p95 well under 50 ms at 25,000 advocates, and flat in the roster's size.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.clock import SystemClock
from bot.domain.model import Actor, Advocate, Person, Role
from bot.ports import UnitOfWork
from bot.services.context import ServiceContext
from bot.services.roles import may_be_rep, resolve_actor
from storage.db import create_engine
from storage.migrate import upgrade
from storage.uow import SqlUnitOfWorkFactory

Resolve = Callable[[ServiceContext, UnitOfWork, Person], Awaitable[Actor]]


async def scan_roster(ctx: ServiceContext, uow: UnitOfWork, person: Person) -> Actor:
    """The baseline: what ``resolve_actor`` did before the indexed lookup (with today's
    rule that an advocate is not a rep)."""
    roles = set()
    email = (person.email or "").strip().lower()
    if email in ctx.program_managers:
        roles.add(Role.PROGRAM_MANAGER)
    if await uow.advocates.get_by_email(email) is not None:
        roles.add(Role.ADVOCATE)
    elif may_be_rep(person, ctx.rep_email_domains):
        roles.add(Role.REP)
    for advocate in await uow.advocates.list():
        if (advocate.account_owner_email or "").lower() == email:
            roles.add(Role.ACCOUNT_OWNER)
            break
    return Actor(person=person, roles=frozenset(roles))


def roster(size: int) -> list[Advocate]:
    return [Advocate(f"advocate{n:06d}@customer{n % 997}.example", f"Advocate {n}",
                     f"Company {n % 997}", industry="Fintech", products=("Payments",),
                     account_owner_email=f"csm{n % 200}@vendor.example")
            for n in range(size)]


PEOPLE = (Person("rep@vendor.example"), Person("advocate000007@customer7.example"),
          Person("CSM199@vendor.example"))


async def timed(ctx: ServiceContext, resolve: Resolve, runs: int) -> list[float]:
    seconds = []
    for n in range(runs):
        person = PEOPLE[n % len(PEOPLE)]
        start = time.perf_counter()
        async with ctx.uow() as uow:
            await resolve(ctx, uow, person)
        seconds.append(time.perf_counter() - start)
    return seconds


def line(label: str, size: int, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return (f"{size:>7} {label:<7} runs {len(ms):>4}  p50 {statistics.median(ms):8.2f} ms"
            f"  p95 {p95:8.2f} ms")


async def bench(size: int, runs: int, before_runs: int, directory: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{directory / f'roster{size}.db'}")
    try:
        await upgrade(engine)
        factory = SqlUnitOfWorkFactory(engine)
        async with factory() as uow:
            await uow.advocates.upsert_many([(a, None) for a in roster(size)])
            await uow.commit()
        ctx = ServiceContext(uow=factory, clock=SystemClock())
        for resolve, label, count in ((scan_roster, "before", before_runs),
                                      (resolve_actor, "after", runs)):
            await timed(ctx, resolve, 3)  # warm the caches and the connection
            if count:
                print(line(label, size, await timed(ctx, resolve, count)), flush=True)
        # the two must agree on every kind of person
        for person in PEOPLE:
            async with factory() as uow:
                assert (await scan_roster(ctx, uow, person)).roles == (
                    await resolve_actor(ctx, uow, person)).roles
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 25000])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--before-runs", type=int, default=10,
                        help="runs of the roster-scan baseline (0 to skip it)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            asyncio.run(bench(size, args.runs, args.before_runs, Path(tmp)))


if __name__ == "__main__":
    main()
