"""Ranking the roster for a request inside a unit of work, and saying why someone is out.

The matcher (``bot.domain.matching``) is pure; this module feeds it the active roster and
the usage committed so far (engagements inside the longest limit window, open asks), so
that every ranking a service makes sees the same numbers the limits are checked against.

Call hours weigh in here: of the best few (``HOURS_POOL`` times as many as wanted), an
advocate with at least one of the rep's proposed times inside their call hours gains
``HOURS_WEIGHT`` and the reason ``call_hours_fit``; nobody is dropped for their hours
alone (the advocate then proposes a time, or picks from suggestions).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot.domain.errors import Problem
from bot.domain.hours import fits
from bot.domain.limits import check_can_ask
from bot.domain.match_reasons import ALREADY_ASKED
from bot.domain.matching import Match, MatchResult, rank_advocates
from bot.domain.model import Advocate, AdvocateStatus, ReferenceRequest, Usage
from bot.ports import UnitOfWork
from bot.services.context import ServiceContext
from bot.services.messages import person_hours

USAGE_WINDOW = timedelta(days=365)  # the longest limit window; older engagements never count
ALL = 1_000_000  # "every match", for ``rank_advocates(top_n=...)`` (None means the policy's)
HOURS_WEIGHT = 2.0  # for at least one of the rep's times inside the advocate's call hours
HOURS_POOL = 5  # how many times the wanted matches are ranked before hours weigh in


def exclusion_summary(result: MatchResult | None, *, limit: int = 5) -> list[dict[str, Any]]:
    """Why the roster did not fit, most common reasons first, without naming anybody:
    ``{"reason": problem JSON, "count": n}`` (message contexts are stored as JSON; the
    templates word each reason with ``problem_text``). Those already asked are left out:
    the messages list them with their answers."""
    if result is None:
        return []
    skip = ALREADY_ASKED.code
    counts = Counter(reason for e in result.exclusions() for reason in e.reasons
                     if reason.code != skip)
    return [{"reason": reason.to_json(), "count": count}
            for reason, count in counts.most_common(limit)]


async def rank_request(ctx: ServiceContext, uow: UnitOfWork, request: ReferenceRequest,
                       now: datetime, *, already_asked: Collection[int] = (),
                       top_n: int = ALL) -> MatchResult:
    """Rank the active roster for ``request`` with the usage committed so far.

    The roster comes from the process's copy (``active_roster``), the usage from this
    transaction. The matches are then read again in this transaction: should one differ
    from the copy (changed by this very unit of work), the ranking is done again with the
    rows as read, so every match returned passed the hard filters on current rows. The
    matches carry copies of the advocates, which callers may change.
    """
    advocates = await uow.advocates.active_roster()
    usage = await uow.advocates.usage(None, since=now - USAGE_WINDOW)
    pool = min(top_n * HOURS_POOL, ALL) if request.proposed_times else top_n
    for _ in range(3):
        result = rank_advocates(request, advocates, usage, ctx.policy.matching,
                                ctx.policy.limits, now, already_asked=already_asked,
                                top_n=pool)
        shown = [m.advocate for m in result.matches]
        current = await uow.advocates.get_many_by_email([a.email for a in shown])
        stale = {a.id for a in shown if current.get(a.email.lower()) != a}
        if not stale:
            break
        fresh = {a.id: a for a in current.values()}
        advocates = [fresh.get(a.id, a) if a.id in stale else a for a in advocates]
        advocates = [a for a in advocates if a.status is AdvocateStatus.ACTIVE]
    matches = prefer_fitting_hours(ctx, request, result.matches, now)[:top_n]
    return replace(result, matches=tuple(replace(m, advocate=replace(m.advocate))
                                         for m in matches))


def time_fits(ctx: ServiceContext, request: ReferenceRequest, advocate: Advocate,
              now: datetime) -> list[dict[str, Any]]:
    """Each of the rep's times still ahead, and whether a call then fits the advocate's
    call hours (``fits`` is None when neither they nor the program set hours)."""
    hours = person_hours(ctx, advocate.timezone or "UTC", advocate.call_hours)
    length = timedelta(minutes=request.call_length_minutes)
    return [{"at": moment.isoformat(),
             "fits": None if hours is None else fits(hours, moment, length)}
            for moment in request.proposed_times if moment > now]


def prefer_fitting_hours(ctx: ServiceContext, request: ReferenceRequest,
                         matches: Collection[Match], now: datetime) -> list[Match]:
    """``matches`` again, those with a fitting time ``HOURS_WEIGHT`` higher (with the
    reason); the order is otherwise the matcher's. Advocates sharing hours and a zone are
    worked out once."""
    if not matches or not request.proposed_times:
        return list(matches)
    seen: dict[tuple[str, str], int] = {}
    weighed = []
    for match in matches:
        advocate = match.advocate
        key = (advocate.call_hours, advocate.timezone or "")
        if key not in seen:
            seen[key] = sum(1 for t in time_fits(ctx, request, advocate, now) if t["fits"])
        if seen[key]:
            match = replace(match, score=match.score + HOURS_WEIGHT, reasons=(
                *match.reasons, Problem("call_hours_fit", count=seen[key])))
        weighed.append(match)
    return sorted(weighed, key=lambda m: -m.score)  # stable: ties keep the matcher's order


async def load_roster(ctx: ServiceContext) -> int:
    """Read the roster into this process's copy for matching (``serve`` does it as it
    starts, so the first intake does not wait for it); the number of active advocates."""
    async with ctx.uow() as uow:
        return len(await uow.advocates.active_roster())


async def usage_of(uow: UnitOfWork, advocate: Advocate, now: datetime) -> Usage:
    """One advocate's usage, as ``rank_request`` would see it."""
    assert advocate.id is not None
    return (await uow.advocates.usage([advocate.id], since=now - USAGE_WINDOW))[advocate.id]


async def reasons_not_to_ask(ctx: ServiceContext, uow: UnitOfWork, request: ReferenceRequest,
                             advocate: Advocate, now: datetime) -> list[Problem]:
    """Every reason this advocate may not be asked for this request now: the burnout
    limits first, then the matcher's hard filters (type, language, prospect conflicts,
    cautions)."""
    assert advocate.id is not None
    usage = await usage_of(uow, advocate, now)
    reasons = list(check_can_ask(advocate, usage, ctx.policy.limits, now).reasons)
    alone = rank_advocates(request, [advocate], {advocate.id: usage}, ctx.policy.matching,
                           ctx.policy.limits, now, top_n=0)
    reasons.extend(r for r in alone.why_not(advocate) if r not in reasons)
    return reasons


__all__ = [
    "ALL",
    "USAGE_WINDOW",
    "exclusion_summary",
    "load_roster",
    "prefer_fitting_hours",
    "rank_request",
    "reasons_not_to_ask",
    "time_fits",
    "usage_of",
]
