"""``advocate-bot advocates …``: the roster from the command line (import, export, list, show,
forget).

A thin shell over ``bot.services.roster``: it reads settings, opens the app, runs one use
case with ``asyncio.run`` and prints for humans. File-level problems (``RosterFileError``,
and ``NotFound`` worded by its error template) are what ``bot.cli`` turns into one red line
and exit code 1; row problems are printed here, one line each, because the point is to see
all of them.
Diagnostics go to stderr so that ``advocates export > roster.csv`` stays clean.
"""

from __future__ import annotations

import asyncio
import csv
import getpass
import io
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from bot.config import Settings, load_settings
from bot.domain.model import Advocate, AdvocateStatus, ReferenceType
from bot.services import privacy, roster

app = typer.Typer(
    help="The advocate roster: import from a CRM export, export, list, show, forget.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

_PHASES = {"check": "Importing rows"}


def _actor() -> str:
    """Who ran the command, for the audit log."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name in some containers
        return "cli"


class _ProgressBar:
    """A rich progress bar per phase, shown only on a terminal (pipes and CI stay quiet)."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeRemainingColumn(), console=console, transient=True,
            disable=not console.is_terminal,
        )
        self.tasks: dict[str, int] = {}

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase not in self.tasks:
            self.tasks[phase] = self.progress.add_task(_PHASES.get(phase, phase), total=total)
        self.progress.update(self.tasks[phase], completed=done)


def _lines(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _count(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(
        help="CSV export from Salesforce, HubSpot or `advocates export` ('-' reads stdin).")],
    skip_invalid: Annotated[bool, typer.Option(
        "--skip-invalid", help="Import the valid rows and skip (and list) the invalid ones.")
    ] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Check the file and report what would change; write nothing.")
    ] = False,
    day_first: Annotated[bool | None, typer.Option(
        "--day-first/--month-first",
        help="How to read dates like 03/04/2026 [default: decided by the file's other dates]")
    ] = None,
    encoding: Annotated[str | None, typer.Option(
        help="Read the file in this encoding (e.g. cp1252) instead of UTF-8.")] = None,
) -> None:
    """Upsert advocates by email from a CSV file; nothing is written unless every row is valid
    (or --skip-invalid). Column names are matched like Salesforce/HubSpot exports (see
    docs/roster.md)."""
    settings = load_settings()
    source: Path | bytes = sys.stdin.buffer.read() if str(file) == "-" else file
    err = Console(stderr=True)
    bar = _ProgressBar(err)
    with bar.progress:
        report = asyncio.run(_import(settings, source, skip_invalid=skip_invalid,
                                     dry_run=dry_run, day_first=day_first, encoding=encoding,
                                     progress=bar))
    for warning in report.warnings:
        typer.secho(f"warning: {warning}", fg=typer.colors.YELLOW, err=True)
    prefix = "skipped " if skip_invalid and not dry_run else ""
    for problem in report.problems:
        typer.secho(f"{prefix}{problem}", fg=typer.colors.RED, err=True)
    lines = _lines([p.line for p in report.problems])
    name = "stdin" if isinstance(source, bytes) else str(file)
    counts = (f"{report.created} created, {report.updated} updated, "
              f"{report.unchanged} unchanged")
    if report.dry_run:
        invalid = f", {_plural(len(report.problems), 'invalid row')}" if report.problems else ""
        typer.echo(f"Dry run of {name}, nothing written: would be {counts}{invalid}.")
        raise typer.Exit(1 if report.problems else 0)
    if not report.written:
        bad = len(report.problems)
        valid = report.created + report.updated + report.unchanged
        advice = f"Fix {'it' if bad == 1 else 'them'}"
        if valid:
            advice += f", or use --skip-invalid to import the {_plural(valid, 'valid row')}"
        typer.secho(
            f"{_plural(bad, 'invalid row')} ({'line' if bad == 1 else 'lines'} {lines}): "
            f"nothing was imported. {advice}.",
            fg=typer.colors.RED, bold=True, err=True,
        )
        raise typer.Exit(1)
    skipped = f", {report.skipped} skipped" + (f" (lines {lines})" if lines else "")
    typer.echo(f"Imported {name}: {counts}{skipped}.")


async def _import(
    settings: Settings, source: Path | bytes, *, skip_invalid: bool, dry_run: bool,
    day_first: bool | None, encoding: str | None, progress: roster.ProgressCallback,
) -> roster.ImportReport:
    from bot.bootstrap import open_app  # not at import time: `--help` needs no database

    async with open_app(settings) as bot_app:
        return await roster.import_roster(
            bot_app.uow, source, now=bot_app.clock.now(), skip_invalid=skip_invalid,
            dry_run=dry_run, day_first=day_first, encoding=encoding, progress=progress,
            actor=_actor(),
        )


@app.command("export")
def export_command(
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write to this file instead of stdout.")] = None,
    bom: Annotated[bool | None, typer.Option(
        "--bom/--no-bom",
        help="Start with a UTF-8 byte-order mark, which Excel needs to show non-ASCII names "
             "[default: with --output yes, on stdout no]")] = None,
) -> None:
    """Write the roster as CSV with the canonical headers; `advocates import` reads it back
    without a change."""
    settings = load_settings()
    text = asyncio.run(_export(settings))
    with_bom = bom if bom is not None else output is not None
    data = text.encode("utf-8-sig" if with_bom else "utf-8")
    if output is None:
        typer.echo(data, nl=False)
        return
    try:
        output.write_bytes(data)
    except OSError as error:
        typer.secho(f"error: cannot write {output}: {error.strerror or error}",
                    fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    count = sum(1 for _ in csv.reader(io.StringIO(text, newline=""))) - 1
    typer.echo(f"Exported {_plural(count, 'advocate')} to {output}.", err=True)


async def _export(settings: Settings) -> str:
    from bot.bootstrap import open_app

    async with open_app(settings) as bot_app:
        return await roster.export_roster(bot_app.uow)


_TYPE_SHORT = {
    ReferenceType.CALL: "call", ReferenceType.VIDEO_CALL: "video",
    ReferenceType.EMAIL: "email", ReferenceType.SITE_VISIT: "site visit",
    ReferenceType.SPEAKING: "speaking", ReferenceType.CASE_STUDY: "case study",
}


@app.command("list")
def list_command(
    status: Annotated[AdvocateStatus | None, typer.Option(
        case_sensitive=False, help="Only advocates with this status.")] = None,
) -> None:
    """The roster as a table, ordered by email."""
    settings = load_settings()
    advocates = asyncio.run(_list(settings, status))
    console = Console()
    if not advocates:
        which = f"{status.value} " if status else ""
        console.print(f"No {which}advocates. Import a roster with "
                      "`advocate-bot advocates import FILE.csv`.", markup=False,
                      highlight=False, soft_wrap=True)
        return
    table = Table(title=f"Roster: {_plural(len(advocates), 'advocate')}"
                  + (f" ({status.value})" if status else ""))
    for column in ("Name", "Email", "Company", "Industry", "Region", "Status", "Types"):
        table.add_column(column, overflow="fold")  # wrap, never hide part of an email
    table.add_column("Points", justify="right")
    for a in advocates:
        types = ", ".join(_TYPE_SHORT[t] for t in ReferenceType if t in a.reference_types)
        table.add_row(*(Text(cell) for cell in (
            a.name, a.email, a.company, a.industry, a.region, _status_cell(a), types,
            str(a.points))))
    console.print(table)


def _status_cell(advocate: Advocate) -> str:
    if advocate.status is AdvocateStatus.ACTIVE and advocate.unavailable_until:
        return f"active (away until {advocate.unavailable_until.isoformat()})"
    return advocate.status.value


async def _list(settings: Settings, status: AdvocateStatus | None) -> list[Advocate]:
    from bot.bootstrap import open_app

    async with open_app(settings) as bot_app:
        return await roster.list_advocates(bot_app.uow, status=status)


@app.command("show")
def show_command(
    email: Annotated[str, typer.Argument(help="The advocate's email (any case).")],
) -> None:
    """Every roster field of one advocate, under the same names as the CSV columns."""
    settings = load_settings()
    advocate, version = asyncio.run(_show(settings, email))
    table = Table(title=Text(f"{advocate.name} — {advocate.company}"), show_header=False)
    table.add_column("Field", style="bold")
    table.add_column("Value")
    for header, value in roster.describe(advocate, version):
        table.add_row(Text(header), Text(value or "-"))
    Console().print(table)


async def _show(settings: Settings, email: str) -> tuple[Advocate, str]:
    from bot.bootstrap import open_app

    async with open_app(settings) as bot_app:
        advocate = await roster.get_advocate(bot_app.uow, email)
        return advocate, await roster.consent_version(bot_app.uow, advocate.email)


@app.command("forget")
def forget_command(
    email: Annotated[str, typer.Argument(help="The advocate's email (any case).")],
    yes: Annotated[bool, typer.Option(
        "--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase an advocate's personal data for good and keep only anonymous counts: their
    engagements and points stay, under "Forgotten advocate #ID" (see docs/roster.md)."""
    settings = load_settings()
    if not yes:
        typer.confirm(
            f"Forget {email.strip()}? Their name, email, company and comments are erased for "
            "good and their open asks withdrawn; this cannot be undone.", abort=True)
    report = asyncio.run(_forget(settings, email))
    typer.echo(
        f"Forgot {email.strip()}: now advocate #{report.advocate_id} ({report.placeholder_email})."
        f" Withdrew {_plural(report.withdrawn_asks, 'open ask')}, blanked "
        f"{_plural(report.comments_blanked, 'comment')}, deleted "
        f"{_count(report.chat_identities_deleted, 'chat identity', 'chat identities')}, dropped "
        f"{_plural(report.messages_dropped, 'queued message')}, scrubbed "
        f"{_plural(report.messages_scrubbed, 'sent message')} and "
        f"{_count(report.audit_entries_scrubbed, 'audit entry', 'audit entries')}.")
    typer.echo(f"Kept for the program's numbers: {_plural(report.engagements, 'engagement')}, "
               f"{_plural(report.points, 'point')}.")
    if report.cancelled_engagements:
        typer.echo(
            f"Cancelled {_plural(report.cancelled_engagements, 'agreed engagement')} not yet "
            "held; the reps are told (with a calendar cancellation for a booked call) and "
            "their requests go to the next advocate.")


async def _forget(settings: Settings, email: str) -> privacy.ForgetReport:
    from bot.bootstrap import open_app

    async with open_app(settings) as bot_app:
        return await privacy.forget_advocate(
            bot_app.uow, email, now=bot_app.clock.now(), actor=_actor(), ctx=bot_app.ctx)
