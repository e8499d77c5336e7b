"""Time the roster import (``advocate-bot advocates import``) on CRM-shaped files.

    python bench/bench_import.py [--sizes 20000 100000] [--backends sqlite postgres]

For each size this writes a CSV shaped like a Salesforce contact export (first and last
name, account, industry, mailing country, employee count, a ``__c`` products column,
owner emails, NPS, health, renewal dates, a multi-line note now and then; fixed seed) into
a temporary directory, then on a fresh database made by the real migrations times:

* first import: every row is new;
* re-import: the same file again, nothing changes;
* changed re-import: the file with one row in ten edited.

PostgreSQL is the suite's throwaway server (``tests/postgres.py``), skipped when its
binaries are missing. The CPU seconds of this process (the import, plus the SQLite
driver's thread; not PostgreSQL's server) help read a run on a busy machine. Goals:
first import of 20k rows < 10 s on SQLite (100k < 40 s), re-importing an unchanged 100k
file < 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.services.roster import import_roster
from storage.db import create_engine
from storage.migrate import upgrade
from storage.uow import SqlUnitOfWorkFactory

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
HEADER = ("First Name", "Last Name", "Email", "Title", "Account Name", "Account ID",
          "Industry", "Mailing Country", "Number of Employees", "Products_Used__c",
          "Reference Types", "Time Zone", "Account Owner Email", "NPS", "Health Score",
          "Renewal Date", "Languages", "Notes")
INDUSTRIES = ("Fintech", "Retail", "Healthcare", "Manufacturing", "Software", "Logistics")
COUNTRIES = (("Germany", "Europe/Berlin"), ("United States", "America/New_York"),
             ("Japan", "Asia/Tokyo"), ("Brazil", "America/Sao_Paulo"),
             ("United Kingdom", "Europe/London"))
PRODUCTS = ("Payments API", "Billing", "Checkout", "Fraud", "Payouts", "Reporting")
TYPES = ("Reference Call", "Video", "Case Study", "Webinar", "Written")


def write_csv(path: Path, rows: int, *, seed: int = 7, edit_every: int = 0) -> None:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(rows):
            country, zone = rng.choice(COUNTRIES)
            account = n % 4000
            note = "Loves the product.\nPrefers mornings." if n % 50 == 0 else ""
            if edit_every and n % edit_every == 0:
                note = f"Edited note {n}"
            writer.writerow([
                f"First{n}", f"Last{n}", f"contact{n:06d}@customer{account}.example",
                rng.choice(("CFO", "VP Engineering", "Head of Payments", "CTO")),
                f"Customer {account} GmbH", f"001{account:015d}", rng.choice(INDUSTRIES),
                country, f"{rng.randint(10, 20000):,}",
                "; ".join(rng.sample(PRODUCTS, rng.randint(1, 3))),
                "; ".join(rng.sample(TYPES, rng.randint(1, 2))), zone,
                f"csm{account % 150}@vendor.example", rng.randint(0, 10),
                rng.randint(40, 100),
                (date(2026, 4, 1) + timedelta(days=rng.randint(0, 700))).isoformat(),
                rng.choice(("en", "de", "ja", "English; German")), note,
            ])


async def run(url: str, path: Path, edited: Path) -> list[tuple[str, float, float, str]]:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        factory = SqlUnitOfWorkFactory(engine)
        timings = []
        for label, source in (("first import", path), ("re-import", path),
                              ("changed re-import", edited)):
            start, cpu = time.perf_counter(), time.process_time()
            report = await import_roster(factory, source, now=NOW)
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            assert report.ok and report.written, report.problems[:3]
            timings.append((label, seconds, cpu, f"created {report.created}, updated "
                                            f"{report.updated}, unchanged {report.unchanged}"))
        return timings
    finally:
        await engine.dispose()


def postgres_url(directory: Path) -> tuple[str, object] | None:
    try:
        from tests.postgres import PostgresServer, PostgresUnavailable
    except ImportError:
        return None
    try:
        server = PostgresServer().start()
    except PostgresUnavailable as error:
        print(f"postgres: skipped ({error})")
        return None
    return server.create_database("bench_import"), server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20000, 100000])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"],
                        choices=["sqlite", "postgres"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for size in args.sizes:
            path, edited = directory / f"roster{size}.csv", directory / f"edited{size}.csv"
            write_csv(path, size)
            write_csv(edited, size, edit_every=10)
            megabytes = path.stat().st_size / 1e6
            for backend in args.backends:
                server = None
                if backend == "sqlite":
                    url = f"sqlite+aiosqlite:///{directory / f'bench{size}.db'}"
                else:
                    found = postgres_url(directory)
                    if found is None:
                        continue
                    url, server = found
                try:
                    for label, seconds, cpu, what in asyncio.run(run(url, path, edited)):
                        print(f"{backend:<8} {size:>7} rows ({megabytes:5.1f} MB)  "
                              f"{label:<18} {seconds:7.2f} s (this process's CPU {cpu:6.2f} s)"
                              f"   {what}", flush=True)
                finally:
                    if server is not None:
                        server.stop()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
