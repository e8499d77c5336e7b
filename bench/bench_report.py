"""Time the program report over one synthetic program year.

    python bench/bench_report.py [--advocates 2000] [--requests 20000] [--asks 40000]
                                 [--nominations 1000] [--runs 5] [--seed 7]
                                 [--backends sqlite postgres]

The year is ``bench_digest.py``'s (requests spread over 52 weeks, asks, 60% fulfilled with
engagements and influenced amounts, 25% unfulfilled), each request also given an industry,
a region and an opportunity stage (a tenth closed-won), and its rep one of 200; and
``--nominations`` nominations over the year in every state (three in ten joined). Loaded
through the real migrations; PostgreSQL is the suite's throwaway server, skipped when its
binaries are missing.

Timed: the report's numbers (every aggregate of the period and of the one before, the
breakdowns, the weekly and monthly series) for the year's last full quarter, 2025-Q4, and
for the whole year; then, once each, the files and charts a chat message carries (three
PNGs, the CSV, the XLSX). Target: the whole year's report under 2 s.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_digest import (
    YEAR_END,
    YEAR_START,
    ZONE,
    on_loaded_database,
    synthetic_year,
    year_parser,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import SystemClock
from bot.domain.policy import ProgramPolicy
from bot.rendering import Renderer
from bot.report_files import chat_files
from bot.services.context import ServiceContext
from bot.services.report import ReportPeriod, program_report, quarter_period, report_context
from storage.tables import AdvocateRow, AskRow, EngagementRow, NominationRow, RequestRow

INDUSTRIES = ("Banking", "Retail", "Healthcare", "Manufacturing", "Software", "Public sector")
REGIONS = ("EMEA", "NA", "APAC", "LATAM")
STAGES = ("Discovery", "Evaluation", "Negotiation", "Closed Won")
# a nomination's fate: (state, decided, answered), the weights how often
FATES = (("pending", False, False), ("declined", True, False), ("invited", True, False),
         ("not_now", True, True), ("no_thanks", True, True), ("joined", True, True))


def report_year(advocates: int, requests: int, asks: int, nominations: int, seed: int
                ) -> dict[Any, list[dict[str, Any]]]:
    rows = synthetic_year(advocates, requests, asks, seed)
    rng = random.Random(seed + 1)
    for row in rows[RequestRow]:
        row.update(industry=rng.choice(INDUSTRIES), region=rng.choice(REGIONS),
                   opportunity_stage=rng.choices(STAGES, [3, 3, 3, 1])[0])
    rows[NominationRow] = [_nomination(rng, n) for n in range(1, nominations + 1)]
    return rows


def _nomination(rng: random.Random, n: int) -> dict[str, Any]:
    state, decided, answered = rng.choices(FATES, [1, 2, 2, 1, 1, 3])[0]
    created = YEAR_START + timedelta(days=rng.uniform(0, 364))
    decided_at = created + timedelta(days=rng.uniform(0.1, 5)) if decided else None
    answered_at = (decided_at + timedelta(days=rng.uniform(0.5, 30))
                   if answered and decided_at else None)
    email = f"nominee{n}@c{n % 700}.example"
    return {"id": n, "email": email, "email_key": email, "name": f"Nominee {n}",
            "company": "", "reason": "", "nominator_email": "csm@vendor.example",
            "nominator_name": "", "state": state, "readiness": [], "override": False,
            "decided_by": "pm@vendor.example" if decided else "", "decided_at": decided_at,
            "decline_reason": "", "answered_at": answered_at, "advocate_id": None,
            "created_at": created, "updated_at": answered_at or decided_at or created}


async def time_report(engine: AsyncEngine, period: ReportPeriod, runs: int
                      ) -> tuple[list[float], dict[str, Any]]:
    from storage.uow import SqlUnitOfWorkFactory

    ctx = ServiceContext(uow=SqlUnitOfWorkFactory(engine), clock=SystemClock(),
                         policy=ProgramPolicy(), program_managers=("pm@vendor.example",),
                         program_timezone=ZONE)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        report = await program_report(ctx, period)
        timings.append(time.perf_counter() - started)
    return timings, report_context(report)


def _summary(context: dict[str, Any]) -> str:
    value = {m["key"]: m["value"] for m in context["summary"]}
    return (f"opened {value['opened']}, fulfilled {value['fulfilled']}, rate "
            f"{value['fulfilment_rate']:.2f}, median accept {value['median_time_to_accept']} h, "
            f"p90 {value['p90_time_to_accept']} h, influenced {value['influenced']:,.0f}, "
            f"{len(context['groups']['advocate'])} advocates engaged, "
            f"{_nominated(context)}")


def _nominated(context: dict[str, Any]) -> str:
    value = {m["key"]: m["value"] for m in context["nominations"]}
    return (f"{value['nominated']} nominated, {value['joined']} joined, conversion "
            f"{value['conversion_rate']:.2f}, median {value['median_days_to_join']} days")


async def bench(backend: str, rows: dict[Any, list[dict[str, Any]]], runs: int) -> None:
    async def timed(engine: AsyncEngine) -> None:
        first, last = YEAR_START.date(), YEAR_END.date() - timedelta(days=1)
        for period in (quarter_period(2025, 4),
                       ReportPeriod(f"{first}..{last}", first, last)):
            timings, context = await time_report(engine, period, runs)
            ms = sorted(1000 * t for t in timings)
            print(f"{backend}: {period.label} ({period.days} days) report cold "
                  f"{1000 * timings[0]:.0f} ms, p50 {statistics.median(ms):.0f} ms, "
                  f"max {ms[-1]:.0f} ms over {runs} runs")
            print(f"    {_summary(context)}")
        started = time.perf_counter()
        files = chat_files(Renderer(), context)
        sizes = ", ".join(f"{f.filename.removeprefix(context['file_stem'])} "
                          f"{len(f.content) // 1024} KB"
                          for f in files)
        print(f"    files and charts of the year once: "
              f"{1000 * (time.perf_counter() - started):.0f} ms ({sizes})")

    await on_loaded_database(backend, rows, timed)


def main() -> None:
    parser = year_parser(__doc__.split("\n\n")[0], advocates=2000, requests=20_000,
                         asks=40_000, runs=5)
    parser.add_argument("--nominations", type=int, default=1000)
    args = parser.parse_args()
    rows = report_year(args.advocates, args.requests, args.asks, args.nominations, args.seed)
    print(f"{len(rows[AdvocateRow])} advocates, {len(rows[RequestRow])} requests, "
          f"{len(rows[AskRow])} asks, {len(rows[EngagementRow])} engagements, "
          f"{len(rows[NominationRow])} nominations "
          f"(a year ending {YEAR_END.date()})")
    for backend in args.backends:
        asyncio.run(bench(backend, rows, args.runs))


if __name__ == "__main__":
    main()
