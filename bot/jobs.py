"""The program's recurring work, decided by the clock it is given.

``run_due_jobs(ctx, now)`` is what the scheduler calls every minute. It works out, with
the pure maths of ``bot.domain.periods``, which period of each job is due at ``now`` in
the program's zone, and runs it:

==================  ===============================================  ====================
job                 due                                              ledger key
==================  ===============================================  ====================
digest              digest day and time, each ISO week               digest:W:email
check-ins           first business day of the quarter, check-in time  checkin:Q:advocate
check-in reminder   the check-in + ``CHECKIN_REMINDER_DAYS``          checkin-reminder:Q:id
top advocates       with the check-ins                               recognition:top:Q
recognition         engagements completed in the last days           recognition:...
nudges              every run                                        ask-reminder:..., ...
==================  ===============================================  ====================

A period stays due for its grace window (``CATCH_UP_HOURS`` for the digest, 7 days for
check-ins), so a bot that was down when it fell due catches up when it starts; the ledger
(claimed in the unit of work that queues each message) makes every run after the first a
no-op, on any number of replicas. Because the decision is made here from wall-clock maths
in ``zoneinfo``, daylight-saving changes and restarts need nothing from cron semantics.

Messages that can wait are held for each recipient's hours (quiet hours): the digest and
the check-ins are queued when due and reach each person at the digest or check-in time of
the due day in their own zone (``messages.morning_of``), not the program's; reminders of
a check-in, nudges and recognition wait for the recipient's hours to open
(``messages.quiet_until``); call reminders never wait.

Jobs fail independently: one job's exception does not stop the others; all of them are
raised together at the end (an ``ExceptionGroup``) so the scheduler logs them. Each job's
run is timed and reported to ``observe`` (the metrics' ``job_finished``), if given.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from bot.domain.periods import (
    latest_due,
    local_date,
    quarterly_occurrences,
    weekly_occurrences,
)
from bot.services.checkins import send_check_in_reminders, send_check_ins
from bot.services.context import ServiceContext
from bot.services.digest import send_weekly_digest
from bot.services.nudges import nudge_needed_by, remind_expiring_asks
from bot.services.recognition import post_top_advocates, recognise_engagements

log = logging.getLogger(__name__)

REMINDER_GRACE = timedelta(days=7)


class JobObserver(Protocol):
    """Told how long each job run took and whether it failed (``Metrics.job_finished``)."""

    def __call__(self, job: str, seconds: float, *, ok: bool) -> None: ...


@dataclass(frozen=True, slots=True)
class JobRun:
    """What one job did in one run: its period (if periodic) and how many messages."""

    job: str
    period: str
    queued: int


@dataclass(frozen=True, slots=True)
class DuePeriod:
    job: str
    period: str
    due_at: datetime
    day: date  # the local day the period falls on


def due_periods(ctx: ServiceContext, now: datetime) -> list[DuePeriod]:
    """Which periodic jobs are due at ``now`` (pure: no database)."""
    jobs, zone = ctx.policy.jobs, ctx.program_timezone
    due: list[DuePeriod] = []
    week = latest_due(now, weekly_occurrences(now, jobs.digest_weekday, jobs.digest_time, zone),
                      timedelta(hours=jobs.digest_grace_hours))
    if week is not None:
        due.append(DuePeriod("digest", week.period, week.due_at, local_date(week.due_at, zone)))
    occurrences = quarterly_occurrences(now, jobs.checkin_time, zone, jobs.holidays)
    quarter = latest_due(now, occurrences, timedelta(hours=jobs.checkin_grace_hours))
    if quarter is not None:
        day = local_date(quarter.due_at, zone)
        due.append(DuePeriod("check_ins", quarter.period, quarter.due_at, day))
        due.append(DuePeriod("top_advocates", quarter.period, quarter.due_at, day))
    reminders = [o for o in occurrences
                 if o.due_at + timedelta(days=jobs.checkin_reminder_days) <= now]
    if reminders:
        sent = max(reminders)
        remind_at = sent.due_at + timedelta(days=jobs.checkin_reminder_days)
        if now - remind_at <= REMINDER_GRACE:
            due.append(DuePeriod("check_in_reminders", sent.period, sent.due_at,
                                 local_date(remind_at, zone)))
    return due


async def run_due_jobs(ctx: ServiceContext, now: datetime | None = None, *,
                       observe: JobObserver | None = None) -> list[JobRun]:
    """Run everything due at ``now`` (default: the context's clock); see the module doc."""
    now = now or ctx.now()
    steps: list[tuple[str, str, Callable[[], Awaitable[int]]]] = []
    for due in due_periods(ctx, now):
        if due.job == "digest":
            steps.append((due.job, due.period, lambda d=due: send_weekly_digest(
                ctx, now, d.period, d.day)))
        elif due.job == "check_ins":
            steps.append((due.job, due.period,
                          lambda d=due: send_check_ins(ctx, now, d.period, d.day)))
        elif due.job == "top_advocates":
            steps.append((due.job, due.period,
                          lambda d=due: post_top_advocates(ctx, now, d.period)))
        elif due.job == "check_in_reminders":
            steps.append((due.job, due.period, lambda d=due: send_check_in_reminders(
                ctx, now, d.period, d.due_at)))
    steps.append(("recognition", "", lambda: recognise_engagements(ctx, now)))
    steps.append(("ask_reminders", "", lambda: remind_expiring_asks(ctx, now)))
    steps.append(("needed_by", "", lambda: nudge_needed_by(ctx, now)))

    runs: list[JobRun] = []
    failures: list[Exception] = []
    for job, period, step in steps:
        started = time.perf_counter()
        try:
            queued = await step()
        except Exception as error:  # isolated per job; raised together below
            log.exception("job %s %s failed", job, period)
            failures.append(error)
            if observe is not None:
                observe(job, time.perf_counter() - started, ok=False)
            continue
        if observe is not None:
            observe(job, time.perf_counter() - started, ok=True)
        runs.append(JobRun(job, period, queued))
        if queued:
            log.info("job %s %s queued %d message(s)", job, period or "-", queued)
    if failures:
        raise ExceptionGroup(f"{len(failures)} scheduled job(s) failed", failures)
    return runs


__all__ = ["DuePeriod", "JobObserver", "JobRun", "due_periods", "run_due_jobs"]
