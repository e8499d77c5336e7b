"""``advocate-bot report``: the program report for a span of days, as Markdown, CSV or XLSX.

The same numbers and words as ``/advocates report`` (``bot/services/report.py``,
``templates/text/report/``), compared with the span of the same length just before.
Markdown and CSV print to standard output unless ``--output`` names a file; XLSX, a
binary file, needs ``--output``. ``--charts DIR`` also writes the three charts as PNG.
"""

from __future__ import annotations

import asyncio
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.config import load_settings
from bot.i18n import normalize

if TYPE_CHECKING:
    from bot.services.report import ReportPeriod

app = typer.Typer(help="The program report.", rich_markup_mode=None)


class Format(StrEnum):
    md = "md"
    csv = "csv"
    xlsx = "xlsx"


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date like 2026-10-01",
                                 param_hint=option) from None


@app.callback(invoke_without_command=True)
def report_command(
    from_day: Annotated[str, typer.Option(
        "--from", metavar="YYYY-MM-DD", help="First day of the report (program time zone).")],
    to_day: Annotated[str, typer.Option(
        "--to", metavar="YYYY-MM-DD", help="Last day of the report, included.")],
    fmt: Annotated[Format, typer.Option(
        "--format", help="md (Markdown), csv (one number a row) or xlsx (a sheet per "
        "section).")] = Format.md,
    output: Annotated[Path | None, typer.Option(
        "--output", help="Write the report here instead of printing it (needed for xlsx).")
    ] = None,
    charts: Annotated[Path | None, typer.Option(
        "--charts", metavar="DIR", help="Also write the three charts (PNG) into this folder.")
    ] = None,
    locale: Annotated[str | None, typer.Option(
        "--locale", metavar="LOCALE", help="Word and format the report in this locale (ja, "
        "en-US…; default: PROGRAM_LOCALE).")] = None,
) -> None:
    """Requests, fulfilment, time to first accept, engagements by type, influenced and won
    amounts, per advocate, rep, industry and region, and the roster's health, each compared
    with the span of the same length before."""
    from bot.services.report import checked_days  # a bad span is a DomainError: worded

    period = checked_days(_day(from_day, "--from"), _day(to_day, "--to"))
    if fmt is Format.xlsx and output is None:
        raise typer.BadParameter("an XLSX file is binary: name the file to write",
                                 param_hint="--output")
    if charts is not None and not charts.is_dir():
        raise typer.BadParameter(f"{str(charts)!r} is not a folder", param_hint="--charts")
    if locale is not None and normalize(locale) is None:
        raise typer.BadParameter(f"{locale!r} is not a locale (e.g. ja, en-US)",
                                 param_hint="--locale")
    content, pngs = asyncio.run(_run(period, fmt, charts is not None, locale))
    if charts is not None:
        for name, png in pngs.items():
            (charts / f"{name}.png").write_bytes(png)
    if output is not None:
        output.write_bytes(content)
        typer.echo(f"Wrote the {period.label} report to {output}.", err=True)
    else:
        typer.echo(content.decode(), nl=False)


async def _run(period: ReportPeriod, fmt: Format, with_charts: bool, locale: str | None
               ) -> tuple[bytes, dict[str, bytes]]:
    from bot import report_files
    from bot.bootstrap import open_app  # not at import time: `--help` needs no database
    from bot.rendering import Renderer
    from bot.services.report import program_report, report_context

    settings = load_settings()
    async with open_app(settings) as bot_app:
        context = report_context(await program_report(bot_app.ctx, period))
    renderer = Renderer().for_locale(locale or getattr(settings, "program_locale", None))
    if fmt is Format.xlsx:
        content = report_files.xlsx_bytes(renderer, context)
    elif fmt is Format.csv:
        content = report_files.csv_text(renderer, context).encode()
    else:
        content = report_files.markdown(renderer, context).encode()
    return content, report_files.charts(renderer, context) if with_charts else {}


__all__ = ["app"]
