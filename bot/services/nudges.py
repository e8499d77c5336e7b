"""Reminders and SLA nudges (docs/product.md, "Scheduled messages": nudges).

* An advocate whose ask is about to expire unanswered gets one reminder
  (``ASK_REMINDER_HOURS`` before the expiry).
* A request whose ``needed_by`` is near (``NEEDED_BY_WARNING_HOURS``) with no advocate
  who said yes: its rep and every program manager are told once.
* A request left in ``matching`` after its ``needed_by`` day has ended (nobody could be
  asked, the rep never picked anyone) is closed as unfulfilled, as the lifecycle says;
  requests with asks out are closed by the ask cascade itself.

Each message has a deterministic key, claimed in the ledger with the message, so the
sweep runs every minute on every replica and still says everything once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.model import RequestState
from bot.services.bookings import needed_by_end
from bot.services.context import ServiceContext, send
from bot.services.messages import (
    iso,
    person_name,
    quiet_until,
    rep_person,
    rep_zone,
    request_context,
)
from bot.services.request_progress import mark_unfulfilled
from bot.services.roles import advocate_person, manager_people

WAITING_STATES = frozenset({RequestState.OPEN, RequestState.MATCHING,
                            RequestState.AWAITING_APPROVAL, RequestState.ASKING})


async def remind_expiring_asks(ctx: ServiceContext, now: datetime) -> int:
    """One reminder per ask that expires within ``ask_reminder_hours``."""
    window = timedelta(hours=ctx.policy.jobs.ask_reminder_hours)
    queued = 0
    async with ctx.uow() as uow:
        for ask in await uow.reports.expiring_asks(now, now + window):
            key = f"ask-reminder:{ask.id}"
            if not await uow.idempotency.claim(key, now=now):
                continue
            advocate = await uow.advocates.get(ask.advocate_id)
            request = await uow.requests.get(ask.request_id)
            if advocate is None or request is None:
                continue
            to = advocate_person(advocate)
            held = quiet_until(ctx, to, now, advocate.call_hours)  # not past the expiry
            queued += await send(uow, now, to, "ask_reminder", {
                "ask_id": ask.id,
                "advocate_name": advocate.name,
                "rep_name": person_name(request.rep),
                "reference_type_label": request.reference_type.label,
                "expires_at": iso(ask.expires_at),
                "timezone": advocate.timezone or "UTC",
            }, key=key, not_before=held if held and held < ask.expires_at else None)
        await uow.commit()
    return queued


async def nudge_needed_by(ctx: ServiceContext, now: datetime) -> int:
    """Warn the rep and the program managers about requests close to ``needed_by`` that
    nobody has accepted; close those in ``matching`` whose day has passed."""
    warning = timedelta(hours=ctx.policy.jobs.needed_by_warning_hours)
    horizon = (now + warning).date() + timedelta(days=1)  # zones ahead of UTC
    queued = 0
    async with ctx.uow() as uow:
        candidates = [r for r in await uow.requests.list_open_needed_by(horizon)
                      if r.state in WAITING_STATES]
    for request in candidates:
        deadline = needed_by_end(request)
        async with ctx.uow() as uow:
            if deadline <= now:
                if request.state is RequestState.MATCHING:
                    current = await uow.requests.get_for_update(request.id or 0)
                    if current is not None and current.state is RequestState.MATCHING:
                        await mark_unfulfilled(ctx, uow, current, now, reason="needed_by_passed",
                                               rep_template="request_unfulfilled_rep")
                        queued += 1
                        await uow.commit()
                continue
            if deadline - now > warning:
                continue
            key = f"needed-by-nudge:{request.id}"
            if not await uow.idempotency.claim(key, now=now):
                continue
            context = {"request": request_context(request), "hours_left":
                       int((deadline - now).total_seconds() // 3600),
                       "deadline": iso(deadline), "rep_email": request.rep.email or ""}
            rep = rep_person(request)
            queued += await send(uow, now, rep, "needed_by_nudge",
                                 {**context, "for_manager": False,
                                  "timezone": rep_zone(request)}, key=f"{key}:rep",
                                 not_before=quiet_until(ctx, rep, now))
            for pm in manager_people(ctx):
                queued += await send(uow, now, pm, "needed_by_nudge",
                                     {**context, "for_manager": True,
                                      "timezone": ctx.program_timezone},
                                     key=f"{key}:{pm.email}",
                                     not_before=quiet_until(ctx, pm, now))
            await uow.commit()
    return queued


__all__ = ["nudge_needed_by", "remind_expiring_asks"]
