"""The App Home and ``/advocate me``: what each person's own page shows in Slack.

Built from ``bot.services.home``'s ``Home`` by ``home_context`` (the one context both
production and the template tests render), laid out by ``templates/slack/views/home.json.j2``
and ``profile_message.json.j2``; both end with the menu of languages the person reads the bot
in (``language_menu.j2``, ``language_blocks``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.conversation.views import profile_view
from bot.domain.model import ReferenceRequest
from bot.i18n import supported_languages
from bot.rendering import Renderer
from bot.services.advocates import AdvocateProfile
from bot.services.home import ProgramGlance
from bot.services.locales import language_code, language_names
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
          "advocate": None | {...},            # bot.conversation.views.profile_view
          "manager": None | {
            "stats": [{"name": "open_requests", "value": 4}, ...],   # at most 10
            "days": 7,                         # the window of "undelivered"
            "attention": [{"kind": "waiting", "request_id": 12, ...}],
          },
        }
    """
    rep, advocate, manager = context.get("rep"), context.get("advocate"), context.get("manager")
    view = render_view(renderer, "home", {
        "timezone": context.get("timezone") or "UTC",
        "rep": dict(rep) if rep else None,
        "advocate": dict(advocate) if advocate else None,
        "manager": dict(manager) if manager else None,
    })
    view["blocks"].extend(language_blocks(renderer))
    return view


def language_blocks(renderer: Renderer) -> list[dict[str, Any]]:
    """The menu of languages (each named in itself), on the reader's own: the App Home's
    and ``/advocate me``'s last blocks."""
    blocks = blockkit.install(renderer).render_json("slack/views/language_menu.j2", {
        "current": language_code(renderer.locale) or "en",
        "choices": list(language_names(supported_languages()).items())})
    assert isinstance(blocks, list)
    return blocks


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
    """The advocate's part of the home context (and of ``/advocate me``): the profile every
    surface shows (``bot.conversation.views.profile_view``)."""
    return profile_view(profile, items=limit)


def manager_home(glance: ProgramGlance) -> dict[str, Any]:
    """The program manager's part: up to 10 numbers by name and what needs a look
    (``bot.services.home.ProgramGlance``), worded by the template."""
    return {"stats": [{"name": k, "value": v} for k, v in glance.stats.items()][:10],
            "days": glance.days,
            "attention": [{"kind": a.kind, **a.values} for a in glance.attention][:10]}


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
        "manager": manager_home(glance) if glance is not None
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
    if advocate.get("can_pause") or advocate.get("can_resume"):  # not one who left
        message["blocks"].extend(language_blocks(renderer))
    return message
