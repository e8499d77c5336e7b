"""The App Home and ``/advocate me``: what each person's own page shows in Slack.

Built from ``bot.services.home``'s ``Home`` by ``home_context`` (the one context both
production and the template tests render), laid out by ``templates/slack/views/home.json.j2``
and ``profile_message.json.j2``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.domain.model import ReferenceRequest
from bot.rendering import Renderer
from bot.services.advocates import AdvocateProfile
from handlers.slack import blockkit
from handlers.slack.forms import render_view


def home_view(renderer: Renderer, *, context: Mapping[str, Any]) -> dict[str, Any]:
    """The App Home tab (``type: home``), one section per role the person has.

    ``context`` (build the parts with ``rep_home``, ``advocate_home``, ``manager_home``)::

        {
          "timezone": "Europe/Berlin",       # IANA zone every time is shown in
          "rep": None | {
            "requests": [                      # the rep's open requests, newest first
              {"id": 12, "state": "asking",
               "reference_type_label": "Reference call", "prospect_company": "Globex",
               "needed_by": "2026-03-20"},
            ],
          },
          "advocate": None | {
            "advocate_id": 7, "name": "Ada", "company": "Harbor",
            "availability": "active",          # or "paused", "on leave through ...", ...
            "can_pause": True, "can_resume": False,   # which buttons to offer
            "tier": "Silver", "points": 60,
            "usage": ["1 of 3 in 90 days", "2 of 8 in 365 days", "0 of 2 open asks"],
            "cooldown_days": 14,
            "upcoming": [{"engagement_id": 3, "reference_type_label": "Reference call",
                          "at": "2026-03-10T14:00:00+00:00", "rep_name": "Riley",
                          "booked": True}],      # booked: "at" is the call, else the yes
            "history": [{"engagement_id": 2, "reference_type_label": "Video call",
                         "at": "2026-01-10T14:00:00+00:00", "state": "completed",
                         "points": 10}],         # shown by /advocate me, not the home
          },
          "manager": None | {
            "stats": [{"label": "Open requests", "value": "4"}, ...],   # at most 10
            "attention": ["Request #12 is needed by 2026-03-05 and nobody has said yes"],
          },
        }
    """
    rep, advocate, manager = context.get("rep"), context.get("advocate"), context.get("manager")
    return render_view(renderer, "home", {
        "timezone": context.get("timezone") or "UTC",
        "rep": dict(rep) if rep else None,
        "advocate": dict(advocate) if advocate else None,
        "manager": dict(manager) if manager else None,
    })


def rep_home(requests: Iterable[ReferenceRequest], *, limit: int = 15) -> dict[str, Any]:
    """The rep's part of the home context from ``list_requests``' open requests."""
    open_requests = [r for r in requests if not r.state.is_terminal]
    open_requests.sort(key=lambda r: r.created_at, reverse=True)
    return {"requests": [{
        "id": r.id,
        "state": r.state.value,
        "reference_type_label": r.reference_type.label,
        "prospect_company": r.prospect_company,
        "needed_by": r.needed_by.isoformat(),
    } for r in open_requests[:limit]]}


def advocate_home(profile: AdvocateProfile, *, limit: int = 10) -> dict[str, Any]:
    """The advocate's part of the home context (and of ``/advocate me``) from
    ``bot.services.advocates.advocate_profile``'s ``AdvocateProfile``."""
    advocate = profile.advocate
    return {
        "advocate_id": advocate.id,
        "name": advocate.name,
        "company": advocate.company,
        "availability": profile.availability,
        "can_pause": profile.availability == "active"
        or profile.availability.startswith("snoozed"),
        "can_resume": profile.availability == "paused"
        or profile.availability.startswith("on leave"),
        "tier": profile.tier.label,
        "points": advocate.points,
        "usage": [str(profile.last_90_days), str(profile.last_365_days),
                  str(profile.open_asks)],
        "cooldown_days": profile.limits.cooldown_days,
        "upcoming": [{
            "engagement_id": item.engagement_id,
            "reference_type_label": item.reference_type.label,
            "at": item.at.isoformat(),
            "rep_name": item.rep_name,
            "booked": item.state.value == "scheduled",
        } for item in profile.upcoming[:limit]],
        "history": [{
            "engagement_id": item.engagement_id,
            "reference_type_label": item.reference_type.label,
            "at": item.at.isoformat(),
            "state": item.state.value.replace("_", " "),
            "points": item.points,
        } for item in profile.history[:limit]],
    }


def manager_home(stats: Mapping[str, object], attention: Iterable[str] = ()) -> dict[str, Any]:
    """The program manager's part: up to 10 labelled numbers and what needs a look
    (``bot.services.home.ProgramGlance``'s ``stats`` and ``attention``)."""
    return {"stats": [{"label": str(k), "value": str(v)} for k, v in stats.items()][:10],
            "attention": [str(a) for a in attention][:10]}


def home_context(home: Any) -> dict[str, Any]:
    """``home_view``'s context from ``bot.services.home.home``'s ``Home``.

    The rep section is there only for people who may request references (the service
    builds ``requests`` for them alone), and even then it is left out for an advocate who
    has no requests of their own and is not a program manager.
    """
    profile = getattr(home, "profile", None)
    glance = getattr(home, "glance", None)
    requests = getattr(home, "requests", None)
    roles = {str(getattr(role, "value", role)) for role in getattr(home, "roles", ())}
    show_rep = requests is not None and (
        profile is None or bool(requests) or "program_manager" in roles)
    return {
        "timezone": getattr(home, "timezone", None) or "UTC",
        "rep": rep_home(requests or ()) if show_rep else None,
        "advocate": advocate_home(profile) if profile is not None else None,
        "manager": manager_home(glance.stats, glance.attention) if glance is not None
        else None,
    }


def profile_message(renderer: Renderer, *, advocate: Mapping[str, Any],
                    timezone: str) -> dict[str, Any]:
    """``/advocate me`` as an ephemeral message (``{"text", "blocks"}``): the same
    profile the App Home shows, with pause/resume and "Change my limits"."""
    message = blockkit.install(renderer).render_json(
        "slack/views/profile_message.json.j2", {"advocate": dict(advocate),
                                                "timezone": timezone or "UTC"})
    assert isinstance(message, dict)
    return message
