"""What knowing each person's language costs: per click, and per outbox pass.

    python bench/bench_locales.py [--size 25000] [--runs 200]

On SQLite (real migrations), a roster of ``--size`` advocates, a third with a roster
``Locale``, and 50 people stored with their platform's locale (some with their own
choice). Timed:

* ``actor``: who is acting, as a Slack action resolves it per unit of work — the roles
  (``resolve_actor``) alone, then with the language (the stored row's choice and
  ``reading``: one indexed read, and for an advocate without a choice one more);
* ``pass``: the outbox dispatcher's reading of a pass's languages (``_Readers.read``: the
  50 recipients' people rows by identity and their roster locales by email, two queries),
  and a whole ``run_once`` of 50 messages to a messenger that answers at once.

Target: the language adds well under 5 ms to a click (p95) and to a 50-message pass, and
does not grow with the roster.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.clock import SystemClock
from bot.domain.model import Advocate, Identity, Person, Platform
from bot.ports import OutboxMessage, OutgoingMessage
from bot.services.context import ServiceContext
from bot.services.dispatch import OutboxDispatcher, _Readers, _Resolved
from bot.services.locales import reading
from bot.services.roles import resolve_actor
from storage.db import create_engine
from storage.migrate import upgrade
from storage.uow import SqlUnitOfWorkFactory

PEOPLE = 50


class Instant:
    """A messenger that delivers at once: only the dispatcher's own work is timed."""

    async def deliver(self, message: OutboxMessage) -> str:
        return f"ref-{message.id}"


def roster(size: int) -> list[Advocate]:
    return [Advocate(f"advocate{n:06d}@customer{n % 997}.example", f"Advocate {n}",
                     f"Company {n % 997}", locale="ja_JP" if n % 3 == 0 else "")
            for n in range(size)]


def people() -> list[Person]:
    return [Person(f"advocate{n:06d}@customer{n % 997}.example", f"Advocate {n}",
                   Identity(Platform.SLACK, "T1", f"U{n:06d}"),
                   locale="en_US" if n % 2 else "ja_JP") for n in range(PEOPLE)]


def line(label: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return (f"{label:<28} runs {len(ms):>4}  p50 {statistics.median(ms):7.2f} ms"
            f"  p95 {p95:7.2f} ms")


async def actor_times(ctx: ServiceContext, everyone: list[Person], runs: int, *,
                      language: bool) -> list[float]:
    seconds = []
    for n in range(runs):
        person = everyone[n % len(everyone)]
        start = time.perf_counter()
        async with ctx.uow() as uow:
            if language:
                stored = await uow.people.get_by_identity(person.identity)  # type: ignore[arg-type]
                person = replace(person, chosen_locale=stored.chosen_locale if stored else None)
            actor = await resolve_actor(ctx, uow, person)
            if language:
                await reading(ctx, uow, actor)
        seconds.append(time.perf_counter() - start)
    return seconds


async def bench(size: int, runs: int, directory: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{directory / 'locales.db'}")
    try:
        await upgrade(engine)
        factory = SqlUnitOfWorkFactory(engine)
        everyone = people()
        async with factory() as uow:
            await uow.advocates.upsert_many([(a, None) for a in roster(size)])
            for n, person in enumerate(everyone):
                await uow.people.upsert(person)
                if n % 5 == 0:
                    await uow.people.choose_locale(person.identity, "en")  # type: ignore[arg-type]
            await uow.commit()
        ctx = ServiceContext(uow=factory, clock=SystemClock())
        print(f"roster of {size} advocates, {PEOPLE} people", flush=True)
        for language in (False, True):
            await actor_times(ctx, everyone, 5, language=language)  # warm up
            label = "actor: roles and language" if language else "actor: roles only"
            print(line(label, await actor_times(ctx, everyone, runs, language=language)))

        now = datetime.now(UTC)
        items = [_Resolved(OutboxMessage(n, OutgoingMessage(Person(p.email), "t", {}, f"k{n}"),
                                         now), Platform.SLACK)
                 for n, p in enumerate(everyone)]
        seconds = []
        for _ in range(runs):
            start = time.perf_counter()
            async with factory() as uow:
                await _Readers.read(uow, items)
            seconds.append(time.perf_counter() - start)
        print(line(f"pass: read {PEOPLE} languages", seconds))

        dispatcher = OutboxDispatcher(factory, {Platform.SLACK: Instant()}, SystemClock())
        passes = []
        for round_ in range(max(runs // 20, 3)):
            async with factory() as uow:
                for n, person in enumerate(everyone):
                    await uow.outbox.add(OutgoingMessage(Person(person.email), "t", {},
                                                         f"r{round_}:{n}"), now=now)
                await uow.commit()
            start = time.perf_counter()
            stats = await dispatcher.run_once(limit=PEOPLE)
            passes.append(time.perf_counter() - start)
            assert stats.sent == PEOPLE, stats
        print(line(f"pass: run_once of {PEOPLE}", passes))
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=25000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(bench(args.size, args.runs, Path(tmp)))


if __name__ == "__main__":
    main()
