"""What the sandbox page shows: the people to play, and the chosen person's messages,
home, last answer and open form, as plain data for ``templates/web/page.html.j2``."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from bot.conversation.forms import DEFAULT_CALL_LENGTH, call_lengths
from bot.conversation.formspec import PROPOSED_TIMES, Sources
from bot.conversation.views import profile_view, request_view, today_for, zone_of
from bot.domain.errors import DomainError
from bot.domain.model import Actor, Role
from bot.services.home import home
from handlers.sandbox.pages import Pages, fields_of
from handlers.sandbox.surface import OpenForm

if TYPE_CHECKING:
    from handlers.sandbox.app import SandboxParts

MAX_PEOPLE = 60  # advocates listed to choose from (any other email can be typed)
MAX_MESSAGES = 40  # messages shown, newest first


async def people(parts: SandboxParts) -> dict[str, list[dict[str, str]]]:
    """Who can be played, by role: program managers (settings), active advocates and
    their account owners (the roster; a long one is cut, and anyone can be played by
    their email), and the reps played so far."""
    sandbox = parts.sandbox
    async with sandbox.ctx.uow() as uow:
        roster = await uow.advocates.active_roster()  # matching's copy: no roster read
    managers = sorted({pm.strip().lower() for pm in sandbox.ctx.program_managers if pm})
    owners = sorted({a.account_owner_email.lower() for a in roster
                     if a.account_owner_email})[:MAX_PEOPLE]
    advocates = [{"email": a.email.lower(), "name": a.name, "company": a.company}
                 for a in roster[:MAX_PEOPLE]]
    taken = {*managers, *owners, *(a["email"] for a in advocates)}
    reps = sorted(email for email in sandbox.people if email not in taken)
    def plain(emails: list[str]) -> list[dict[str, str]]:
        return [{"email": e, "name": "", "company": ""} for e in emails]

    return {"reps": plain(reps), "managers": plain(managers), "owners": plain(owners),
            "advocates": advocates}


async def page_context(parts: SandboxParts, pages: Pages, email: str | None, *,
                       jumps: tuple[int, ...]) -> dict[str, Any]:
    """The page's data for the person playing (``email``), worded by ``pages`` (their
    locale)."""
    sandbox = parts.sandbox
    context: dict[str, Any] = {
        "csrf": parts.csrf, "people": await people(parts), "email": email,
        "now": sandbox.ctx.now(), "jumps": jumps if sandbox.clock is not None else (),
        "program_timezone": sandbox.ctx.program_timezone or "UTC",
        "fields_of": fields_of, "program_limits": sandbox.ctx.policy.limits,
    }
    if email is None:
        return context
    actor = await sandbox.actor(email)
    screen = sandbox.screen(email)
    zone = zone_of(sandbox.ctx, actor)
    context.update(
        actor=actor, roles=sorted(role.value for role in actor.roles), timezone=zone,
        messages=[message_view(pages, m, screen, await sandbox.files(m)) for m in
                  reversed(sandbox.inbox.of(email)[-MAX_MESSAGES:])],
        home=await home_view(parts, actor),
        reply=pages.reply_html(screen.reply) if screen.reply and
        not _own_layout(screen.reply.template) else None,
        reply_profile=_profile(screen.reply.context) if screen.reply and
        screen.reply.template == "profile" else None,
        reply_tone=screen.reply.tone if screen.reply else "default",
        attachment=screen.attachment,
        form=form_view(parts, actor, screen.form) if screen.form else None,
    )
    return context


def _own_layout(template: str) -> bool:
    return template == "profile"


def _profile(context: Any) -> dict[str, Any]:
    return {"view": profile_view(context["profile"]), "viewer": context["viewer"],
            "timezone": context["timezone"], "today": context["today"],
            "limits": context["profile"].limits, "program": context["program_limits"]}


def message_view(pages: Pages, message: Any, screen: Any, files: list[Any]
                 ) -> dict[str, Any]:
    answered = screen.answered.get(message.ref)
    return {
        "ref": message.ref, "template": message.template, "at": message.at,
        "context": message.context,
        "paragraphs": pages.message_html(message.template, message.context),
        "buttons": pages.has_buttons(message.template) and answered is None,
        "answer": pages.reply_html(answered) if answered else None,
        "field_errors": screen.errors.get(message.ref, {}),
        "filled": screen.values.get(message.ref),
        "ics": message.context.get("invite") is not None,
        "chart": bool(message.context.get("chart")),
        "files": [{"index": i, "title": f.title, "filename": f.filename,
                   "image": f.media_type.startswith("image/")} for i, f in enumerate(files)],
    }


async def home_view(parts: SandboxParts, actor: Actor) -> dict[str, Any]:
    """The person's home: a rep's open requests, an advocate's profile, the program
    manager's glance (``bot.services.home.home``)."""
    ctx = parts.sandbox.ctx
    try:
        mine = await home(ctx, actor)
    except DomainError:
        return {}
    glance = mine.glance
    return {
        "requests": [request_view(r) for r in mine.requests or () if not r.state.is_terminal],
        "rep": mine.requests is not None,
        "profile": {"view": profile_view(mine.profile), "viewer": "self",
                    "timezone": mine.timezone, "today": today_for(ctx, actor),
                    "limits": mine.profile.limits, "program": ctx.policy.limits}
        if mine.profile else None,
        "stats": list(glance.stats.items()) if glance else [],
        "attention": [{"kind": a.kind, **a.values} for a in glance.attention] if glance
        else [],
        "manager": Role.PROGRAM_MANAGER in actor.roles,
    }


def form_view(parts: SandboxParts, actor: Actor, form: OpenForm) -> dict[str, Any]:
    """An open form's fields, filled in, with their errors."""
    context = form.context
    if form.name != "intake":
        return {"name": form.name, "fields": fields_of(
            form.name, form.values or None, limits=context.get("current"),
            program=parts.sandbox.ctx.policy.limits), "errors": form.errors,
            "subject_id": context.get("subject_id"), "stale": False}
    if "known" not in context:  # shown before a restart: its choices are gone
        return {"name": "intake", "stale": True}
    values = dict(form.values) or _draft_values(context.get("draft"))
    for name in PROPOSED_TIMES:
        day, clock = values.pop(f"{name}.date", ""), values.pop(f"{name}.time", "")
        if day or clock:
            values[name] = f"{day}T{clock}" if day and clock else day or clock
    values.setdefault("timezone", context["timezone"])
    values.setdefault("parallel_asks", "1")
    length = str(values.get("call_length_minutes") or DEFAULT_CALL_LENGTH)
    values["call_length_minutes"] = length if length in {str(n) for n in call_lengths(length)} \
        else str(DEFAULT_CALL_LENGTH)
    keep = {name: [v for v in str(values.get(name) or "").split(",") if v]
            for name in ("industry", "region", "language", "products", "use_cases")}
    sources = Sources(known=context["known"], timezone=str(values["timezone"]),
                      keep={**keep, "call_length_minutes": [values["call_length_minutes"]]})
    return {"name": "intake", "stale": False, "form_id": uuid.uuid4().hex,
            "fields": fields_of("intake", values, sources=sources), "errors": form.errors,
            "timezone": values["timezone"], "today": context.get("today")}


def _draft_values(draft: Any) -> dict[str, Any]:
    if draft is None:
        return {}
    return {"industry": draft.industry, "region": draft.region, "language": draft.language,
            "reference_type": draft.reference_type, "company_size": draft.company_size,
            "products": ",".join(draft.products), "use_cases": ",".join(draft.use_cases),
            "notes": draft.notes}

