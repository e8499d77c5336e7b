"""The cascade: who holds the request's asks, one after another, until someone says yes.

An ask is created for the advocate the rep chose or, automatically, for the next-ranked
eligible advocate whenever an ask ends without a yes (decline, not now, expiry, denial, a
limit reached at accept time). Nobody is asked twice for a request, and at most
``parallel_asks`` asks are open at once. When nobody is left and no ask is open, or the
``needed_by`` day has passed, the request is closed as unfulfilled. Everything here runs
inside the caller's unit of work.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Literal

from bot.domain.lifecycle import transition_ask
from bot.domain.model import Advocate, Ask, AskState, ReferenceRequest
from bot.ports import UnitOfWork
from bot.services.ask_messages import (
    close_ask_messages,
    send_approval_request,
    send_ask,
    tell_rep_ask_sent,
)
from bot.services.context import ServiceContext, audit
from bot.services.ranking import rank_request
from bot.services.request_progress import (
    ASKABLE_REQUEST_STATES,
    SYSTEM,
    mark_unfulfilled,
    past_needed_by,
    sync_request_state,
)


async def create_ask(ctx: ServiceContext, uow: UnitOfWork, request: ReferenceRequest,
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
        await send_approval_request(ctx, uow, request, advocate, ask, now)
    else:
        await send_ask(ctx, uow, request, advocate, ask, now)
    await tell_rep_ask_sent(uow, request, advocate, ask, now, automatic=automatic)
    await sync_request_state(uow, request, now, by=by)
    await uow.requests.update(request)
    return ask


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
            await close_ask_messages(ctx, uow, ask, was, advocate, request, now,
                                     template="ask_withdrawn", outcome="withdrawn",
                                     extra={"why": why})
        withdrawn.append(ask)
    return withdrawn


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
    if past_needed_by(request, now):
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
        await create_ask(ctx, uow, request, match.advocate, now, rank=len(already) + position,
                         by=by, automatic=True)
        for position, match in enumerate(result.matches, 1)
    ]
    if not created and not open_asks:
        await mark_unfulfilled(ctx, uow, request, now, reason="no_one_left",
                               rep_template="request_unfulfilled_rep", result=result, by=by)
    return created


__all__ = ["ask_next", "create_ask", "withdraw_open_asks"]
