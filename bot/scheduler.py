"""Recurring work inside ``serve``: the outbox dispatcher and the due-work sweeps.

APScheduler 3's ``AsyncIOScheduler`` runs the sweeps on the server's event loop. Each sweep
is safe to run twice (its messages carry deterministic outbox keys), so a restart or an
overlapping replica never sends a message twice.

The program's calendar jobs (weekly digest, quarterly check-ins and their reminder,
recognition, SLA nudges) are one interval job that calls ``bot.jobs.run_due_jobs`` every
minute, and once right at start so a period missed while the bot was down is caught up at
once. Deciding *what* is due is that function's business, from wall-clock maths in the
program's zone: no cron trigger, so a DST change or a restart cannot skip or double a run,
and the idempotency ledger keeps replicas from sending twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.bootstrap import App
from bot.jobs import JobObserver, run_due_jobs
from bot.services.asks import expire_asks
from bot.services.dispatch import OutboxDispatcher
from bot.services.nominations import undeliverable
from bot.services.notices import unreachable_notices
from bot.services.reminders import due_outcome_prompts, due_reminders
from storage.notify import OutboxListener

log = logging.getLogger(__name__)


STOP_GRACE_SECONDS = 20.0  # how long a stop waits for a job that is running to finish


@dataclass
class RunningScheduler:
    scheduler: AsyncIOScheduler
    dispatcher_task: asyncio.Task[None] | None
    stop_event: asyncio.Event
    running: set[asyncio.Task[object]] = field(default_factory=set)
    listener_task: asyncio.Task[None] | None = None
    on_finished: JobObserver | None = None  # told each run's job name, duration, success

    def track(self, job: Callable[..., Awaitable[object]], name: str = ""
              ) -> Callable[..., Awaitable[object]]:
        """Wrap a job so a stop can let its current run finish instead of cancelling it
        half-way (APScheduler's own shutdown cancels running coroutines), and time each
        run for the metrics."""

        @functools.wraps(job)
        async def run(*args: object) -> object:
            task = asyncio.current_task()
            assert task is not None
            self.running.add(task)
            started, ok = time.perf_counter(), False
            try:
                result = await job(*args)
                ok = True
                return result
            finally:
                self.running.discard(task)
                if self.on_finished is not None:
                    self.on_finished(name or job.__name__, time.perf_counter() - started,
                                     ok=ok)

        return run

    async def stop(self) -> None:
        self.scheduler.pause()  # no new runs
        self.stop_event.set()
        if self.running:
            log.info("waiting for %d running job(s) to finish", len(self.running))
            await asyncio.wait(set(self.running), timeout=STOP_GRACE_SECONDS)
        self.scheduler.shutdown(wait=False)
        for task in (self.dispatcher_task, self.listener_task):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await task


def start_scheduler(bot_app: App) -> RunningScheduler:
    """Start the sweeps and the dispatcher on the running event loop."""
    ctx = bot_app.ctx
    scheduler = AsyncIOScheduler(timezone=bot_app.settings.program_timezone)
    metrics = bot_app.metrics
    running = RunningScheduler(scheduler, None, asyncio.Event(),
                               on_finished=metrics.job_finished)
    common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
    track = running.track
    scheduler.add_job(track(expire_asks, "expire_asks"), "interval", args=[ctx], minutes=1,
                      id="expire_asks", **common)
    scheduler.add_job(track(due_reminders, "reminders"), "interval", args=[ctx], minutes=5,
                      id="reminders", **common)
    scheduler.add_job(track(due_outcome_prompts, "outcome_prompts"), "interval", args=[ctx],
                      minutes=15, id="outcome_prompts", **common)
    scheduler.add_job(
        track(functools.partial(run_due_jobs, observe=metrics.job_finished), "program_jobs"),
        "interval", args=[ctx], minutes=1, id="program_jobs",
        next_run_time=datetime.now(UTC), **common,
    )
    scheduler.start()

    if bot_app.messengers:
        dispatcher = OutboxDispatcher(bot_app.uow, bot_app.messengers, bot_app.clock,
                                      directories=list(bot_app.directories.values()),
                                      wakeup=bot_app.outbox_wakeup, observer=metrics,
                                      on_unreachable=unreachable_notices(bot_app.ctx),
                                      program_locale=bot_app.settings.program_locale,
                                      on_dead=functools.partial(undeliverable, bot_app.ctx))
        running.dispatcher_task = asyncio.create_task(
            dispatcher.run_forever(running.stop_event), name="outbox-dispatcher")
        # Other replicas' commits (PostgreSQL NOTIFY); on SQLite it returns at once.
        listener = OutboxListener(bot_app.engine, bot_app.outbox_wakeup)
        if listener.supported:
            running.listener_task = asyncio.create_task(
                listener.run(running.stop_event), name="outbox-listener")
    else:
        # Messages wait in the outbox until a platform is configured; none is lost.
        log.warning("no chat platform configured: outgoing messages stay queued in the outbox")
    log.info("scheduler started: %s", ", ".join(job.id for job in scheduler.get_jobs()))
    return running
