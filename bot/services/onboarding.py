"""Onboarding: an invited contact joins, and their answers become their roster row.

"Join" on the invite opens the ``onboarding`` form (``bot.conversation.formspec``):
the reference types they are willing to do, languages, time zone, how many references
per quarter (their own limit: stricter than the program's only), topics (products, use
cases), whether we may thank them publicly, and their agreement to the consent wording
shown with the form (``bot.services.consent``). ``join`` creates their roster row — or
brings a retired one back — with the account's CRM fields copied from a contact of the
same account already on the roster, records their consent, and tells them (the welcome
and the first steps) and the nominator.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.errors import InvalidInput, Problem
from bot.domain.model import Actor, Advocate, AdvocateStatus, LimitOverrides, Person, ReferenceType
from bot.domain.nomination import Nomination, NominationState, email_domain
from bot.domain.periods import local_date
from bot.ports import UnitOfWork
from bot.services.consent import CURRENT_VERSION, record_consent
from bot.services.context import ServiceContext, actor_label, audit, send
from bot.services.messages import person_name
from bot.services.nominations import contact_nomination, nomination_view, tell_answered

MAX_TOPICS = 20
PUBLIC_THANKS = "public_thanks"


@dataclass(frozen=True, slots=True)
class OnboardingAnswers:
    """The onboarding form as submitted (already checked against its spec)."""

    reference_types: tuple[str, ...]
    languages: tuple[str, ...]
    timezone: str
    per_quarter: int | None = None
    products: tuple[str, ...] = ()
    use_cases: tuple[str, ...] = ()
    public_thanks: bool = False
    consent: bool = False


def _checked(ctx: ServiceContext, answers: OnboardingAnswers) -> None:
    errors: dict[str, Problem] = {}
    if not answers.consent:
        errors["consent"] = Problem("consent_needed")
    if not answers.reference_types or any(
            t not in {r.value for r in ReferenceType} for t in answers.reference_types):
        errors["reference_types"] = Problem("field_not_a_choice")
    if not answers.languages:
        errors["languages"] = Problem("field_required")
    try:
        ZoneInfo(answers.timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        errors["timezone"] = Problem("field_not_a_choice")
    most = ctx.policy.limits.max_per_90_days
    if answers.per_quarter is not None and not 1 <= answers.per_quarter <= most:
        errors["per_quarter"] = Problem("field_out_of_range", low=1, high=most)
    for name in ("products", "use_cases"):
        if len(getattr(answers, name)) > MAX_TOPICS:
            errors[name] = Problem("choose_at_most", most=MAX_TOPICS)
    if errors:
        raise InvalidInput(errors)


def _account_fields(account: list[Advocate]) -> dict[str, Any]:
    """The CRM account's fields, from the contact of the same account seen most often."""
    if not account:
        return {}
    company = Counter(a.company for a in account if a.company).most_common(1)
    source = next((a for a in account if company and a.company == company[0][0]), account[0])
    return {"company": source.company, "account_id": source.account_id,
            "industry": source.industry, "region": source.region,
            "country": source.country, "company_size": source.company_size,
            "account_owner_email": source.account_owner_email,
            "health_score": source.health_score, "nps": source.nps,
            "renewal_date": source.renewal_date, "customer_since": source.customer_since}


async def _roster_row(ctx: ServiceContext, uow: UnitOfWork, actor: Actor, n: Nomination,
                      answers: OnboardingAnswers) -> Advocate:
    account = [a for a in await uow.nominations.account_contacts(email_domain(n.email))
               if a.email.lower() != n.email.lower()]
    now = ctx.now()
    chosen = {
        "reference_types": frozenset(ReferenceType(t) for t in answers.reference_types),
        "languages": answers.languages, "timezone": answers.timezone,
        "products": answers.products, "use_cases": answers.use_cases,
        "public_recognition": answers.public_thanks,
        "own_limits": LimitOverrides(max_per_90_days=answers.per_quarter),
        "status": AdvocateStatus.ACTIVE, "joined_on": local_date(now, answers.timezone),
        "consent_source": "self-onboarded", "consented_at": now,
    }
    existing = await uow.advocates.get_by_email(n.email)
    if existing is not None and existing.id is not None:
        locked = await uow.advocates.get_for_update(existing.id)
        assert locked is not None
        updated = replace(locked, **chosen)
        await uow.advocates.update(updated)
        return updated
    fields = {"company": n.company, **{k: v for k, v in _account_fields(account).items()
                                       if v not in (None, "")}}
    name = n.name if n.name and n.name != n.email.split("@", 1)[0] else \
        person_name(actor.person)
    return await uow.advocates.add(Advocate(email=n.email, name=name, **{
        "company": "", **fields, **chosen}))


async def join(ctx: ServiceContext, actor: Actor, nomination_id: int,
               answers: OnboardingAnswers) -> Advocate:
    """The invited contact joins: roster row, consent, welcome, the nominator told."""
    _checked(ctx, answers)
    now = ctx.now()
    async with ctx.uow() as uow:
        n = await contact_nomination(uow, actor, nomination_id)
        advocate = await _roster_row(ctx, uow, actor, n, answers)
        assert advocate.id is not None
        agreed = tuple(sorted(answers.reference_types)) + (
            (PUBLIC_THANKS,) if answers.public_thanks else ())
        platform = actor.person.identity.platform.value if actor.person.identity else "chat"
        await record_consent(uow, email=n.email, advocate_id=advocate.id, now=now,
                             platform=platform, agreed_to=agreed)
        n.move(NominationState.JOINED, now)
        n.answered_at, n.advocate_id, n.name = now, advocate.id, advocate.name
        await uow.nominations.update(n)
        await audit(uow, now, actor_label(actor.person), "nomination.joined",
                    f"nomination:{n.id}", advocate_id=advocate.id,
                    consent_version=CURRENT_VERSION, platform=platform)
        await tell_answered(uow, n, now)
        await send(uow, now, Person(email=advocate.email, display_name=advocate.name,
                                    timezone=advocate.timezone), "advocate_welcome", {
            "nomination": nomination_view(n), "advocate_id": advocate.id,
            "name": advocate.name, "public_thanks": answers.public_thanks,
            "per_quarter": answers.per_quarter,
            "max_per_90_days": ctx.policy.limits.max_per_90_days,
        }, key=f"advocate_welcome:{n.id}")
        await uow.commit()
    return advocate


__all__ = ["OnboardingAnswers", "join"]
