"""The demo ``advocate-bot try`` starts on: the sample roster, a past engagement, open
requests, all made by playing the people through the sandbox, as a visitor would.

Nothing is written behind the program's back: the roster goes through the import service,
and the history is the rep filing requests, an advocate saying yes and picking a time and
the rep recording how the call went, with the sandbox clock set back three weeks for the
part that is history. Run once, on a database with no advocates yet, before the scheduler
starts (its sweeps must not see the clock set back): the messages wait in the outbox and
arrive in the inboxes once the dispatcher runs.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import AheadClock
from bot.rendering import templates_dir
from bot.services.roster import import_roster
from handlers.sandbox.surface import Sandbox

log = logging.getLogger(__name__)

REP = "sam.rivera@lumora.example"
MANAGER = "pat.morgan@lumora.example"
ADVOCATE = "amelia.hartmann@harborpine.example"  # Berlin, fintech, EMEA in the sample
HISTORY_DAYS = 21


def sample_roster() -> Path:
    """``examples/roster.csv``: in the installed package, or at the repository root."""
    here = templates_dir().parent
    for candidate in (here / "examples" / "roster.csv", here.parent / "examples" / "roster.csv"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("the sample roster (examples/roster.csv) is not installed")


def weekday_at(day: date, hour: int, zone: str) -> datetime:
    """``hour`` o'clock in ``zone`` on the first working day from ``day`` on."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(zone))


def intake(company: str, *, today: date, industry: str, region: str,
           choose: str = "rep") -> dict[str, Any]:
    """The intake form as the rep fills it in on the page (a call in about a week)."""
    at = weekday_at(today + timedelta(days=4), 10, "Europe/Berlin")
    return {"verb": "intake.submit", "form_id": f"demo-{company}", "choose": choose,
            "prospect_company": company, "reference_type": "call",
            "needed_by": (today + timedelta(days=12)).isoformat(),
            "proposed_time_1.date": at.date().isoformat(), "proposed_time_1.time": "10:00",
            "timezone": "Europe/Berlin", "call_length_minutes": "30",
            "industry": industry, "region": region, "parallel_asks": "1"}


async def seed(sandbox: Sandbox, clock: AheadClock) -> bool:
    """Fill an empty demo database; False (and nothing done) when it has a roster."""
    ctx = sandbox.ctx
    async with ctx.uow() as uow:
        if await uow.advocates.list():
            return False
    await import_roster(ctx.uow, sample_roster(), now=ctx.now())
    settle, sandbox.settle_with = sandbox.settle_with, None  # nothing delivers yet
    try:
        before = clock.ahead
        clock.jump(timedelta(days=-HISTORY_DAYS))
        try:
            await _past_engagement(sandbox, clock)
        finally:
            clock.ahead = before
        today = ctx.now().date()
        await sandbox.click(REP, intake("Globex Retail", today=today, industry="Retail",
                                        region="EMEA"))
        await sandbox.click(REP, intake("Initech Health", today=today,
                                        industry="Healthcare", region="NA", choose="best"))
        for person in (MANAGER, REP):
            await sandbox.actor(person)  # listed on the page from the start
    finally:
        sandbox.settle_with = settle
    log.info("demo: the sample roster, a past engagement and two open requests are in")
    return True


async def _past_engagement(sandbox: Sandbox, clock: AheadClock) -> None:
    """Three weeks ago: the rep asked Amelia for a call, she said yes and picked the rep's
    time, and after the call the rep recorded that it went well."""
    ctx = sandbox.ctx
    filed = await sandbox.click(REP, intake("Northwind Payments", today=ctx.now().date(),
                                            industry="Fintech", region="EMEA"))
    if filed.template != "request_filed":
        raise RuntimeError(f"the demo's request was not filed: {filed.template}")
    request_id = int(filed.context["id"])
    async with ctx.uow() as uow:
        advocate = await uow.advocates.get_by_email(ADVOCATE)
    assert advocate is not None and advocate.id is not None
    await sandbox.click(REP, {"verb": "request.ask", "request_id": str(request_id),
                              "advocate_id": str(advocate.id)})
    async with ctx.uow() as uow:
        asks = await uow.asks.list_for_request(request_id)
    if not asks:
        raise RuntimeError("the demo's advocate was not asked")
    ask = asks[-1]
    await sandbox.click(ADVOCATE, {"verb": "ask.accept", "ask_id": str(ask.id)})
    async with ctx.uow() as uow:
        engagement = await uow.engagements.get_for_request(request_id)
    assert engagement is not None and engagement.id is not None
    await sandbox.click(ADVOCATE, {"verb": "schedule.pick", "engagement_id": str(engagement.id),
                                   "slot": "0"})
    clock.jump(timedelta(days=8))
    await sandbox.click(REP, {"verb": "outcome.record", "engagement_id": str(engagement.id),
                              "outcome": "completed", "helpfulness": "5",
                              "influenced_amount": "120000"})


__all__ = ["MANAGER", "REP", "seed"]
