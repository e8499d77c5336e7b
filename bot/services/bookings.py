"""One booking (an engagement with its request and advocate): loading it, checking that it
is still something to schedule, and what its messages and calendar invites say.

Both parties have consented by now, so both see each other's names and emails; the
prospect's name reaches the advocate only if the program allows it, as in the ask. Each
message is keyed by the engagement and its audited change count (or the call time), so a
person gets each message once however often the use cases and sweeps run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from bot.calendar import ics_filename
from bot.domain.errors import DomainError, NotFound
from bot.domain.hours import ALL_DAYS, WorkingHours, common_slots, fits
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
from bot.services.context import ServiceContext, actor_label, audit
from bot.services.messages import (
    advocate_contact,
    iso,
    person_hours,
    person_name,
    rep_person,
    rep_zone,
)
from bot.services.request_progress import SYSTEM
from bot.services.roles import advocate_person, is_advocate, is_request_owner

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
        raise NotFound("not_yours")
    request = await uow.requests.get_for_update(engagement.request_id)
    advocate = await uow.advocates.get(engagement.advocate_id)
    if request is None or advocate is None:
        raise NotFound("not_yours")
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


def require_live(booking: Booking) -> None:
    """Refuse scheduling work on an engagement that is over, in words a person can act on."""
    engagement, request = booking.engagement, booking.request
    if engagement.state in LIVE_STATES and not request.state.is_terminal:
        return
    if request.state is RequestState.CANCELLED or engagement.state is EngagementState.CANCELLED:
        raise DomainError("request_cancelled_no_call", request_id=request.id)
    raise DomainError("reference_over", engagement_id=engagement.id,
                      engagement_state=str(engagement.state), request_state=str(request.state))


def require_call(booking: Booking) -> None:
    reference_type = booking.engagement.reference_type
    if not reference_type.needs_call_time and not booking.request.proposed_times:
        raise DomainError("no_call_to_book", kind=reference_type.label)


def zone_name(zone: str) -> str:
    """A person's zone as an error's parameter (templates show times in it): an unknown
    name is UTC, as ``advocate_zone`` reads it."""
    found = advocate_zone(zone)
    return found.key if isinstance(found, ZoneInfo) else "UTC"


def needed_by_end(request: ReferenceRequest) -> datetime:
    """The end of the ``needed_by`` day where the rep is: the latest a call may start."""
    zone = advocate_zone(request.timezone or "UTC")
    return datetime.combine(request.needed_by + timedelta(days=1), time(0), tzinfo=zone
                            ).astimezone(UTC)


async def engagement_history(uow: UnitOfWork, engagement_id: int | None) -> list[str]:
    """The engagement's audited changes, oldest first; their count numbers the messages."""
    entries = await uow.audit.list(subject=f"engagement:{engagement_id}", limit=10_000)
    return [entry.action for entry in reversed(entries)]


def key_stamp(moment: datetime) -> str:
    return ensure_utc(moment).strftime("%Y%m%dT%H%MZ")


# --- message contexts -------------------------------------------------------------------


def zone_of(booking: Booking, role: Role) -> str:
    if role == "advocate":
        return booking.advocate.timezone or "UTC"
    return rep_zone(booking.request)


def recipient(booking: Booking, role: Role) -> Person:
    return advocate_person(booking.advocate) if role == "advocate" else rep_person(booking.request)


def key_label(person: Person) -> str:
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
        "timezone": zone_of(booking, role),
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


def invite_for(ctx: ServiceContext, booking: Booking, role: Role, *, start: datetime,
               sequence: int, now: datetime, cancelled: bool = False) -> dict[str, Any]:
    """The ``.ics`` invite for one recipient, as the values the messengers make it from
    (``Renderer.invite_ics``): the same event (UID) for both, worded for each."""
    engagement, request, advocate = booking.engagement, booking.request, booking.advocate
    assert engagement.id is not None
    show = role == "rep" or ctx.policy.show_prospect_name
    return {"invite": {
        "engagement_id": engagement.id, "request_id": request.id, "role": role,
        "start": iso(start), "end": iso(start + timedelta(minutes=engagement.duration_minutes)),
        "sequence": sequence, "now": iso(now), "cancelled": cancelled,
        "reference_type_label": request.reference_type.label,
        "prospect": request.prospect_company if show else "",
        "meeting_link": request.meeting_link or "",
        "advocate": {"name": advocate.name, "title": advocate.title or "",
                     "company": advocate.company, "email": advocate.email},
        "rep": {"name": person_name(request.rep), "email": request.rep.email or ""},
    }, "ics_filename": ics_filename(engagement.id)}


async def cancellation_invites(ctx: ServiceContext, uow: UnitOfWork, booking: Booking,
                               now: datetime) -> dict[Role, dict[str, str]]:
    """Calendar CANCELs for a booked call still ahead, one per party (same UID as the
    invite, so calendars remove the event); empty when there is nothing in a calendar."""
    engagement = booking.engagement
    start = engagement.scheduled_at
    if engagement.state is not EngagementState.SCHEDULED or start is None or start <= now:
        return {}
    history = await engagement_history(uow, engagement.id)
    sequence = sum(1 for action in history if action in CALENDAR_ACTIONS)
    return {role: invite_for(ctx, booking, role, start=start, sequence=sequence, now=now,
                          cancelled=True) for role in ("rep", "advocate")}


def open_slots(request: ReferenceRequest, now: datetime, *, besides: datetime | None = None,
               hours: WorkingHours | None = None, minutes: int = 0) -> list[dict[str, Any]]:
    """The rep's proposed times still ahead (but the one just called off) that fit the
    advocate's ``hours`` for a call of ``minutes``, with their index in
    ``request.proposed_times`` for the slot buttons."""
    length = timedelta(minutes=minutes)
    return [{"slot": index, "starts_at": iso(moment)}
            for index, moment in enumerate(request.proposed_times)
            if moment > now and moment != besides
            and (hours is None or fits(hours, moment, length))]


def advocate_hours(ctx: ServiceContext, advocate: Advocate) -> WorkingHours | None:
    """When the advocate takes calls: their own hours, else the program's, in their zone;
    None when neither says (any time)."""
    return person_hours(ctx, advocate.timezone or "UTC", advocate.call_hours)


def rep_hours(ctx: ServiceContext, request: ReferenceRequest) -> WorkingHours:
    """When the rep takes calls: the program's default hours in the rep's zone (any time,
    there, when the program sets none)."""
    zone = rep_zone(request)
    return person_hours(ctx, zone) or WorkingHours(time(0), time(0), ALL_DAYS, zone_name(zone))


def time_choices(ctx: ServiceContext, request: ReferenceRequest, advocate: Advocate,
                 now: datetime, *, minutes: int, besides: datetime | None = None
                 ) -> dict[str, Any]:
    """What the advocate is offered to pick from: the rep's times inside their hours
    (``slots``), how many of the rep's times fell outside (``outside_hours``), and, when
    none fit, up to three times inside both people's hours before the request is needed
    (``suggested``), for them to propose."""
    hours = advocate_hours(ctx, advocate)
    slots = open_slots(request, now, besides=besides, hours=hours, minutes=minutes)
    ahead = open_slots(request, now, besides=besides)
    suggested: list[str] = []
    if not slots and hours is not None:
        latest = needed_by_end(request)
        suggested = [iso(t) for t in common_slots(hours, rep_hours(ctx, request), now,
                                                  timedelta(minutes=minutes))
                     if t + timedelta(minutes=minutes) <= latest]
    return {"slots": slots, "outside_hours": len(ahead) - len(slots), "suggested": suggested}


NO_FITTING_TIME = "request.no_fitting_time"  # audited; the weekly digest lists them


async def offer_times(ctx: ServiceContext, uow: UnitOfWork, request: ReferenceRequest,
                      advocate: Advocate, now: datetime, *, minutes: int,
                      besides: datetime | None = None) -> dict[str, Any]:
    """``time_choices`` for a pick-time message; when none of the rep's times fit the
    advocate's hours, that is audited on the request (``NO_FITTING_TIME``) for the
    program managers' digest."""
    choices = time_choices(ctx, request, advocate, now, minutes=minutes, besides=besides)
    if not choices["slots"] and choices["outside_hours"]:
        await audit(uow, now, SYSTEM, NO_FITTING_TIME, f"request:{request.id}",
                    advocate_id=advocate.id, outside_hours=choices["outside_hours"])
    return choices


__all__ = [
    "CALENDAR_ACTIONS",
    "NO_FITTING_TIME",
    "Booking",
    "Initiator",
    "Role",
    "advocate_hours",
    "call_context",
    "cancellation_invites",
    "engagement_history",
    "initiator",
    "invite_for",
    "is_rep_or_manager",
    "key_label",
    "key_stamp",
    "load_booking",
    "needed_by_end",
    "offer_times",
    "open_slots",
    "recipient",
    "rep_hours",
    "require_call",
    "require_live",
    "time_choices",
    "zone_name",
]
