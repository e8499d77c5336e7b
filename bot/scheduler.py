"""Recurring work inside ``serve``: the outbox dispatcher and the due-work sweeps.

APScheduler 3's ``AsyncIOScheduler`` runs the sweeps on the server's event loop. Each sweep
is safe to run twice (its messages carry deterministic outbox keys), so a restart or an
overlapping replica never sends a message twice. The weekly digest, quarterly check-ins and
recognition posts join this list with the scheduled-programs work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.bootstrap import App
from bot.services.asks import expire_asks
from bot.services.dispatch import OutboxDispatcher
from bot.services.scheduling import due_outcome_prompts, due_reminders

log = logging.getLogger(__name__)


@dataclass
class RunningScheduler:
    scheduler: AsyncIOScheduler
    dispatcher_task: asyncio.Task[None] | None
    stop_event: asyncio.Event

    async def stop(self) -> None:
        self.scheduler.shutdown(wait=False)
        self.stop_event.set()
        if self.dispatcher_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self.dispatcher_task


def start_scheduler(bot_app: App) -> RunningScheduler:
    """Start the sweeps and the dispatcher on the running event loop."""
    ctx = bot_app.ctx
    scheduler = AsyncIOScheduler(timezone=bot_app.settings.program_timezone)
    common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
    scheduler.add_job(expire_asks, "interval", args=[ctx], minutes=1, id="expire_asks", **common)
    scheduler.add_job(due_reminders, "interval", args=[ctx], minutes=5, id="reminders", **common)
    scheduler.add_job(
        due_outcome_prompts, "interval", args=[ctx], minutes=15, id="outcome_prompts", **common
    )
    scheduler.start()

    stop_event = asyncio.Event()
    task = None
    if bot_app.messengers:
        dispatcher = OutboxDispatcher(bot_app.uow, bot_app.messengers, bot_app.clock)
        task = asyncio.create_task(dispatcher.run_forever(stop_event), name="outbox-dispatcher")
    else:
        # Messages wait in the outbox until a platform is configured; none is lost.
        log.warning("no chat platform configured: outgoing messages stay queued in the outbox")
    log.info("scheduler started: %s", ", ".join(job.id for job in scheduler.get_jobs()))
    return RunningScheduler(scheduler, task, stop_event)
