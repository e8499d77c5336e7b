"""Time ``rank_advocates`` on synthetic rosters of realistic shape.

    python bench/bench_matching.py [--sizes 1000 10000 100000] [--runs 30] [--seed 7]

The roster is built from a fixed seed: customer companies with about three contacts
each sharing the account's industry, region, size, products, health and renewal date; a
few industries that dominate; most advocates active and lightly used (60% not engaged in
the past year), some paused, snoozed, on leave, at a limit, with a call scheduled ahead
or with their own limits; a share of renewals and unhappy accounts. Each run ranks a
different request (type, industry, products, language, size, sometimes
``include_caution``) over the roster, in alternating order, the way reps do.

Targets: 10k advocates well under 20 ms p95 and 100k under 200 ms p95 on two cores.
"p50/p95/max" time ``rank_advocates`` itself, garbage collection included; the first call
per size is reported apart ("cold"): it fills the company-name memo later calls share, as
a running bot's calls do. The matches' reasons are written with the ranking; an excluded
advocate's only when asked for, so "all reasons" is what ``MatchResult.exclusions()`` (every
excluded advocate with every reason: a "why did nobody fit?" summary) costs afterwards;
``why_not`` about one advocate costs microseconds.
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.domain.matching import rank_advocates
from bot.domain.model import (
    Advocate,
    AdvocateStatus,
    CompanySize,
    LimitOverrides,
    Person,
    ReferenceRequest,
    ReferenceType,
    Usage,
)
from bot.domain.policy import LimitPolicy, MatchPolicy

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

INDUSTRIES = ["Fintech", "Healthcare", "Retail", "Manufacturing", "SaaS", "Logistics",
              "Insurance", "Public Sector", "Education", "Media", "Energy", "Telecom"]
INDUSTRY_WEIGHTS = [14, 10, 10, 8, 16, 6, 6, 4, 4, 3, 3, 3]
REGIONS = ["AMER", "EMEA", "APAC", "LATAM"]
REGION_WEIGHTS = [45, 35, 15, 5]
PRODUCTS = ["Payments API", "Billing", "Checkout", "Fraud Shield", "Identity", "Analytics",
            "Data Warehouse", "Mobile SDK", "Connect", "Treasury", "Issuing", "Terminal",
            "Invoicing", "Tax", "Radar", "Sigma", "Atlas", "Climate", "Capital", "Webhooks"]
USE_CASES = ["checkout", "subscriptions", "marketplace payouts", "fraud detection",
             "reporting", "onboarding", "global expansion", "cost reduction", "migration",
             "compliance", "customer portal", "usage billing", "card issuing", "POS",
             "data sync", "self-serve", "partner payouts", "revenue recognition",
             "dunning", "multi-currency", "SSO", "audit trail", "forecasting",
             "embedded finance", "mobile checkout"]
LANGUAGES = ["English", "German", "French", "Spanish", "Japanese", "Portuguese", "Dutch"]
SUFFIXES = ["Inc", "Inc.", "Ltd", "GmbH", "LLC", "SA", "plc", "Corp.", "", "", ""]
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "America/Sao_Paulo",
         "Europe/London", "Australia/Sydney"]
TYPES = list(ReferenceType)
TYPE_WEIGHTS = [55, 25, 10, 4, 3, 3]  # how often reps ask for each type
TYPE_SHARE = dict(zip(TYPES, [0.9, 0.6, 0.35, 0.1, 0.1, 0.15], strict=True))  # who offers it
SIZES = list(CompanySize)


def build_roster(n: int, rng: random.Random) -> tuple[list[Advocate], dict[int, Usage]]:
    """``n`` advocates, about three contacts per customer company, and their usage.

    What a CRM holds per account (industry, region, size, products, use cases, health,
    renewal) is shared by the company's contacts; the rest varies per person.
    """
    accounts = [_account(i, rng) for i in range(max(n // 3, 1))]
    advocates: list[Advocate] = []
    usage: dict[int, Usage] = {}
    for i in range(1, n + 1):
        advocates.append(_advocate(i, rng.choice(accounts), rng))
        usage[i] = _usage(rng)
    return advocates, usage


def _account(i: int, rng: random.Random) -> dict[str, object]:
    name = rng.choice(["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli",
                       "Vandelay", "Wonka", "Tyrell", "Cyberdyne", "Soylent"])
    return {
        "company": f"{name} {i} {rng.choice(SUFFIXES)}".strip(),
        "industry": rng.choices(INDUSTRIES, INDUSTRY_WEIGHTS)[0],
        "region": rng.choices(REGIONS, REGION_WEIGHTS)[0],
        "company_size": rng.choice(SIZES),
        "products": tuple(rng.sample(PRODUCTS, rng.randint(1, 4))),
        "use_cases": tuple(rng.sample(USE_CASES, rng.randint(0, 3))),
        "health_score": None if rng.random() < 0.2 else min(100, int(rng.gauss(78, 14))),
        "renewal_date": NOW.date() + timedelta(days=rng.randint(-200, 500))
        if rng.random() < 0.7 else None,
    }


def _advocate(i: int, account: dict[str, object], rng: random.Random) -> Advocate:
    status = rng.choices(list(AdvocateStatus), [95, 4, 1])[0]
    languages = ("English",) if rng.random() < 0.7 else (
        "English", rng.choice(LANGUAGES[1:]))
    types = frozenset(t for t in TYPES if rng.random() < TYPE_SHARE[t]) or frozenset(
        {ReferenceType.CALL})
    own = LimitOverrides(max_per_90_days=rng.choice([1, 2])) if rng.random() < 0.03 else (
        LimitOverrides())
    manager = LimitOverrides(max_per_90_days=5, cooldown_days=7) if rng.random() < 0.01 else (
        LimitOverrides())
    return Advocate(
        id=i,
        email=f"advocate{i}@customer.example",
        name=f"Advocate {i}",
        languages=languages,
        timezone=rng.choice(ZONES),
        reference_types=types,
        status=status,
        unavailable_until=NOW.date() + timedelta(days=rng.randint(-60, 60))
        if rng.random() < 0.03 else None,
        snoozed_until=NOW + timedelta(days=rng.randint(-40, 30)) if rng.random() < 0.05 else None,
        do_not_use_with=(rng.choice(["Prospect 1", "Prospect 2 Inc"]),)
        if rng.random() < 0.02 else (),
        own_limits=own,
        manager_limits=manager,
        **account,  # type: ignore[arg-type]
    )


def _usage(rng: random.Random) -> Usage:
    if rng.random() < 0.6:  # most advocates were not used in the past year
        return Usage(last_engaged_at=NOW - timedelta(days=rng.uniform(365, 900))
                     if rng.random() < 0.3 else None)
    times = sorted(NOW - timedelta(days=rng.uniform(0, 365), hours=rng.uniform(0, 24))
                   for _ in range(rng.choices([1, 2, 3, 4, 5], [40, 30, 15, 10, 5])[0]))
    if rng.random() < 0.1:
        times.append(NOW + timedelta(days=rng.uniform(1, 40)))
    return Usage(
        engagement_times=tuple(times),
        open_asks=rng.choices([0, 1, 2], [88, 10, 2])[0],
        consecutive_declines=rng.choice([0, 0, 0, 1]),
        last_engaged_at=max(times),
    )


def build_requests(count: int, rng: random.Random) -> list[tuple[ReferenceRequest, MatchPolicy]]:
    rep = Person(email="rep@vendor.example")
    requests = []
    for i in range(count):
        request = ReferenceRequest(
            rep=rep,
            prospect_company=rng.choice(["Prospect 1", "Acme 12 Inc", "Globex 30 GmbH",
                                         "Prospect 2, Inc."]),
            reference_type=rng.choices(TYPES, TYPE_WEIGHTS)[0],
            needed_by=date(2026, 4, 1),
            created_at=NOW,
            id=i + 1,
            industry=rng.choices(INDUSTRIES, INDUSTRY_WEIGHTS)[0],
            region=rng.choice([*REGIONS, ""]),
            company_size=rng.choice([*SIZES, None]),
            products=tuple(rng.sample(PRODUCTS, rng.randint(0, 3))),
            use_cases=tuple(rng.sample(USE_CASES, rng.randint(0, 2))),
            language=rng.choice(["", "", "", "English", "German", "French"]),
        )
        policy = MatchPolicy(include_caution=rng.random() < 0.3)
        requests.append((request, policy))
    return requests


def bench(size: int, runs: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed * 1_000_003 + size)
    advocates, usage = build_roster(size, rng)
    requests = build_requests(runs, rng)
    limits = LimitPolicy()
    asked = [rng.randint(1, size) for _ in range(5)]
    timings: list[float] = []
    explained: list[float] = []
    gc.collect()
    cold = 0.0
    eligible = 0
    for index, (request, policy) in enumerate(requests):
        roster = advocates if index % 2 == 0 else advocates[::-1]
        start = time.perf_counter()
        result = rank_advocates(request, roster, usage, policy, limits, NOW,
                                already_asked=asked)
        elapsed = (time.perf_counter() - start) * 1000
        if index == 0:
            cold = elapsed
        else:
            timings.append(elapsed)
        start = time.perf_counter()
        exclusions = result.exclusions()  # "why did nobody fit?"
        reasons = sum(len(e.reasons) for e in exclusions)
        explained.append((time.perf_counter() - start) * 1000)
        eligible += result.considered - len(result.excluded)
        assert reasons >= len(exclusions) == len(result.excluded)
        del result
    timings.sort()
    return {
        "cold": cold,
        "p50": statistics.median(timings),
        "p95": timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))],
        "max": timings[-1],
        "eligible": eligible / len(requests),
        "explain": statistics.median(explained),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000],
                        help="roster sizes to time (default: 1000 10000 100000)")
    parser.add_argument("--runs", type=int, default=30,
                        help="requests ranked per size, each different (default: 30)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default: 7)")
    args = parser.parse_args(argv)
    if args.runs < 2:
        parser.error("--runs must be at least 2 (the first call is reported as cold)")
    print(f"rank_advocates — Python {platform.python_version()} on {platform.machine()}, "
          f"{args.runs} requests per size, seed {args.seed}")
    print(f"{'advocates':>10} {'eligible':>9} {'cold ms':>9} {'p50 ms':>8} {'p95 ms':>8}"
          f" {'max ms':>8} {'all reasons p50 ms':>19}")
    for size in args.sizes:
        r = bench(size, args.runs, args.seed)
        print(f"{size:>10} {r['eligible']:>9.0f} {r['cold']:>9.2f} {r['p50']:>8.2f}"
              f" {r['p95']:>8.2f} {r['max']:>8.2f} {r['explain']:>19.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

