"""The program report for the quarterly business review (docs/report.md).

``/advocates report [2026-Q4 | last-quarter | FROM..TO]`` and ``advocate-bot report``:
requests opened / fulfilled / unfulfilled, the fulfilment rate, the median and 90th
percentile time to first accept, engagements by type, the influenced pipeline and won
amounts from the outcomes, the same per advocate, rep, industry and region, the roster's
health, the nominations and their conversion to advocates, each against the period of the
same length before; and three series for the charts (requests vs fulfilled per week,
influenced per month, engagements per advocate).

Every number comes from ``uow.reports`` (grouped SQL, ``storage/report_sql.py``). The
service hands over values (key, kind, value, previous, change), never words: the words
are in ``templates/text/report/``, the files and charts are made where they are shown
(``bot/report_files.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.domain.errors import DomainError, NotAllowed
from bot.domain.model import Actor, Person
from bot.domain.periods import (
    local_date,
    local_moment,
    next_quarter,
    previous_quarter,
    quarter_of,
    quarter_start,
    week_label,
    week_start,
)
from bot.ports import UnitOfWork
from bot.report_ports import (
    REPORT_GROUPS,
    AdvocateHealth,
    NominationFunnel,
    ReportGroup,
    ReportTotals,
)
from bot.services.context import ServiceContext, actor_label, audit, send
from bot.services.digest import Metric, _number

CHART_ADVOCATES = 25  # bars in the engagements-per-advocate chart: the busiest
_QUARTER = re.compile(r"^(\d{4})-?q([1-4])$", re.IGNORECASE)
HEALTH_NOW = ("active", "paused")  # as the roster stands now: no comparison


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    """Days on the program's calendar, both included; ``label`` names the period."""

    label: str
    first_day: date
    last_day: date

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def previous(self) -> ReportPeriod:
        """The period of the same length just before (a quarter's is the quarter before
        only when they have the same number of days; the comparison is like for like)."""
        last = self.first_day - timedelta(days=1)
        first = last - timedelta(days=self.days - 1)
        return ReportPeriod(f"{first.isoformat()}..{last.isoformat()}", first, last)


def quarter_period(year: int, quarter: int) -> ReportPeriod:
    first = quarter_start(year, quarter)
    following = quarter_start(*next_quarter(year, quarter))
    return ReportPeriod(f"{year}-Q{quarter}", first, following - timedelta(days=1))


def parse_period(text: str, today: date) -> ReportPeriod:
    """``2026-Q4``, ``last-quarter`` (also what nothing means) or ``FROM..TO`` (days,
    both included). Raises ``DomainError("report_period")`` naming what was typed, or
    ``report_period_backwards`` when TO comes before FROM."""
    typed = " ".join((text or "").split())
    if typed.casefold() in ("", "last-quarter", "last quarter"):
        return quarter_period(*previous_quarter(*quarter_of(today)))
    if match := _QUARTER.match(typed):
        return quarter_period(int(match[1]), int(match[2]))
    first_text, dots, last_text = typed.partition("..")
    try:
        if not dots:
            raise ValueError(typed)
        first, last = date.fromisoformat(first_text.strip()), date.fromisoformat(
            last_text.strip())
    except ValueError:
        raise DomainError("report_period", typed=typed[:40]) from None
    return checked_days(first, last)


def checked_days(first: date, last: date) -> ReportPeriod:
    if last < first:
        raise DomainError("report_period_backwards", first=first.isoformat(),
                          last=last.isoformat())
    return ReportPeriod(f"{first.isoformat()}..{last.isoformat()}", first, last)


@dataclass(frozen=True, slots=True)
class ProgramReport:
    period: ReportPeriod
    previous: ReportPeriod
    timezone: str
    currency: str
    summary: tuple[Metric, ...]
    by_type: tuple[Metric, ...]
    health: tuple[Metric, ...]
    nominations: tuple[Metric, ...]
    groups: dict[str, tuple[ReportGroup, ...]]  # by REPORT_GROUPS
    weekly: tuple[tuple[str, int, int], ...]  # (ISO week, opened, fulfilled)
    monthly: tuple[tuple[str, float], ...]  # (YYYY-MM, influenced)
    advocate_limit: int | None  # the program's limit for a period this long, if one fits


def _window(period: ReportPeriod, zone: str) -> tuple[datetime, datetime]:
    return (local_moment(period.first_day, time(0), zone),
            local_moment(period.last_day + timedelta(days=1), time(0), zone))


def _summary(now: ReportTotals, before: ReportTotals) -> tuple[Metric, ...]:
    def rate(t: ReportTotals) -> float | None:
        closed = t.fulfilled + t.unfulfilled
        return t.fulfilled / closed if closed else None

    def hours(seconds: float | None) -> float | None:
        return None if seconds is None else round(seconds / 3600, 2)

    return (
        Metric("opened", now.opened, before.opened),
        Metric("fulfilled", now.fulfilled, before.fulfilled),
        Metric("unfulfilled", now.unfulfilled, before.unfulfilled),
        Metric("fulfilment_rate", rate(now), rate(before), "percent"),
        Metric("median_time_to_accept", hours(now.median_accept_seconds),
               hours(before.median_accept_seconds), "hours"),
        Metric("p90_time_to_accept", hours(now.p90_accept_seconds),
               hours(before.p90_accept_seconds), "hours"),
        Metric("influenced", now.influenced, before.influenced, "money"),
        Metric("won", now.won, before.won, "money"),
    )


def _health(now: AdvocateHealth, before: AdvocateHealth) -> tuple[Metric, ...]:
    return tuple(Metric(key, getattr(now, key),
                        None if key in HEALTH_NOW else getattr(before, key))
                 for key in ("active", "paused", "near_limit", "idle", "new", "left"))


def _nominations(now: NominationFunnel, before: NominationFunnel) -> tuple[Metric, ...]:
    def rate(f: NominationFunnel) -> float | None:
        return f.converted / f.nominated if f.nominated else None

    def days(seconds: float | None) -> float | None:
        return None if seconds is None else round(seconds / 86400, 1)

    counts = tuple(Metric(key, getattr(now, key), getattr(before, key))
                   for key in ("nominated", "approved", "declined", "joined", "waiting"))
    return (*counts, Metric("conversion_rate", rate(now), rate(before), "percent"),
            Metric("median_days_to_join", days(now.median_join_seconds),
                   days(before.median_join_seconds), "days"))


async def build_report(ctx: ServiceContext, uow: UnitOfWork, period: ReportPeriod
                       ) -> ProgramReport:
    """The report of ``period`` compared with the period of the same length before."""
    zone, reports = ctx.program_timezone, uow.reports
    previous = period.previous()
    start, end = _window(period, zone)
    before_start, _ = _window(previous, zone)
    policy = ctx.policy

    async def health(p: ReportPeriod, s: datetime, e: datetime) -> AdvocateHealth:
        return await reports.advocate_health(s, e, policy.limits, idle_days=policy.jobs.idle_days,
                                             days=(p.first_day, p.last_day))

    types_now = await reports.engagements_by_type(start, end)
    types_before = await reports.engagements_by_type(before_start, start)
    by_type = tuple(Metric(kind, types_now.get(kind, 0), types_before.get(kind, 0))
                    for kind in sorted(set(types_now) | set(types_before)))
    weeks, week_bounds = _weeks(period, zone, start, end)
    months, month_bounds = _months(period, zone, start, end)
    return ProgramReport(
        period=period, previous=previous, timezone=zone, currency=ctx.policy.currency,
        summary=_summary(await reports.report_totals(start, end),
                         await reports.report_totals(before_start, start)),
        by_type=by_type,
        health=_health(await health(period, start, end), await health(previous, before_start,
                                                                      start)),
        nominations=_nominations(await reports.nomination_funnel(start, end),
                                 await reports.nomination_funnel(before_start, start)),
        groups={by: tuple(await reports.report_groups(by, start, end)) for by in REPORT_GROUPS},
        weekly=tuple((label, opened, fulfilled) for label, (opened, fulfilled) in
                     zip(weeks, await reports.weekly_counts(week_bounds), strict=True)),
        monthly=tuple((label, float(amount)) for label, amount in
                      zip(months, await reports.influenced_series(month_bounds), strict=True)),
        advocate_limit=(policy.limits.max_per_90_days if period.days <= 92
                        else policy.limits.max_per_365_days if period.days <= 366 else None),
    )


def _weeks(period: ReportPeriod, zone: str, start: datetime, end: datetime
           ) -> tuple[list[str], list[datetime]]:
    """The ISO weeks the period touches and their bounds, clipped to the period."""
    mondays, day = [], week_start(period.first_day)
    while day <= period.last_day:
        mondays.append(day)
        day += timedelta(weeks=1)
    inner = [local_moment(monday, time(0), zone) for monday in mondays[1:]]
    return [week_label(monday) for monday in mondays], [start, *inner, end]


def _months(period: ReportPeriod, zone: str, start: datetime, end: datetime
            ) -> tuple[list[str], list[datetime]]:
    """The calendar months the period touches and their bounds, clipped to the period."""
    firsts, day = [], period.first_day.replace(day=1)
    while day <= period.last_day:
        firsts.append(day)
        day = (day + timedelta(days=32)).replace(day=1)
    inner = [local_moment(first, time(0), zone) for first in firsts[1:]]
    return [f"{first:%Y-%m}" for first in firsts], [start, *inner, end]


async def program_report(ctx: ServiceContext, period: ReportPeriod) -> ProgramReport:
    """The report (the command line, where whoever runs it holds the database)."""
    async with ctx.uow() as uow:
        return await build_report(ctx, uow, period)


def _require_manager(actor: Actor) -> None:
    if not actor.is_program_manager:
        raise NotAllowed("report_managers_only")


async def report_for(ctx: ServiceContext, actor: Actor, period: ReportPeriod) -> ProgramReport:
    """The report for a person in chat (a Teams file made again when they accept it):
    program managers only."""
    _require_manager(actor)
    return await program_report(ctx, period)


def _metric(m: Metric) -> dict[str, Any]:
    change = _number(m.change)  # a difference of rates: 0.3, not 0.30000000000000004
    return {"key": m.key, "kind": m.kind, "value": _number(m.value),
            "previous": _number(m.previous),
            "change": round(change, 6) if isinstance(change, float) else change}


def report_context(report: ProgramReport) -> dict[str, Any]:
    """The neutral, JSON-serialisable context the ``report`` templates, files and charts
    are made from (``report: True`` tells the messengers to attach them)."""
    groups = {by: [{"name": g.name, "requests": g.requests, "engagements": g.engagements,
                    "influenced": float(g.influenced), "won": float(g.won)} for g in rows]
              for by, rows in report.groups.items()}
    return {
        "report": True,
        "period": report.period.label,
        "from_day": report.period.first_day.isoformat(),
        "to_day": report.period.last_day.isoformat(),
        "previous_from_day": report.previous.first_day.isoformat(),
        "previous_to_day": report.previous.last_day.isoformat(),
        "timezone": report.timezone,
        "currency": report.currency,
        "summary": [_metric(m) for m in report.summary],
        "by_type": [_metric(m) for m in report.by_type],
        "health": [_metric(m) for m in report.health],
        "nominations": [_metric(m) for m in report.nominations],
        "groups": groups,
        "weekly": [{"week": w, "opened": o, "fulfilled": f} for w, o, f in report.weekly],
        "monthly": [{"month": m, "influenced": a} for m, a in report.monthly],
        "per_advocate": [{"name": g["name"], "engagements": g["engagements"]}  # busiest first
                         for g in groups["advocate"][:CHART_ADVOCATES] if g["engagements"]],
        "advocate_limit": report.advocate_limit,
        "file_stem": f"program-report-{report.period.label.replace('..', '_')}",  # FILE_PREFIX
    }


async def send_report(ctx: ServiceContext, actor: Actor, period_text: str) -> ProgramReport:
    """``/advocates report``: the report, to the program manager who asked, as a message
    the outbox delivers with its charts and files. Program managers only; audited."""
    _require_manager(actor)
    now = ctx.now()
    period = parse_period(period_text, local_date(now, ctx.program_timezone))
    async with ctx.uow() as uow:
        report = await build_report(ctx, uow, period)
        to = Person(email=actor.person.email, display_name=actor.person.display_name,
                    identity=actor.person.identity, timezone=ctx.program_timezone)
        await send(uow, now, to, "report", report_context(report),
                   key=f"report:{period.label}:{actor_label(actor.person)}:{now.isoformat()}")
        await audit(uow, now, actor_label(actor.person), "report.requested", "report",
                    period=period.label)
        await uow.commit()
    return report


__all__ = [
    "ProgramReport",
    "ReportPeriod",
    "build_report",
    "checked_days",
    "parse_period",
    "program_report",
    "quarter_period",
    "report_context",
    "report_for",
    "send_report",
]
