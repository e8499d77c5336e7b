"""View models: what a reply shows, built once from domain objects for every surface."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.conversation.replies import Reply
from bot.domain.model import Actor, Advocate, ReferenceRequest
from bot.services.advocates import AdvocateProfile
from bot.services.consent import consent_view
from bot.services.context import ServiceContext
from bot.services.roles import is_advocate


def zone_of(ctx: ServiceContext, actor: Actor) -> str:
    """The zone a person reads times in: their own, else the program's, else UTC."""
    for name in (actor.person.timezone, ctx.program_timezone):
        if name:
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
            return name
    return "UTC"


def today_for(ctx: ServiceContext, actor: Actor) -> date:
    return ctx.now().astimezone(ZoneInfo(zone_of(ctx, actor))).date()


def request_view(request: ReferenceRequest) -> dict[str, Any]:
    return {"id": request.id, "prospect_company": request.prospect_company,
            "reference_type": request.reference_type.value,
            "reference_type_label": request.reference_type.label,
            "needed_by": request.needed_by.isoformat(), "state": request.state.value}


def profile_view(profile: AdvocateProfile, *, items: int = 10) -> dict[str, Any]:
    """An advocate's profile as every surface shows it (the App Home, ``/advocate me``,
    Teams' profile card, ``advocates show``): values, not words; times as ISO strings for
    the templates to show in the reader's zone."""
    advocate = profile.advocate
    following = profile.next_tier
    availability = profile.availability
    return {
        "advocate_id": advocate.id,
        "name": advocate.name,
        "email": advocate.email,
        "company": advocate.company,
        "availability": {"state": availability.state,
                         "until": availability.until.isoformat() if availability.until
                         else None},
        "can_pause": availability.can_pause,
        "can_resume": availability.can_resume,
        "retired": availability.left,
        "tier": profile.tier.label,
        "points": advocate.points,
        "next_tier": {"tier": following[0].label, "points": following[1]} if following
        else None,
        "usage": [{"span": u.span, "used": u.used, "limit": u.limit} for u in (
            profile.last_90_days, profile.last_365_days, profile.open_asks)],
        "cooldown_days": profile.limits.cooldown_days,
        "call_hours": profile.call_hours,
        "timezone": advocate.timezone,
        "blocked": [] if profile.can_be_asked.allowed else [
            reason.to_json() for reason in profile.can_be_asked.reasons],
        "upcoming": [{
            "engagement_id": item.engagement_id,
            "reference_type_label": item.reference_type.label,
            "at": item.at.isoformat(),
            "rep_name": item.rep_name,
            "booked": item.state.value == "scheduled",
        } for item in profile.upcoming[:items]],
        "history": [{
            "engagement_id": item.engagement_id,
            "reference_type_label": item.reference_type.label,
            "at": item.at.isoformat(),
            "state": item.state.value,
            "points": item.points,
        } for item in profile.history[:items]],
        "consent": consent_view(profile.consent),
    }


def profile_reply(ctx: ServiceContext, actor: Actor, profile: AdvocateProfile) -> Reply:
    viewer = "self" if is_advocate(actor, profile.advocate) else "manager"
    return Reply("profile", {
        "profile": profile, "viewer": viewer, "timezone": zone_of(ctx, actor),
        "today": today_for(ctx, actor), "program_limits": ctx.policy.limits})


def advocate_view(advocate: Advocate) -> dict[str, Any]:
    return {"advocate_id": advocate.id, "name": advocate.name, "email": advocate.email,
            "company": advocate.company, "industry": advocate.industry or "",
            "region": advocate.region or "", "status": advocate.status.value}
