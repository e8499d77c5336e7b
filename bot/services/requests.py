"""Reference requests: submitting the intake form (``bot.services.intake`` checks it),
matching, the rep's view, cancellation.

After intake the rep sees the best matches with the reasons for each, but no contact
details: those are only shared once an advocate says yes (``bot.services.asks``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from bot.domain.errors import NotFound
from bot.domain.inputs import refuse_control_characters
from bot.domain.lifecycle import transition_engagement
from bot.domain.matching import Match
from bot.domain.model import (
    Actor,
    EngagementState,
    ReferenceRequest,
    RequestState,
    Role,
)
from bot.services.bookings import Booking, cancellation_invites
from bot.services.cascade import ask_next, withdraw_open_asks
from bot.services.context import ServiceContext, actor_label, audit, send
from bot.services.intake import TEXT_LIMITS, RequestDraft, validate_draft
from bot.services.messages import person_name, rep_person, rep_zone, request_context
from bot.services.ranking import rank_request, time_fits
from bot.services.request_progress import engagement_is_live, mark_unfulfilled, move_request
from bot.services.roles import (
    advocate_person,
    is_request_owner,
    require,
    require_owner_or_manager,
)

# --- use cases ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubmitResult:
    request: ReferenceRequest
    matches: tuple[Match, ...] = field(default_factory=tuple)


def match_context(rank: int, match: Match, times: list[dict[str, Any]]) -> dict[str, Any]:
    """One match as the rep sees it before consent: name, company and why, nothing to
    reach the advocate with; ``times``: which of the rep's times fit their call hours
    (``ranking.time_fits``), shown in their zone."""
    advocate = match.advocate
    return {
        "times": times,
        "timezone": advocate.timezone or "UTC",
        "rank": rank,
        "advocate_id": advocate.id,
        "name": advocate.name,
        "company": advocate.company,
        "score": round(match.score, 2),
        "reasons": [reason.to_json() for reason in match.reasons],
        "cautions": [caution.to_json() for caution in match.cautions],
    }


async def submit_request(ctx: ServiceContext, actor: Actor, draft: RequestDraft, *,
                         choose: Literal["rep", "best"] = "rep") -> SubmitResult:
    """Record a request, rank the roster and show the rep the best matches.

    With ``choose="best"`` the best available advocates are asked at once, in rank order
    (as many as the request's parallel asks). With nobody eligible the request ends
    unfulfilled, and the program managers hear of it: an empty match list usually means
    the roster lacks an industry or everyone is resting.
    """
    require(actor, Role.REP, Role.PROGRAM_MANAGER, action="request_reference")
    now = ctx.now()
    if not draft.timezone and actor.person.timezone:
        draft = replace(draft, timezone=actor.person.timezone)
    valid = validate_draft(draft, now=now)
    by = actor_label(actor.person)
    async with ctx.uow() as uow:
        request = await uow.requests.add(valid.to_request(actor.person, now))
        await audit(uow, now, by, "request.submitted", f"request:{request.id}",
                    prospect_company=request.prospect_company,
                    reference_type=request.reference_type.value, choose=choose)
        await move_request(uow, request, RequestState.MATCHING, now, by=by)
        result = await rank_request(ctx, uow, request, now, top_n=ctx.policy.matching.top_n)
        if not result.matches:
            await mark_unfulfilled(ctx, uow, request, now, reason="no_matches",
                                   rep_template="no_matches", result=result, by=by)
            await uow.commit()
            return SubmitResult(request=request, matches=())
        await uow.requests.update(request)
        await audit(uow, now, by, "request.matches_shown", f"request:{request.id}",
                    matches=[m.advocate.id for m in result.matches],
                    considered=result.considered)
        await send(uow, now, rep_person(request), "matches", {
            "request": request_context(request),
            "matches": [match_context(i, m, time_fits(ctx, request, m.advocate, now))
                        for i, m in enumerate(result.matches, 1)],
            "considered": result.considered,
            "choose": choose,
            "timezone": rep_zone(request),
        }, key=f"matches:{request.id}")
        if choose == "best":
            await ask_next(ctx, uow, request, by=by)
        await uow.commit()
    return SubmitResult(request=request, matches=result.matches)


async def list_requests(ctx: ServiceContext, actor: Actor, *, include_closed: bool = False
                        ) -> list[ReferenceRequest]:
    """``/reference list``: the actor's own requests, newest first."""
    require(actor, Role.REP, Role.PROGRAM_MANAGER, action="list_requests")
    async with ctx.uow() as uow:
        return await uow.requests.list_for_rep(actor.person, include_closed=include_closed)


async def cancel_request(ctx: ServiceContext, actor: Actor, request_id: int,
                         reason: str = "") -> ReferenceRequest:
    """Cancel a request: open asks are withdrawn (their messages updated in place), a live
    engagement is cancelled and its advocate told, and the rep gets a confirmation.

    Cancelling a cancelled request changes nothing (a double click); a finished one
    cannot be cancelled.
    """
    now = ctx.now()
    reason = refuse_control_characters(reason.strip()[:TEXT_LIMITS["notes"]], "reason")
    async with ctx.uow() as uow:
        request = await uow.requests.get_for_update(request_id)
        if request is None:
            raise NotFound("not_yours")
        require_owner_or_manager(actor, request)
        if request.state == RequestState.CANCELLED:
            return request
        by = actor_label(actor.person)
        await move_request(uow, request, RequestState.CANCELLED, now, by=by, reason=reason,
                           by_program_manager=actor.is_program_manager)
        await uow.requests.update(request)
        await withdraw_open_asks(ctx, uow, request, now, why="cancelled", by=by)
        engagement = await uow.engagements.get_for_request(request_id)
        cancels: dict[str, dict[str, str]] = {}
        if engagement is not None and engagement_is_live(engagement):
            was = engagement.state
            advocate = await uow.advocates.get(engagement.advocate_id)
            if advocate is not None:
                cancels = await cancellation_invites(
                    ctx, uow, Booking(engagement, request, advocate), now)
            transition_engagement(engagement, EngagementState.CANCELLED, now)
            await uow.engagements.update(engagement)
            await audit(uow, now, by, "engagement.cancelled", f"engagement:{engagement.id}",
                        request_id=request.id, was=was.value)
            if advocate is not None:
                await send(uow, now, advocate_person(advocate), "request_cancelled_advocate", {
                    "advocate_name": advocate.name,
                    "engagement_id": engagement.id,
                    "rep_name": person_name(request.rep),
                    "reference_type_label": request.reference_type.label,
                    "scheduled_at": engagement.scheduled_at.isoformat()
                    if engagement.scheduled_at else None,
                    "timezone": advocate.timezone or "UTC",
                    "invite": cancels.get("advocate", {}).get("invite"),
                    "ics_filename": cancels.get("advocate", {}).get("ics_filename", ""),
                }, key=f"request_cancelled_advocate:{request.id}:{engagement.id}")
        by_someone_else = not is_request_owner(actor, request)
        await send(uow, now, rep_person(request), "request_cancelled", {
            "request": request_context(request),
            "reason": reason,
            "cancelled_by": person_name(actor.person) if by_someone_else else "",
            "timezone": rep_zone(request),
            "invite": cancels.get("rep", {}).get("invite"),
            "ics_filename": cancels.get("rep", {}).get("ics_filename", ""),
        }, key=f"request_cancelled:{request.id}")
        await uow.commit()
        return request

