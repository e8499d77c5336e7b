"""Time the roster import (``advocate-bot advocates import``) on CRM-shaped files.

    python bench/bench_import.py [--sizes 20000 100000] [--postgres]

For each size this writes a CSV shaped like a Salesforce contact export (first and last
name, account, industry, mailing country, employee count, a ``__c`` products column,
owner emails, NPS, health, renewal dates, a multi-line note now and then; fixed seed) into
a temporary directory, then on a fresh database made by the real migrations times:

* first import: every row is new;
* re-import: the same file again, nothing changes;
* one row changed: the file with one row's note edited;

and the peak RSS of the process that ran them (each size and database in its own
process, so the figure is that size's). SQLite always; with ``--postgres`` also the
suite's throwaway PostgreSQL server (``tests/postgres.py``). The CPU seconds of the
importing process (the import, plus the SQLite driver's thread; not PostgreSQL's server)
help read a run on a busy machine. Goals: first import of 20k rows < 10 s on SQLite
(100k < 40 s), re-importing an unchanged 100k file < 10 s, peak RSS at 100k < 400 MB and
flat in the file's size.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import random
import resource
import subprocess
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


def write_csv(path: Path, rows: int, *, seed: int = 7, edit_row: int = -1) -> None:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(rows):
            country, zone = rng.choice(COUNTRIES)
            account = n % 4000
            note = "Loves the product.\nPrefers mornings." if n % 50 == 0 else ""
            if n == edit_row:
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
                              ("one row changed", edited)):
            start, cpu = time.perf_counter(), time.process_time()
            report = await import_roster(factory, source, now=NOW)
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            assert report.ok and report.written, report.problems[:3]
            timings.append((label, seconds, cpu, f"created {report.created}, updated "
                                            f"{report.updated}, unchanged {report.unchanged}"))
        return timings
    finally:
        await engine.dispose()


def postgres_url() -> tuple[str, object] | None:
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


def child(size: int, backend: str, directory: Path) -> None:
    """One size on one database, in this process: its peak RSS is this size's."""
    path, edited = directory / f"roster{size}.csv", directory / f"edited{size}.csv"
    megabytes = path.stat().st_size / 1e6
    server = None
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{directory / f'bench{size}.db'}"
    else:
        found = postgres_url()
        if found is None:
            return
        url, server = found
    try:
        for label, seconds, cpu, what in asyncio.run(run(url, path, edited)):
            print(f"{backend:<8} {size:>7} rows ({megabytes:5.1f} MB)  {label:<16} "
                  f"{seconds:7.2f} s (CPU {cpu:6.2f} s)   {what}", flush=True)
    finally:
        if server is not None:
            server.stop()  # type: ignore[attr-defined]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{backend:<8} {size:>7} rows  peak RSS of the importing process {peak:6.0f} MB",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20000, 100000])
    parser.add_argument("--postgres", action="store_true",
                        help="also on a throwaway PostgreSQL server")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        size, backend, directory = args.child
        child(int(size), backend, Path(directory))
        return
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            write_csv(Path(tmp) / f"roster{size}.csv", size)
            write_csv(Path(tmp) / f"edited{size}.csv", size, edit_row=size // 2)
            for backend in ("sqlite", "postgres") if args.postgres else ("sqlite",):
                subprocess.run([sys.executable, __file__, "--child", str(size), backend, tmp],
                               check=True)


if __name__ == "__main__":
    main()
