"""Public thanks (docs/product.md, "Scheduled messages": recognition).

* After each completed engagement, a post in the program channel (``PROGRAM_CHANNEL``)
  naming the advocate, their points and tier, but only for advocates who opted in to
  being named (``public_recognition``). The others are thanked privately already: the
  thank-you DM ``record_outcome`` sends carries their points and tier.
* At milestones (their 1st, 5th, 10th, 25th completed engagement by default): a channel
  post for the named, a private note for everyone else.
* On the first business day of a quarter: the top advocates of the quarter just ended,
  naming only those who opted in (the others are counted, not named).

The job looks at engagements completed in the last few days rather than hooking into
``record_outcome``, so a post is never lost to a crash between the outcome and the post,
and the ledger (``recognition:engagement:<id>``, ``recognition:milestone:<advocate>:<n>``,
``recognition:top:<quarter>``) makes each post happen once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.domain.model import Advocate, Identity, Person, Platform, ReferenceType
from bot.domain.periods import previous_quarter, quarter_bounds, quarter_label
from bot.ports import UnitOfWork
from bot.report_ports import CompletedEngagement
from bot.services.advocates import policy_tiers, tier_for
from bot.services.context import ServiceContext, send
from bot.services.messages import quiet_until
from bot.services.roles import advocate_person


def program_channel(ctx: ServiceContext) -> Person | None:
    """The recognition channel as an outbox recipient (Slack posts to a channel id the
    same way as to a user id); None when no channel is configured."""
    channel = ctx.policy.jobs.program_channel.strip().lstrip("#")
    if not channel:
        return None
    return Person(email=None, display_name=f"#{channel}",
                  identity=Identity(Platform.SLACK, "", channel),
                  timezone=ctx.program_timezone)


def _advocate_context(ctx: ServiceContext, advocate: Advocate) -> dict[str, Any]:
    return {
        "advocate_name": advocate.name,
        "company": advocate.company,
        "total_points": advocate.points,
        "tier": tier_for(advocate.points, policy_tiers(ctx.policy)).label,
        "timezone": advocate.timezone or ctx.program_timezone,
    }


async def _claim(uow: UnitOfWork, key: str, now: datetime) -> bool:
    return await uow.idempotency.claim(key, now=now)


async def recognise_engagements(ctx: ServiceContext, now: datetime) -> int:
    """Post for engagements completed in the last ``recognition_grace_days``; returns how
    many messages were queued. One unit of work: the claims are cheap no-ops once done."""
    jobs = ctx.policy.jobs
    channel = program_channel(ctx)
    since = now - timedelta(days=jobs.recognition_grace_days)
    queued = 0
    async with ctx.uow() as uow:
        done = await uow.reports.completed_engagements(since, now + timedelta(seconds=1))
        for item in done:
            queued += await _recognise(ctx, uow, item, channel, now)
        await uow.commit()
    return queued


async def _recognise(ctx: ServiceContext, uow: UnitOfWork, item: CompletedEngagement,
                     channel: Person | None, now: datetime) -> int:
    advocate = await uow.advocates.get(item.advocate_id)
    if advocate is None:
        return 0
    public = advocate.public_recognition and channel is not None
    base = {**_advocate_context(ctx, advocate), "engagement_id": item.engagement_id,
            "points": item.points, "count": item.ordinal,
            "reference_type_label": ReferenceType(item.reference_type).label}
    queued = 0
    if public and channel is not None:
        key = f"recognition:engagement:{item.engagement_id}"
        if await _claim(uow, key, now):
            queued += await send(uow, now, channel, "recognition_engagement", base, key=key)
    if item.ordinal in ctx.policy.jobs.milestones:
        key = f"recognition:milestone:{advocate.id}:{item.ordinal}"
        if await _claim(uow, key, now):
            to = channel if public and channel is not None else advocate_person(advocate)
            template = "recognition_milestone" if public else "milestone_private"
            held = None if public else quiet_until(ctx, to, now, advocate.call_hours)
            queued += await send(uow, now, to, template, base, key=key, not_before=held)
    return queued


async def post_top_advocates(ctx: ServiceContext, now: datetime, period: str) -> int:
    """The quarterly top-advocates post for the quarter before ``period``; 1 if queued."""
    channel = program_channel(ctx)
    if channel is None:
        return 0
    year, quarter = previous_quarter(int(period[:4]), int(period[-1]))
    start, end = quarter_bounds(year, quarter, ctx.program_timezone)
    key = f"recognition:top:{quarter_label(year, quarter)}"
    async with ctx.uow() as uow:
        top = await uow.reports.top_advocates(start, end, limit=ctx.policy.jobs.top_advocates)
        if not top or not await _claim(uow, key, now):
            return 0
        named = [{"name": a.name, "points": a.points, "engagements": a.engagements}
                 for a in top if a.public_recognition]
        await send(uow, now, channel, "recognition_top", {
            "quarter": quarter_label(year, quarter),
            "named": named,
            "unnamed": len(top) - len(named),
            "timezone": ctx.program_timezone,
        }, key=key)
        await uow.commit()
    return 1


__all__ = ["post_top_advocates", "program_channel", "recognise_engagements"]
