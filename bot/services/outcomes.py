"""After the call: the rep reports what happened, the advocate is thanked (docs/product.md,
"The reference request", step 6).

* **completed** closes the engagement and the request, awards the advocate the points for
  the reference type (they feed tiers and recognition) and thanks them, with a box for a
  one-line comment.
* **no_show** ends the engagement without it having happened (final in the lifecycle),
  which frees the slot it held in the advocate's limits
  (``EngagementState.counts_toward_limits``). The request goes back to ``matching`` and the
  rep is asked what next: ask another advocate (``asks.ask_advocate``) or cancel the
  request. Nobody is told whose fault it was; we do not know. To try again with the same
  advocate the rep reports **rescheduled** instead, which the outcome prompt says.
* **rescheduled** is the same as ``scheduling.reschedule``.

Recording the same outcome twice (a double click, a retried form) changes nothing; a
different outcome for a call already closed is refused with the reason.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from bot.domain.errors import InvalidInput, NotAllowed, Problem
from bot.domain.inputs import amount, refuse_control_characters
from bot.domain.lifecycle import transition_engagement
from bot.domain.model import Actor, Engagement, EngagementState, Outcome, RequestState
from bot.ports import UnitOfWork
from bot.services.advocates import next_tier, policy_tiers, tier_for
from bot.services.bookings import Booking, initiator, is_rep_or_manager, load_booking, zone_name
from bot.services.context import ServiceContext, actor_label, audit, send
from bot.services.messages import advocate_contact, iso, person_name, quiet_until, rep_person
from bot.services.messages import rep_zone as rep_zone_of
from bot.services.request_progress import move_request
from bot.services.roles import advocate_person, is_advocate
from bot.services.scheduling import reschedule_in

COMMENT_MAX_CHARS = 500
HELPFULNESS_RANGE = range(1, 6)
_CLOSED = frozenset({EngagementState.COMPLETED, EngagementState.NO_SHOW,
                     EngagementState.CANCELLED})


def _validate(outcome: Outcome, helpfulness: int | None,
              influenced_amount: Decimal | None) -> Decimal | None:
    """Check the outcome form; return the influenced amount rounded to cents, refusing
    one the database could not hold (``NUMERIC(14, 2)``)."""
    errors: dict[str, Problem] = {}
    if helpfulness is not None and (
            isinstance(helpfulness, bool) or not isinstance(helpfulness, int)
            or helpfulness not in HELPFULNESS_RANGE):
        errors["helpfulness"] = Problem("helpfulness_range")
    elif helpfulness is None and outcome is Outcome.COMPLETED:
        errors["helpfulness"] = Problem("helpfulness_missing")
    if influenced_amount is not None:
        try:
            influenced_amount = amount(
                influenced_amount, "influenced_amount",
                problem=Problem("influenced_amount"))
        except InvalidInput as invalid:
            errors.update(invalid.errors)
    if errors:
        raise InvalidInput(errors)
    return influenced_amount


def _refuse_closed(engagement: Engagement, outcome: Outcome) -> None:
    raise InvalidInput({"outcome": Problem("outcome_already_recorded",
                                           recorded=str(engagement.state),
                                           outcome=str(outcome))})


def _refuse_early(booking: Booking, now_zone: str) -> None:
    start = booking.engagement.scheduled_at
    assert start is not None
    raise InvalidInput({"outcome": Problem("outcome_too_early", start=start,
                                           zone=zone_name(now_zone))})


async def record_outcome(ctx: ServiceContext, actor: Actor, engagement_id: int,
                         outcome: Outcome, *, helpfulness: int | None = None,
                         influenced_amount: Decimal | None = None) -> Engagement:
    """The rep who owns the request (or a program manager) reports how the call went.

    ``helpfulness`` (1-5) is required for a completed call; ``influenced_amount`` is
    optional and never negative. Errors name the form field they belong to.
    """
    outcome = Outcome(outcome)
    now = ctx.now()
    async with ctx.uow() as uow:
        booking = await load_booking(uow, engagement_id)
        engagement, request = booking.engagement, booking.request
        if not is_rep_or_manager(actor, request):
            raise NotAllowed("not_yours")
        influenced_amount = _validate(outcome, helpfulness, influenced_amount)
        by = actor_label(actor.person)
        if outcome is Outcome.RESCHEDULED:
            if engagement.state in _CLOSED:
                _refuse_closed(engagement, outcome)
            changed = await reschedule_in(ctx, uow, booking, now, who=initiator(actor, booking),
                                          reported=True)
            if changed:
                await uow.commit()
            return engagement
        target = (EngagementState.COMPLETED if outcome is Outcome.COMPLETED
                  else EngagementState.NO_SHOW)
        if engagement.state is target:
            return engagement  # recorded before: a double click or a resubmitted form
        if engagement.state in _CLOSED:
            _refuse_closed(engagement, outcome)
        if engagement.scheduled_at is not None and engagement.scheduled_at > now:
            _refuse_early(booking, rep_zone_of(request))
        if (engagement.state is not EngagementState.SCHEDULED
                and (outcome is Outcome.NO_SHOW or engagement.reference_type.needs_call_time)):
            raise InvalidInput({"outcome": Problem("outcome_not_booked")})
        if outcome is Outcome.COMPLETED:
            await _complete(ctx, uow, booking, now, by=by, helpfulness=helpfulness,
                            influenced_amount=influenced_amount)
        else:
            await _no_show(uow, booking, now, by=by)
        await uow.commit()
    return engagement


async def _complete(ctx: ServiceContext, uow: UnitOfWork, booking: Booking, now: datetime, *,
                    by: str, helpfulness: int | None,
                    influenced_amount: Decimal | None) -> None:
    engagement, request = booking.engagement, booking.request
    points = ctx.policy.points_for(engagement.reference_type.value)
    transition_engagement(engagement, EngagementState.COMPLETED, now)
    engagement.outcome = Outcome.COMPLETED
    engagement.helpfulness = helpfulness
    engagement.influenced_amount = influenced_amount
    engagement.points_awarded = points
    engagement.completed_at = now
    await uow.engagements.update(engagement)
    advocate = await uow.advocates.get_for_update(engagement.advocate_id)
    assert advocate is not None
    advocate.points += points
    await uow.advocates.update(advocate)
    await audit(uow, now, by, "engagement.completed", f"engagement:{engagement.id}",
                request_id=request.id, advocate_id=advocate.id, helpfulness=helpfulness,
                influenced_amount=str(influenced_amount) if influenced_amount is not None
                else None, points=points, total_points=advocate.points)
    await move_request(uow, request, RequestState.COMPLETED, now, by=by,
                       engagement_id=engagement.id)
    await uow.requests.update(request)
    tiers = policy_tiers(ctx.policy)
    upcoming = next_tier(advocate.points, tiers)
    await send(uow, now, advocate_person(advocate), "thank_you", {
        "engagement_id": engagement.id,
        "advocate_name": advocate.name,
        "rep_name": person_name(request.rep),
        "reference_type_label": engagement.reference_type.label,
        "held_at": iso(engagement.scheduled_at),
        "points": points,
        "total_points": advocate.points,
        "tier": tier_for(advocate.points, tiers).label,
        "next_tier": upcoming[0].label if upcoming else None,
        "points_to_next_tier": upcoming[1] if upcoming else None,
        "comment_max_chars": COMMENT_MAX_CHARS,
        "timezone": advocate.timezone or "UTC",
    }, key=f"thank_you:{engagement.id}",
        not_before=quiet_until(ctx, advocate_person(advocate), now, advocate.call_hours))


async def _no_show(uow: UnitOfWork, booking: Booking, now: datetime, *, by: str) -> None:
    engagement, request = booking.engagement, booking.request
    transition_engagement(engagement, EngagementState.NO_SHOW, now)
    engagement.outcome = Outcome.NO_SHOW
    await uow.engagements.update(engagement)
    await audit(uow, now, by, "engagement.no_show", f"engagement:{engagement.id}",
                request_id=request.id, advocate_id=engagement.advocate_id,
                scheduled_at=iso(engagement.scheduled_at))
    await move_request(uow, request, RequestState.MATCHING, now, by=by,
                       engagement_id=engagement.id, why="no_show")
    await uow.requests.update(request)
    await send(uow, now, rep_person(request), "no_show_follow_up", {
        "engagement_id": engagement.id,
        "request_id": request.id,
        "advocate": advocate_contact(booking.advocate),
        "prospect_company": request.prospect_company,
        "scheduled_at": iso(engagement.scheduled_at),
        "timezone": rep_zone_of(request),
    }, key=f"no_show_follow_up:{engagement.id}")


async def add_comment(ctx: ServiceContext, actor: Actor, engagement_id: int,
                      text: str) -> Engagement:
    """The advocate's one-line comment after a completed call (what the thank-you asks
    for). Sending it again replaces it; the same text twice changes nothing."""
    comment = " ".join(text.split())
    now = ctx.now()
    async with ctx.uow() as uow:
        booking = await load_booking(uow, engagement_id)
        engagement = booking.engagement
        if not is_advocate(actor, booking.advocate):
            raise NotAllowed("not_yours")
        if not comment:
            raise InvalidInput({"comment": Problem("comment_empty")})
        refuse_control_characters(comment, "comment", multiline=False)
        if len(comment) > COMMENT_MAX_CHARS:
            raise InvalidInput({"comment": Problem("text_too_long", most=COMMENT_MAX_CHARS,
                                                   length=len(comment))})
        if engagement.state is not EngagementState.COMPLETED:
            raise InvalidInput({"comment": Problem("comment_too_early")})
        if engagement.advocate_comment == comment:
            return engagement
        engagement.advocate_comment = comment
        await uow.engagements.update(engagement)
        await audit(uow, now, actor_label(actor.person), "engagement.commented",
                    f"engagement:{engagement.id}", length=len(comment))
        await uow.commit()
    return engagement


__all__ = ["COMMENT_MAX_CHARS", "add_comment", "record_outcome"]
