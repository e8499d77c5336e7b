"""Quarterly check-ins (docs/product.md, "Scheduled messages").

On the first business day of a quarter every active advocate gets their last quarter in
numbers and four choices: keep me active, change my limits (a form), pause for 1, 3 or 6
months, leave the program; plus a feedback box. The answer goes through the same use
cases as ``/advocate me`` (``bot.services.advocates``), so the roster rules, the audit
log and the messages to the advocate are the ones those already keep; the check-in adds
one ``checkin.answered`` audit entry with the choice and the feedback. Once answered, the
quarter's check-in (and its reminder, if one went out) is replaced in place by
``check_in_answered``, which says what was chosen and has no buttons left to click.
Feedback on its own (``record_check_in_feedback``) is kept as a ``checkin.feedback``
audit entry and changes nothing else: the check-in stays open to answer.

An advocate who has not answered 14 days later gets one gentle reminder, then nothing.
Sending is keyed ``checkin:<quarter>:<advocate id>`` (reminders
``checkin-reminder:<quarter>:<advocate id>``) in the idempotency ledger, claimed in the
unit of work that queues the message. The whole roster is queued in batches of ``BATCH``
advocates, one unit of work and a few multi-row INSERTs each (claim the batch's keys,
queue a message for exactly the keys this run claimed): a replica running the same
period at the same moment claims the rest, never the same key, and a run cut short
leaves whole batches done and the rest for the next run.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.domain.errors import InvalidInput, NotAllowed, NotFound, Problem
from bot.domain.limits import effective_limits
from bot.domain.model import Actor, Advocate, AdvocateStatus, LimitOverrides
from bot.domain.nomination import ConsentRecord
from bot.domain.periods import (
    local_date,
    previous_quarter,
    quarter_bounds,
    quarter_label,
    quarter_of,
)
from bot.ports import OutgoingMessage, UnitOfWork
from bot.report_ports import AdvocateQuarter
from bot.services.advocates import (
    leave_program,
    next_tier,
    pause_advocate,
    policy_tiers,
    resume_advocate,
    set_own_limits,
    tier_for,
)
from bot.services.consent import CURRENT_VERSION, needs_reconfirm
from bot.services.context import ServiceContext, actor_label, audit, send
from bot.services.messages import morning_of, person_name, quiet_until
from bot.services.roles import advocate_person, is_advocate

PAUSE_MONTHS = (1, 3, 6)
FEEDBACK_MAX_CHARS = 1000
ANSWERED = "checkin.answered"
FEEDBACK = "checkin.feedback"
ANSWERED_TEMPLATE = "check_in_answered"
BATCH = 500  # advocates per unit of work when queueing check-ins and reminders


class CheckInChoice(StrEnum):
    KEEP_ACTIVE = "keep_active"
    CHANGE_LIMITS = "change_limits"
    PAUSE = "pause"
    LEAVE = "leave"


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 → 28 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _numbers(n: AdvocateQuarter) -> dict[str, int]:
    return {"asks": n.asks, "accepted": n.accepted, "declined": n.declined,
            "completed": n.completed, "points": n.points}


def _limits(ctx: ServiceContext, advocate: Advocate) -> dict[str, int]:
    limits = effective_limits(ctx.policy.limits, advocate)
    return {"max_per_90_days": limits.max_per_90_days,
            "max_per_365_days": limits.max_per_365_days,
            "cooldown_days": limits.cooldown_days,
            "max_open_asks": limits.max_open_asks}


def check_in_key(period: str, advocate_id: int, *, reminder: bool = False) -> str:
    """The ledger and outbox key of an advocate's check-in (or its reminder) of ``period``;
    ``check_in_answered`` replaces the messages sent under these keys."""
    return f"{'checkin-reminder' if reminder else 'checkin'}:{period}:{advocate_id}"


def _context(ctx: ServiceContext, advocate: Advocate, period: str, reviewed: str,
             numbers: AdvocateQuarter, consent: ConsentRecord | None = None
             ) -> dict[str, Any]:
    tiers = policy_tiers(ctx.policy)
    upcoming = next_tier(advocate.points, tiers)
    return {
        "advocate_id": advocate.id,
        "advocate_name": advocate.name,
        "period": period,
        "quarter": reviewed,
        "numbers": _numbers(numbers),
        "total_points": advocate.points,
        "tier": tier_for(advocate.points, tiers).label,
        "next_tier": upcoming[0].label if upcoming else None,
        "points_to_next_tier": upcoming[1] if upcoming else None,
        "limits": _limits(ctx, advocate),
        "choices": [c.value for c in CheckInChoice],
        "pause_months": list(PAUSE_MONTHS),
        "feedback_max_chars": FEEDBACK_MAX_CHARS,
        "timezone": advocate.timezone or "UTC",
        # the consent wording changed since they agreed: the check-in asks again
        "consent_to_confirm": CURRENT_VERSION if needs_reconfirm(consent) else None,
    }


async def send_check_ins(ctx: ServiceContext, now: datetime, period: str,
                         day: date | None = None) -> int:
    """Queue the check-in of quarter ``period`` (e.g. ``2026-Q2``) to every active advocate
    who has not had it; their numbers are for the quarter before. Returns how many.

    Each reaches its advocate at the check-in time of ``day`` (the program's check-in
    day) in the advocate's own zone, inside their hours (``messages.morning_of``)."""
    day = day or local_date(now, ctx.program_timezone)
    clock = ctx.policy.jobs.checkin_time
    year, quarter = int(period[:4]), int(period[-1])
    reviewed_year, reviewed_q = previous_quarter(year, quarter)
    start, end = quarter_bounds(reviewed_year, reviewed_q, ctx.program_timezone)
    async with ctx.uow() as uow:
        if await uow.reports.claimed_keys(f"done:checkin:{period}"):
            return 0  # everyone had it: skip the roster scan for the rest of the grace
        advocates = await uow.advocates.list(status=AdvocateStatus.ACTIVE)
        numbers = await uow.reports.advocate_numbers(start, end)
        done = await uow.reports.claimed_keys(f"checkin:{period}:")
        consents = await uow.consents.latest_all()
    reviewed = quarter_label(reviewed_year, reviewed_q)
    todo = {key: advocate for advocate in advocates
            if (key := check_in_key(period, advocate.id or 0)) not in done}

    def message(key: str, advocate: Advocate) -> OutgoingMessage:
        to = advocate_person(advocate)
        return OutgoingMessage(
            recipient=to, template="check_in", key=key,
            context=_context(ctx, advocate, period, reviewed,
                             numbers.get(advocate.id or 0, AdvocateQuarter()),
                             consents.get(advocate.email.lower())),
            not_before=morning_of(ctx, to, now, day, clock, advocate.call_hours))

    queued = await _queue_in_batches(ctx, now, todo, message)
    await _mark_done(ctx, f"done:checkin:{period}", now)
    return queued


async def _queue_in_batches(ctx: ServiceContext, now: datetime, todo: dict[str, Advocate],
                            message: Callable[[str, Advocate], OutgoingMessage]) -> int:
    """Claim ``todo``'s keys and queue ``message(key, advocate)`` for each key claimed, in
    batches of ``BATCH`` (one unit of work each); returns how many were queued."""
    keys, queued = sorted(todo), 0
    for start in range(0, len(keys), BATCH):
        async with ctx.uow() as uow:
            claimed = await uow.idempotency.claim_many(keys[start:start + BATCH], now=now)
            queued += await uow.outbox.add_many(
                [message(key, todo[key]) for key in sorted(claimed)], now=now)
            await uow.commit()
    return queued


async def _mark_done(ctx: ServiceContext, key: str, now: datetime) -> None:
    """Record that a run went through every recipient, so later runs in the grace window
    cost one lookup. Only after the loop: a run cut short leaves it unset."""
    async with ctx.uow() as uow:
        await uow.idempotency.claim(key, now=now)
        await uow.commit()


async def send_check_in_reminders(ctx: ServiceContext, now: datetime, period: str,
                                  since: datetime) -> int:
    """One reminder to each advocate who got the ``period`` check-in, is still active and
    has not answered since ``since`` (when the check-ins went out)."""
    async with ctx.uow() as uow:
        if await uow.reports.claimed_keys(f"done:checkin-reminder:{period}"):
            return 0
        sent = await uow.reports.claimed_keys(f"checkin:{period}:")
        reminded = await uow.reports.claimed_keys(f"checkin-reminder:{period}:")
        answered = await uow.reports.audited_subjects(ANSWERED, since=since)
        active = {a.id: a for a in await uow.advocates.list(status=AdvocateStatus.ACTIVE)}
    pending = {int(key.rsplit(":", 1)[1]) for key in sent
               if f"checkin-reminder:{period}:{key.rsplit(':', 1)[1]}" not in reminded}
    todo = {check_in_key(period, advocate_id, reminder=True): active[advocate_id]
            for advocate_id in pending
            if advocate_id in active and f"advocate:{advocate_id}" not in answered}
    year, quarter = int(period[:4]), int(period[-1])
    reviewed = quarter_label(*previous_quarter(year, quarter))

    def message(key: str, advocate: Advocate) -> OutgoingMessage:
        to = advocate_person(advocate)
        return OutgoingMessage(
            recipient=to, template="check_in_reminder", key=key,
            context=_context(ctx, advocate, period, reviewed, AdvocateQuarter()),
            not_before=quiet_until(ctx, to, now, advocate.call_hours))

    queued = await _queue_in_batches(ctx, now, todo, message)
    await _mark_done(ctx, f"done:checkin-reminder:{period}", now)
    return queued


async def answer_check_in(ctx: ServiceContext, actor: Actor, advocate_id: int,
                          choice: CheckInChoice | str, *, months: int | None = None,
                          limits: LimitOverrides | None = None, feedback: str = "") -> Advocate:
    """The advocate answers their check-in (a program manager may answer for them, e.g.
    from an email reply, except for limits, which only the advocate sets).

    Keep me active ends a pause; Change my limits sets the advocate's own (stricter)
    limits; Pause stops asks for 1, 3 or 6 months (through that day in their zone); Leave
    withdraws every open ask. Feedback (optional) is kept in the audit log.
    """
    try:
        choice = CheckInChoice(choice)
    except ValueError:
        raise InvalidInput({"choice": Problem("check_in_choice")}) from None
    text = _feedback_text(feedback)
    advocate = await _answerable(ctx, actor, advocate_id)
    now = ctx.now()
    detail: dict[str, Any] = {}
    if choice is CheckInChoice.KEEP_ACTIVE:
        if advocate.status is AdvocateStatus.PAUSED or advocate.unavailable_until is not None:
            advocate = await resume_advocate(ctx, actor, advocate_id)
    elif choice is CheckInChoice.CHANGE_LIMITS:
        if limits is None:
            raise InvalidInput({"limits": Problem("limits_missing")})
        advocate = await set_own_limits(ctx, actor, advocate_id, limits)
    elif choice is CheckInChoice.PAUSE:
        if months not in PAUSE_MONTHS:
            raise InvalidInput({"months": Problem("pause_months", choices=list(PAUSE_MONTHS))})
        today = local_date(now, advocate.timezone or "UTC")
        until = add_months(today, months) - timedelta(days=1)
        # The check-in's own audit entry says why (its choice and months).
        advocate = await pause_advocate(ctx, actor, advocate_id, until=until)
        detail["until"] = until.isoformat()
    else:
        advocate = (await leave_program(ctx, actor, advocate_id)).advocate
    period = _period(ctx, now)
    async with ctx.uow() as uow:
        await audit(uow, now, actor_label(actor.person), ANSWERED, f"advocate:{advocate_id}",
                    quarter=period, choice=choice.value, months=months,
                    feedback=text, **detail)
        await _replace_check_in(ctx, uow, now, actor, advocate, period, {
            "choice": choice.value,
            "months": months,
            "until": advocate.unavailable_until.isoformat()
            if choice is CheckInChoice.PAUSE and advocate.unavailable_until else None,
            "feedback": text,
        })
        await uow.commit()
    return advocate


async def record_check_in_feedback(ctx: ServiceContext, actor: Actor, advocate_id: int,
                                   feedback: str) -> None:
    """The check-in's feedback box on its own: kept in the audit log (``checkin.feedback``)
    for the program team, without answering the check-in or changing the roster."""
    text = _feedback_text(feedback)
    if not text:
        raise InvalidInput({"feedback": Problem("feedback_empty")})
    await _answerable(ctx, actor, advocate_id)
    now = ctx.now()
    async with ctx.uow() as uow:
        await audit(uow, now, actor_label(actor.person), FEEDBACK, f"advocate:{advocate_id}",
                    quarter=_period(ctx, now), feedback=text)
        await uow.commit()


def _feedback_text(feedback: str) -> str:
    text = " ".join(feedback.split())
    if len(text) > FEEDBACK_MAX_CHARS:
        raise InvalidInput({"feedback": Problem("text_too_long", most=FEEDBACK_MAX_CHARS,
                                                length=len(text))})
    return text


async def _answerable(ctx: ServiceContext, actor: Actor, advocate_id: int) -> Advocate:
    """The advocate whose check-in ``actor`` may answer: the advocate or a program manager."""
    async with ctx.uow() as uow:
        advocate = await uow.advocates.get(advocate_id)
    if advocate is None:
        raise NotFound("not_yours")
    if not (actor.is_program_manager or is_advocate(actor, advocate)):
        raise NotAllowed("not_yours")
    return advocate


def _period(ctx: ServiceContext, now: datetime) -> str:
    """The check-in period (quarter) ``now`` falls in, in the program's zone."""
    return quarter_label(*quarter_of(local_date(now, ctx.program_timezone)))


async def _replace_check_in(ctx: ServiceContext, uow: UnitOfWork, now: datetime, actor: Actor,
                            advocate: Advocate, period: str, answer: dict[str, Any]) -> None:
    """Update this quarter's check-in and reminder (those that went out) in place with the
    answer, so no buttons are left to click twice. Each answer has its own key, so a later
    different answer updates the message again; nothing is queued when no check-in was
    sent this quarter (the roster change's own messages tell the advocate then)."""
    assert advocate.id is not None
    context = {
        "advocate_id": advocate.id,
        "advocate_name": advocate.name,
        "period": period,
        **answer,
        "limits": _limits(ctx, advocate),
        "by_name": "" if is_advocate(actor, advocate) else person_name(actor.person),
        "timezone": advocate.timezone or "UTC",
    }
    for reminder in (False, True):
        original = check_in_key(period, advocate.id, reminder=reminder)
        if original in await uow.reports.claimed_keys(original):
            await send(uow, now, advocate_person(advocate), ANSWERED_TEMPLATE, context,
                       key=f"{original}:answered:{now.isoformat()}", replaces=original)


__all__ = [
    "ANSWERED_TEMPLATE",
    "FEEDBACK_MAX_CHARS",
    "PAUSE_MONTHS",
    "CheckInChoice",
    "add_months",
    "answer_check_in",
    "check_in_key",
    "record_check_in_feedback",
    "send_check_in_reminders",
    "send_check_ins",
]
