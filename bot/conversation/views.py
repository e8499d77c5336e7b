"""View models: what a reply shows, built once from domain objects for every surface."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.conversation.replies import Reply
from bot.domain.model import Actor, Advocate, ReferenceRequest
from bot.services.advocates import AdvocateProfile
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


def profile_reply(ctx: ServiceContext, actor: Actor, profile: AdvocateProfile) -> Reply:
    viewer = "self" if is_advocate(actor, profile.advocate) else "manager"
    return Reply("profile", {
        "profile": profile, "viewer": viewer, "timezone": zone_of(ctx, actor),
        "today": today_for(ctx, actor), "program_limits": ctx.policy.limits})


def advocate_view(advocate: Advocate) -> dict[str, Any]:
    return {"advocate_id": advocate.id, "name": advocate.name, "email": advocate.email,
            "company": advocate.company, "industry": advocate.industry or "",
            "region": advocate.region or "", "status": advocate.status.value}
