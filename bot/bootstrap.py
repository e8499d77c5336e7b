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

from bot.clock import AheadClock, SystemClock
from bot.config import Settings
from bot.domain.model import Platform
from bot.metrics import Metrics
from bot.ports import Clock, Directory, Messenger, UnitOfWorkFactory
from bot.rendering import Renderer
from bot.services.context import ServiceContext
from bot.services.dispatch import Wakeup
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
    # The Slack parts (handlers.slack.app.SlackParts) when Slack is configured.
    slack: Any = None
    # The Teams front end (handlers.teams.app.TeamsFrontEnd) when Teams is served.
    teams: Any = None
    # The browser sandbox (handlers.sandbox.app.SandboxParts) when it is on.
    sandbox: Any = None
    # Set by every commit that queued outbox messages; the dispatcher waits on it.
    outbox_wakeup: Wakeup = field(default_factory=Wakeup)
    metrics: Metrics = field(default_factory=Metrics)  # what /metrics exposes

    async def database_ok(self) -> bool:
        """True when the database answers a trivial query (for ``/healthz``)."""
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True


@asynccontextmanager
async def open_app(settings: Settings, *, clock: Clock | None = None) -> AsyncIterator[App]:
    """Build the application for ``settings``; dispose of the engine on exit."""
    engine = create_engine(settings.database_url)
    try:
        await prepare_database(engine, auto_migrate=settings.auto_migrate)
        if clock is None:
            # Alone, the sandbox keeps a clock of its own that "jump ahead" moves.
            alone = settings.sandbox_active and not (settings.slack_enabled
                                                     or settings.teams_active)
            clock = AheadClock() if alone else SystemClock()
        wakeup = Wakeup()
        uow = SqlUnitOfWorkFactory(engine, on_outbox_commit=wakeup)
        ctx = ServiceContext(
            uow=uow,
            clock=clock,
            policy=settings.program_policy(),
            program_managers=tuple(settings.program_managers),
            rep_email_domains=tuple(settings.rep_email_domains),
            program_timezone=settings.program_timezone,
            program_locale=settings.program_locale,
        )
        renderer = Renderer()
        app = App(
            settings=settings,
            engine=engine,
            uow=uow,
            clock=clock,
            ctx=ctx,
            renderer=renderer,
            outbox_wakeup=wakeup,
        )
        # Each surface builds its SDK clients once, here; SDK imports stay in handlers/.
        if settings.slack_enabled:
            from handlers.slack.app import build_slack

            app.slack = build_slack(settings, uow)
            app.messengers[Platform.SLACK] = app.slack.messenger
            app.directories[Platform.SLACK] = app.slack.directory
        if settings.teams_active:
            from handlers.teams.app import build_teams

            app.teams = build_teams(app)
            app.messengers[Platform.TEAMS] = app.teams.messenger
        if settings.sandbox_active:
            from handlers.sandbox.app import build_sandbox

            app.sandbox = build_sandbox(app)
            app.messengers[Platform.SANDBOX] = app.sandbox.messenger
            app.directories[Platform.SANDBOX] = app.sandbox.directory
        yield app
    finally:
        await engine.dispose()
