"""What a person's own pages show: the App Home, ``/advocate me``, the program at a glance,
and the roster look-ups behind ``/advocates find|show|pause|resume|limits``.

Read-only use cases, each checking the actor like every other service, so a front end
(Slack's App Home today, a Teams tab later) only arranges what these return. The home
shows one section per role the person holds: a rep's open requests, an advocate's own
profile, a program manager's numbers and what needs a look.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from bot.domain.errors import DomainError, NotAllowed, NotFound
from bot.domain.limits import check_can_ask, has_overrides
from bot.domain.model import (
    Actor,
    Advocate,
    AdvocateStatus,
    ReferenceRequest,
    RequestState,
    Role,
    Usage,
)
from bot.domain.policy import LimitPolicy
from bot.services.advocates import AdvocateProfile, advocate_profile
from bot.services.bookings import is_rep_or_manager, load_booking, needed_by_end
from bot.services.context import ServiceContext
from bot.services.messages import person_name
from bot.services.ranking import USAGE_WINDOW
from bot.services.requests import list_requests
from bot.services.roles import is_advocate, may_request, require

ATTENTION_DAYS = 2  # a request needed this soon with nobody booked needs a look
DEAD_LETTER_DAYS = 7  # how far back the home counts messages that could not be delivered
WAITING_STATES = frozenset({RequestState.OPEN, RequestState.MATCHING,
                            RequestState.AWAITING_APPROVAL, RequestState.ASKING})


@dataclass(frozen=True, slots=True)
class Attention:
    """Something a program manager should act on: ``kind`` (``waiting``: a request needed
    soon that nobody has said yes to; ``undelivered``: messages that failed) and its
    values; the templates word it."""

    kind: Literal["waiting", "undelivered"]
    values: dict[str, object]


@dataclass(frozen=True, slots=True)
class ProgramGlance:
    """The program manager's numbers by name (``open_requests``, ``waiting``, ``calls``,
    ``active_advocates``, ``resting``, ``paused_advocates``, ``undelivered``), in the order
    they are shown, and what needs a person to act. ``days``: the window of ``undelivered``."""

    stats: dict[str, int]
    attention: tuple[Attention, ...] = ()
    days: int = DEAD_LETTER_DAYS


@dataclass(frozen=True, slots=True)
class Home:
    """Everything a person's home shows; a part is None when they do not hold the role."""

    timezone: str
    requests: tuple[ReferenceRequest, ...] | None = None  # a rep's open requests
    profile: AdvocateProfile | None = None  # an advocate's own profile
    glance: ProgramGlance | None = None  # a program manager's overview
    roles: frozenset[Role] = field(default_factory=frozenset)


async def own_advocate(ctx: ServiceContext, actor: Actor) -> Advocate | None:
    """The roster entry of the person acting (matched by email), if they are an advocate."""
    if not actor.person.email:
        return None
    async with ctx.uow() as uow:
        return await uow.advocates.get_by_email(actor.person.email)


async def home(ctx: ServiceContext, actor: Actor) -> Home:
    """The person's home: each section they are entitled to, nothing else."""
    timezone = actor.person.timezone or ctx.program_timezone
    requests = tuple(await list_requests(ctx, actor)) if may_request(actor) else None
    profile = None
    advocate = await own_advocate(ctx, actor) if actor.has(Role.ADVOCATE) else None
    if advocate is not None and advocate.id is not None:
        profile = await advocate_profile(ctx, actor, advocate.id)
    glance = await program_glance(ctx, actor) if actor.is_program_manager else None
    return Home(timezone=timezone, requests=requests, profile=profile, glance=glance,
                roles=actor.roles)


async def my_profile(ctx: ServiceContext, actor: Actor) -> AdvocateProfile:
    """``/advocate me``: the actor's own profile, or a polite word that they have none."""
    advocate = await own_advocate(ctx, actor)
    if advocate is None or advocate.id is None:
        raise NotFound("not_on_roster")
    return await advocate_profile(ctx, actor, advocate.id)


async def program_glance(ctx: ServiceContext, actor: Actor) -> ProgramGlance:
    """Program managers' overview: live requests by stage, the roster's availability,
    who is at a limit, and what needs a look (requests about to run out of time, messages
    that could not be delivered)."""
    require(actor, Role.PROGRAM_MANAGER, action="see_program")
    now = ctx.now()
    async with ctx.uow() as uow:
        live = await uow.requests.list_open_needed_by(date.max)
        active = await uow.advocates.active_roster()  # matching's copy, not a roster read
        paused = await uow.advocates.count(status=AdvocateStatus.PAUSED)
        usage = await uow.advocates.usage(None, since=now - USAGE_WINDOW)
        dead = await uow.outbox.dead_letters(since=now - timedelta(days=DEAD_LETTER_DAYS))
    resting = _resting(active, usage, ctx.policy.limits, now)
    stats = {
        "open_requests": len(live),
        "waiting": sum(1 for r in live if r.state in WAITING_STATES),
        "calls": sum(1 for r in live if r.state in (
            RequestState.ACCEPTED, RequestState.SCHEDULED)),
        "active_advocates": len(active),
        "resting": resting,
        "paused_advocates": paused,
        "undelivered": len(dead),
    }
    attention: list[Attention] = []
    soon = now.date() + timedelta(days=ATTENTION_DAYS)
    for request in sorted(live, key=lambda r: r.needed_by):
        if request.state in WAITING_STATES and request.needed_by <= soon:
            attention.append(Attention("waiting", {
                "request_id": request.id, "prospect_company": request.prospect_company,
                "rep": person_name(request.rep), "needed_by": request.needed_by.isoformat()}))
    if dead:
        attention.append(Attention("undelivered", {"count": len(dead),
                                                   "days": DEAD_LETTER_DAYS}))
    return ProgramGlance(stats=stats, attention=tuple(attention))


def _resting(active: list[Advocate], usage: Mapping[int, Usage], limits: LimitPolicy,
             now: datetime) -> int:
    """How many active advocates may not be asked now. An advocate with no usage, no
    snooze, no leave and no limits of their own gets the same answer as any other such
    advocate, so it is worked out once for all of them (most of a 100k roster)."""
    plain: bool | None = None  # "may not be asked", for every such advocate
    count = 0
    for a in active:
        use = usage.get(a.id) if a.id is not None else None
        if (use is None and a.snoozed_until is None and a.unavailable_until is None
                and not has_overrides(a.own_limits) and not has_overrides(a.manager_limits)):
            if plain is None:
                plain = not check_can_ask(a, Usage(), limits, now).allowed
            count += plain
        else:
            count += not check_can_ask(a, use or Usage(), limits, now).allowed
    return count


# --- the roster for program managers ---------------------------------------------------


def _haystack(advocate: Advocate) -> str:
    parts = [advocate.name, advocate.email, advocate.company, advocate.title,
             advocate.industry, advocate.region, advocate.country, *advocate.products,
             *advocate.use_cases, *advocate.languages,
             *(t.label for t in advocate.reference_types), advocate.status.value]
    return " ".join(p for p in parts if p).casefold()


async def find_advocates(ctx: ServiceContext, actor: Actor, query: str, *,
                         limit: int = 20) -> list[Advocate]:
    """``/advocates find WORDS``: advocates whose profile holds every word (any case),
    active ones first, then by name."""
    require(actor, Role.PROGRAM_MANAGER, action="search_roster")
    words = query.casefold().split()
    async with ctx.uow() as uow:
        advocates = await uow.advocates.list()
    found = [a for a in advocates if all(w in _haystack(a) for w in words)]
    found.sort(key=lambda a: (a.status is not AdvocateStatus.ACTIVE, a.name.casefold()))
    return found[:limit]


async def advocate_named(ctx: ServiceContext, actor: Actor, who: str) -> Advocate:
    """One advocate from what a program manager typed: an email, else a name (or part of
    one) that fits exactly one advocate. Several fits are listed so the next try can be
    exact."""
    require(actor, Role.PROGRAM_MANAGER, action="manage_advocates")
    text = who.strip().strip("<>")
    if not text:
        raise DomainError("name_the_advocate")
    if text.startswith("mailto:"):
        text = text.removeprefix("mailto:").split("|", 1)[0]
    async with ctx.uow() as uow:
        if "@" in text:
            advocate = await uow.advocates.get_by_email(text)
            if advocate is None:
                raise NotFound("no_advocate_email", email=text)
            return advocate
        advocates = await uow.advocates.list()
    folded = text.casefold()
    exact = [a for a in advocates if a.name.casefold() == folded]
    fits = exact or [a for a in advocates if folded in a.name.casefold()]
    if not fits:
        raise NotFound("no_advocate_named", text=text)
    if len(fits) > 1:
        raise DomainError("several_advocates_fit", text=text, count=len(fits),
                          fits=[(a.name, a.email) for a in fits[:5]])
    return fits[0]


# --- what a modal needs before it opens ------------------------------------------------


@dataclass(frozen=True, slots=True)
class EngagementBrief:
    """What the scheduling and outcome modals show about an engagement."""

    engagement_id: int
    advocate_name: str
    advocate_timezone: str
    rep_timezone: str
    latest_day: date  # the last day the call may take place (the request's needed_by)
    latest: datetime  # when that day ends where the rep is


async def engagement_brief(ctx: ServiceContext, actor: Actor, engagement_id: int, *,
                           as_: Literal["advocate", "rep"]) -> EngagementBrief:
    """The engagement as its advocate (proposing a time) or its rep (recording the
    outcome) sees it; anyone else is told no before a modal opens for nothing."""
    async with ctx.uow() as uow:
        booking = await load_booking(uow, engagement_id)
    if as_ == "advocate" and not is_advocate(actor, booking.advocate):
        raise NotAllowed("not_yours")
    if as_ == "rep" and not is_rep_or_manager(actor, booking.request):
        raise NotAllowed("not_yours")
    return EngagementBrief(
        engagement_id=engagement_id,
        advocate_name=booking.advocate.name,
        advocate_timezone=booking.advocate.timezone or "UTC",
        rep_timezone=booking.request.rep.timezone or booking.request.timezone or "UTC",
        latest_day=booking.request.needed_by,
        latest=needed_by_end(booking.request),
    )


__all__ = [
    "EngagementBrief",
    "Home",
    "ProgramGlance",
    "advocate_named",
    "engagement_brief",
    "find_advocates",
    "home",
    "my_profile",
    "own_advocate",
    "program_glance",
]
