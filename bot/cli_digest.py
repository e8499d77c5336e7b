"""``advocate-bot digest``: the weekly digest from the command line.

``--dry-run`` prints this week's digest (the one the program managers get on the digest
day, covering the week before) without sending anything; ``--chart FILE`` also writes its
trend chart; ``--locale ja`` prints (and draws) it in that language, as a program manager
who reads Japanese receives it (everything else the command says stays English). Without
``--dry-run`` the digest is queued for every program manager, once
per week like the scheduled one (the idempotency ledger), and the running bot's outbox
delivers it.
"""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from bot.config import Settings, load_settings

app = typer.Typer(help="The weekly program digest.", rich_markup_mode=None)


@app.callback(invoke_without_command=True)
def digest_command(
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Print the digest instead of sending it.")] = False,
    week: Annotated[str | None, typer.Option(
        "--week", metavar="YYYY-MM-DD",
        help="Any day of the digest's week [default: today in the program's zone].")] = None,
    chart: Annotated[Path | None, typer.Option(
        "--chart", help="With --dry-run: also write the trend chart (PNG) here.")] = None,
    locale: Annotated[str | None, typer.Option(
        "--locale", metavar="LOCALE",
        help="With --dry-run: the digest in this language (en, ja, ja-JP ...) "
             "[default: PROGRAM_LOCALE].")] = None,
) -> None:
    """Print (--dry-run) or send this week's digest to the program managers."""
    try:
        day = date.fromisoformat(week) if week else None
    except ValueError:
        raise typer.BadParameter(f"{week!r} is not a date like 2026-03-02",
                                 param_hint="--week") from None
    language = _language(locale)
    settings = load_settings()
    text, png = asyncio.run(_run(settings, day, dry_run=dry_run, chart=chart is not None,
                                 locale=language))
    if chart is not None and png is not None:
        chart.write_bytes(png)
    typer.echo(text)


def _language(locale: str | None) -> str | None:
    """The ``--locale`` asked for, checked: one the bot has a catalog for."""
    if locale is None:
        return None
    from bot.i18n import normalize, supported_languages
    from bot.services.locales import supported_language

    languages = supported_languages()
    if supported_language(locale, languages) is None:
        raise typer.BadParameter(
            f"{locale[:40]!r} is not a language the bot speaks (one of: "
            f"{', '.join(languages)})", param_hint="--locale")
    return normalize(locale)


async def _run(settings: Settings, day: date | None, *, dry_run: bool,
               chart: bool, locale: str | None = None) -> tuple[str, bytes | None]:
    """The text to print and, with ``chart``, the trend chart's PNG."""
    from bot.bootstrap import open_app  # not at import time: `--help` needs no database
    from bot.domain.periods import local_date, week_label
    from bot.rendering import Renderer
    from bot.services.digest import digest_context, digest_for_week, send_weekly_digest

    async with open_app(settings) as bot_app:
        ctx = bot_app.ctx
        now = ctx.now()
        day = day or local_date(now, ctx.program_timezone)
        if dry_run:
            digest = await digest_for_week(ctx, day)
            context = digest_context(digest, chart=chart)
            renderer = Renderer().for_locale(locale or ctx.program_locale)
            return renderer.text("digest", context), renderer.chart_png(context)
        if not ctx.program_managers:
            return ("No program managers are configured (PROGRAM_MANAGERS): nobody to send "
                    "to.", None)
        queued = await send_weekly_digest(ctx, now, week_label(day), day)
        if not queued:
            return (f"The {week_label(day)} digest was already sent to every program "
                    "manager.", None)
        return f"Queued the {week_label(day)} digest for {queued} program manager(s).", None


__all__ = ["app"]
