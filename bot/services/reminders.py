"""The scheduled sweeps around a booked call: reminders before it, the outcome prompt after.

A call between 1 h and 24 h away gets the "24h" reminder, one under an hour away the "1h"
one, whatever the hour (a call reminder is never held for quiet hours); once the call has
ended the rep is asked how it went (that can wait for the rep's hours). Keys name the
engagement, the window, the person and the call time, so repeated sweeps (or replicas)
never send one twice, while a rescheduled call gets fresh reminders (docs/design.md,
"Rules that keep it correct": idempotency).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.domain.model import EngagementState, RequestState
from bot.ports import UnitOfWork
from bot.services.bookings import Booking, call_context, key_label, key_stamp, recipient
from bot.services.context import ServiceContext, send
from bot.services.messages import quiet_until, rep_person

REMINDER_WINDOWS: tuple[tuple[str, timedelta], ...] = (
    ("1h", timedelta(hours=1)),
    ("24h", timedelta(hours=24)),
)  # narrowest first: a call 40 minutes away gets the 1 h reminder, not a "tomorrow" one


async def _booked_calls(uow: UnitOfWork) -> list[Booking]:
    """Every booked call of a live request.

    The ports have no "engagements by state" query, so this walks the non-terminal
    requests (``needed_by`` up to the end of time); their number is bounded by the
    program's live work, not its history.
    """
    found: list[Booking] = []
    for request in await uow.requests.list_open_needed_by(date.max):
        if request.state is not RequestState.SCHEDULED or request.id is None:
            continue
        engagement = await uow.engagements.get_for_request(request.id)
        if (engagement is None or engagement.state is not EngagementState.SCHEDULED
                or engagement.scheduled_at is None):
            continue
        advocate = await uow.advocates.get(engagement.advocate_id)
        if advocate is not None:
            found.append(Booking(engagement, request, advocate))
    return found


def _reminder_window(start: datetime, now: datetime) -> str | None:
    ahead = start - now
    if ahead <= timedelta(0):
        return None
    for name, window in REMINDER_WINDOWS:
        if ahead <= window:
            return name
    return None


async def due_reminders(ctx: ServiceContext) -> int:
    """Queue the 24 h and 1 h reminders that are due; returns how many were queued.

    A call between 1 h and 24 h away gets the "24h" reminder, one under an hour away the
    "1h" one. Keys name the engagement, window, person and call time, so repeated sweeps
    (or replicas) never send one twice, while a rescheduled call gets fresh reminders.
    """
    now = ctx.now()
    queued = 0
    async with ctx.uow() as uow:
        for booking in await _booked_calls(uow):
            assert booking.engagement.scheduled_at is not None
            start = booking.engagement.scheduled_at
            window = _reminder_window(start, now)
            if window is None:
                continue
            for role in ("rep", "advocate"):
                to = recipient(booking, role)
                added = await send(uow, now, to, "call_reminder", {
                    **call_context(ctx, booking, role),
                    "window": window,
                    "minutes_until": int((start - now).total_seconds() // 60),
                }, key=(f"reminder:{booking.engagement.id}:{window}:{key_label(to)}:"
                        f"{key_stamp(start)}"))
                queued += int(added)
        await uow.commit()
    return queued


async def due_outcome_prompts(ctx: ServiceContext) -> int:
    """Ask the rep how each call went once it has ended; returns how many were queued."""
    now = ctx.now()
    queued = 0
    async with ctx.uow() as uow:
        for booking in await _booked_calls(uow):
            engagement = booking.engagement
            assert engagement.scheduled_at is not None
            if engagement.scheduled_at + timedelta(minutes=engagement.duration_minutes) > now:
                continue
            rep = rep_person(booking.request)
            added = await send(uow, now, rep, "outcome_prompt", {
                **call_context(ctx, booking, "rep"),
                "outcomes": ["completed", "no_show", "rescheduled"],
            }, key=f"outcome_prompt:{engagement.id}:{key_stamp(engagement.scheduled_at)}",
                not_before=quiet_until(ctx, rep, now))
            queued += int(added)
        await uow.commit()
    return queued


__all__ = ["REMINDER_WINDOWS", "due_outcome_prompts", "due_reminders"]
