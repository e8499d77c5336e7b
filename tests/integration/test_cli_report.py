"""``advocate-bot report``: the fixture's numbers as Markdown, a CSV that parses, an XLSX
that opens with a sheet per section, the charts; bad spans are named."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from bot.cli import app
from storage.db import create_engine
from storage.migrate import prepare_database
from storage.uow import SqlUnitOfWorkFactory
from tests import report_fixture as fx

Q1 = ["report", "--from", "2026-01-01", "--to", "2026-03-31"]


async def _load(url: str) -> None:
    engine = create_engine(url)
    try:
        await prepare_database(engine, auto_migrate=True)
        await fx.load(SqlUnitOfWorkFactory(engine))
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('report') / 'bot.db'}"
    asyncio.run(_load(url))
    return url


@pytest.fixture
def run(database: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", database)
    monkeypatch.setenv("PROGRAM_TIMEZONE", fx.ZONE)
    monkeypatch.delenv("ADVOCATE_BOT_CONFIG", raising=False)
    return lambda *args: CliRunner().invoke(app, [*Q1, *args])


def test_markdown_prints_the_fixture_numbers(run) -> None:  # type: ignore[no-untyped-def]
    result = run()
    assert result.exit_code == 0, result.output
    assert "# Program report 2026-01-01..2026-03-31 (2026-01-01 to 2026-03-31)" in result.output
    assert "| Requests opened | 6 | 2 | +4 |" in result.output
    assert "| 90th percentile time to first accept | 48.0 h | 24.0 h | +24.0 h |" in result.output
    assert "| Won | $12,000.00 | $5,000.00 | +$7,000.00 |" in result.output
    assert "| sam.seller@vendor.example | 3 | 2 | 6,000.50 | 2,000.00 |" in result.output
    assert "## Nominations" in result.output
    assert "| Nominations made | 6 | 3 | +3 |" in result.output
    assert "| Nominees who joined | 2 | 1 | +1 |" in result.output
    assert "| Nominations still open (at the end) | 4 | 2 | +2 |" in result.output
    assert "| Conversion rate, nomination to advocate | 17% | 33% | -17 points |" in result.output
    assert "| Median time from nomination to joining | 13.5 d | 4.0 d | +9.5 d |" in result.output


def test_the_csv_parses_one_number_a_row(run) -> None:  # type: ignore[no-untyped-def]
    result = run("--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    value = {(r["Section"], r["Item"], r["Measure"]): r["Value"] for r in rows}
    assert value["Requests and outcomes", "Requests opened", "This period"] == "6"
    assert value["Requests and outcomes", "Fulfilment rate", "Period before"] == "0.5"
    assert value["Per advocate", "Ada", "Influenced (USD)"] == "12000.0"
    assert value["Per region", "(not given)", "Requests"] == "1"
    assert value["Advocate health", "Active advocates (now)", "Period before"] == ""
    assert value["Nominations", "Nominations approved", "This period"] == "4"
    assert value["Nominations", "Nominations declined", "Change"] == "0"
    assert float(value["Nominations", "Conversion rate, nomination to advocate",
                       "Period before"]) == pytest.approx(1 / 3)
    assert value["Nominations", "Median time from nomination to joining", "This period"] == "13.5"


def test_the_xlsx_opens_with_a_sheet_per_section_and_charts_are_written(
        run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out, charts = tmp_path / "q1.xlsx", tmp_path / "charts"
    charts.mkdir()
    result = run("--format", "xlsx", "--output", str(out), "--charts", str(charts))
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Summary", "By type", "Health", "Nominations", "Advocates",
                               "Reps", "Industries", "Regions", "Weekly", "Monthly"]
    assert [c.value for c in book["Advocates"][2]] == ["Ada", 3, 2, 12000, 12000]
    assert book["Summary"]["B5"].value == 0.75 and book["Summary"]["B5"].number_format == "0%"
    assert [c.value for c in book["Nominations"][2]] == ["Nominations made", 6, 3, 3]
    rate, days = book["Nominations"]["B7"], book["Nominations"]["D8"]
    assert (rate.value, rate.number_format) == (pytest.approx(1 / 6), "0%")
    assert (days.value, days.number_format) == (9.5, "0.0")
    assert sorted(p.name for p in charts.iterdir()) == [
        "monthly.png", "per_advocate.png", "weekly.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in charts.iterdir())


def test_the_report_in_japanese(run) -> None:  # type: ignore[no-untyped-def]
    result = run("--locale", "ja-JP")
    assert result.exit_code == 0, result.output
    assert "プログラムレポート" in result.output and "Requests opened" not in result.output
    assert "sam.seller@vendor.example" in result.output  # data shown as it is


def test_amounts_are_in_the_programs_currency(run, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PROGRAM_CURRENCY", "EUR")
    result = run()
    assert result.exit_code == 0, result.output
    assert "| Won | €12,000.00 | €5,000.00 | +€7,000.00 |" in result.output


@pytest.mark.parametrize(("args", "named"), [
    (["--locale", "klingon-ish"], "--locale"),
    (["--locale", "fr"], "not a language the bot speaks"),
    (["--from", "2026-04-01", "--to", "2026-03-31"], "comes before its first"),
    (["--from", "1 April"], "--from"),
    (["--format", "xlsx"], "--output"),
    (["--format", "pdf"], "--format"),
])
def test_bad_input_is_named(run, args: list[str], named: str) -> None:  # type: ignore[no-untyped-def]
    result = run(*args)
    assert result.exit_code != 0
    assert named in result.output
    assert "Traceback" not in result.output
