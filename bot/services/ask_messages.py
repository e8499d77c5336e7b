"""What an ask puts on people's screens, and how it is taken back.

The advocate gets the consent ask in their own time zone; an account owner (or each program
manager) gets the approval ask first when the program requires it; the rep hears that an
ask went out and, later, that the advocate is not available (never why: that stays with
the advocate). When an ask closes, whatever it left on someone's screen is replaced in
place (same message key), so no stale buttons remain.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from bot.domain.model import Advocate, Ask, AskState, Person, ReferenceRequest
from bot.ports import UnitOfWork
from bot.services.context import ServiceContext, send
from bot.services.messages import (
    advocate_card,
    approval_key,
    ask_key,
    colleague,
    iso,
    managers,
    person_name,
    rep_person,
    rep_zone,
    request_context,
    request_context_for_advocate,
)
from bot.services.roles import advocate_person


async def approvers(ctx: ServiceContext, uow: UnitOfWork, ask: Ask) -> list[Person]:
    """Who holds the approval: the account owner it was sent to, else the program managers."""
    if ask.approver_email:
        return [await colleague(ctx, uow, ask.approver_email)]
    return await managers(ctx, uow)


async def send_ask(ctx: ServiceContext, uow: UnitOfWork, request: ReferenceRequest,
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


async def send_approval_request(ctx: ServiceContext, uow: UnitOfWork,
                                request: ReferenceRequest, advocate: Advocate, ask: Ask,
                                now: datetime) -> None:
    """The account owner (or each program manager) decides whether the customer is asked.
    They are colleagues, so they see the prospect; the advocate's details stay name-only."""
    for approver in await approvers(ctx, uow, ask):
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


async def tell_rep_ask_sent(uow: UnitOfWork, request: ReferenceRequest, advocate: Advocate,
                            ask: Ask, now: datetime, *, automatic: bool) -> None:
    await send(uow, now, rep_person(request), "ask_sent", {
        "request": request_context(request),
        "advocate": advocate_card(advocate),
        "awaiting_approval": ask.state == AskState.AWAITING_APPROVAL,
        "automatic": automatic,
        "expires_at": iso(ask.expires_at),
        "timezone": rep_zone(request),
    }, key=f"ask_sent:{ask.id}:{ask.state.value}")


async def close_ask_messages(ctx: ServiceContext, uow: UnitOfWork, ask: Ask, was: AskState,
                             advocate: Advocate, request: ReferenceRequest, now: datetime, *,
                             template: str, outcome: str, decided_by: str = "",
                             extra: dict[str, Any] | None = None) -> None:
    """Replace what the closed ask left on people's screens, so no stale buttons remain.

    ``was`` is the ask's state before it closed: an ask closed while awaiting approval only
    ever reached the approvers (their message is replaced with ``approval_closed``); one
    closed while pending sits in the advocate's DM (replaced with ``template``).
    """
    if was == AskState.AWAITING_APPROVAL:
        for approver in await approvers(ctx, uow, ask):
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


async def tell_rep_no(uow: UnitOfWork, request: ReferenceRequest, advocate: Advocate,
                      ask: Ask, now: datetime, *,
                      answer: Literal["decline", "not_now", "unavailable"]) -> None:
    """The rep learns the advocate is not available, never why (that stays with them)."""
    await send(uow, now, rep_person(request), "ask_declined", {
        "request": request_context(request),
        "advocate": advocate_card(advocate),
        "answer": answer,
        "timezone": rep_zone(request),
    }, key=f"ask_declined:{ask.id}")


__all__ = [
    "approvers",
    "close_ask_messages",
    "send_approval_request",
    "send_ask",
    "tell_rep_ask_sent",
    "tell_rep_no",
]
