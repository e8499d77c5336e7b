"""Booking the reference call once an advocate said yes (PRODUCT.md, "Scheduling").

The conversation: the advocate picks one of the rep's proposed times (booked at once) or
proposes another (the rep confirms or declines it). Once booked, both get a confirmation
in their own time zone with the meeting link and an ``.ics`` invite; reminders go 24 h and
1 h before; after the call the rep is asked for the outcome. Either side can reschedule,
which sends the advocate back to picking.

Every button here can be clicked twice or arrive from an old message, so each use case
first asks "is this still a change?" and returns the engagement untouched when it is not.
Outbox keys are derived from the engagement and its change count (or the call time), so
the sweeps can run as often as they like, on as many replicas as they like, and a person
gets each message once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from bot.domain.errors import DomainError, InvalidInput, NotAllowed, NotFound
from bot.domain.lifecycle import can_transition_engagement, transition_engagement
from bot.domain.limits import advocate_zone
from bot.domain.model import (
    Actor,
    Advocate,
    Engagement,
    EngagementState,
    Person,
    ReferenceRequest,
    RequestState,
    ensure_utc,
)
from bot.ports import UnitOfWork
from bot.services.asks import (
    advocate_contact,
    iso,
    move_request,
    person_name,
    rep_person,
    rep_zone,
)
from bot.services.calendar import CalendarPerson, build_invite, ics_filename
from bot.services.context import ServiceContext, actor_label, audit, send
from bot.services.roles import NOT_YOURS, advocate_person, is_advocate, is_request_owner

REMINDER_WINDOWS: tuple[tuple[str, timedelta], ...] = (
    ("1h", timedelta(hours=1)),
    ("24h", timedelta(hours=24)),
)  # narrowest first: a call 40 minutes away gets the 1 h reminder, not a "tomorrow" one
CALENDAR_ACTIONS = frozenset({"engagement.scheduled", "engagement.rescheduled"})
LIVE_STATES = frozenset(
    {EngagementState.ACCEPTED, EngagementState.PROPOSED, EngagementState.SCHEDULED}
)

Role = Literal["rep", "advocate"]
InitiatorRole = Literal["rep", "advocate", "program_manager"]


@dataclass(slots=True)
class Booking:
    """An engagement with what the scheduling messages need about it."""

    engagement: Engagement
    request: ReferenceRequest
    advocate: Advocate


@dataclass(frozen=True, slots=True)
class Initiator:
    """Who made a change, as the audit log (``by``) and the messages (``name``, ``role``)
    name them; the role lets a message say "you" to the person who did it."""

    by: str
    name: str
    role: InitiatorRole


# --- loading and checks -----------------------------------------------------------------


async def load_booking(uow: UnitOfWork, engagement_id: int) -> Booking:
    """The engagement, its request and its advocate, or ``NotFound`` in plain words."""
    engagement = await uow.engagements.get(engagement_id)
    if engagement is None:
        raise NotFound(NOT_YOURS)
    request = await uow.requests.get_for_update(engagement.request_id)
    advocate = await uow.advocates.get(engagement.advocate_id)
    if request is None or advocate is None:
        raise NotFound(NOT_YOURS)
    return Booking(engagement, request, advocate)


def is_rep_or_manager(actor: Actor, request: ReferenceRequest) -> bool:
    return actor.is_program_manager or is_request_owner(actor, request)


def initiator(actor: Actor, booking: Booking) -> Initiator:
    role: InitiatorRole = (
        "advocate" if is_advocate(actor, booking.advocate)
        else "rep" if is_request_owner(actor, booking.request)
        else "program_manager"
    )
    return Initiator(actor_label(actor.person), person_name(actor.person), role)


def _require_live(booking: Booking) -> None:
    """Refuse scheduling work on an engagement that is over, in words a person can act on."""
    engagement, request = booking.engagement, booking.request
    if engagement.state in LIVE_STATES and not request.state.is_terminal:
        return
    if request.state is RequestState.CANCELLED or engagement.state is EngagementState.CANCELLED:
        raise DomainError(f"Request #{request.id} was cancelled, so there is no call to book.")
    closed = {
        EngagementState.COMPLETED: "has already taken place",
        EngagementState.NO_SHOW: "was closed as a no-show (another advocate can be asked)",
    }.get(engagement.state, f"is {request.state.value.replace('_', ' ')}")
    raise DomainError(f"Reference #{engagement.id} {closed}; there is nothing left to schedule.")


def awaiting_pick(engagement: Engagement) -> bool:
    """No time agreed and none proposed: the advocate is the one to move next."""
    return engagement.scheduled_at is None and engagement.proposed_at is None and (
        engagement.state in (EngagementState.ACCEPTED, EngagementState.PROPOSED))


def _back_to_picking(engagement: Engagement, now: datetime) -> None:
    """Drop the agreed or proposed time so the advocate picks again.

    ``accepted`` says exactly that, and a booked call goes there. The lifecycle has no
    ``proposed -> accepted`` move, so a declined or withdrawn proposal leaves the engagement
    ``proposed`` with no proposal pending; ``awaiting_pick`` reads both the same way, and
    once the lifecycle allows the move this takes it.
    """
    if engagement.state is not EngagementState.PROPOSED or can_transition_engagement(
            EngagementState.PROPOSED, EngagementState.ACCEPTED):
        transition_engagement(engagement, EngagementState.ACCEPTED, now)
    engagement.scheduled_at = None
    engagement.proposed_at = None


def _require_call(booking: Booking) -> None:
    reference_type = booking.engagement.reference_type
    if not reference_type.needs_call_time and not booking.request.proposed_times:
        raise DomainError(f"A {reference_type.label.lower()} reference has no call to book.")


def local_text(moment: datetime, zone: str) -> str:
    """A moment as a person reads it in their own zone, for error messages."""
    return moment.astimezone(advocate_zone(zone)).strftime("%a %d %b %Y, %H:%M %Z")


def needed_by_end(request: ReferenceRequest) -> datetime:
    """The end of the ``needed_by`` day where the rep is: the latest a call may start."""
    zone = advocate_zone(request.timezone or "UTC")
    return datetime.combine(request.needed_by + timedelta(days=1), time(0), tzinfo=zone
                            ).astimezone(UTC)


async def _history(uow: UnitOfWork, engagement_id: int | None) -> list[str]:
    """The engagement's audited changes, oldest first; their count numbers the messages."""
    entries = await uow.audit.list(subject=f"engagement:{engagement_id}", limit=10_000)
    return [entry.action for entry in reversed(entries)]


def _stamp(moment: datetime) -> str:
    return ensure_utc(moment).strftime("%Y%m%dT%H%MZ")


# --- message contexts -------------------------------------------------------------------


def _zone_of(booking: Booking, role: Role) -> str:
    if role == "advocate":
        return booking.advocate.timezone or "UTC"
    return rep_zone(booking.request)


def _recipient(booking: Booking, role: Role) -> Person:
    return advocate_person(booking.advocate) if role == "advocate" else rep_person(booking.request)


def _label(person: Person) -> str:
    """How a person appears in an outbox key: email, else their chat id."""
    return (person.email or actor_label(person)).lower()


def call_context(ctx: ServiceContext, booking: Booking, role: Role) -> dict[str, Any]:
    """What either party sees about a booked (or about to be booked) call.

    Both have consented, so both see each other's names and emails. The prospect's name
    reaches the advocate only if the program allows it, as in the ask.
    """
    engagement, request, advocate = booking.engagement, booking.request, booking.advocate
    start = engagement.scheduled_at
    end = start + timedelta(minutes=engagement.duration_minutes) if start else None
    show_prospect = role == "rep" or ctx.policy.show_prospect_name
    return {
        "role": role,
        "engagement_id": engagement.id,
        "request_id": request.id,
        "timezone": _zone_of(booking, role),
        "starts_at": iso(start),
        "ends_at": iso(end),
        "call_length_minutes": engagement.duration_minutes,
        "meeting_link": request.meeting_link,
        "reference_type_label": request.reference_type.label,
        "advocate": advocate_contact(advocate),
        "rep_name": person_name(request.rep),
        "rep_email": request.rep.email or "",
        "prospect_company": request.prospect_company if show_prospect else None,
    }


def _invite(ctx: ServiceContext, booking: Booking, role: Role, *, start: datetime,
            sequence: int, now: datetime, cancelled: bool = False) -> dict[str, str]:
    """The ``.ics`` for one recipient: the same event (UID) for both, worded for each."""
    engagement, request, advocate = booking.engagement, booking.request, booking.advocate
    assert engagement.id is not None
    rep_name = person_name(request.rep)
    if role == "rep":
        summary = f"Reference call with {advocate.name} ({advocate.company})"
        prospect = request.prospect_company
    else:
        summary = f"Reference call with {rep_name}"
        prospect = request.prospect_company if ctx.policy.show_prospect_name else ""
    lines = [f"{request.reference_type.label} for reference request #{request.id}."]
    if prospect:
        lines.append(f"Prospect: {prospect}.")
    lines.append(f"Advocate: {advocate.name}, {advocate.title + ', ' if advocate.title else ''}"
                 f"{advocate.company}.")
    lines.append(f"Sales rep: {rep_name}.")
    if request.meeting_link:
        lines.append(f"Join: {request.meeting_link}")
    ics = build_invite(
        engagement_id=engagement.id,
        start=start,
        end=start + timedelta(minutes=engagement.duration_minutes),
        summary=summary,
        description="\n".join(lines),
        meeting_link=request.meeting_link,
        organizer=CalendarPerson(rep_name, request.rep.email),
        attendees=[CalendarPerson(advocate.name, advocate.email),
                   CalendarPerson(rep_name, request.rep.email)],
        sequence=sequence,
        now=now,
        cancelled=cancelled,
    )
    return {"ics": ics, "ics_filename": ics_filename(engagement.id)}


async def cancellation_invites(ctx: ServiceContext, uow: UnitOfWork, booking: Booking,
                               now: datetime) -> dict[Role, dict[str, str]]:
    """Calendar CANCELs for a booked call still ahead, one per party (same UID as the
    invite, so calendars remove the event); empty when there is nothing in a calendar."""
    engagement = booking.engagement
    start = engagement.scheduled_at
    if engagement.state is not EngagementState.SCHEDULED or start is None or start <= now:
        return {}
    history = await _history(uow, engagement.id)
    sequence = sum(1 for action in history if action in CALENDAR_ACTIONS)
    return {role: _invite(ctx, booking, role, start=start, sequence=sequence, now=now,
                          cancelled=True) for role in ("rep", "advocate")}


def _slots(request: ReferenceRequest, now: datetime, *, besides: datetime | None = None
           ) -> list[dict[str, Any]]:
    """The rep's proposed times still ahead (but the one just called off), with their index
    in ``request.proposed_times`` for the slot buttons."""
    return [{"slot": index, "starts_at": iso(moment)}
            for index, moment in enumerate(request.proposed_times)
            if moment > now and moment != besides]


# --- picking a time ---------------------------------------------------------------------


def _chosen_time(booking: Booking, now: datetime, slot: int | None,
                 proposed: datetime | None) -> tuple[datetime, bool]:
    """Validate the advocate's choice; return the start and whether it was the rep's own."""
    request = booking.request
    if (slot is None) == (proposed is None):
        raise InvalidInput({"slot": "Pick one of the proposed times or propose a new one."})
    if slot is not None:
        if not 0 <= slot < len(request.proposed_times):
            raise InvalidInput({"slot": "That time is not one of the proposed times."})
        start = request.proposed_times[slot]
        if start <= now:
            raise InvalidInput({"slot": "That time has already passed; please propose another."})
        return start, True
    assert proposed is not None
    try:
        start = ensure_utc(proposed)
    except ValueError:
        raise InvalidInput({"proposed": "Give the time with its time zone."}) from None
    zone = booking.advocate.timezone or "UTC"
    if start <= now:
        raise InvalidInput({"proposed": "Please propose a time in the future."})
    latest = needed_by_end(request)
    if start >= latest:
        raise InvalidInput({"proposed": "The call is needed by "
                            f"{request.needed_by.isoformat()}; please propose a time before "
                            f"{local_text(latest, zone)}."})
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
            raise NotAllowed(NOT_YOURS)
        if engagement.state is EngagementState.SCHEDULED:
            return engagement  # a double submission or an old message
        _require_live(booking)
        _require_call(booking)
        start, from_rep = _chosen_time(booking, now, slot, proposed)
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
    proposals = (await _history(uow, engagement.id)).count("engagement.time_proposed")
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
    history = await _history(uow, engagement.id)
    sequence = sum(1 for action in history if action in CALENDAR_ACTIONS)
    await audit(uow, now, by, "engagement.scheduled", f"engagement:{engagement.id}",
                request_id=request.id, scheduled_at=start.isoformat())
    await move_request(uow, request, RequestState.SCHEDULED, now, by=by,
                       engagement_id=engagement.id)
    await uow.requests.update(request)
    for role in ("rep", "advocate"):
        await send(uow, now, _recipient(booking, role), "call_confirmed", {
            **call_context(ctx, booking, role),
            "rescheduled": sequence > 0,
            **_invite(ctx, booking, role, start=start, sequence=sequence, now=now),
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
            raise NotAllowed(NOT_YOURS)
        _require_live(booking)
        if engagement.state is not EngagementState.PROPOSED or engagement.proposed_at is None:
            return engagement  # already answered: a double click or an old message
        if proposed is not None and ensure_utc(proposed) != engagement.proposed_at:
            return engagement
        by = actor_label(actor.person)
        if accept:
            if engagement.proposed_at <= now:
                raise InvalidInput({"proposed": "That time has already passed. Decline it and "
                                    f"{booking.advocate.name} will be asked for another."})
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
    revision = len(await _history(uow, engagement.id))
    await send(uow, now, advocate_person(booking.advocate), "pick_time_again", {
        "engagement_id": engagement.id,
        "advocate_name": booking.advocate.name,
        "rep_name": person_name(request.rep),
        "reason": reason,
        "by_name": who.name,
        "by_role": who.role,
        "previous_at": iso(previous),
        "slots": _slots(request, now, besides=previous),
        "call_length_minutes": engagement.duration_minutes,
        "needed_by": request.needed_by.isoformat(),
        "timezone": booking.advocate.timezone or "UTC",
        "ics": (cancel or {}).get("ics", ""),
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
            raise NotAllowed(NOT_YOURS)
        changed = await reschedule_in(ctx, uow, booking, now, who=initiator(actor, booking),
                                      reason=reason)
        if changed:
            await uow.commit()
    return booking.engagement


async def reschedule_in(ctx: ServiceContext, uow: UnitOfWork, booking: Booking,
                        now: datetime, *, who: Initiator, reason: str = "") -> bool:
    """Reschedule inside the caller's unit of work (``outcomes`` reuses it); True if
    anything changed."""
    engagement, request = booking.engagement, booking.request
    _require_live(booking)
    if awaiting_pick(engagement):
        return False
    was, previous = engagement.state, engagement.scheduled_at or engagement.proposed_at
    _back_to_picking(engagement, now)
    await uow.engagements.update(engagement)
    history = await _history(uow, engagement.id)
    sequence = sum(1 for action in history if action in CALENDAR_ACTIONS)
    await audit(uow, now, who.by, "engagement.rescheduled", f"engagement:{engagement.id}",
                request_id=request.id, was=was.value, previous_at=iso(previous),
                reason=reason.strip())
    await move_request(uow, request, RequestState.ACCEPTED, now, by=who.by,
                       engagement_id=engagement.id)
    await uow.requests.update(request)
    cancels: dict[Role, dict[str, str]] = {}
    if was is EngagementState.SCHEDULED and previous is not None and previous > now:
        # Take the old event out of both calendars; the new booking re-adds it (same UID).
        cancels = {role: _invite(ctx, booking, role, start=previous, sequence=sequence,
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
        "previous_at": iso(previous),
        "was": was.value,
        "timezone": rep_zone(request),
        "ics": rep_cancel.get("ics", ""),
        "ics_filename": rep_cancel.get("ics_filename", ""),
    }, key=f"call_rescheduled:{engagement.id}:{revision}")
    await _ask_to_pick_again(ctx, uow, booking, now, reason="rescheduled", who=who,
                             previous=previous, cancel=cancels.get("advocate"))
    return True


# --- sweeps -----------------------------------------------------------------------------


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
                to = _recipient(booking, role)
                added = await send(uow, now, to, "call_reminder", {
                    **call_context(ctx, booking, role),
                    "window": window,
                    "minutes_until": int((start - now).total_seconds() // 60),
                }, key=f"reminder:{booking.engagement.id}:{window}:{_label(to)}:{_stamp(start)}")
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
            added = await send(uow, now, rep_person(booking.request), "outcome_prompt", {
                **call_context(ctx, booking, "rep"),
                "outcomes": ["completed", "no_show", "rescheduled"],
            }, key=f"outcome_prompt:{engagement.id}:{_stamp(engagement.scheduled_at)}")
            queued += int(added)
        await uow.commit()
    return queued


__all__ = [
    "Booking",
    "Initiator",
    "awaiting_pick",
    "call_context",
    "confirm_time",
    "due_outcome_prompts",
    "due_reminders",
    "initiator",
    "load_booking",
    "needed_by_end",
    "pick_time",
    "reschedule",
    "reschedule_in",
]
