"""The one composition root: settings in, a wired application out.

Nothing here runs at import time. ``open_app`` builds the engine, makes sure the schema is
usable (an empty database is migrated; one that is behind stops start-up with a message
saying what to run, unless ``AUTO_MIGRATE`` is set), and hands out the unit-of-work factory
and the service context that handlers, jobs and the CLI share.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import SystemClock
from bot.config import Settings
from bot.domain.model import Platform
from bot.ports import Clock, Directory, Messenger, UnitOfWorkFactory
from bot.rendering import Renderer
from bot.services.context import ServiceContext
from storage.db import create_engine
from storage.migrate import prepare_database
from storage.uow import SqlUnitOfWorkFactory


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    uow: UnitOfWorkFactory
    clock: Clock
    ctx: ServiceContext
    renderer: Renderer
    messengers: dict[Platform, Messenger] = field(default_factory=dict)
    # Who is who on each platform (Slack: users.info / users.lookupByEmail, cached).
    directories: dict[Platform, Directory] = field(default_factory=dict)
    # The Teams front end (handlers.teams.app.TeamsFrontEnd) when Teams is served.
    teams: Any = None

    async def database_ok(self) -> bool:
        """True when the database answers a trivial query (for ``/healthz``)."""
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True


def build_messengers(settings: Settings, renderer: Renderer) -> dict[Platform, Messenger]:
    """One messenger per configured platform; SDK imports stay inside ``handlers/``.

    Slack renders with ``slack_renderer`` (the core renderer plus the Block Kit filters
    and the action ids its templates use); ``renderer`` serves the platforms without one.
    """
    messengers: dict[Platform, Messenger] = {}
    if settings.slack_enabled:
        from slack_sdk.web.async_client import AsyncWebClient

        from handlers.slack.blockkit import slack_renderer
        from handlers.slack.messenger import SlackMessenger

        client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
        messengers[Platform.SLACK] = SlackMessenger(client, slack_renderer())
    return messengers


def build_directories(settings: Settings, uow: UnitOfWorkFactory) -> dict[Platform, Directory]:
    """One directory per configured platform that can look people up by email."""
    directories: dict[Platform, Directory] = {}
    if settings.slack_enabled:
        from slack_sdk.web.async_client import AsyncWebClient

        from handlers.slack.directory import SlackDirectory

        client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
        directories[Platform.SLACK] = SlackDirectory(client, uow,
                                                     home_teams=settings.slack_team_id)
    return directories


@asynccontextmanager
async def open_app(settings: Settings, *, clock: Clock | None = None) -> AsyncIterator[App]:
    """Build the application for ``settings``; dispose of the engine on exit."""
    engine = create_engine(settings.database_url)
    try:
        await prepare_database(engine, auto_migrate=settings.auto_migrate)
        clock = clock or SystemClock()
        uow = SqlUnitOfWorkFactory(engine)
        ctx = ServiceContext(
            uow=uow,
            clock=clock,
            policy=settings.program_policy(),
            program_managers=tuple(settings.program_managers),
            rep_email_domains=tuple(settings.rep_email_domains),
            program_timezone=settings.program_timezone,
        )
        renderer = Renderer()
        app = App(
            settings=settings,
            engine=engine,
            uow=uow,
            clock=clock,
            ctx=ctx,
            renderer=renderer,
            messengers=build_messengers(settings, renderer),
            directories=build_directories(settings, uow),
        )
        if settings.teams_active:
            from handlers.teams.app import build_teams

            app.teams = build_teams(app)
            app.messengers[Platform.TEAMS] = app.teams.messenger
        yield app
    finally:
        await engine.dispose()
