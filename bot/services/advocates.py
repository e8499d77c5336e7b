"""Roster administration for one advocate: pause, resume, limits, leaving, the profile.

Used by ``/advocate me`` (the advocate about themself), ``/advocates pause|resume|limits|
show`` (program managers) and the CLI. Each use case checks who is acting: an advocate
may manage only their own entry, a program manager any entry, and nobody else any.

Two kinds of pause, so that nothing has to wake up to end one:

* ``pause_advocate(until=None)`` sets the status to ``paused`` until someone resumes.
* ``pause_advocate(until=day)`` keeps the status and sets ``unavailable_until`` (the
  roster's "on leave"): the limits treat the advocate as unavailable through that day in
  their own zone, and they are askable again the day after without any job running.

Pausing does **not** withdraw asks the advocate already holds: they were asked while
available and may still want to answer; they just get no new ones. Leaving the program
is the way to stop everything at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from bot.domain.errors import DomainError, InvalidInput, NotAllowed, NotFound, Problem
from bot.domain.inputs import (
    MAX_LIMIT_COUNT,
    date_in_range,
    refuse_control_characters,
    whole_number,
)
from bot.domain.lifecycle import transition_ask
from bot.domain.limits import (
    MAX_COOLDOWN_DAYS,
    QUARTER_WINDOW_DAYS,
    YEAR_WINDOW_DAYS,
    LimitCheck,
    advocate_zone,
    check_can_ask,
    effective_limits,
    validate_own_limits,
    window_peak,
)
from bot.domain.model import (
    N_,
    Actor,
    Advocate,
    AdvocateStatus,
    Ask,
    AskState,
    Engagement,
    EngagementState,
    LimitOverrides,
    Person,
    ReferenceRequest,
    ReferenceType,
)
from bot.domain.nomination import ConsentRecord
from bot.domain.policy import LimitPolicy, ProgramPolicy
from bot.ports import UnitOfWork
from bot.services.cascade import ask_next
from bot.services.context import ServiceContext, actor_label, audit, send
from bot.services.messages import (
    advocate_card,
    approval_key,
    ask_key,
    iso,
    person_name,
    rep_person,
    rep_zone,
    request_context,
)
from bot.services.roles import advocate_person, is_advocate, manager_people

USAGE_WINDOW = timedelta(days=YEAR_WINDOW_DAYS)
_LIMIT_FIELDS = ("max_per_90_days", "max_per_365_days", "cooldown_days", "max_open_asks")
#: How far ahead a dated pause may end; later is a typo, and "pause" has no end date.
MAX_PAUSE_DAYS = 2 * 366


# --- tiers ------------------------------------------------------------------------------


class Tier(StrEnum):
    BRONZE = "bronze"
    SILVER = "silver"
    GOLD = "gold"

    @property
    def label(self) -> str:
        return {"bronze": N_("Bronze"), "silver": N_("Silver"), "gold": N_("Gold")}[self.value]


def tier_thresholds() -> tuple[tuple[Tier, int], ...]:
    """Points needed for each tier, lowest first. A function, not a constant, because the
    scheduled-jobs work will read these from settings."""
    return ((Tier.BRONZE, 0), (Tier.SILVER, 50), (Tier.GOLD, 150))


def policy_tiers(policy: ProgramPolicy) -> tuple[tuple[Tier, int], ...]:
    """The tier thresholds the program's settings give (``TIER_*_POINTS``)."""
    return tuple((Tier(name), points) for name, points in policy.jobs.tiers)


def tier_for(points: int, thresholds: tuple[tuple[Tier, int], ...] | None = None) -> Tier:
    """The highest tier whose threshold ``points`` reaches."""
    reached = Tier.BRONZE
    for tier, needed in thresholds or tier_thresholds():
        if points >= needed:
            reached = tier
    return reached


def next_tier(points: int, thresholds: tuple[tuple[Tier, int], ...] | None = None
              ) -> tuple[Tier, int] | None:
    """The next tier up and how many points it still takes; None at the top."""
    for tier, needed in thresholds or tier_thresholds():
        if points < needed:
            return tier, needed - points
    return None


# --- the profile ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LimitUsage:
    """One limit's use: ``used`` of ``limit`` over ``span`` (``90_days``, ``365_days``,
    ``open_asks``); the templates word it ("1 of 3 in 90 days")."""

    used: int
    limit: int
    span: str

    @property
    def at_limit(self) -> bool:
        return self.used >= self.limit


@dataclass(frozen=True, slots=True)
class Availability:
    """Whether an advocate may be asked: ``active``, ``paused``, ``on_leave`` (through
    ``until``), ``snoozed`` (after declines, until ``until``) or ``left`` the program; what
    they can do about it follows from it, the same on every surface."""

    state: Literal["active", "paused", "on_leave", "snoozed", "left"]
    until: date | None = None

    @property
    def can_pause(self) -> bool:
        return self.state in ("active", "snoozed")

    @property
    def can_resume(self) -> bool:
        return self.state in ("paused", "on_leave")

    @property
    def left(self) -> bool:
        return self.state == "left"


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One engagement in the advocate's history. The prospect is left out unless the
    program shows prospect names to advocates: the profile is the advocate's view."""

    engagement_id: int
    request_id: int
    reference_type: ReferenceType
    state: EngagementState
    at: datetime  # the call time if scheduled, else when they said yes
    rep_name: str
    prospect_company: str | None
    points: int
    helpfulness: int | None
    comment: str


@dataclass(frozen=True, slots=True)
class AdvocateProfile:
    advocate: Advocate
    limits: LimitPolicy  # the effective limits (program, manager override, own wishes)
    last_90_days: LimitUsage
    last_365_days: LimitUsage
    open_asks: LimitUsage
    can_be_asked: LimitCheck  # allowed, or every reason not and when that ends
    availability: Availability
    call_hours: str  # when they take calls, in their zone: their own, else the program's
    # ("" : any time)
    tier: Tier
    next_tier: tuple[Tier, int] | None
    upcoming: tuple[HistoryItem, ...]
    history: tuple[HistoryItem, ...]
    consent: ConsentRecord | None = None  # their latest (bot.services.consent)


@dataclass(frozen=True, slots=True)
class LeaveResult:
    advocate: Advocate
    withdrawn: tuple[Ask, ...]
    # Engagements the advocate already agreed to stay on: each one was consented to on
    # its own, and the rep and prospect are counting on it. The confirmation lists them so
    # the advocate can reschedule or ask the rep to cancel.
    kept: tuple[Engagement, ...]


# --- helpers ----------------------------------------------------------------------------


async def _load(uow: UnitOfWork, advocate_id: int, *, for_update: bool = False) -> Advocate:
    getter = uow.advocates.get_for_update if for_update else uow.advocates.get
    advocate = await getter(advocate_id)
    if advocate is None:
        raise NotFound("not_yours")
    return advocate


def _require_self_or_manager(actor: Actor, advocate: Advocate) -> None:
    if actor.is_program_manager or is_advocate(actor, advocate):
        return
    raise NotAllowed("not_yours")


def _today_for(advocate: Advocate, now: datetime) -> date:
    return now.astimezone(advocate_zone(advocate.timezone)).date()


def _availability(advocate: Advocate, now: datetime) -> Availability:
    if advocate.status is AdvocateStatus.RETIRED:
        return Availability("left")
    if advocate.status is AdvocateStatus.PAUSED:
        return Availability("paused")
    if advocate.unavailable_until is not None and advocate.unavailable_until >= _today_for(
            advocate, now):
        return Availability("on_leave", advocate.unavailable_until)
    if advocate.snoozed_until is not None and advocate.snoozed_until > now:
        return Availability("snoozed", advocate.snoozed_until.date())
    return Availability("active")


def _refuse_if_retired(advocate: Advocate) -> None:
    if advocate.status is AdvocateStatus.RETIRED:
        raise DomainError("advocate_retired", name=advocate.name)


def _overrides_dict(limits: LimitOverrides) -> dict[str, int | None]:
    return {name: getattr(limits, name) for name in _LIMIT_FIELDS}


def _status_context(advocate: Advocate, actor: Actor) -> dict[str, Any]:
    return {
        "advocate_name": advocate.name,
        "status": advocate.status.value,
        "until": advocate.unavailable_until.isoformat() if advocate.unavailable_until else None,
        "by_name": person_name(actor.person),
        "timezone": advocate.timezone or "UTC",
    }


# --- use cases --------------------------------------------------------------------------


async def pause_advocate(ctx: ServiceContext, actor: Actor, advocate_id: int, *,
                         until: date | None = None, reason: str = "") -> Advocate:
    """Stop asking an advocate, indefinitely (``until=None``) or through a day.

    Repeating the same pause changes nothing. When a program manager pauses someone, the
    advocate is told, so nobody wonders why the asks stopped.
    """
    now = ctx.now()
    async with ctx.uow() as uow:
        advocate = await _load(uow, advocate_id, for_update=True)
        _require_self_or_manager(actor, advocate)
        _refuse_if_retired(advocate)
        refuse_control_characters(reason, "reason")
        if until is not None:
            today = _today_for(advocate, now)
            if until < today:
                raise InvalidInput({"until": Problem("day_before_today")})
            date_in_range(until, "until", earliest=today,
                          latest=today + timedelta(days=MAX_PAUSE_DAYS),
                          problem=Problem("day_within_two_years"))
        status = AdvocateStatus.PAUSED if until is None else advocate.status
        if until is not None and status is AdvocateStatus.PAUSED:
            status = AdvocateStatus.ACTIVE  # a dated pause replaces an open-ended one
        if advocate.status == status and advocate.unavailable_until == until:
            return advocate
        advocate.status, advocate.unavailable_until = status, until
        await uow.advocates.update(advocate)
        await audit(uow, now, actor_label(actor.person), "advocate.paused",
                    f"advocate:{advocate.id}", until=until.isoformat() if until else None,
                    reason=reason.strip())
        if not is_advocate(actor, advocate):
            await send(uow, now, advocate_person(advocate), "advocate_paused",
                       {**_status_context(advocate, actor), "reason": reason.strip()},
                       key=f"advocate_paused:{advocate.id}:{now.isoformat()}")
        await uow.commit()
    return advocate


async def resume_advocate(ctx: ServiceContext, actor: Actor, advocate_id: int) -> Advocate:
    """End a pause or leave early. A snooze (from "Not now" or a decline streak) is left to
    run out: it protects the advocate from a burst of asks they already pushed back on."""
    now = ctx.now()
    async with ctx.uow() as uow:
        advocate = await _load(uow, advocate_id, for_update=True)
        _require_self_or_manager(actor, advocate)
        _refuse_if_retired(advocate)
        if advocate.status is AdvocateStatus.ACTIVE and advocate.unavailable_until is None:
            return advocate
        advocate.status, advocate.unavailable_until = AdvocateStatus.ACTIVE, None
        await uow.advocates.update(advocate)
        await audit(uow, now, actor_label(actor.person), "advocate.resumed",
                    f"advocate:{advocate.id}")
        if not is_advocate(actor, advocate):
            await send(uow, now, advocate_person(advocate), "advocate_resumed",
                       _status_context(advocate, actor),
                       key=f"advocate_resumed:{advocate.id}:{now.isoformat()}")
        await uow.commit()
    return advocate


async def set_own_limits(ctx: ServiceContext, actor: Actor, advocate_id: int,
                         limits: LimitOverrides) -> Advocate:
    """The advocate's own wishes; they may only be stricter than the program's limits.

    Only the advocate may set them (a program manager uses ``set_manager_limits``, which
    is an audited override, rather than speaking for the advocate). ``LimitOverrides()``
    clears every wish.
    """
    now = ctx.now()
    async with ctx.uow() as uow:
        advocate = await _load(uow, advocate_id, for_update=True)
        if not is_advocate(actor, advocate):
            raise NotAllowed("not_yours")
        validate_own_limits(limits, ctx.policy.limits)
        if advocate.own_limits == limits:
            return advocate
        before = _overrides_dict(advocate.own_limits)
        advocate.own_limits = limits
        await uow.advocates.update(advocate)
        await audit(uow, now, actor_label(actor.person), "limit.own", f"advocate:{advocate.id}",
                    before=before, after=_overrides_dict(limits))
        await uow.commit()
    return advocate


def _validate_manager_limits(limits: LimitOverrides, reason: str) -> None:
    """Any whole number a limit can sensibly be (an override may loosen the program's
    limits, but not past what the database column and the date maths hold)."""
    errors: dict[str, Problem] = {}
    for name, value in _overrides_dict(limits).items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            errors[name] = Problem("limit_not_whole", field=name)
        elif value < 0:
            errors[name] = Problem("limit_negative", field=name)
        else:
            high = MAX_COOLDOWN_DAYS if name == "cooldown_days" else MAX_LIMIT_COUNT
            try:
                whole_number(value, name, low=0, high=high,
                             problem=Problem("limit_at_most", field=name, most=high,
                                             program=False))
            except InvalidInput as invalid:
                errors.update(invalid.errors)
    if not reason.strip():
        errors["reason"] = Problem("override_reason_missing")
    else:
        try:
            refuse_control_characters(reason, "reason")
        except InvalidInput as invalid:
            errors.update(invalid.errors)
    if errors:
        raise InvalidInput(errors)


async def set_manager_limits(ctx: ServiceContext, actor: Actor, advocate_id: int,
                             limits: LimitOverrides, *, reason: str) -> Advocate:
    """A program manager's per-advocate limits, which may loosen the program's. Audited as
    ``limit.override`` with the values before and after and the reason. The advocate's own
    stricter wishes still win (``effective_limits``)."""
    now = ctx.now()
    if not actor.is_program_manager:
        raise NotAllowed("only_role", roles=["program_manager"], action="override_limits")
    _validate_manager_limits(limits, reason)
    async with ctx.uow() as uow:
        advocate = await _load(uow, advocate_id, for_update=True)
        if advocate.manager_limits == limits:
            return advocate
        before = _overrides_dict(advocate.manager_limits)
        advocate.manager_limits = limits
        await uow.advocates.update(advocate)
        await audit(uow, now, actor_label(actor.person), "limit.override",
                    f"advocate:{advocate.id}", before=before, after=_overrides_dict(limits),
                    reason=reason.strip())
        await uow.commit()
    return advocate


async def _open_asks_of(uow: UnitOfWork, advocate_id: int
                        ) -> list[tuple[Ask, ReferenceRequest]]:
    """The advocate's open asks with their requests.

    The ports have no "asks by advocate" query, so this walks the open requests; their
    number is bounded by the program's live work, not its history.
    """
    found: list[tuple[Ask, ReferenceRequest]] = []
    for request in await uow.requests.list_open_needed_by(date.max):
        for ask in await uow.asks.list_for_request(request.id or 0):
            if ask.advocate_id == advocate_id and ask.state.is_open:
                found.append((ask, request))
    return found


async def leave_program(ctx: ServiceContext, actor: Actor, advocate_id: int) -> LeaveResult:
    """The advocate leaves: status ``retired`` and every open ask withdrawn at once.

    Each withdrawn ask's message loses its buttons (replaced in place), the rep is told
    the advocate is no longer available, and the request moves on to the next-ranked
    advocate (``ask_next``), all in this unit of work. Engagements already agreed stay
    (see ``LeaveResult.kept``). Leaving twice changes nothing.
    """
    now = ctx.now()
    async with ctx.uow() as uow:
        advocate = await _load(uow, advocate_id, for_update=True)
        _require_self_or_manager(actor, advocate)
        if advocate.status is AdvocateStatus.RETIRED:
            return LeaveResult(advocate, (), ())
        by = actor_label(actor.person)
        advocate.status = AdvocateStatus.RETIRED
        await uow.advocates.update(advocate)
        withdrawn: list[Ask] = []
        for ask, request in await _open_asks_of(uow, advocate_id):
            await _withdraw(ctx, uow, ask, request, advocate, now, by)
            withdrawn.append(ask)
            await ask_next(ctx, uow, request, exclude={advocate_id}, by=by)
        kept = tuple(e for e in await uow.engagements.list_for_advocate(advocate_id)
                     if e.state in (EngagementState.ACCEPTED, EngagementState.PROPOSED,
                                    EngagementState.SCHEDULED))
        await audit(uow, now, by, "advocate.left", f"advocate:{advocate.id}",
                    withdrawn_asks=[a.id for a in withdrawn],
                    kept_engagements=[e.id for e in kept],
                    by_program_manager=not is_advocate(actor, advocate))
        await send(uow, now, advocate_person(advocate), "left_program", {
            "advocate_name": advocate.name,
            "by_name": "" if is_advocate(actor, advocate) else person_name(actor.person),
            "withdrawn_count": len(withdrawn),
            "kept": [{"engagement_id": e.id, "reference_type_label": e.reference_type.label,
                      "scheduled_at": iso(e.scheduled_at)} for e in kept],
            "timezone": advocate.timezone or "UTC",
        }, key=f"left_program:{advocate.id}:{now.isoformat()}")
        await uow.commit()
    return LeaveResult(advocate, tuple(withdrawn), kept)


async def _withdraw(ctx: ServiceContext, uow: UnitOfWork, ask: Ask, request: ReferenceRequest,
                    advocate: Advocate, now: datetime, by: str) -> None:
    """Withdraw one ask and clear its buttons wherever they were shown."""
    was = ask.state
    transition_ask(ask, AskState.WITHDRAWN, now)
    await uow.asks.update(ask)
    await audit(uow, now, by, "ask.withdrawn", f"ask:{ask.id}", request_id=request.id,
                advocate_id=advocate.id, why="advocate_left")
    if was == AskState.AWAITING_APPROVAL:
        approvers = ([Person(email=ask.approver_email, timezone=ctx.program_timezone)]
                     if ask.approver_email else manager_people(ctx))
        for approver in approvers:
            key = approval_key(ask.id, approver.email or "")
            await send(uow, now, approver, "approval_closed", {
                "ask_id": ask.id,
                "outcome": "withdrawn",
                "decided_by": "",
                "advocate": advocate_card(advocate),
                "request": request_context(request),
                "timezone": approver.timezone or ctx.program_timezone,
            }, key=f"{key}:withdrawn", replaces=key)
    else:
        await send(uow, now, advocate_person(advocate), "left_program_ask_closed", {
            "ask_id": ask.id,
            "advocate_name": advocate.name,
            "rep_name": person_name(request.rep),
            "reference_type_label": request.reference_type.label,
            "timezone": advocate.timezone or "UTC",
        }, key=f"{ask_key(ask.id)}:left", replaces=ask_key(ask.id))
    await send(uow, now, rep_person(request), "left_program_rep", {
        "request": request_context(request),
        "advocate": advocate_card(advocate),
        "timezone": rep_zone(request),
    }, key=f"left_program_rep:{ask.id}")


async def advocate_profile(ctx: ServiceContext, actor: Actor, advocate_id: int
                           ) -> AdvocateProfile:
    """The advocate's own page: limits and how much of them is used, whether they can be
    asked now (and if not, why and until when), points, tier and history.

    Only the advocate and program managers see it: it holds the advocate's workload and
    the feedback on their calls.
    """
    now = ctx.now()
    async with ctx.uow() as uow:
        advocate = await _load(uow, advocate_id)
        _require_self_or_manager(actor, advocate)
        assert advocate.id is not None
        usage = (await uow.advocates.usage([advocate.id], since=now - USAGE_WINDOW))[advocate.id]
        engagements = await uow.engagements.list_for_advocate(advocate.id)
        requests = {e.request_id: await uow.requests.get(e.request_id) for e in engagements}
        consent = await uow.consents.latest(advocate.email)
    limits = effective_limits(ctx.policy.limits, advocate)
    times = usage.engagement_times
    items = [_history_item(e, requests.get(e.request_id), ctx.policy.show_prospect_name)
             for e in engagements]
    live = (EngagementState.ACCEPTED, EngagementState.PROPOSED, EngagementState.SCHEDULED)
    upcoming = sorted((i for i in items if i.state in live), key=lambda i: i.at)
    history = sorted((i for i in items if i.state not in live), key=lambda i: i.at,
                     reverse=True)
    return AdvocateProfile(
        advocate=advocate,
        limits=limits,
        last_90_days=LimitUsage(
            window_peak(times, now, timedelta(days=QUARTER_WINDOW_DAYS)),
            limits.max_per_90_days, "90_days"),
        last_365_days=LimitUsage(
            window_peak(times, now, timedelta(days=YEAR_WINDOW_DAYS)),
            limits.max_per_365_days, "365_days"),
        open_asks=LimitUsage(usage.open_asks, limits.max_open_asks, "open_asks"),
        can_be_asked=check_can_ask(advocate, usage, ctx.policy.limits, now),
        availability=_availability(advocate, now),
        call_hours=advocate.call_hours or ctx.policy.default_hours,
        tier=tier_for(advocate.points, policy_tiers(ctx.policy)),
        next_tier=next_tier(advocate.points, policy_tiers(ctx.policy)),
        upcoming=tuple(upcoming),
        history=tuple(history),
        consent=consent,
    )


def _history_item(engagement: Engagement, request: ReferenceRequest | None,
                  show_prospect_name: bool) -> HistoryItem:
    return HistoryItem(
        engagement_id=engagement.id or 0,
        request_id=engagement.request_id,
        reference_type=engagement.reference_type,
        state=engagement.state,
        at=engagement.counts_at,
        rep_name=person_name(request.rep) if request else "",
        prospect_company=request.prospect_company if request and show_prospect_name else None,
        points=engagement.points_awarded,
        helpfulness=engagement.helpfulness,
        comment=engagement.advocate_comment,
    )


__all__ = [
    "AdvocateProfile",
    "HistoryItem",
    "LeaveResult",
    "LimitUsage",
    "Tier",
    "advocate_profile",
    "leave_program",
    "next_tier",
    "pause_advocate",
    "policy_tiers",
    "resume_advocate",
    "set_manager_limits",
    "set_own_limits",
    "tier_for",
    "tier_thresholds",
]
