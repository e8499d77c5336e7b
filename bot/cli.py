"""The ``advocate-bot`` command line: serve the bot, manage the database and the roster.

Every command reads its settings from the environment (and ``ADVOCATE_BOT_CONFIG``, a
TOML file). Errors a user can fix (a bad setting, a schema that is behind, a rule of the
program) are printed as one red line naming the problem, with exit code 1 — never a
traceback.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import os
import signal
import socket
import sys
import webbrowser
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from bot import __version__
from bot.config import Settings, SettingsError, load_settings, mask_url
from bot.domain.errors import DomainError
from bot.rendering import Renderer
from bot.roster_csv import RosterFileError
from storage.db import DatabaseUrlError
from storage.migrate import SchemaError

err = Console(stderr=True)
log = logging.getLogger("advocate_bot")

FRIENDLY_ERRORS: tuple[type[Exception], ...] = (
    SettingsError, RosterFileError, SchemaError, DatabaseUrlError)


class FriendlyErrors(TyperGroup):
    """Turns the errors a user can act on into a one-line message and exit code 1.

    The message passes through ``mask_url``: an error about a database URL must not
    print the password inside it.
    """

    def invoke(self, ctx: Any) -> Any:
        from sqlalchemy.exc import InterfaceError, OperationalError

        try:
            return super().invoke(ctx)
        except DomainError as error:  # a rule said no: its error template's words
            fail(Renderer().problem_text(error))
        except FRIENDLY_ERRORS as error:
            fail(str(error))
        except (OperationalError, InterfaceError) as error:
            fail(f"the database at DATABASE_URL failed: {error.orig}")
        except (ConnectionError, TimeoutError, socket.gaierror) as error:
            fail(f"cannot connect (check DATABASE_URL and SLACK_API_URL): {error}")
        except OSError as error:
            if error.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL):
                raise
            fail(str(error))  # serve: the HOST/PORT is taken or not this machine's


def fail(message: str) -> NoReturn:
    """Print ``message`` as the one red line a user sees, and exit with code 1."""
    err.print(f"[bold red]error:[/] {escape(mask_url(message))}", markup=True,
              highlight=False)
    raise typer.Exit(1) from None


app = typer.Typer(
    cls=FriendlyErrors,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
db_app = typer.Typer(help="Database schema: status and upgrades.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"advocate-bot {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """advocate-bot: run a customer reference program in Slack and Microsoft Teams
    (`advocate-bot try` plays it in your browser first).

    Settings come from environment variables (DATABASE_URL, PROGRAM_MANAGERS, ...) and an
    optional TOML file named by ADVOCATE_BOT_CONFIG. See README.md for the full list.
    """


def setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if settings.log_level != "DEBUG":
        # Their INFO lines (every job run, every migration step) drown the bot's own;
        # our scheduler and migrations log what matters themselves.
        for chatty in ("apscheduler", "alembic.runtime.migration"):
            logging.getLogger(chatty).setLevel(logging.WARNING)
    # Even at DEBUG: these echo every SQL statement with its bound values and every Web
    # API answer (people's emails, names, deal data) into the log.
    for revealing in ("aiosqlite", "slack_sdk", "msrest"):
        logging.getLogger(revealing).setLevel(logging.INFO)


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on [default: HOST or 127.0.0.1]")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on [default: PORT or 3000]")
    ] = None,
) -> None:
    """Start the bot's web server (/healthz; Slack and Teams routes when configured; the
    browser sandbox at / when neither is, or with SANDBOX_ENABLED=true)."""
    overrides: dict[str, Any] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    settings = load_settings(**overrides)
    setup_logging(settings)
    asyncio.run(_serve(settings))


DEMO_DATABASE = "sqlite:///advocate-bot-demo.db"


@app.command("try")
def try_it(
    port: Annotated[
        int | None, typer.Option(help="Port to listen on [default: PORT or 3000]")
    ] = None,
    database: Annotated[
        str, typer.Option(help="The demo's own database (never your real one)")
    ] = DEMO_DATABASE,
    browser: Annotated[
        bool, typer.Option(help="Open the sandbox in a browser when there is one")
    ] = True,
) -> None:
    """Play the whole program in your browser: the sandbox on a demo database with the
    sample roster, a past engagement and open requests. Slack and Teams stay off."""
    from handlers.sandbox.demo import MANAGER

    overrides: dict[str, Any] = {
        "database_url": database, "host": "127.0.0.1", "auto_migrate": True,
        "sandbox_enabled": True, "slack_bot_token": "", "slack_app_token": "",
        "slack_signing_secret": "", "microsoft_app_id": "", "microsoft_app_password": "",
        "teams_enabled": False, "rep_slack_usergroup": "", "rep_teams_group": ""}
    if port is not None:
        overrides["port"] = port
    settings = load_settings(**overrides)
    if not settings.program_managers:
        settings = load_settings(**overrides, program_managers=[MANAGER])
    setup_logging(settings)
    asyncio.run(_serve(settings, demo=True, open_browser=browser))


def _open_browser(url: str) -> None:
    """Open ``url`` in the person's browser when there is a graphical one; never fails
    (the start-up line prints the address to open anyway)."""
    if sys.platform not in ("darwin", "win32") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        log.info("no graphical browser here: open %s yourself", url)
        return
    try:
        if not webbrowser.open(url):
            log.info("could not open a browser: open %s yourself", url)
    except Exception as error:  # a broken browser setting must not stop the sandbox
        log.info("could not open a browser (%s): open %s yourself", error, url)


async def _serve(settings: Settings, *, demo: bool = False, open_browser: bool = False
                 ) -> None:
    from aiohttp import web

    from bot.bootstrap import open_app
    from bot.scheduler import start_scheduler
    from bot.services.ranking import load_roster
    from handlers.web import create_web_app

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    async with open_app(settings) as bot_app:
        slack_app = None
        if settings.slack_enabled:
            from handlers.slack.app import build_slack_app

            slack_app = build_slack_app(bot_app)
        runner = web.AppRunner(create_web_app(bot_app, slack_app=slack_app), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, settings.host, settings.port)
        await site.start()
        socket_mode = None
        if slack_app is not None and settings.slack_app_token:
            from handlers.slack.app import start_socket_mode

            socket_mode = await start_socket_mode(slack_app, settings.slack_app_token)
        if demo:  # before the scheduler: its sweeps must not see the demo's history made
            from handlers.sandbox.demo import seed

            await seed(bot_app.sandbox.sandbox, bot_app.clock)
        scheduler = start_scheduler(bot_app)
        await load_roster(bot_app.ctx)  # matching's copy of the roster, before the freeze
        freeze_startup_objects()
        log.info(
            "advocate-bot %s listening on http://%s:%s (database: %s)",
            __version__,
            settings.host,
            settings.port,
            bot_app.engine.url.render_as_string(),
        )
        log.info(_slack_mode(settings))
        log.info(bot_app.teams.startup_message() if bot_app.teams is not None else
                 "Teams: not configured (set MicrosoftAppId, or TEAMS_ENABLED=true for the "
                 "Emulator); /api/messages is not served")
        log.info(_sandbox_line(settings))
        if open_browser and bot_app.sandbox is not None:
            await loop.run_in_executor(None, _open_browser, _sandbox_url(settings))
        try:
            await stop.wait()
        finally:
            log.info("shutting down")
            if socket_mode is not None:
                await socket_mode.close_async()
            await scheduler.stop()
            await runner.cleanup()


def freeze_startup_objects() -> None:
    """Keep the garbage collector's full passes short once the server is up.

    Everything built at start-up (modules, the ORM's metadata, compiled templates, the
    Bolt app) lives as long as the process; left in the collector's oldest generation,
    each full pass walks all of it again and stalls the event loop for ~100 ms, which is
    what a burst of Slack acknowledgements would wait behind. ``gc.freeze`` moves it out
    of the collector's sight (``bench/bench_ack_latency.py`` shows the difference).
    """
    gc.collect()
    gc.freeze()


def _sandbox_url(settings: Settings) -> str:
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"http://{host}:{settings.port}/"


def _sandbox_line(settings: Settings) -> str:
    """The one line that says whether the browser sandbox is served, and where."""
    if settings.sandbox_active:
        return (f"Sandbox: open {_sandbox_url(settings)} in a browser to play the program "
                "(a local tool with no sign-in: it listens on this machine only)")
    if not (settings.slack_enabled or settings.teams_active):
        return (f"Sandbox: off, because HOST={settings.host} is not a loopback address (it "
                "has no sign-in); use HOST=127.0.0.1 to serve it")
    return "Sandbox: off while Slack or Teams is configured (SANDBOX_ENABLED=true serves it)"


def _slack_mode(settings: Settings) -> str:
    """The one line that says how (and whether) Slack reaches this server."""
    if not settings.slack_enabled:
        return ("Slack is not configured (no SLACK_BOT_TOKEN): serving without the Slack "
                "routes; Slack messages wait in the outbox")
    modes = []
    if settings.slack_app_token:
        modes.append("Socket Mode (SLACK_APP_TOKEN; no public URL needed)")
    if settings.slack_signing_secret:
        modes.append(f"HTTP at POST http://{settings.host}:{settings.port}/slack/events")
    return (f"Slack is on: {' and '.join(modes)}; Web API at "
            f"{mask_url(settings.slack_api_url)}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration to DATABASE_URL."""
    settings = load_settings()
    asyncio.run(_db_upgrade(settings))


async def _db_upgrade(settings: Settings) -> None:
    from storage.db import create_engine
    from storage.migrate import schema_status, upgrade

    engine = create_engine(settings.database_url)
    try:
        before = await schema_status(engine)
        await upgrade(engine)
        after = await schema_status(engine)
    finally:
        await engine.dispose()
    if before.current == after.current:
        typer.echo(f"database already at {after.current}; nothing to do")
    else:
        typer.echo(f"database upgraded from {before.current or 'empty'} to {after.current}")


@db_app.command("status")
def db_status() -> None:
    """Show the database's schema revision and whether it is current."""
    settings = load_settings()
    asyncio.run(_db_status(settings))


async def _db_status(settings: Settings) -> None:
    from storage.db import create_engine
    from storage.migrate import schema_status

    engine = create_engine(settings.database_url)
    try:
        status = await schema_status(engine)
    finally:
        await engine.dispose()
    typer.echo(
        f"schema: {status.state} (database at {status.current or 'nothing'}, "
        f"code needs {status.head})"
    )


def _mount_subcommands() -> None:
    from bot.cli_advocates import app as advocates_app
    from bot.cli_digest import app as digest_app
    from bot.cli_report import app as report_app
    from bot.cli_teams import app as teams_app

    app.add_typer(
        advocates_app, name="advocates", help="The advocate roster: import, export, list, show."
    )
    app.add_typer(digest_app, name="digest", help="The weekly program digest: --dry-run prints it.")
    app.add_typer(teams_app, name="teams", help="Microsoft Teams: the app package.")
    app.add_typer(report_app, name="report", help="The program report: md, csv or xlsx.")


_mount_subcommands()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
