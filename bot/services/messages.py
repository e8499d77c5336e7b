"""What messages say about a request, an advocate and the people in it, and their keys.

Every service that writes to the outbox describes the same things the same way: a request
as its rep sees it and as an advocate may see it before consenting (the kind of company,
never its name unless the program allows it), an advocate before consent (name and company,
no way to reach them) and after (with the email), the rep as a recipient in their own time
zone. Keeping these in one module is what keeps the privacy promise in one place
(docs/product.md, "Promises").

Message keys name messages that later updates replace in place (``replaces=``): an answered
ask loses its buttons instead of lingering as a second message.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.domain.hours import WorkingHours, fits, hours_of, local_instant, next_opening
from bot.domain.model import Advocate, Person, ReferenceRequest
from bot.ports import UnitOfWork
from bot.services.context import ServiceContext
from bot.services.roles import manager_people

# --- message keys --------------------------------------------------------------------


def ask_key(ask_id: int | None) -> str:
    """The key of the consent ask sent to the advocate; updates use ``replaces=ask_key``."""
    return f"ask:{ask_id}"


def approval_key(ask_id: int | None, approver_email: str) -> str:
    """The key of the approval ask sent to one approver (owner or program manager)."""
    return f"approval:{ask_id}:{approver_email.strip().lower()}"


def pick_time_key(engagement_id: int | None) -> str:
    """The key of the "pick a time" message, so scheduling can replace it once answered."""
    return f"pick_time:{engagement_id}"


# --- contexts and recipients ----------------------------------------------------------


def iso(moment: datetime | None) -> str | None:
    """Templates get instants as ISO strings in UTC and localise them with ``local_time``."""
    return moment.isoformat() if moment is not None else None


def person_name(person: Person) -> str:
    """What to call someone in a message: their chat name, else their email's local part."""
    if person.display_name:
        return person.display_name
    if person.email:
        return person.email.split("@", 1)[0]
    return "a colleague"


def request_context(request: ReferenceRequest) -> dict[str, Any]:
    """The request as its rep and the program managers see it (they may see everything)."""
    return {
        "id": request.id,
        "state": request.state.value,
        "prospect_company": request.prospect_company,
        "opportunity_name": request.opportunity_name,
        "reference_type": request.reference_type.value,
        "reference_type_label": request.reference_type.label,
        "industry": request.industry,
        "region": request.region,
        "company_size": request.company_size.value if request.company_size else None,
        "products": list(request.products),
        "use_cases": list(request.use_cases),
        "language": request.language,
        "needed_by": request.needed_by.isoformat(),
        "proposed_times": [iso(t) for t in request.proposed_times],
        "call_length_minutes": request.call_length_minutes,
        "meeting_link": request.meeting_link,
        "notes": request.notes,
        "parallel_asks": request.parallel_asks,
        "rep_name": person_name(request.rep),
    }


def request_context_for_advocate(request: ReferenceRequest, *, show_prospect_name: bool
                                 ) -> dict[str, Any]:
    """What an advocate may know before consenting: the kind of company, never its name
    unless the program allows it, and no opportunity details (their names usually carry
    the prospect's name too)."""
    return {
        "id": request.id,
        "prospect_company": request.prospect_company if show_prospect_name else None,
        "industry": request.industry,
        "region": request.region,
        "company_size": request.company_size.value if request.company_size else None,
        "products": list(request.products),
        "use_cases": list(request.use_cases),
        "language": request.language,
        "reference_type": request.reference_type.value,
        "reference_type_label": request.reference_type.label,
        "needs_call_time": request.reference_type.needs_call_time,
        "needed_by": request.needed_by.isoformat(),
        "proposed_times": [iso(t) for t in request.proposed_times],
        "call_length_minutes": request.call_length_minutes,
        "notes": request.notes,
        "rep_name": person_name(request.rep),
    }


def advocate_card(advocate: Advocate) -> dict[str, Any]:
    """An advocate as shown before consent: who and where, no way to reach them."""
    return {"id": advocate.id, "name": advocate.name, "company": advocate.company}


def advocate_contact(advocate: Advocate) -> dict[str, Any]:
    """An advocate as shown to the rep once they said yes."""
    return {**advocate_card(advocate), "title": advocate.title, "email": advocate.email}


def rep_person(request: ReferenceRequest) -> Person:
    """The rep as a recipient, with the zone they gave on the request if their chat profile
    had none."""
    rep = request.rep
    return rep if rep.timezone else replace(rep, timezone=request.timezone)


def rep_zone(request: ReferenceRequest) -> str:
    """The zone the rep's messages show times in."""
    return request.rep.timezone or request.timezone or "UTC"


def person_hours(ctx: ServiceContext, zone: str | None, own: str = "") -> WorkingHours | None:
    """When someone may be asked for a call or sent a message that can wait: their ``own``
    hours (an advocate's call hours), else the program's default, in their ``zone`` (else
    the program's zone); None when neither says (any time). Reps and program managers
    have no hours of their own: theirs are the program's default where they are."""
    if not (own or ctx.policy.default_hours):
        return None
    return hours_of(own, zone or ctx.program_timezone, ctx.policy.default_hours)


def quiet_until(ctx: ServiceContext, to: Person, now: datetime, own: str = ""
                ) -> datetime | None:
    """Quiet hours: when a message that can wait (a check-in, a thank-you, a nudge) may
    reach ``to``: None (now) inside their hours (``own``, an advocate's call hours, else
    the program's where they are), else when their hours next open. Asks, answers and
    call reminders are never held."""
    hours = person_hours(ctx, to.timezone, own)
    opening = next_opening(hours, now) if hours is not None else now
    return opening if opening > now else None


def morning_of(ctx: ServiceContext, to: Person, now: datetime, day: date, clock: time,
               own: str = "") -> datetime | None:
    """When a scheduled message of ``day`` (the weekly digest, the quarterly check-in)
    reaches ``to``: at ``clock`` on that day in their own zone; if that has passed, now
    when they are inside their hours, else at ``clock`` on their next working day (held
    further until their hours open); None for now."""
    hours = person_hours(ctx, to.timezone, own)
    zone = hours.zone if hours is not None else _zone_or_utc(to.timezone or ctx.program_timezone)
    at = local_instant(day, clock, zone)
    if at < now and (hours is None or fits(hours, now)):
        return None
    while at < now:  # passed while they were away: that time on a later day
        day += timedelta(days=1)
        at = local_instant(day, clock, zone)
    at = next_opening(hours, at) if hours is not None else at
    return at if at > now else None


def _zone_or_utc(name: str) -> str:
    try:
        WorkingHours(zone=name)
    except ValueError:
        return "UTC"
    return name


async def colleague(ctx: ServiceContext, uow: UnitOfWork, email: str) -> Person:
    """A colleague addressed by email, in their own chat time zone when the bot has met
    them, else in the program's."""
    for known in await uow.people.find_by_email(email):
        if known.timezone:
            return Person(email=email, display_name=known.display_name,
                          timezone=known.timezone)
    return Person(email=email, timezone=ctx.program_timezone)


async def managers(ctx: ServiceContext, uow: UnitOfWork) -> list[Person]:
    """The program managers as recipients, each in their own time zone where known."""
    return [await colleague(ctx, uow, pm.email or "") for pm in manager_people(ctx)]


__all__ = [
    "advocate_card",
    "advocate_contact",
    "approval_key",
    "ask_key",
    "colleague",
    "iso",
    "managers",
    "morning_of",
    "person_hours",
    "person_name",
    "pick_time_key",
    "quiet_until",
    "rep_person",
    "rep_zone",
    "request_context",
    "request_context_for_advocate",
]
