"""Asking advocates for consent: the ask, the optional approval, the answer, the cascade.

This is where the program keeps its two promises to advocates (PRODUCT.md): nobody is
asked past their burnout limits, and nobody's contact details reach a rep before they
said yes. So the limits are re-checked at every step that could break them (when asking,
when an approval arrives, and when accepting, with the advocate locked in the same unit
of work that records the engagement), and the contexts built for reps before consent
carry names and companies only.

Every state change is audited and every message is queued in the outbox of the unit of
work that makes the change, so a message is sent exactly when its change commits.
Advocates' messages get stable keys (``ask_key``) so that later updates replace them in
place: an answered ask loses its buttons instead of lingering as a second message.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from bot.domain.errors import DomainError, LimitReached, NotAllowed, NotFound
from bot.domain.lifecycle import transition_ask, transition_request
from bot.domain.limits import check_can_accept, check_can_ask, decline_snooze_until
from bot.domain.matching import MatchResult, rank_advocates
from bot.domain.model import (
    Actor,
    Advocate,
    AdvocateStatus,
    Ask,
    AskState,
    Engagement,
    EngagementState,
    Person,
    ReferenceRequest,
    RequestState,
    Usage,
)
from bot.ports import UnitOfWork
from bot.services.context import ServiceContext, actor_label, audit, send
from bot.services.roles import (
    NOT_YOURS,
    advocate_person,
    is_account_owner,
    is_advocate,
    manager_people,
    require_owner_or_manager,
)

log = logging.getLogger(__name__)

SYSTEM = "system"  # the audit actor of scheduled sweeps and automatic cascades
USAGE_WINDOW = timedelta(days=365)  # the longest limit window; older engagements never count
ALL = 1_000_000  # "every match", for ``rank_advocates(top_n=...)`` (None means the policy's)

Answer = Literal["accept", "decline", "not_now"]
ALREADY_ASKED = "already asked for this request"  # the matcher's words; listed separately

# Request states in which asking another advocate makes sense.
ASKABLE_REQUEST_STATES = frozenset(
    {RequestState.MATCHING, RequestState.AWAITING_APPROVAL, RequestState.ASKING}
)


class UnknownAnswer(DomainError):
    """A button sent an answer this version does not know (an old message, a forged value)."""


# --- message keys (other services may replace these messages) ---------------------------


def ask_key(ask_id: int | None) -> str:
    """The key of the consent ask sent to the advocate; updates use ``replaces=ask_key``."""
    return f"ask:{ask_id}"


def approval_key(ask_id: int | None, approver_email: str) -> str:
    """The key of the approval ask sent to one approver (owner or program manager)."""
    return f"approval:{ask_id}:{approver_email.strip().lower()}"


def pick_time_key(engagement_id: int | None) -> str:
    """The key of the "pick a time" message, so scheduling can replace it once answered."""
    return f"pick_time:{engagement_id}"


# --- contexts ---------------------------------------------------------------------------


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


def exclusion_summary(result: MatchResult | None, *, limit: int = 5) -> list[dict[str, Any]]:
    """Why the roster did not fit, most common reasons first, without naming anybody.
    Those already asked are left out: the messages list them with their answers."""
    if result is None:
        return []
    counts = Counter(reason for e in result.excluded for reason in e.reasons
                     if reason != ALREADY_ASKED)
    return [{"reason": reason, "count": count} for reason, count in counts.most_common(limit)]


# --- ranking and request state ----------------------------------------------------------


async def rank_request(ctx: ServiceContext, uow: UnitOfWork, request: ReferenceRequest,
                       now: datetime, *, already_asked: Collection[int] = (),
                       top_n: int = ALL) -> MatchResult:
    """Rank the active roster for ``request`` with the usage committed so far."""
    advocates = await uow.advocates.list(status=AdvocateStatus.ACTIVE)
    usage = await uow.advocates.usage([a.id for a in advocates if a.id is not None],
                                      since=now - USAGE_WINDOW)
    return rank_advocates(request, advocates, usage, ctx.policy.matching, ctx.policy.limits,
                          now, already_asked=already_asked, top_n=top_n)


async def _usage_of(uow: UnitOfWork, advocate: Advocate, now: datetime) -> Usage:
    assert advocate.id is not None
    return (await uow.advocates.usage([advocate.id], since=now - USAGE_WINDOW))[advocate.id]


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


async def _sync_request_state(uow: UnitOfWork, request: ReferenceRequest, now: datetime, *,
                              by: str) -> None:
    """A request is "asking" while an advocate holds an ask, and "awaiting approval" while
    its only open asks wait for an approver (the next advocate in line may need approval
    when the last did not, so the two alternate)."""
    states = {a.state for a in await uow.asks.list_for_request(request.id or 0)}
    if AskState.PENDING in states:
        await move_request(uow, request, RequestState.ASKING, now, by=by)
    elif AskState.AWAITING_APPROVAL in states:
        await move_request(uow, request, RequestState.AWAITING_APPROVAL, now, by=by)


async def colleague(ctx: ServiceContext, uow: UnitOfWork, email: str) -> Person:
    """A colleague addressed by email, in their own chat time zone when the bot has met
    them, else in the program's."""
    for known in await uow.people.find_by_email(email):
        if known.timezone:
            return Person(email=email, display_name=known.display_name,
                          timezone=known.timezone)
    return Person(email=email, timezone=ctx.program_timezone)


async def _managers(ctx: ServiceContext, uow: UnitOfWork) -> list[Person]:
    return [await colleague(ctx, uow, pm.email or "") for pm in manager_people(ctx)]


async def _approvers(ctx: ServiceContext, uow: UnitOfWork, ask: Ask) -> list[Person]:
    """Who holds the approval: the account owner it was sent to, else the program managers."""
    if ask.approver_email:
        return [await colleague(ctx, uow, ask.approver_email)]
    return await _managers(ctx, uow)


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
    for pm in await _managers(ctx, uow):
        await send(uow, now, pm, "request_unfulfilled",
                   {**base, "timezone": pm.timezone or ctx.program_timezone,
                    "rep_email": request.rep.email or ""},
                   key=f"request_unfulfilled:{request.id}:{pm.email}")


# --- creating an ask ----------------------------------------------------------------------


async def _create_ask(ctx: ServiceContext, uow: UnitOfWork, request: ReferenceRequest,
                      advocate: Advocate, now: datetime, *, rank: int, by: str,
                      automatic: bool, override_reason: str = "") -> Ask:
    """Create the ask (or the approval ask first), queue its messages and move the request.

    The caller has already decided the advocate may be asked.
    """
    assert advocate.id is not None and request.id is not None
    policy = ctx.policy
    needs_approval = policy.require_approval and bool(
        advocate.account_owner_email or ctx.program_managers)
    if policy.require_approval and not needs_approval:
        # Nobody could ever approve; waiting would only let the ask expire unseen.
        await audit(uow, now, by, "approval.skipped", f"request:{request.id}",
                    advocate_id=advocate.id, why="no account owner and no program manager")
    ask = Ask(
        request_id=request.id,
        advocate_id=advocate.id,
        rank=rank,
        created_at=now,
        expires_at=now + timedelta(hours=policy.ask_expiry_hours),
        state=AskState.AWAITING_APPROVAL if needs_approval else AskState.PENDING,
        approver_email=(advocate.account_owner_email or None) if needs_approval else None,
        override_reason=override_reason,
    )
    ask = await uow.asks.add(ask)
    await audit(uow, now, by, "ask.created", f"ask:{ask.id}", request_id=request.id,
                advocate_id=advocate.id, rank=rank, state=ask.state.value,
                automatic=automatic)
    if needs_approval:
        await _send_approval_request(ctx, uow, request, advocate, ask, now)
    else:
        await _send_ask(ctx, uow, request, advocate, ask, now)
    await _tell_rep_ask_sent(uow, request, advocate, ask, now, automatic=automatic)
    await _sync_request_state(uow, request, now, by=by)
    await uow.requests.update(request)
    return ask


async def _send_ask(ctx: ServiceContext, uow: UnitOfWork, request: ReferenceRequest,
                    advocate: Advocate, ask: Ask, now: datetime) -> None:
    """The consent ask itself, in the advocate's time zone."""
    await send(uow, now, advocate_person(advocate), "ask", {
        "ask_id": ask.id,
        "advocate_name": advocate.name,
        "timezone": advocate.timezone or "UTC",
        "request": request_context_for_advocate(
            request, show_prospect_name=ctx.policy.show_prospect_name),
        "expires_at": iso(ask.expires_at),
        "not_now_snooze_days": ctx.policy.not_now_snooze_days,
    }, key=ask_key(ask.id))


async def _send_approval_request(ctx: ServiceContext, uow: UnitOfWork,
                                 request: ReferenceRequest, advocate: Advocate, ask: Ask,
                                 now: datetime) -> None:
    """The account owner (or each program manager) decides whether the customer is asked.
    They are colleagues, so they see the prospect; the advocate's details stay name-only."""
    for approver in await _approvers(ctx, uow, ask):
        assert approver.email is not None
        await send(uow, now, approver, "approval_request", {
            "ask_id": ask.id,
            "as_account_owner": bool(ask.approver_email),
            "advocate": advocate_card(advocate),
            "request": request_context(request),
            "rep_name": person_name(request.rep),
            "expires_at": iso(ask.expires_at),
            "timezone": approver.timezone or ctx.program_timezone,
        }, key=approval_key(ask.id, approver.email))


async def _tell_rep_ask_sent(uow: UnitOfWork, request: ReferenceRequest, advocate: Advocate,
                             ask: Ask, now: datetime, *, automatic: bool) -> None:
    await send(uow, now, rep_person(request), "ask_sent", {
        "request": request_context(request),
        "advocate": advocate_card(advocate),
        "awaiting_approval": ask.state == AskState.AWAITING_APPROVAL,
        "automatic": automatic,
        "expires_at": iso(ask.expires_at),
        "timezone": rep_zone(request),
    }, key=f"ask_sent:{ask.id}:{ask.state.value}")


async def _close_ask_messages(ctx: ServiceContext, uow: UnitOfWork, ask: Ask, was: AskState,
                              advocate: Advocate, request: ReferenceRequest, now: datetime, *,
                              template: str, outcome: str, decided_by: str = "",
                              extra: dict[str, Any] | None = None) -> None:
    """Replace what the closed ask left on people's screens, so no stale buttons remain.

    ``was`` is the ask's state before it closed: an ask closed while awaiting approval only
    ever reached the approvers (their message is replaced with ``approval_closed``); one
    closed while pending sits in the advocate's DM (replaced with ``template``).
    """
    if was == AskState.AWAITING_APPROVAL:
        for approver in await _approvers(ctx, uow, ask):
            assert approver.email is not None
            key = approval_key(ask.id, approver.email)
            await send(uow, now, approver, "approval_closed", {
                "ask_id": ask.id,
                "outcome": outcome,
                "decided_by": decided_by,
                "advocate": advocate_card(advocate),
                "request": request_context(request),
                "timezone": approver.timezone or ctx.program_timezone,
            }, key=f"{key}:{outcome}", replaces=key)
        return
    await send(uow, now, advocate_person(advocate), template, {
        "ask_id": ask.id,
        "advocate_name": advocate.name,
        "outcome": outcome,
        "request": request_context_for_advocate(
            request, show_prospect_name=ctx.policy.show_prospect_name),
        "timezone": advocate.timezone or "UTC",
        **(extra or {}),
    }, key=f"{ask_key(ask.id)}:{outcome}", replaces=ask_key(ask.id))


async def withdraw_open_asks(ctx: ServiceContext, uow: UnitOfWork, request: ReferenceRequest,
                             now: datetime, *, why: Literal["filled", "cancelled"], by: str,
                             keep: int | None = None) -> list[Ask]:
    """Withdraw every open ask of ``request`` (but ``keep``), telling each advocate (or
    approver) in place that nothing is needed from them any more."""
    withdrawn: list[Ask] = []
    for ask in await uow.asks.list_for_request(request.id or 0):
        if not ask.state.is_open or ask.id == keep:
            continue
        was = ask.state
        transition_ask(ask, AskState.WITHDRAWN, now)
        await uow.asks.update(ask)
        await audit(uow, now, by, "ask.withdrawn", f"ask:{ask.id}", request_id=request.id,
                    advocate_id=ask.advocate_id, why=why)
        advocate = await uow.advocates.get(ask.advocate_id)
        if advocate is not None:
            await _close_ask_messages(ctx, uow, ask, was, advocate, request, now,
                                      template="ask_withdrawn", outcome="withdrawn",
                                      extra={"why": why})
        withdrawn.append(ask)
    return withdrawn


def _past_needed_by(request: ReferenceRequest, now: datetime) -> bool:
    """``needed_by`` is a day on the rep's calendar; it is over when that day has ended
    where the rep is."""
    try:
        zone = ZoneInfo(request.timezone or "UTC")
    except (KeyError, ValueError, OSError):
        zone = ZoneInfo("UTC")
    return now.astimezone(zone).date() > request.needed_by


def _require_askable(request: ReferenceRequest) -> None:
    if request.state in ASKABLE_REQUEST_STATES:
        return
    if request.state == RequestState.OPEN:
        raise DomainError(f"Request #{request.id} is still being matched; try again shortly.")
    raise DomainError(
        f"Request #{request.id} is {request.state.value.replace('_', ' ')}, so no more "
        "advocates can be asked for it."
    )


# --- the cascade ----------------------------------------------------------------------------


async def ask_next(ctx: ServiceContext, uow: UnitOfWork, request: ReferenceRequest, *,
                   exclude: Collection[int] = (), by: str = SYSTEM) -> list[Ask]:
    """Fill the request's free ask slots with the next-ranked eligible advocates.

    Called after an ask ends without a yes (decline, not now, expiry, denial, a limit at
    accept time) and for "ask the best available". Nobody is asked twice for a request.
    When nobody is left and no ask is still open, or ``needed_by`` has passed, the request
    is unfulfilled and the rep and program managers are told. Runs inside the caller's
    unit of work; returns the asks it created.
    """
    now = ctx.now()
    if request.state not in ASKABLE_REQUEST_STATES:
        return []
    asks = await uow.asks.list_for_request(request.id or 0)
    open_asks = [a for a in asks if a.state.is_open]
    if _past_needed_by(request, now):
        if not open_asks:
            await mark_unfulfilled(ctx, uow, request, now, reason="needed_by_passed",
                                   rep_template="request_unfulfilled_rep", by=by)
        return []
    slots = request.parallel_asks - len(open_asks)
    if slots <= 0:
        return []
    already = {a.advocate_id for a in asks} | set(exclude)
    result = await rank_request(ctx, uow, request, now, already_asked=already, top_n=slots)
    created = [
        await _create_ask(ctx, uow, request, match.advocate, now, rank=len(already) + position,
                          by=by, automatic=True)
        for position, match in enumerate(result.matches, 1)
    ]
    if not created and not open_asks:
        await mark_unfulfilled(ctx, uow, request, now, reason="no_one_left",
                               rep_template="request_unfulfilled_rep", result=result, by=by)
    return created


# --- use cases --------------------------------------------------------------------------------


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
        raise NotAllowed("Sorry, only a program manager can override an advocate's limits.")
    async with ctx.uow() as uow:
        request = await uow.requests.get_for_update(request_id)
        if request is None:
            raise NotFound(NOT_YOURS)
        require_owner_or_manager(actor, request, "ask advocates for it")
        _require_askable(request)
        if _past_needed_by(request, now):
            raise DomainError(f"Request #{request_id} was needed by {request.needed_by}, "
                              "which has passed; cancel it or open a new one.")
        asks = await uow.asks.list_for_request(request_id)
        open_count = sum(1 for a in asks if a.state.is_open)
        if open_count >= request.parallel_asks:
            raise DomainError(
                f"Request #{request_id} already has {open_count} open "
                f"ask{'s' if open_count != 1 else ''}; wait for an answer (or cancel the "
                "request) before asking someone else."
            )
        already = {a.advocate_id for a in asks}
        by = actor_label(actor.person)
        if advocate_id is None:
            result = await rank_request(ctx, uow, request, now, already_asked=already, top_n=1)
            if not result.matches:
                if open_count:
                    raise DomainError("Nobody else fits this request right now; the open "
                                      "ask is still waiting for an answer.")
                await mark_unfulfilled(ctx, uow, request, now, reason="no_one_left",
                                       rep_template="request_unfulfilled_rep", result=result,
                                       by=by)
                await uow.commit()
                return None
            ask = await _create_ask(ctx, uow, request, result.matches[0].advocate, now,
                                    rank=len(already) + 1, by=by, automatic=False)
        else:
            advocate = await uow.advocates.get_for_update(advocate_id)
            if advocate is None:
                raise NotFound(NOT_YOURS)
            if advocate_id in already:
                raise DomainError(f"{advocate.name} has already been asked for this request.")
            if advocate.status == AdvocateStatus.RETIRED:
                raise DomainError(f"{advocate.name} has left the program and cannot be asked.")
            reasons = await _reasons_not_to_ask(ctx, uow, request, advocate, now)
            if reasons:
                if not override_reason:
                    raise LimitReached(reasons)
                await audit(uow, now, by, "limit.override", f"advocate:{advocate_id}",
                            request_id=request_id, reasons=reasons, reason=override_reason)
            # The rank among the matches the rep was shown; 0 = picked from outside them.
            # (Ranking only the top few keeps this fast on a 100k roster.)
            ranking = await rank_request(ctx, uow, request, now, already_asked=already,
                                         top_n=ctx.policy.matching.top_n)
            rank = next((i for i, m in enumerate(ranking.matches, 1)
                         if m.advocate.id == advocate_id), 0)
            ask = await _create_ask(ctx, uow, request, advocate, now, rank=rank, by=by,
                                    automatic=False,
                                    override_reason=override_reason if reasons else "")
        await uow.commit()
        return ask


async def _reasons_not_to_ask(ctx: ServiceContext, uow: UnitOfWork, request: ReferenceRequest,
                              advocate: Advocate, now: datetime) -> list[str]:
    """Every reason this advocate may not be asked for this request now: the burnout
    limits and the matcher's hard filters (type, language, prospect conflicts, cautions)."""
    assert advocate.id is not None
    usage = await _usage_of(uow, advocate, now)
    reasons = list(check_can_ask(advocate, usage, ctx.policy.limits, now).reasons)
    alone = rank_advocates(request, [advocate], {advocate.id: usage}, ctx.policy.matching,
                           ctx.policy.limits, now, top_n=1)
    for exclusion in alone.excluded:
        reasons.extend(r for r in exclusion.reasons if r not in reasons)
    return reasons


async def _load_for_ask(uow: UnitOfWork, ask_id: int
                        ) -> tuple[ReferenceRequest, Ask, Advocate]:
    """Lock the request, then the ask, then the advocate: every service takes its locks in
    this order, so two transactions never wait on each other in a circle."""
    peek = await uow.asks.get(ask_id)
    if peek is None:
        raise NotFound(NOT_YOURS)
    request = await uow.requests.get_for_update(peek.request_id)
    ask = await uow.asks.get_for_update(ask_id)
    if request is None or ask is None:
        raise NotFound(NOT_YOURS)
    advocate = await uow.advocates.get_for_update(ask.advocate_id)
    if advocate is None:
        raise NotFound(NOT_YOURS)
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
            raise NotAllowed(NOT_YOURS)
        if ask.state != AskState.AWAITING_APPROVAL:
            return ask
        by = actor_label(actor.person)
        decider = person_name(actor.person)
        if approve:
            usage = await _usage_of(uow, advocate, now)
            # This ask already reserves one of the advocate's open-ask slots.
            usage = replace(usage, open_asks=max(usage.open_asks - 1, 0))
            check = check_can_ask(advocate, usage, ctx.policy.limits, now)
            if not check.allowed and not ask.override_reason:
                transition_ask(ask, AskState.WITHDRAWN, now)
                ask.decline_reason = "; ".join(check.reasons)
                await uow.asks.update(ask)
                await audit(uow, now, by, "ask.withdrawn", f"ask:{ask.id}", why="limits",
                            reasons=list(check.reasons))
                await _close_ask_messages(ctx, uow, ask, AskState.AWAITING_APPROVAL, advocate,
                                          request, now, template="ask_withdrawn",
                                          outcome="unavailable", decided_by=decider)
                await ask_next(ctx, uow, request, exclude={advocate.id or 0})
                await uow.commit()
                return ask
            transition_ask(ask, AskState.PENDING, now)
            ask.approved_by = by
            ask.approved_at = now
            ask.expires_at = now + timedelta(hours=ctx.policy.ask_expiry_hours)
            await uow.asks.update(ask)
            await audit(uow, now, by, "ask.approved", f"ask:{ask.id}", request_id=request.id,
                        advocate_id=advocate.id)
            await _close_ask_messages(ctx, uow, ask, AskState.AWAITING_APPROVAL, advocate,
                                      request, now, template="approval_closed",
                                      outcome="approved", decided_by=decider)
            await _send_ask(ctx, uow, request, advocate, ask, now)
            await _tell_rep_ask_sent(uow, request, advocate, ask, now, automatic=False)
            await _sync_request_state(uow, request, now, by=by)
            await uow.requests.update(request)
        else:
            transition_ask(ask, AskState.DENIED, now)
            ask.decline_reason = reason.strip()
            await uow.asks.update(ask)
            await audit(uow, now, by, "ask.denied", f"ask:{ask.id}", request_id=request.id,
                        advocate_id=advocate.id, reason=reason.strip())
            await _close_ask_messages(ctx, uow, ask, AskState.AWAITING_APPROVAL, advocate,
                                      request, now, template="approval_closed",
                                      outcome="denied", decided_by=decider)
            await send(uow, now, rep_person(request), "approval_denied", {
                "request": request_context(request),
                "advocate": advocate_card(advocate),
                "timezone": rep_zone(request),
            }, key=f"approval_denied:{ask.id}")
            await ask_next(ctx, uow, request, exclude={advocate.id or 0})
        await uow.commit()
        return ask


async def answer_ask(ctx: ServiceContext, actor: Actor, ask_id: int, answer: Answer,
                     reason: str = "") -> Ask:
    """The advocate answers their ask: accept, decline (optional reason) or not now.

    Only the advocate themself may answer: consent cannot be given on someone's behalf,
    not even by a program manager. An ask that is no longer pending (a double click, an
    answer after expiry or withdrawal) comes back unchanged and nothing is sent.
    """
    if answer not in ("accept", "decline", "not_now"):
        raise UnknownAnswer(f"Unknown answer {answer!r}.")
    now = ctx.now()
    async with ctx.uow() as uow:
        request, ask, advocate = await _load_for_ask(uow, ask_id)
        if not is_advocate(actor, advocate):
            raise NotAllowed(NOT_YOURS)
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
        await _close_ask_messages(ctx, uow, ask, AskState.PENDING, advocate, request, now,
                                  template="ask_withdrawn", outcome="withdrawn",
                                  extra={"why": "cancelled"})
        return
    usage = await _usage_of(uow, advocate, now)
    at = request.proposed_times[0] if request.proposed_times else None
    check = check_can_accept(advocate, usage, ctx.policy.limits, now, at=at)
    if not check.allowed and not ask.override_reason:
        transition_ask(ask, AskState.WITHDRAWN, now)
        ask.decline_reason = "; ".join(check.reasons)
        await uow.asks.update(ask)
        await audit(uow, now, by, "ask.withdrawn", f"ask:{ask.id}", why="limits",
                    reasons=list(check.reasons))
        await _close_ask_messages(ctx, uow, ask, AskState.PENDING, advocate, request, now,
                                  template="ask_closed", outcome="closed",
                                  extra={"reasons": list(check.reasons),
                                         "until": iso(check.until)})
        await _tell_rep_no(uow, request, advocate, ask, now, answer="unavailable")
        await ask_next(ctx, uow, request, exclude={advocate.id or 0})
        return
    if not check.allowed:
        await audit(uow, now, by, "limit.override", f"advocate:{advocate.id}",
                    request_id=request.id, reasons=list(check.reasons),
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
    await _close_ask_messages(ctx, uow, ask, AskState.PENDING, advocate, request, now,
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
            "proposed_times": [iso(t) for t in request.proposed_times],
            "call_length_minutes": request.call_length_minutes,
            "timezone": advocate.timezone or "UTC",
        }, key=pick_time_key(engagement.id))


async def _decline(ctx: ServiceContext, uow: UnitOfWork, request: ReferenceRequest, ask: Ask,
                   advocate: Advocate, now: datetime, by: str, reason: str) -> None:
    """A no. The reason is kept for program managers (audit), not forwarded to the rep; a
    streak of declines snoozes the advocate (PRODUCT.md: 2 in a row → 30 days)."""
    transition_ask(ask, AskState.DECLINED, now)
    ask.decline_reason = reason
    await uow.asks.update(ask)
    await audit(uow, now, by, "ask.declined", f"ask:{ask.id}", request_id=request.id,
                advocate_id=advocate.id, reason=reason)
    usage = await _usage_of(uow, advocate, now)
    until = decline_snooze_until(usage, ctx.policy.limits, now)
    if until is not None:
        await _snooze(uow, advocate, until, now, by, why="decline_streak")
    await _close_ask_messages(ctx, uow, ask, AskState.PENDING, advocate, request, now,
                              template="ask_answered", outcome="declined",
                              extra={"snoozed_until": iso(until), "engagement_id": None})
    await _tell_rep_no(uow, request, advocate, ask, now, answer="decline")
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
    await _close_ask_messages(ctx, uow, ask, AskState.PENDING, advocate, request, now,
                              template="ask_answered", outcome="snoozed",
                              extra={"snoozed_until": iso(advocate.snoozed_until),
                                     "engagement_id": None})
    await _tell_rep_no(uow, request, advocate, ask, now, answer="not_now")
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


async def _tell_rep_no(uow: UnitOfWork, request: ReferenceRequest, advocate: Advocate,
                       ask: Ask, now: datetime, *,
                       answer: Literal["decline", "not_now", "unavailable"]) -> None:
    """The rep learns the advocate is not available, never why (that stays with them)."""
    await send(uow, now, rep_person(request), "ask_declined", {
        "request": request_context(request),
        "advocate": advocate_card(advocate),
        "answer": answer,
        "timezone": rep_zone(request),
    }, key=f"ask_declined:{ask.id}")


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
        await _close_ask_messages(ctx, uow, ask, was, advocate, request, now,
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


def engagement_is_live(engagement: Engagement | None) -> bool:
    """An engagement the cancellation of its request must end."""
    return engagement is not None and engagement.state in (
        EngagementState.ACCEPTED, EngagementState.PROPOSED, EngagementState.SCHEDULED)


__all__ = [
    "ASKABLE_REQUEST_STATES",
    "Answer",
    "UnknownAnswer",
    "advocate_card",
    "advocate_contact",
    "answer_ask",
    "approval_key",
    "ask_advocate",
    "ask_key",
    "ask_next",
    "colleague",
    "decide_approval",
    "engagement_is_live",
    "expire_asks",
    "iso",
    "mark_unfulfilled",
    "move_request",
    "person_name",
    "pick_time_key",
    "rank_request",
    "rep_person",
    "rep_zone",
    "request_context",
    "request_context_for_advocate",
    "withdraw_open_asks",
]
