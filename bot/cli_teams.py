"""``advocate-bot teams …``: what a Teams admin needs, starting with the app package.

Kept apart from ``bot.cli`` so the Teams front end can grow its commands without touching
the shared CLI; ``bot.cli`` mounts ``app`` as ``teams``. Settings errors are raised as
``SettingsError`` for the root CLI to print; package problems are printed here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot import __version__
from bot.config import load_settings

app = typer.Typer(help="Microsoft Teams: the app package.", no_args_is_help=True)


@app.callback()
def _teams() -> None:
    """Microsoft Teams: the app package a Teams admin uploads."""
    # A callback keeps ``package`` a subcommand (``teams package``) even while it is the
    # only one; without it Typer would make ``teams`` itself the command.


@app.command()
def package(
    website_url: Annotated[str, typer.Option(
        help="https:// page about the bot (the manifest's developer website)")],
    output: Annotated[Path, typer.Option(
        "--output", "-o", help="Where to write the zip")] = Path("advocate-bot-teams.zip"),
    privacy_url: Annotated[str | None, typer.Option(
        help="https:// privacy statement (default: the website URL)")] = None,
    terms_url: Annotated[str | None, typer.Option(
        help="https:// terms of use (default: the website URL)")] = None,
    developer_name: Annotated[str | None, typer.Option(
        help="Publisher shown in Teams (default: the bot name)")] = None,
    version: Annotated[str, typer.Option(
        help="App version; raise it for every upload that changes the manifest")] = __version__,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace the output file if it exists")] = False,
) -> None:
    """Write the Teams app package (manifest.json + icons) for MicrosoftAppId and
    TEAMS_BOT_NAME; upload it in the Teams admin center (Teams apps → Manage apps →
    Upload new app)."""
    from handlers.teams.package import PackageError, write_package

    settings = load_settings()
    try:
        path = write_package(settings, output, website_url=website_url,
                             privacy_url=privacy_url, terms_url=terms_url,
                             developer_name=developer_name, version=version, force=force)
    except PackageError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wrote {path} for bot {settings.microsoft_app_id} "
               f"({settings.teams_bot_name!r}); upload it in the Teams admin center")
