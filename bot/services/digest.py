"""The weekly digest to every program manager (docs/product.md, "Scheduled messages").

The digest for ISO week W goes out on the digest day of W and covers the local week
before it ([Monday 00:00, Monday 00:00) in the program's zone); every number is shown
with its change against the week before that. Flow numbers (opened, fulfilled, ...) are
counted in the window; state numbers (waiting past SLA, advocates at a limit, idle
advocates) are taken *as of* the end of the window and as of a week earlier, so a digest
caught up hours late, or printed again with ``--dry-run``, says the same thing.

Everything comes from ``uow.reports`` (grouped SQL), never from loading every request: the
program's history grows without bound and the digest must stay well under a second.

Sending is idempotent per (period, manager): ``digest:<period>:<email>`` is claimed in the
idempotency ledger in the same unit of work that queues the message, so two replicas, or a
restart in the middle of the run, send each manager one digest.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from bot.domain.errors import NotAllowed
from bot.domain.model import Actor, Person, ReferenceRequest
from bot.domain.nomination import Nomination
from bot.domain.periods import local_date, week_bounds, week_label, week_start
from bot.ports import (
    AdvocateLoad,
    AdvocateScore,
    DeadLetter,
    FlowStats,
    RenewalCaution,
    UnitOfWork,
    WaitingRequest,
)
from bot.services.bookings import NO_FITTING_TIME
from bot.services.context import ServiceContext, actor_label, audit, send
from bot.services.messages import managers, morning_of
from bot.services.roles import manager_people

TREND_WEEKS = 12
ATTENTION_ITEMS = 3  # per kind: the digest must fit one Slack section (3,000 chars)
DONE_PREFIX = "done:"
NOMINATION_WAIT_DAYS = 7  # a nomination pending longer is listed under "needs attention"


@dataclass(frozen=True, slots=True)
class Metric:
    """One line of the digest with last week's value for comparison. ``kind`` says how
    to show it: count, percent (0-1), hours, money."""

    key: str
    value: float | int | Decimal | None
    previous: float | int | Decimal | None
    kind: str = "count"  # or "percent", "hours", "days", "money": how the templates show it

    @property
    def change(self) -> float | int | Decimal | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous  # type: ignore[operator]


@dataclass(frozen=True, slots=True)
class Digest:
    period: str
    start: datetime  # the week covered, UTC
    end: datetime
    timezone: str
    metrics: tuple[Metric, ...]
    top_advocates: tuple[AdvocateScore, ...]
    waiting: tuple[WaitingRequest, ...]
    loads: tuple[AdvocateLoad, ...]
    renewals: tuple[RenewalCaution, ...]
    renewals_total: int
    dead_letters: tuple[DeadLetter, ...]
    series: tuple[tuple[str, int, int], ...] = field(default=())
    no_fitting_time: tuple[ReferenceRequest, ...] = ()  # asks none of whose times fit
    no_fitting_time_total: int = 0
    sla_hours: int = 0  # the windows two metrics are about, for their labels
    idle_days: int = 0
    nominations: tuple[Nomination, ...] = ()  # pending over NOMINATION_WAIT_DAYS at ``end``

    def metric(self, key: str) -> Metric:
        return next(m for m in self.metrics if m.key == key)

    @property
    def needs_attention(self) -> bool:
        return bool(self.waiting or self.loads or self.renewals or self.dead_letters
                    or self.no_fitting_time or self.nominations)


def _rate(flow: FlowStats) -> float | None:
    closed = flow.fulfilled + flow.unfulfilled
    return flow.fulfilled / closed if closed else None


def _median_hours(flow: FlowStats) -> float | None:
    return statistics.median(flow.accept_waits) / 3600 if flow.accept_waits else None


async def build_digest(ctx: ServiceContext, uow: UnitOfWork, start: datetime, end: datetime,
                       previous_start: datetime, *, period: str) -> Digest:
    """The digest for the window [start, end), compared with [previous_start, start).

    ``end`` is also the moment state numbers are taken at; upcoming calls are the week
    after it.
    """
    jobs = ctx.policy.jobs
    reports = uow.reports
    sla = timedelta(hours=jobs.request_sla_hours)
    flow = await reports.flow(start, end)
    before = await reports.flow(previous_start, start)
    waiting_count, waiting = await reports.waiting_past_sla(
        end, created_before=end - sla, limit=ATTENTION_ITEMS)
    waiting_before, _ = await reports.waiting_past_sla(start, created_before=start - sla,
                                                       limit=0)
    upcoming = await reports.upcoming_calls(end, end + timedelta(days=7))
    upcoming_before = await reports.upcoming_calls(start, end)
    loads = await reports.advocate_loads(end, ctx.policy.limits)
    loads_before = await reports.advocate_loads(start, ctx.policy.limits)
    idle = await reports.idle_advocates(end, days=jobs.idle_days)
    idle_before = await reports.idle_advocates(start, days=jobs.idle_days)
    dead_count, dead = await reports.dead_letters(start, end, limit=ATTENTION_ITEMS)
    dead_before, _ = await reports.dead_letters(previous_start, start, limit=0)
    top = await reports.top_advocates(start, end, limit=jobs.top_advocates)
    renewals_total, renewals = await reports.renewal_cautions(
        local_date(end, ctx.program_timezone),
        days=ctx.policy.matching.renewal_caution_days, limit=ATTENTION_ITEMS)

    unfit = await _no_fitting_time(uow, start, end)
    unfit_requests = [r for request_id in unfit[:ATTENTION_ITEMS]
                      if (r := await uow.requests.get(request_id))]

    monday = week_start(local_date(start, ctx.program_timezone))
    weeks = [monday - timedelta(weeks=back) for back in range(TREND_WEEKS - 1, -1, -1)]
    bounds = [week_bounds(day, ctx.program_timezone)[0] for day in weeks] + [end]
    counts = await reports.weekly_counts(bounds)
    series = tuple((week_label(day), opened, fulfilled)
                   for day, (opened, fulfilled) in zip(weeks, counts, strict=True))

    metrics = (
        Metric("opened", flow.opened, before.opened),
        Metric("fulfilled", flow.fulfilled, before.fulfilled),
        Metric("unfulfilled", flow.unfulfilled, before.unfulfilled),
        Metric("fulfilment_rate", _rate(flow), _rate(before), "percent"),
        Metric("median_time_to_accept", _median_hours(flow), _median_hours(before), "hours"),
        Metric("waiting_past_sla", waiting_count, waiting_before),
        Metric("upcoming_calls", upcoming, upcoming_before),
        Metric("near_limit", len(loads), len(loads_before)),
        Metric("idle", idle, idle_before),
        Metric("influenced", flow.influenced, before.influenced, "money"),
        Metric("dead_letters", dead_count, dead_before),
    )
    nominations = await uow.nominations.waiting(
        created_before=end - timedelta(days=NOMINATION_WAIT_DAYS))
    return Digest(period=period, start=start, end=end, timezone=ctx.program_timezone,
                  metrics=metrics, top_advocates=tuple(top), waiting=tuple(waiting),
                  loads=tuple(loads[:ATTENTION_ITEMS]), renewals=tuple(renewals),
                  renewals_total=renewals_total, dead_letters=tuple(dead), series=series,
                  sla_hours=jobs.request_sla_hours, idle_days=jobs.idle_days,
                  no_fitting_time=tuple(unfit_requests), no_fitting_time_total=len(unfit),
                  nominations=tuple(nominations))


async def _no_fitting_time(uow: UnitOfWork, start: datetime, end: datetime) -> list[int]:
    """The requests whose advocate, on saying yes in [start, end), found none of the rep's
    times inside their call hours (audited by ``bookings.offer_times``), by id."""
    found = []
    for subject in sorted(await uow.reports.audited_subjects(NO_FITTING_TIME, since=start)):
        entries = await uow.audit.list(subject=subject, limit=1000)
        if any(e.action == NO_FITTING_TIME and start <= e.at < end for e in entries):
            found.append(int(subject.split(":")[1]))
    return sorted(found)


def digest_context(digest: Digest, *, chart: bool = True) -> dict[str, Any]:
    """The neutral message context (JSON-serialisable) the ``digest`` templates render.

    With ``chart`` the message carries the trend chart: the messengers draw it from
    ``trend`` as they render the message (``Renderer.chart_png``, words from the templates)
    and show it under ``chart_filename``.
    """
    last_day: date = local_date(digest.end - timedelta(seconds=1), digest.timezone)
    context: dict[str, Any] = {
        "period": digest.period,
        "from_day": local_date(digest.start, digest.timezone).isoformat(),
        "to_day": last_day.isoformat(),
        "timezone": digest.timezone,
        "metrics": [{"key": m.key, "kind": m.kind, "value": _number(m.value),
                     "change": _number(m.change)} for m in digest.metrics],
        "sla_hours": digest.sla_hours, "idle_days": digest.idle_days,
        "top_advocates": [{"name": a.name, "points": a.points, "engagements": a.engagements}
                          for a in digest.top_advocates],
        "attention": {
            "waiting": [{"request_id": w.request_id, "prospect_company": w.prospect_company,
                         "rep_email": w.rep_email or "", "needed_by": w.needed_by.isoformat(),
                         "waiting_days": (digest.end - w.created_at).days}
                        for w in digest.waiting],
            "near_limit": [{"name": x.name, "used_90": x.used_90, "limit_90": x.limit_90,
                            "used_365": x.used_365, "limit_365": x.limit_365,
                            "at_limit": x.at_limit} for x in digest.loads],
            "renewals": [{"name": r.name, "renewal_date": r.renewal_date.isoformat()}
                         for r in digest.renewals],
            "renewals_total": digest.renewals_total,
            "dead_letters": [{"recipient": d.recipient, "template": d.template,
                              "error": d.error} for d in digest.dead_letters],
            "no_fitting_time": [{"request_id": r.id, "prospect_company": r.prospect_company,
                                 "rep_email": r.rep.email or ""}
                                for r in digest.no_fitting_time],
            "no_fitting_time_total": digest.no_fitting_time_total,
            "nominations": [{"name": n.name or n.email.split("@", 1)[0], "email": n.email,
                             "nominator": n.nominator_name or n.nominator_email,
                             "waiting_days": (digest.end - n.created_at).days}
                            for n in digest.nominations],
        },
        "needs_attention": digest.needs_attention,
        "trend": [{"week": w, "opened": o, "fulfilled": f} for w, o, f in digest.series],
    }
    if chart:
        context["chart"] = True
        context["chart_filename"] = f"digest-{digest.period}.png"
    return context


def _number(value: float | int | Decimal | None) -> float | int | None:
    """A metric as JSON carries it (the outbox stores contexts as JSON)."""
    return float(value) if isinstance(value, Decimal) else value


def weekly_window(ctx: ServiceContext, period_day: date) -> tuple[datetime, datetime, datetime]:
    """(previous start, start, end) of the week a digest sent in ``period_day``'s week
    covers: the full local week before it."""
    monday = week_start(period_day)
    start, end = week_bounds(monday - timedelta(weeks=1), ctx.program_timezone)
    previous_start, _ = week_bounds(monday - timedelta(weeks=2), ctx.program_timezone)
    return previous_start, start, end


async def digest_for_week(ctx: ServiceContext, period_day: date) -> Digest:
    """The scheduled digest of ``period_day``'s ISO week (what ``--dry-run`` prints)."""
    previous_start, start, end = weekly_window(ctx, period_day)
    async with ctx.uow() as uow:
        return await build_digest(ctx, uow, start, end, previous_start,
                                  period=week_label(period_day))


async def send_weekly_digest(ctx: ServiceContext, now: datetime, period: str,
                             period_day: date) -> int:
    """Queue the digest for ``period`` to every program manager who has not had it;
    returns how many were queued. Computed once; claimed and queued per manager, each to
    reach them at the digest time of ``period_day`` in their own zone (where the bot has
    met them; else the program's), inside their hours."""
    if not manager_people(ctx):
        return 0
    async with ctx.uow() as uow:
        if await uow.reports.claimed_keys(f"{DONE_PREFIX}digest:{period}"):
            return 0
        people = await managers(ctx, uow)
    digest = await digest_for_week(ctx, period_day)
    context = digest_context(digest)
    queued = 0
    for manager in people:
        at = morning_of(ctx, manager, now, period_day, ctx.policy.jobs.digest_time)
        queued += await _send_once(ctx, now, manager, context,
                                   f"digest:{period}:{manager.email}", at)
    async with ctx.uow() as uow:
        await uow.idempotency.claim(f"{DONE_PREFIX}digest:{period}", now=now)
        await uow.commit()
    return queued


async def _send_once(ctx: ServiceContext, now: datetime, to: Person, context: dict[str, Any],
                     key: str, not_before: datetime | None) -> int:
    async with ctx.uow() as uow:
        if not await uow.idempotency.claim(key, now=now):
            return 0
        await send(uow, now, to, "digest", {**context, "timezone": ctx.program_timezone},
                   key=key, not_before=not_before)
        await uow.commit()
    return 1


async def send_digest_now(ctx: ServiceContext, actor: Actor) -> Digest:
    """``/advocates digest now``: the digest of the last seven days, to the program
    manager who asked (only to them: the others get theirs on the digest day). Program
    managers only; audited."""
    if not actor.is_program_manager:
        raise NotAllowed("only_role", roles=["program_manager"], action="ask_digest")
    now = ctx.now()
    end = now
    start, previous_start = end - timedelta(days=7), end - timedelta(days=14)
    period = f"{week_label(local_date(now, ctx.program_timezone))}-now"
    async with ctx.uow() as uow:
        digest = await build_digest(ctx, uow, start, end, previous_start, period=period)
        to = Person(email=actor.person.email, display_name=actor.person.display_name,
                    identity=actor.person.identity, timezone=ctx.program_timezone)
        await send(uow, now, to, "digest", digest_context(digest),
                   key=f"digest-now:{actor_label(actor.person)}:{now.isoformat()}")
        await audit(uow, now, actor_label(actor.person), "digest.requested", "digest",
                    period=period)
        await uow.commit()
    return digest


__all__ = [
    "Digest",
    "Metric",
    "build_digest",
    "digest_context",
    "digest_for_week",
    "send_digest_now",
    "send_weekly_digest",
    "weekly_window",
]
