"""Asking advocates for consent: the use cases a person triggers, and the expiry sweep.

This is where the program keeps its two promises to advocates (docs/product.md, "Burnout
limits" and "Promises"): nobody is asked past their burnout limits, and nobody's contact
details reach a rep before they said yes. So the limits are re-checked at every step that
could break them (when asking, when an approval arrives, and when accepting, with the
advocate locked in the same unit of work that records the engagement), and the contexts
built for reps before consent carry names and companies only (``bot.services.messages``).

Every state change is audited and every message is queued in the outbox of the unit of
work that makes the change, so a message is sent exactly when its change commits. Who is
asked next is the cascade's business (``bot.services.cascade``); what the messages say and
how they are replaced is ``bot.services.ask_messages``'.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Literal

from bot.domain.errors import DomainError, LimitReached, NotAllowed, NotFound
from bot.domain.lifecycle import transition_ask
from bot.domain.limits import LimitCheck, check_can_accept, check_can_ask, decline_snooze_until
from bot.domain.model import (
    Actor,
    Advocate,
    AdvocateStatus,
    Ask,
    AskState,
    Engagement,
    ReferenceRequest,
    RequestState,
)
from bot.ports import UnitOfWork
from bot.services.ask_messages import (
    close_ask_messages,
    send_ask,
    tell_rep_ask_sent,
    tell_rep_no,
)
from bot.services.bookings import offer_times
from bot.services.cascade import ask_next, create_ask, withdraw_open_asks
from bot.services.context import ServiceContext, actor_label, audit, send
from bot.services.messages import (
    advocate_card,
    advocate_contact,
    iso,
    person_name,
    pick_time_key,
    rep_person,
    rep_zone,
    request_context,
    request_context_for_advocate,
)
from bot.services.ranking import rank_request, reasons_not_to_ask, usage_of
from bot.services.request_progress import (
    ASKABLE_REQUEST_STATES,
    SYSTEM,
    mark_unfulfilled,
    move_request,
    past_needed_by,
    require_askable,
    sync_request_state,
)
from bot.services.roles import (
    advocate_person,
    is_account_owner,
    is_advocate,
    require_owner_or_manager,
)

log = logging.getLogger(__name__)

Answer = Literal["accept", "decline", "not_now"]


class UnknownAnswer(DomainError):
    """A button sent an answer this version does not know (an old message, a forged value)."""


# --- asking -----------------------------------------------------------------------------------


async def ask_advocate(ctx: ServiceContext, actor: Actor, request_id: int,
                       advocate_id: int | None = None, *, override_reason: str = ""
                       ) -> Ask | None:
    """The rep (or a program manager) asks one advocate, or the best available one.

    The limits and the match filters are checked again now, because time has passed since
    the rep saw the matches. A blocked advocate raises ``LimitReached`` unless a program
    manager gives a reason to override, which is audited with what it overrode.
    ``advocate_id=None`` asks the best-ranked advocate not asked yet; if nobody is left and
    nothing is open, the request is unfulfilled and ``None`` is returned.
    """
    now = ctx.now()
    override_reason = override_reason.strip()
    if override_reason and not actor.is_program_manager:
        raise NotAllowed("only_role", roles=["program_manager"], action="override_limits")
    async with ctx.uow() as uow:
        request = await uow.requests.get_for_update(request_id)
        if request is None:
            raise NotFound("not_yours")
        require_owner_or_manager(actor, request)
        asks = await uow.asks.list_for_request(request_id)
        open_count = _room_for_another_ask(request, asks, now)
        already = {a.advocate_id for a in asks}
        by = actor_label(actor.person)
        if advocate_id is None:
            ask = await _ask_best(ctx, uow, request, now, already=already,
                                  open_count=open_count, by=by)
        else:
            ask = await _ask_chosen(ctx, uow, request, advocate_id, now, already=already,
                                    by=by, override_reason=override_reason,
                                    manager=actor.is_program_manager)
        await uow.commit()
        return ask


def _room_for_another_ask(request: ReferenceRequest, asks: list[Ask], now: datetime) -> int:
    """Refuse (in words the rep can act on) to ask for a request that cannot take another
    ask now; otherwise return how many of its asks are open."""
    require_askable(request)
    if past_needed_by(request, now):
        raise DomainError("request_needed_by_passed", request_id=request.id,
                          needed_by=request.needed_by)
    open_count = sum(1 for a in asks if a.state.is_open)
    if open_count >= request.parallel_asks:
        raise DomainError("request_asks_full", request_id=request.id, open_count=open_count)
    return open_count


async def _ask_best(ctx: ServiceContext, uow: UnitOfWork, request: ReferenceRequest,
                    now: datetime, *, already: set[int], open_count: int, by: str
                    ) -> Ask | None:
    """Ask the best-ranked advocate not asked yet; with nobody left and nothing open, the
    request is unfulfilled (``None``)."""
    result = await rank_request(ctx, uow, request, now, already_asked=already, top_n=1)
    if result.matches:
        return await create_ask(ctx, uow, request, result.matches[0].advocate, now,
                                rank=len(already) + 1, by=by, automatic=False)
    if open_count:
        raise DomainError("nobody_else_fits")
    await mark_unfulfilled(ctx, uow, request, now, reason="no_one_left",
                           rep_template="request_unfulfilled_rep", result=result, by=by)
    return None


async def _ask_chosen(ctx: ServiceContext, uow: UnitOfWork, request: ReferenceRequest,
                      advocate_id: int, now: datetime, *, already: set[int], by: str,
                      override_reason: str, manager: bool) -> Ask:
    """Ask the advocate the rep picked, unless a limit or a filter forbids it and no
    program manager overrode it. A rep picks among the matches they were shown; any other
    id gets the neutral refusal, so trying ids cannot reveal who is on the roster (a
    program manager may ask anyone)."""
    advocate = await uow.advocates.get_for_update(advocate_id)
    if advocate is None or not (manager or advocate_id in await _shown(uow, request)):
        raise NotFound("not_yours")  # an id the rep was never shown says nothing about whose
    if advocate_id in already:
        raise DomainError("advocate_already_asked", name=advocate.name)
    if advocate.status == AdvocateStatus.RETIRED:
        raise DomainError("advocate_left", name=advocate.name)
    reasons = await reasons_not_to_ask(ctx, uow, request, advocate, now)
    if reasons:
        if not override_reason:
            raise LimitReached(reasons, name=advocate.name)
        await audit(uow, now, by, "limit.override", f"advocate:{advocate_id}",
                    request_id=request.id, reasons=[r.to_json() for r in reasons],
                    reason=override_reason)
    # The rank among the matches the rep was shown; 0 = picked from outside them.
    # (Ranking only the top few keeps this fast on a 100k roster.)
    ranking = await rank_request(ctx, uow, request, now, already_asked=already,
                                 top_n=ctx.policy.matching.top_n)
    rank = next((i for i, m in enumerate(ranking.matches, 1)
                 if m.advocate.id == advocate_id), 0)
    return await create_ask(ctx, uow, request, advocate, now, rank=rank, by=by,
                            automatic=False, override_reason=override_reason if reasons else "")


async def _shown(uow: UnitOfWork, request: ReferenceRequest) -> set[int]:
    """The advocates the request's matches showed the rep (``request.matches_shown``)."""
    entries = await uow.audit.list(subject=f"request:{request.id}", limit=1000)
    return {int(advocate_id) for e in entries if e.action == "request.matches_shown"
            for advocate_id in e.detail.get("matches", ())}


async def _load_for_ask(uow: UnitOfWork, ask_id: int
                        ) -> tuple[ReferenceRequest, Ask, Advocate]:
    """Lock the request, then the ask, then the advocate: every service takes its locks in
    this order, so two transactions never wait on each other in a circle."""
    peek = await uow.asks.get(ask_id)
    if peek is None:
        raise NotFound("not_yours")
    request = await uow.requests.get_for_update(peek.request_id)
    ask = await uow.asks.get_for_update(ask_id)
    if request is None or ask is None:
        raise NotFound("not_yours")
    advocate = await uow.advocates.get_for_update(ask.advocate_id)
    if advocate is None:
        raise NotFound("not_yours")
    return request, ask, advocate


async def decide_approval(ctx: ServiceContext, actor: Actor, ask_id: int, approve: bool,
                          reason: str = "") -> Ask:
    """The account owner (or a program manager) lets the ask go to their customer, or not.

    A second click, or a second program manager deciding, finds the ask already decided and
    changes nothing. On approval the limits are checked again (the advocate may have been
    snoozed or filled up while the approval waited); on denial the reason stays in the
    audit log and the next advocate is asked.
    """
    now = ctx.now()
    async with ctx.uow() as uow:
        request, ask, advocate = await _load_for_ask(uow, ask_id)
        if not (actor.is_program_manager or is_account_owner(actor, advocate, ask.approver_email)):
            raise NotAllowed("not_yours")
        if ask.state != AskState.AWAITING_APPROVAL:
            return ask
        if approve:
            await _approve(ctx, uow, request, ask, advocate, now, actor)
        else:
            await _deny(ctx, uow, request, ask, advocate, now, actor, reason.strip())
        await uow.commit()
        return ask


async def _approve(ctx: ServiceContext, uow: UnitOfWork, request: ReferenceRequest, ask: Ask,
                   advocate: Advocate, now: datetime, actor: Actor) -> None:
    """Send the consent ask, unless the advocate reached a limit while the approval waited
    (then the ask is withdrawn and the next advocate asked)."""
    by, decider = actor_label(actor.person), person_name(actor.person)
    usage = await usage_of(uow, advocate, now)
    # This ask already reserves one of the advocate's open-ask slots.
    usage = replace(usage, open_asks=max(usage.open_asks - 1, 0))
    check = check_can_ask(advocate, usage, ctx.policy.limits, now)
    if not check.allowed and not ask.override_reason:
        await _withdraw_for_limits(uow, ask, check, now, by)
        await close_ask_messages(ctx, uow, ask, AskState.AWAITING_APPROVAL, advocate,
                                 request, now, template="ask_withdrawn",
                                 outcome="unavailable", decided_by=decider)
        await ask_next(ctx, uow, request, exclude={advocate.id or 0})
        return
    transition_ask(ask, AskState.PENDING, now)
    ask.approved_by = by
    ask.approved_at = now
    ask.expires_at = now + timedelta(hours=ctx.policy.ask_expiry_hours)
    await uow.asks.update(ask)
    await audit(uow, now, by, "ask.approved", f"ask:{ask.id}", request_id=request.id,
                advocate_id=advocate.id)
    await close_ask_messages(ctx, uow, ask, AskState.AWAITING_APPROVAL, advocate,
                             request, now, template="approval_closed",
                             outcome="approved", decided_by=decider)
    await send_ask(ctx, uow, request, advocate, ask, now)
    await tell_rep_ask_sent(uow, request, advocate, ask, now, automatic=False)
    await sync_request_state(uow, request, now, by=by)
    await uow.requests.update(request)


async def _deny(ctx: ServiceContext, uow: UnitOfWork, request: ReferenceRequest, ask: Ask,
                advocate: Advocate, now: datetime, actor: Actor, reason: str) -> None:
    """The customer is not asked; the rep hears so (not why) and the next advocate is."""
    by = actor_label(actor.person)
    transition_ask(ask, AskState.DENIED, now)
    ask.decline_reason = reason
    await uow.asks.update(ask)
    await audit(uow, now, by, "ask.denied", f"ask:{ask.id}", request_id=request.id,
                advocate_id=advocate.id, reason=reason)
    await close_ask_messages(ctx, uow, ask, AskState.AWAITING_APPROVAL, advocate,
                             request, now, template="approval_closed",
                             outcome="denied", decided_by=person_name(actor.person))
    await send(uow, now, rep_person(request), "approval_denied", {
        "request": request_context(request),
        "advocate": advocate_card(advocate),
        "timezone": rep_zone(request),
    }, key=f"approval_denied:{ask.id}")
    await ask_next(ctx, uow, request, exclude={advocate.id or 0})


async def _withdraw_for_limits(uow: UnitOfWork, ask: Ask, check: LimitCheck, now: datetime,
                               by: str) -> None:
    """Withdraw an ask the advocate's limits no longer allow, recording which ones."""
    transition_ask(ask, AskState.WITHDRAWN, now)
    ask.decline_reason = "; ".join(str(r) for r in check.reasons)  # codes: no chat reads it
    await uow.asks.update(ask)
    await audit(uow, now, by, "ask.withdrawn", f"ask:{ask.id}", why="limits",
                reasons=[r.to_json() for r in check.reasons])


# --- answering --------------------------------------------------------------------------------


async def answer_ask(ctx: ServiceContext, actor: Actor, ask_id: int, answer: Answer,
                     reason: str = "") -> Ask:
    """The advocate answers their ask: accept, decline (optional reason) or not now.

    Only the advocate themself may answer: consent cannot be given on someone's behalf,
    not even by a program manager. An ask that is no longer pending (a double click, an
    answer after expiry or withdrawal) comes back unchanged and nothing is sent.
    """
    if answer not in ("accept", "decline", "not_now"):
        raise UnknownAnswer("unknown_answer", answer=answer)
    now = ctx.now()
    async with ctx.uow() as uow:
        request, ask, advocate = await _load_for_ask(uow, ask_id)
        if not is_advocate(actor, advocate):
            raise NotAllowed("not_yours")
        if ask.state != AskState.PENDING:
            return ask
        by = actor_label(actor.person)
        if answer == "accept":
            await _accept(ctx, uow, request, ask, advocate, now, by)
        elif answer == "decline":
            await _decline(ctx, uow, request, ask, advocate, now, by, reason.strip())
        else:
            await _not_now(ctx, uow, request, ask, advocate, now, by)
        await uow.commit()
        return ask


async def _accept(ctx: ServiceContext, uow: UnitOfWork, request: ReferenceRequest, ask: Ask,
                  advocate: Advocate, now: datetime, by: str) -> None:
    """Record a yes, unless the limits forbid it now (checked with the advocate locked, in
    this very transaction, so two accepts can never both squeeze past a cap)."""
    if request.state not in ASKABLE_REQUEST_STATES:
        # Defensive: the request closed without withdrawing this ask.
        transition_ask(ask, AskState.WITHDRAWN, now)
        await uow.asks.update(ask)
        await audit(uow, now, by, "ask.withdrawn", f"ask:{ask.id}", why="request_closed",
                    request_state=request.state.value)
        await close_ask_messages(ctx, uow, ask, AskState.PENDING, advocate, request, now,
                                 template="ask_withdrawn", outcome="withdrawn",
                                 extra={"why": "cancelled"})
        return
    usage = await usage_of(uow, advocate, now)
    at = request.proposed_times[0] if request.proposed_times else None
    check = check_can_accept(advocate, usage, ctx.policy.limits, now, at=at)
    if not check.allowed and not ask.override_reason:
        await _withdraw_for_limits(uow, ask, check, now, by)
        await close_ask_messages(ctx, uow, ask, AskState.PENDING, advocate, request, now,
                                 template="ask_closed", outcome="closed",
                                 extra={"reasons": [r.to_json() for r in check.reasons],
                                        "until": iso(check.until)})
        await tell_rep_no(uow, request, advocate, ask, now, answer="unavailable")
        await ask_next(ctx, uow, request, exclude={advocate.id or 0})
        return
    if not check.allowed:
        await audit(uow, now, by, "limit.override", f"advocate:{advocate.id}",
                    request_id=request.id, reasons=[r.to_json() for r in check.reasons],
                    reason=ask.override_reason, at="accept")
    transition_ask(ask, AskState.ACCEPTED, now)
    await uow.asks.update(ask)
    engagement = await uow.engagements.add(Engagement(
        request_id=request.id or 0,
        advocate_id=advocate.id or 0,
        ask_id=ask.id or 0,
        reference_type=request.reference_type,
        accepted_at=now,
        duration_minutes=request.call_length_minutes,
    ))
    await audit(uow, now, by, "ask.accepted", f"ask:{ask.id}", request_id=request.id,
                advocate_id=advocate.id, engagement_id=engagement.id)
    await audit(uow, now, by, "engagement.accepted", f"engagement:{engagement.id}",
                request_id=request.id, advocate_id=advocate.id, ask_id=ask.id)
    await move_request(uow, request, RequestState.ACCEPTED, now, by=by,
                       advocate_id=advocate.id)
    await uow.requests.update(request)
    await withdraw_open_asks(ctx, uow, request, now, why="filled", by=by, keep=ask.id)
    await _announce_acceptance(ctx, uow, request, ask, advocate, engagement, now)


async def _announce_acceptance(ctx: ServiceContext, uow: UnitOfWork, request: ReferenceRequest,
                               ask: Ask, advocate: Advocate, engagement: Engagement,
                               now: datetime) -> None:
    """The ask loses its buttons, the rep gets the advocate's contact details (consent is
    given now), and the advocate is asked to pick a time when there is a call to book."""
    await close_ask_messages(ctx, uow, ask, AskState.PENDING, advocate, request, now,
                             template="ask_answered", outcome="accepted",
                             extra={"snoozed_until": None, "engagement_id": engagement.id})
    await send(uow, now, rep_person(request), "ask_accepted", {
        "request": request_context(request),
        "advocate": advocate_contact(advocate),
        "engagement_id": engagement.id,
        "timezone": rep_zone(request),
    }, key=f"ask_accepted:{ask.id}")
    if request.reference_type.needs_call_time or request.proposed_times:
        await send(uow, now, advocate_person(advocate), "pick_time", {
            "engagement_id": engagement.id,
            "ask_id": ask.id,
            "advocate_name": advocate.name,
            "rep_name": person_name(request.rep),
            "rep_email": request.rep.email or "",
            "request": request_context_for_advocate(
                request, show_prospect_name=ctx.policy.show_prospect_name),
            **await offer_times(ctx, uow, request, advocate, now,
                                minutes=request.call_length_minutes),
            "needed_by": request.needed_by.isoformat(),
            "call_length_minutes": request.call_length_minutes,
            "timezone": advocate.timezone or "UTC",
        }, key=pick_time_key(engagement.id))


async def _decline(ctx: ServiceContext, uow: UnitOfWork, request: ReferenceRequest, ask: Ask,
                   advocate: Advocate, now: datetime, by: str, reason: str) -> None:
    """A no. The reason is kept for program managers (audit), not forwarded to the rep; a
    streak of declines snoozes the advocate (docs/product.md, "Burnout limits")."""
    transition_ask(ask, AskState.DECLINED, now)
    ask.decline_reason = reason
    await uow.asks.update(ask)
    await audit(uow, now, by, "ask.declined", f"ask:{ask.id}", request_id=request.id,
                advocate_id=advocate.id, reason=reason)
    usage = await usage_of(uow, advocate, now)
    until = decline_snooze_until(usage, ctx.policy.limits, now)
    if until is not None:
        await _snooze(uow, advocate, until, now, by, why="decline_streak")
    await close_ask_messages(ctx, uow, ask, AskState.PENDING, advocate, request, now,
                             template="ask_answered", outcome="declined",
                             extra={"snoozed_until": iso(until), "engagement_id": None})
    await tell_rep_no(uow, request, advocate, ask, now, answer="decline")
    await ask_next(ctx, uow, request, exclude={advocate.id or 0})


async def _not_now(ctx: ServiceContext, uow: UnitOfWork, request: ReferenceRequest, ask: Ask,
                   advocate: Advocate, now: datetime, by: str) -> None:
    """"Not now" ends this ask and rests the advocate for a while; it is not a decline and
    does not count toward the decline streak."""
    transition_ask(ask, AskState.SNOOZED, now)
    await uow.asks.update(ask)
    await audit(uow, now, by, "ask.snoozed", f"ask:{ask.id}", request_id=request.id,
                advocate_id=advocate.id)
    until = now + timedelta(days=ctx.policy.not_now_snooze_days)
    await _snooze(uow, advocate, until, now, by, why="not_now")
    await close_ask_messages(ctx, uow, ask, AskState.PENDING, advocate, request, now,
                             template="ask_answered", outcome="snoozed",
                             extra={"snoozed_until": iso(advocate.snoozed_until),
                                     "engagement_id": None})
    await tell_rep_no(uow, request, advocate, ask, now, answer="not_now")
    await ask_next(ctx, uow, request, exclude={advocate.id or 0})


async def _snooze(uow: UnitOfWork, advocate: Advocate, until: datetime, now: datetime,
                  by: str, *, why: str) -> None:
    """Snooze until ``until``, never shortening a longer snooze already in place."""
    if advocate.snoozed_until is not None and advocate.snoozed_until >= until:
        return
    advocate.snoozed_until = until
    await uow.advocates.update(advocate)
    await audit(uow, now, by, "advocate.snoozed", f"advocate:{advocate.id}", why=why,
                until=until.isoformat())


# --- the expiry sweep -------------------------------------------------------------------------


async def expire_asks(ctx: ServiceContext, *, batch: int = 100) -> int:
    """Expire every open ask past its deadline and ask the next advocate; returns how many.

    Each ask is closed in its own unit of work, so one that fails (and is retried by the
    next sweep) does not hold back the rest. Failures are raised together at the end, so
    the scheduler reports them instead of them vanishing into a log.
    """
    now = ctx.now()
    expired = 0
    seen: set[int] = set()
    failures: list[Exception] = []
    while True:
        async with ctx.uow() as uow:
            due = [a.id for a in await uow.asks.list_expired(now, limit=batch + len(seen))
                   if a.id is not None and a.id not in seen]
        if not due:
            break
        for ask_id in due[:batch]:
            seen.add(ask_id)
            try:
                if await _expire_one(ctx, ask_id, now):
                    expired += 1
            except Exception as error:  # isolated per ask; re-raised below
                log.exception("could not expire ask %s", ask_id)
                failures.append(error)
    if failures:
        raise ExceptionGroup(
            f"{len(failures)} expired ask(s) could not be closed ({expired} were)", failures
        )
    return expired


async def _expire_one(ctx: ServiceContext, ask_id: int, now: datetime) -> bool:
    async with ctx.uow() as uow:
        request, ask, advocate = await _load_for_ask(uow, ask_id)
        if not ask.state.is_open or ask.expires_at is None or ask.expires_at > now:
            return False  # answered or already swept by another replica meanwhile
        was = ask.state
        transition_ask(ask, AskState.EXPIRED, now)
        await uow.asks.update(ask)
        await audit(uow, now, SYSTEM, "ask.expired", f"ask:{ask.id}", request_id=request.id,
                    advocate_id=advocate.id, was=was.value)
        await close_ask_messages(ctx, uow, ask, was, advocate, request, now,
                                 template="ask_expired", outcome="expired")
        await send(uow, now, rep_person(request), "ask_unanswered", {
            "request": request_context(request),
            "advocate": advocate_card(advocate),
            "awaiting_approval": was == AskState.AWAITING_APPROVAL,
            "expiry_hours": ctx.policy.ask_expiry_hours,
            "timezone": rep_zone(request),
        }, key=f"ask_unanswered:{ask.id}")
        await ask_next(ctx, uow, request, exclude={advocate.id or 0})
        await uow.commit()
        return True



__all__ = [
    "Answer",
    "UnknownAnswer",
    "answer_ask",
    "ask_advocate",
    "decide_approval",
    "expire_asks",
]
