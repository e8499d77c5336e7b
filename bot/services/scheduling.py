"""Booking the reference call once an advocate said yes (docs/product.md, "The reference
request", step 5).

The conversation: the advocate picks one of the rep's proposed times (booked at once) or
proposes another (the rep confirms or declines it). Once booked, both get a confirmation
in their own time zone with the meeting link and an ``.ics`` invite; reminders and the
outcome prompt are the sweeps' (``bot.services.reminders``). Either side can reschedule,
which sends the advocate back to picking: the engagement goes back to ``accepted``.

Every button here can be clicked twice or arrive from an old message, so each use case
first asks "is this still a change?" and returns the engagement untouched when it is not.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from bot.domain.errors import InvalidInput, NotAllowed, Problem
from bot.domain.hours import fits
from bot.domain.lifecycle import transition_engagement
from bot.domain.model import Actor, Engagement, EngagementState, RequestState, ensure_utc
from bot.ports import UnitOfWork
from bot.services.bookings import (
    CALENDAR_ACTIONS,
    Booking,
    Initiator,
    Role,
    advocate_hours,
    call_context,
    engagement_history,
    initiator,
    invite_for,
    is_rep_or_manager,
    load_booking,
    needed_by_end,
    offer_times,
    recipient,
    require_call,
    require_live,
    zone_name,
)
from bot.services.context import ServiceContext, actor_label, audit, send
from bot.services.messages import advocate_contact, iso, person_name, rep_person, rep_zone
from bot.services.request_progress import move_request
from bot.services.roles import advocate_person, is_advocate


def awaiting_pick(engagement: Engagement) -> bool:
    """True when the advocate is the one to move next: they said yes (or the time agreed or
    proposed was called off) and no time is agreed or waiting for the rep. The lifecycle's
    ``accepted`` state means exactly that."""
    return engagement.state is EngagementState.ACCEPTED


def _back_to_picking(engagement: Engagement, now: datetime) -> None:
    """Drop the agreed or proposed time so the advocate picks again (``accepted``)."""
    transition_engagement(engagement, EngagementState.ACCEPTED, now)
    engagement.scheduled_at = None
    engagement.proposed_at = None


# --- picking a time ---------------------------------------------------------------------


def _chosen_time(ctx: ServiceContext, booking: Booking, now: datetime, slot: int | None,
                 proposed: datetime | None) -> tuple[datetime, bool]:
    """Validate the advocate's choice; return the start and whether it was the rep's own.
    A time must fit the advocate's hours: one of the rep's (only those are offered) or one
    they propose (a suggestion's button, the form, a reschedule's new time)."""
    request = booking.request
    length = timedelta(minutes=booking.engagement.duration_minutes)
    hours = advocate_hours(ctx, booking.advocate)
    if (slot is None) == (proposed is None):
        raise InvalidInput({"slot": Problem("pick_or_propose")})
    if slot is not None:
        if not 0 <= slot < len(request.proposed_times):
            raise InvalidInput({"slot": Problem("not_a_proposed_time")})
        start = request.proposed_times[slot]
        if start <= now:
            raise InvalidInput({"slot": Problem("proposed_time_passed")})
        if hours is not None and not fits(hours, start, length):
            raise InvalidInput({"slot": Problem("slot_outside_hours")})
        return start, True
    assert proposed is not None
    try:
        start = ensure_utc(proposed)
    except ValueError:
        raise InvalidInput({"proposed": Problem("time_without_zone")}) from None
    zone = booking.advocate.timezone or "UTC"
    if start <= now:
        raise InvalidInput({"proposed": Problem("time_in_past")})
    latest = needed_by_end(request)
    if start >= latest:
        raise InvalidInput({"proposed": Problem("time_after_needed_by",
                                                needed_by=request.needed_by, latest=latest,
                                                zone=zone_name(zone))})
    if hours is not None and not fits(hours, start, length):
        raise InvalidInput({"proposed": Problem("slot_outside_hours")})
    return start, start in request.proposed_times


async def pick_time(ctx: ServiceContext, actor: Actor, engagement_id: int, *,
                    slot: int | None = None, proposed: datetime | None = None) -> Engagement:
    """The advocate picks a slot (``slot`` indexes ``request.proposed_times``, from 0) or
    proposes a new time.

    One of the rep's own times books the call at once; a new time waits for the rep's
    confirmation (``time_proposed``). While it waits, the advocate may still pick again.
    Once booked, picking changes nothing until someone reschedules.
    """
    now = ctx.now()
    async with ctx.uow() as uow:
        booking = await load_booking(uow, engagement_id)
        engagement = booking.engagement
        if not is_advocate(actor, booking.advocate):
            raise NotAllowed("not_yours")
        if engagement.state is EngagementState.SCHEDULED:
            return engagement  # a double submission or an old message
        require_live(booking)
        require_call(booking)
        start, from_rep = _chosen_time(ctx, booking, now, slot, proposed)
        by = actor_label(actor.person)
        if from_rep:
            await _book(ctx, uow, booking, start, now, by=by)
        else:
            if engagement.state is EngagementState.PROPOSED and engagement.proposed_at == start:
                return engagement
            await _propose(ctx, uow, booking, start, now, by=by)
        await uow.commit()
    return engagement


async def _propose(ctx: ServiceContext, uow: UnitOfWork, booking: Booking, start: datetime,
                   now: datetime, *, by: str) -> None:
    engagement, request = booking.engagement, booking.request
    if engagement.state is not EngagementState.PROPOSED:
        transition_engagement(engagement, EngagementState.PROPOSED, now)
    engagement.proposed_at = start
    await uow.engagements.update(engagement)
    proposals = (await engagement_history(uow, engagement.id)).count("engagement.time_proposed")
    await audit(uow, now, by, "engagement.time_proposed", f"engagement:{engagement.id}",
                request_id=request.id, proposed_at=start.isoformat())
    end = start + timedelta(minutes=engagement.duration_minutes)
    await send(uow, now, rep_person(request), "time_proposed", {
        **call_context(ctx, booking, "rep"),
        "proposed_at": iso(start),
        "proposed_ends_at": iso(end),
        "original_times": [iso(t) for t in request.proposed_times],
    }, key=f"time_proposed:{engagement.id}:{proposals}")


async def _book(ctx: ServiceContext, uow: UnitOfWork, booking: Booking, start: datetime,
                now: datetime, *, by: str) -> None:
    """Book the call at ``start``: both sides get a confirmation and an invite."""
    engagement, request = booking.engagement, booking.request
    transition_engagement(engagement, EngagementState.SCHEDULED, now)
    engagement.scheduled_at = start
    engagement.proposed_at = None
    engagement.duration_minutes = request.call_length_minutes or engagement.duration_minutes
    await uow.engagements.update(engagement)
    history = await engagement_history(uow, engagement.id)
    sequence = sum(1 for action in history if action in CALENDAR_ACTIONS)
    await audit(uow, now, by, "engagement.scheduled", f"engagement:{engagement.id}",
                request_id=request.id, scheduled_at=start.isoformat())
    await move_request(uow, request, RequestState.SCHEDULED, now, by=by,
                       engagement_id=engagement.id)
    await uow.requests.update(request)
    for role in ("rep", "advocate"):
        await send(uow, now, recipient(booking, role), "call_confirmed", {
            **call_context(ctx, booking, role),
            "rescheduled": sequence > 0,
            **invite_for(ctx, booking, role, start=start, sequence=sequence, now=now),
        }, key=f"call_confirmed:{engagement.id}:{sequence}:{role}")


async def confirm_time(ctx: ServiceContext, actor: Actor, engagement_id: int, accept: bool, *,
                       proposed: datetime | None = None) -> Engagement:
    """The rep (or a program manager) answers the advocate's proposed time.

    ``proposed`` is the time the clicked message showed: if the advocate has proposed
    another since, the click is stale and changes nothing. Accepting books the call;
    declining sends the advocate back to picking.
    """
    now = ctx.now()
    async with ctx.uow() as uow:
        booking = await load_booking(uow, engagement_id)
        engagement, request = booking.engagement, booking.request
        if not is_rep_or_manager(actor, request):
            raise NotAllowed("not_yours")
        require_live(booking)
        if engagement.state is not EngagementState.PROPOSED or engagement.proposed_at is None:
            return engagement  # already answered: a double click or an old message
        if proposed is not None and ensure_utc(proposed) != engagement.proposed_at:
            return engagement
        by = actor_label(actor.person)
        if accept:
            if engagement.proposed_at <= now:
                raise InvalidInput({"proposed": Problem("proposal_passed",
                                                        name=booking.advocate.name)})
            await _book(ctx, uow, booking, engagement.proposed_at, now, by=by)
        else:
            declined = engagement.proposed_at
            _back_to_picking(engagement, now)
            await uow.engagements.update(engagement)
            await audit(uow, now, by, "engagement.proposal_declined",
                        f"engagement:{engagement.id}", request_id=request.id,
                        proposed_at=declined.isoformat())
            await _ask_to_pick_again(ctx, uow, booking, now, reason="declined",
                                     who=initiator(actor, booking), previous=declined)
        await uow.commit()
    return engagement


async def _ask_to_pick_again(ctx: ServiceContext, uow: UnitOfWork, booking: Booking,
                             now: datetime, *, reason: Literal["declined", "rescheduled"],
                             who: Initiator, previous: datetime | None,
                             cancel: dict[str, str] | None = None) -> None:
    """Send the advocate back to picking, with the rep's times still ahead."""
    engagement, request = booking.engagement, booking.request
    revision = len(await engagement_history(uow, engagement.id))
    await send(uow, now, advocate_person(booking.advocate), "pick_time_again", {
        "engagement_id": engagement.id,
        "advocate_name": booking.advocate.name,
        "rep_name": person_name(request.rep),
        "reason": reason,
        "by_name": who.name,
        "by_role": who.role,
        "previous_at": iso(previous),
        **await offer_times(ctx, uow, request, booking.advocate, now,
                            minutes=engagement.duration_minutes, besides=previous),
        "call_length_minutes": engagement.duration_minutes,
        "needed_by": request.needed_by.isoformat(),
        "timezone": booking.advocate.timezone or "UTC",
        "invite": (cancel or {}).get("invite"),
        "ics_filename": (cancel or {}).get("ics_filename", ""),
    }, key=f"pick_time_again:{engagement.id}:{revision}")


# --- rescheduling -----------------------------------------------------------------------


async def reschedule(ctx: ServiceContext, actor: Actor, engagement_id: int, *,
                     reason: str = "") -> Engagement:
    """Either party (or a program manager) calls the booked time off; the advocate picks
    again. A call already waiting for a pick changes nothing."""
    now = ctx.now()
    async with ctx.uow() as uow:
        booking = await load_booking(uow, engagement_id)
        if not (is_rep_or_manager(actor, booking.request)
                or is_advocate(actor, booking.advocate)):
            raise NotAllowed("not_yours")
        changed = await reschedule_in(ctx, uow, booking, now, who=initiator(actor, booking),
                                      reason=reason)
        if changed:
            await uow.commit()
    return booking.engagement


async def reschedule_in(ctx: ServiceContext, uow: UnitOfWork, booking: Booking,
                        now: datetime, *, who: Initiator, reason: str = "",
                        reported: bool = False) -> bool:
    """Reschedule inside the caller's unit of work (``outcomes`` reuses it, ``reported``:
    the call was reported as rescheduled after its time); True if anything changed."""
    engagement, request = booking.engagement, booking.request
    require_live(booking)
    if awaiting_pick(engagement):
        return False
    was, previous = engagement.state, engagement.scheduled_at or engagement.proposed_at
    _back_to_picking(engagement, now)
    await uow.engagements.update(engagement)
    history = await engagement_history(uow, engagement.id)
    sequence = sum(1 for action in history if action in CALENDAR_ACTIONS)
    await audit(uow, now, who.by, "engagement.rescheduled", f"engagement:{engagement.id}",
                request_id=request.id, was=was.value, previous_at=iso(previous),
                reason=reason.strip(), reported=reported)
    await move_request(uow, request, RequestState.ACCEPTED, now, by=who.by,
                       engagement_id=engagement.id)
    await uow.requests.update(request)
    cancels: dict[Role, dict[str, Any]] = {}
    if was is EngagementState.SCHEDULED and previous is not None and previous > now:
        # Take the old event out of both calendars; the new booking re-adds it (same UID).
        cancels = {role: invite_for(ctx, booking, role, start=previous, sequence=sequence,
                                 now=now, cancelled=True) for role in ("rep", "advocate")}
    revision = len(history)
    rep_cancel = cancels.get("rep", {})
    await send(uow, now, rep_person(request), "call_rescheduled", {
        "engagement_id": engagement.id,
        "request_id": request.id,
        "advocate": advocate_contact(booking.advocate),
        "by_name": who.name,
        "by_role": who.role,
        "reason": reason.strip(),
        "reported": reported,
        "previous_at": iso(previous),
        "was": was.value,
        "timezone": rep_zone(request),
        "invite": rep_cancel.get("invite"),
        "ics_filename": rep_cancel.get("ics_filename", ""),
    }, key=f"call_rescheduled:{engagement.id}:{revision}")
    await _ask_to_pick_again(ctx, uow, booking, now, reason="rescheduled", who=who,
                             previous=previous, cancel=cancels.get("advocate"))
    return True


__all__ = [
    "awaiting_pick",
    "confirm_time",
    "pick_time",
    "reschedule",
    "reschedule_in",
]
