"""A request's state as its asks come and go: audited moves, and closing it unfulfilled.

Services never assign a request's state: ``move_request`` goes through the lifecycle
(``bot.domain.lifecycle``) and audits the move. While advocates are being asked the
request's state follows its open asks (``sync_request_state``); when nobody is left, or the
``needed_by`` day has ended where the rep is, ``mark_unfulfilled`` closes it and tells the
rep and every program manager why the roster did not fit.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.errors import DomainError
from bot.domain.lifecycle import transition_request
from bot.domain.matching import MatchResult
from bot.domain.model import AskState, Engagement, EngagementState, ReferenceRequest, RequestState
from bot.ports import UnitOfWork
from bot.services.context import ServiceContext, audit, send
from bot.services.messages import advocate_card, managers, rep_person, rep_zone, request_context
from bot.services.ranking import exclusion_summary

SYSTEM = "system"  # the audit actor of scheduled sweeps and automatic cascades

# Request states in which asking another advocate makes sense.
ASKABLE_REQUEST_STATES = frozenset(
    {RequestState.MATCHING, RequestState.AWAITING_APPROVAL, RequestState.ASKING}
)


async def move_request(uow: UnitOfWork, request: ReferenceRequest, target: RequestState,
                       now: datetime, *, by: str, reason: str = "", **detail: object) -> bool:
    """Move the request through its lifecycle (unless it is already there), audited as
    ``request.<state>``; the caller stores it. True if it moved."""
    if request.state == target:
        return False
    was = request.state
    transition_request(request, target, now, reason=reason)
    request.updated_at = now
    if reason:
        detail["reason"] = reason
    await audit(uow, now, by, f"request.{target.value}", f"request:{request.id}",
                was=was.value, **detail)
    return True


async def sync_request_state(uow: UnitOfWork, request: ReferenceRequest, now: datetime, *,
                             by: str) -> None:
    """A request is "asking" while an advocate holds an ask, and "awaiting approval" while
    its only open asks wait for an approver (the next advocate in line may need approval
    when the last did not, so the two alternate)."""
    states = {a.state for a in await uow.asks.list_for_request(request.id or 0)}
    if AskState.PENDING in states:
        await move_request(uow, request, RequestState.ASKING, now, by=by)
    elif AskState.AWAITING_APPROVAL in states:
        await move_request(uow, request, RequestState.AWAITING_APPROVAL, now, by=by)


async def mark_unfulfilled(ctx: ServiceContext, uow: UnitOfWork, request: ReferenceRequest,
                           now: datetime, *, reason: str, rep_template: str,
                           result: MatchResult | None = None, by: str = SYSTEM) -> None:
    """Close a request nobody can take, and say so to the rep and every program manager,
    with the reasons the roster did not fit (so a program manager can fix the roster)."""
    await move_request(uow, request, RequestState.UNFULFILLED, now, by=by, reason=reason)
    await uow.requests.update(request)
    asked = []
    for a in await uow.asks.list_for_request(request.id or 0):
        advocate = await uow.advocates.get(a.advocate_id)
        if advocate is not None:
            asked.append({**advocate_card(advocate), "outcome": a.state.value})
    base = {
        "request": request_context(request),
        "reason": reason,
        "asked": asked,
        "exclusions": exclusion_summary(result),
        "considered": result.considered if result is not None else None,
    }
    await send(uow, now, rep_person(request), rep_template,
               {**base, "timezone": rep_zone(request)},
               key=f"{rep_template}:{request.id}")
    for pm in await managers(ctx, uow):
        await send(uow, now, pm, "request_unfulfilled",
                   {**base, "timezone": pm.timezone or ctx.program_timezone,
                    "rep_email": request.rep.email or ""},
                   key=f"request_unfulfilled:{request.id}:{pm.email}")


def past_needed_by(request: ReferenceRequest, now: datetime) -> bool:
    """``needed_by`` is a day on the rep's calendar; it is over when that day has ended
    where the rep is."""
    try:
        zone = ZoneInfo(request.timezone or "UTC")
    except (KeyError, ValueError, OSError):
        zone = ZoneInfo("UTC")
    return now.astimezone(zone).date() > request.needed_by


def require_askable(request: ReferenceRequest) -> None:
    """Refuse to ask anyone for a request that is not (or no longer) looking, saying why."""
    if request.state in ASKABLE_REQUEST_STATES:
        return
    if request.state == RequestState.OPEN:
        raise DomainError("request_still_matching", request_id=request.id)
    raise DomainError("request_not_askable", request_id=request.id, state=str(request.state))


def engagement_is_live(engagement: Engagement | None) -> bool:
    """An engagement the cancellation of its request must end."""
    return engagement is not None and engagement.state in (
        EngagementState.ACCEPTED, EngagementState.PROPOSED, EngagementState.SCHEDULED)


__all__ = [
    "ASKABLE_REQUEST_STATES",
    "SYSTEM",
    "engagement_is_live",
    "mark_unfulfilled",
    "move_request",
    "past_needed_by",
    "require_askable",
    "sync_request_state",
]
