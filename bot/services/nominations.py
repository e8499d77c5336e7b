"""Nominate a customer contact, let a program manager decide, invite them.

``nominate`` (account owners — CSMs are account owners on the roster — and program
managers): the contact's email, why, and optionally their name. Duplicates are refused
with their reasons (already an advocate, already nominated, said "No thanks" before —
only a program manager's ``override`` nominates them again). Everything else is filed
with the readiness check's findings (``bot.domain.nomination.readiness``), which the
nominator and the program managers see; nothing is dropped.

The program managers each get ``nomination_review`` (Approve / Decline with a reason).
``decide_nomination``: a decline tells the nominator why; an approval queues the
contact's ``nomination_invite`` (addressed by email: the outbox dispatcher finds them in
the people table or through the platform's directory — Slack's ``users.lookupByEmail``,
Slack Connect users included — or their stored Teams conversation) and tells the
nominator. An invite that cannot be delivered dies in the outbox; ``undeliverable``
(the dispatcher's dead-letter hook) then hands the nominator ``nomination_pass_on``: a
short invite text and the program's join link to pass on, and marks the nomination
``approved``.

``answer_invite``: "Not now" and "No thanks" (remembered) are recorded and told to the
nominator; "Join" is the onboarding form (``bot.services.onboarding``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.domain.errors import DomainError, InvalidInput, NotAllowed, Problem
from bot.domain.model import Actor, Advocate, Person, Role
from bot.domain.nomination import (
    Nomination,
    NominationState,
    duplicates,
    email_domain,
    readiness,
)
from bot.domain.periods import local_date
from bot.ports import OutgoingMessage, UnitOfWork
from bot.services.consent import CURRENT_VERSION
from bot.services.context import ServiceContext, actor_label, audit, send
from bot.services.intake import KnownValues, known_values
from bot.services.messages import person_name
from bot.services.roles import manager_people

MAX_CHOICES = 100  # Slack's and Teams' menus: the roster's values the invite's form offers
REASON_MAX_CHARS = 500
NAME_MAX_CHARS = 200
INVITE = "nomination_invite"
_EMAIL_MAX = 320


@dataclass(frozen=True, slots=True)
class Filed:
    nomination: Nomination
    findings: tuple[Problem, ...]


def review_key(nomination_id: int, manager: str) -> str:
    return f"nomination_review:{nomination_id}:{manager.lower()}"


def invite_key(nomination_id: int) -> str:
    return f"{INVITE}:{nomination_id}"


def _checked_email(email: str) -> str:
    email = email.strip().strip("<>").removeprefix("mailto:")
    local, at, domain = email.partition("@")
    if not at or not local or "." not in domain or len(email) > _EMAIL_MAX or " " in email:
        raise InvalidInput({"email": Problem("nominee_email", typed=email[:80])})
    return email


def _checked_text(text: str, field: str, most: int) -> str:
    text = " ".join(text.split())
    if len(text) > most:
        raise InvalidInput({field: Problem("field_too_long", most=most)})
    return text


def nomination_view(n: Nomination) -> dict[str, Any]:
    """A nomination as message contexts carry it (JSON-safe)."""
    return {"id": n.id, "email": n.email, "name": n.name or n.email.split("@", 1)[0],
            "company": n.company, "reason": n.reason, "nominator": n.nominator_name
            or n.nominator_email, "state": n.state.value, "override": n.override,
            "findings": [p.to_json() for p in n.readiness],
            "created_at": n.created_at.isoformat()}


def _company(account: list[Advocate]) -> str:
    names = Counter(a.company for a in account if a.company)
    return names.most_common(1)[0][0] if names else ""


async def nominate(ctx: ServiceContext, actor: Actor, email: str, reason: str = "", *,
                   name: str = "", override: bool = False) -> Filed:
    """File a nomination, or refuse it with every reason it cannot be filed."""
    if not (actor.has(Role.ACCOUNT_OWNER) or actor.is_program_manager):
        raise NotAllowed("only_nominators")
    if override and not actor.is_program_manager:
        raise NotAllowed("only_managers_override")
    email = _checked_email(email)
    reason = _checked_text(reason, "reason", REASON_MAX_CHARS)
    name = _checked_text(name, "name", NAME_MAX_CHARS)
    now = ctx.now()
    async with ctx.uow() as uow:
        earlier = await uow.nominations.for_email(email)
        existing = await uow.advocates.get_by_email(email)
        refused = duplicates(
            existing,
            next((n for n in earlier if n.state.is_open), None),
            next((n for n in earlier if n.state is NominationState.NO_THANKS), None),
            override=override)
        if refused:
            raise DomainError("nomination_refused", email=email, reasons=list(refused))
        domain = email_domain(email)
        account = [a for a in await uow.nominations.account_contacts(domain)
                   if a.email.lower() != email.lower()]
        used = await uow.nominations.engagements_since(
            [a.id for a in account if a.id is not None], now - timedelta(days=90))
        findings = readiness(account, used, policy=ctx.policy.readiness,
                             today=local_date(now, ctx.program_timezone), nominee=existing)
        nomination = await uow.nominations.add(Nomination(
            email=email, name=name, company=_company(account), reason=reason,
            nominator_email=actor.person.email or actor_label(actor.person),
            nominator_name=person_name(actor.person), created_at=now, updated_at=now,
            readiness=findings, override=override))
        assert nomination.id is not None
        await audit(uow, now, actor_label(actor.person), "nomination.filed",
                    f"nomination:{nomination.id}", email=email, override=override,
                    findings=[p.code for p in findings])
        await _ask_managers(ctx, uow, nomination, now)
        await uow.commit()
    return Filed(nomination, findings)


async def _ask_managers(ctx: ServiceContext, uow: UnitOfWork, nomination: Nomination,
                        now: datetime) -> None:
    assert nomination.id is not None
    for manager in manager_people(ctx):
        await send(uow, now, manager, "nomination_review", {
            "nomination": nomination_view(nomination),
            "timezone": manager.timezone or ctx.program_timezone,
        }, key=review_key(nomination.id, manager.email or ""))


async def _locked(uow: UnitOfWork, nomination_id: int) -> Nomination:
    found = await uow.nominations.get_for_update(nomination_id)
    if found is None or found.id is None:
        raise NotAllowed("not_yours")
    return found


def _nominator(n: Nomination) -> Person:
    return Person(email=n.nominator_email, display_name=n.nominator_name)


async def decide_nomination(ctx: ServiceContext, actor: Actor, nomination_id: int,
                            approve: bool, reason: str = "") -> Nomination:
    """A program manager's decision; the nominator is told (with the reason)."""
    if not actor.is_program_manager:
        raise NotAllowed("only_managers_decide")
    reason = _checked_text(reason, "reason", REASON_MAX_CHARS)
    now = ctx.now()
    async with ctx.uow() as uow:
        n = await _locked(uow, nomination_id)
        if n.state is not NominationState.PENDING:
            raise DomainError("nomination_already_decided", state=n.state.value,
                              by=n.decided_by)
        n.move(NominationState.INVITED if approve else NominationState.DECLINED, now)
        n.decided_by, n.decided_at = actor_label(actor.person), now
        n.decline_reason = "" if approve else reason
        await uow.nominations.update(n)
        await audit(uow, now, n.decided_by, "nomination.approved" if approve
                    else "nomination.declined", f"nomination:{n.id}", reason=reason)
        await _close_reviews(ctx, uow, n, now)
        view = nomination_view(n)
        if approve:
            await send(uow, now, Person(email=n.email, display_name=n.name), INVITE,
                       invite_context(ctx, n, await known_values(uow)),
                       key=invite_key(nomination_id))
        await send(uow, now, _nominator(n), "nomination_decided", {
            "nomination": view, "approved": approve, "reason": n.decline_reason,
            "decided_by": person_name(actor.person)},
            key=f"nomination_decided:{nomination_id}")
        await uow.commit()
    return n


def invite_context(ctx: ServiceContext, n: Nomination,
                   known: KnownValues | None = None) -> dict[str, Any]:
    """The invite's context: the consent wording's version, the program's limits and the
    roster's values the onboarding form offers (Teams shows the form on the card)."""
    known = known or KnownValues()
    return {"known": {name: list(getattr(known, name))[:MAX_CHOICES]
                      for name in ("languages", "products", "use_cases")},
            "timezone": "UTC", "nomination": nomination_view(n), "nomination_id": n.id,
            "consent_version": CURRENT_VERSION, "join_url": ctx.policy.join_url,
            "max_per_90_days": ctx.policy.limits.max_per_90_days,
            "program_limits": {name: getattr(ctx.policy.limits, name) for name in (
                "max_per_90_days", "max_per_365_days", "cooldown_days", "max_open_asks")}}


async def _close_reviews(ctx: ServiceContext, uow: UnitOfWork, n: Nomination,
                         now: datetime) -> None:
    """Every manager's review message becomes what was decided, by whom."""
    assert n.id is not None
    for manager in manager_people(ctx):
        key = review_key(n.id, manager.email or "")
        await send(uow, now, manager, "nomination_review_closed", {
            "nomination": nomination_view(n), "decided_by": n.decided_by,
            "reason": n.decline_reason}, key=f"{key}:closed", replaces=key)


ANSWERS = {"not_now": NominationState.NOT_NOW, "no_thanks": NominationState.NO_THANKS}


async def contact_nomination(uow: UnitOfWork, actor: Actor, nomination_id: int
                             ) -> Nomination:
    """The nomination of the person clicking, locked; ``not_yours`` for anyone else, and
    ``nomination_closed`` when it can no longer be answered."""
    n = await _locked(uow, nomination_id)
    if (actor.person.email or "").strip().lower() != n.email.lower():
        raise NotAllowed("not_yours")
    if n.state not in (NominationState.INVITED, NominationState.APPROVED,
                       NominationState.NOT_NOW):
        raise DomainError("nomination_closed", state=n.state.value)
    return n


async def open_invitation(ctx: ServiceContext, actor: Actor) -> dict[str, Any]:
    """The invite context of the person's open invitation (invited, handed over, or "Not
    now"); ``no_invitation`` when there is none."""
    email = (actor.person.email or "").strip()
    async with ctx.uow() as uow:
        found = [n for n in await uow.nominations.for_email(email) if n.state in (
            NominationState.INVITED, NominationState.APPROVED, NominationState.NOT_NOW)] \
            if email else []
        if not found:
            raise DomainError("no_invitation")
        return invite_context(ctx, found[0], await known_values(uow))


async def answer_invite(ctx: ServiceContext, actor: Actor, nomination_id: int,
                        answer: str) -> Nomination:
    """"Not now" or "No thanks" (kept: never nominated again without an override)."""
    if answer not in ANSWERS:
        raise InvalidInput({"answer": Problem("field_not_a_choice")})
    now = ctx.now()
    async with ctx.uow() as uow:
        n = await contact_nomination(uow, actor, nomination_id)
        n.move(ANSWERS[answer], now)
        n.answered_at = now
        await uow.nominations.update(n)
        await audit(uow, now, actor_label(actor.person), f"nomination.{answer}",
                    f"nomination:{n.id}")
        await tell_answered(uow, n, now)
        await uow.commit()
    return n


async def tell_answered(uow: UnitOfWork, n: Nomination, now: datetime) -> None:
    """The invite turns into what was answered; the nominator hears the answer."""
    await send(uow, now, Person(email=n.email, display_name=n.name),
               "nomination_invite_answered", {"nomination": nomination_view(n)},
               key=f"{invite_key(n.id or 0)}:{n.state.value}", replaces=invite_key(n.id or 0))
    await send(uow, now, _nominator(n), "nomination_answered",
               {"nomination": nomination_view(n)},
               key=f"nomination_answered:{n.id}:{n.state.value}")


async def undeliverable(ctx: ServiceContext, uow: UnitOfWork, now: datetime,
                        message: OutgoingMessage) -> None:
    """The outbox dispatcher's dead-letter hook: an invite the bot could not deliver is
    handed to the nominator to pass on (once), and the nomination becomes ``approved``."""
    if message.template != INVITE:
        return
    nomination_id = message.context.get("nomination_id")
    n = await uow.nominations.get_for_update(int(nomination_id)) \
        if isinstance(nomination_id, int) else None
    if n is None or n.state is not NominationState.INVITED:
        return
    n.move(NominationState.APPROVED, now)
    await uow.nominations.update(n)
    await send(uow, now, _nominator(n), "nomination_pass_on", invite_context(ctx, n),
               key=f"nomination_pass_on:{n.id}")


__all__ = [
    "Filed",
    "answer_invite",
    "contact_nomination",
    "decide_nomination",
    "invite_context",
    "invite_key",
    "nominate",
    "nomination_view",
    "open_invitation",
    "tell_answered",
    "undeliverable",
]
