"""Adaptive Cards (1.5) for Teams, rendered from ``templates/teams/``.

Every outbox message becomes a card: its plain-text version (``templates/text``, the same
words Slack's fallback uses) laid out one TextBlock per line, plus the buttons of
``templates/teams/<template>.json.j2`` when the message asks for an answer; a message with
no Teams template is the text alone (``message.json.j2``). A few notifications lay out their
own context instead (the digest: facts and its chart; the private milestone). The
interactive cards (welcome, intake form, the status a clicked card turns into, the request
list) have their own templates and helpers here. Nothing here imports botbuilder: cards are
plain dicts, so they are tested against the Adaptive Card schema without an SDK.

Teams refuses messages over about 28 KB, so ``fit`` cuts a card's text (never its buttons)
until it fits, rather than letting the message die in the outbox.

A message carrying a chart (``chart_png``, base64 PNG: the digest's 12-week trend) shows it
in its card as an Image with a ``data:`` URI when the card, chart included, leaves room
under 28 KB for the rest of the activity (the digest's chart is 8-11 KB of base64). The
limit counts the whole activity, so an image attachment on the same activity would not
save a byte: a chart too big for the card follows in a message of its own, as an inline
image attachment, and one too big even for that is left out (the card lists the numbers).
The card's template shows ``chart_url`` or, given ``chart_follows``, says the chart follows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from bot.conversation.forms import CALL_LENGTHS, DEFAULT_CALL_LENGTH, intake_choices
from bot.conversation.forms import limit_fields as shared_limit_fields
from bot.domain.policy import LimitPolicy
from bot.rendering import Renderer, local_time
from bot.services.advocates import AdvocateProfile
from bot.services.intake import KnownValues

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MAX_CARD_BYTES = 28 * 1024  # Teams' limit for a message, card included
# What a proactive activity carries beside its attachments (ids, service URL, the 200-char
# summary): a card with an embedded chart must leave this much of the 28 KB free.
ACTIVITY_HEADROOM = 2 * 1024
ELLIPSIS_LINE = "…"

Tone = Literal["good", "attention", "default"]
Viewer = Literal["self", "manager"]
ROSTER_ROWS = 20  # advocates listed by ``advocates find``
PROFILE_ITEMS = 10  # upcoming calls and history lines shown on the profile card


@dataclass(frozen=True, slots=True)
class InlineImage:
    """An image sent as an activity attachment (``contentUrl`` a ``data:`` URI)."""

    name: str
    data_url: str
    media_type: str = "image/png"

    @property
    def size(self) -> int:
        return len(self.name.encode()) + len(self.data_url) + len(self.media_type)


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """An outbox message for Teams: its card, its plain text (the notification preview),
    and the images that follow it in messages of their own."""

    card: dict[str, Any]
    text: str
    follow_up_images: tuple[InlineImage, ...] = ()


def card_size(card: Mapping[str, Any]) -> int:
    """Bytes the card takes on the wire (UTF-8 JSON), as Teams counts them."""
    return len(json.dumps(card, ensure_ascii=False, separators=(",", ":")).encode())


def inert_links(text: str) -> str:
    """Teams renders ``[words](url)`` in a TextBlock as a link showing only the words: in
    text people typed (a rep's notes, a company name) that is a disguised link. A zero-width
    space between ``]`` and ``(`` keeps the text as typed and the link inert; no template of
    ours writes markdown links."""
    return text.replace("](", "]\u200b(")


def text_lines(text: str) -> list[dict[str, Any]]:
    """Plain text as card lines: one per non-blank line, ``gap`` after a blank line."""
    lines: list[dict[str, Any]] = []
    gap = False
    for raw in text.splitlines():
        line = inert_links(raw.strip())
        if not line:
            gap = bool(lines)
            continue
        lines.append({"text": line, "gap": gap})
        gap = False
    return lines or [{"text": ELLIPSIS_LINE, "gap": False}]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _as_list(raw: object) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        parts: list[Any] | tuple[Any, ...] = raw.split(",")
    else:  # a card's data is anyone's JSON: a number where a list was sent, too
        parts = raw if isinstance(raw, list | tuple) else [raw]
    return [str(p).strip() for p in parts if str(p).strip()]


class TeamsCards:
    """Renders every card the Teams front end sends or returns."""

    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer
        # Card templates that place what people typed themselves make it inert with this.
        renderer.env.filters["inert"] = inert_links

    # --- outbox messages --------------------------------------------------------------

    def has_card(self, template: str) -> bool:
        return self.renderer.has(f"teams/{template}.json.j2")

    def message(self, template: str, context: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
        """The card for an outbox message and its plain text (notification preview)."""
        text = self.renderer.text(template, dict(context))
        name = f"teams/{template}.json.j2" if self.has_card(template) else "teams/message.json.j2"
        lines = text_lines(text)

        def render(shown: list[dict[str, Any]]) -> dict[str, Any]:
            return self.renderer.render_json(
                name, {**context, "lines": shown, "fallback_text": text[:1000]})

        return fit(render, lines), text

    def outgoing(self, template: str, context: Mapping[str, Any]) -> RenderedMessage:
        """``message``, with the chart a message carries (``chart_png``) placed: in the card
        when it fits there with room to spare, else after it as an inline image."""
        chart = str(context.get("chart_png") or "")
        base = {k: v for k, v in context.items() if k != "chart_png"}
        if not chart:
            card, text = self.message(template, base)
            return RenderedMessage(card, text)
        data_url = "data:image/png;base64," + chart
        try:
            card, text = self.message(template, {**base, "chart_url": data_url})
        except ValueError:  # over 28 KB even with its text cut
            card, text = {}, ""
        if card and card_size(card) <= MAX_CARD_BYTES - ACTIVITY_HEADROOM:
            return RenderedMessage(card, text)
        image = InlineImage(str(context.get("chart_filename") or "chart.png"), data_url)
        if image.size <= MAX_CARD_BYTES - ACTIVITY_HEADROOM:
            card, text = self.message(template, {**base, "chart_follows": True})
            return RenderedMessage(card, text, (image,))
        card, text = self.message(template, base)
        return RenderedMessage(card, text)

    # --- interactive cards ------------------------------------------------------------

    def welcome(self, *, name: str, bot_name: str, rep: bool = True) -> dict[str, Any]:
        """``rep``: show the reference-request commands (not to an advocate or a guest)."""
        return self.renderer.render_json(
            "teams/welcome.json.j2", {"name": name or "there", "bot_name": bot_name, "rep": rep})

    def status(self, headline: str, lines: Iterable[str] = (), *,
               tone: Tone = "default") -> dict[str, Any]:
        """What a clicked card becomes: the outcome, with no button left to click twice."""
        return self.renderer.render_json(
            "teams/status.json.j2", {"headline": headline, "lines": list(lines), "tone": tone})

    def request_list(self, requests: list[dict[str, Any]]) -> dict[str, Any]:
        return self.renderer.render_json("teams/request_list.json.j2", {"requests": requests})

    def profile(self, profile: AdvocateProfile, *, viewer: Viewer, timezone: str,
                program_limits: LimitPolicy, today: date | None = None) -> dict[str, Any]:
        """An advocate's profile (``advocate me``, ``advocates show``) with the buttons its
        viewer may use: the advocate's own limits form, or a program manager's override."""
        return self.renderer.render_json("teams/profile.json.j2", {
            "advocate": profile_context(profile, timezone),
            "viewer": viewer,
            "min_date": today.isoformat() if today else None,
            "limit_fields": limit_fields(profile, program_limits),
        })

    def roster(self, advocates: Iterable[Mapping[str, Any]], *,
               query: str = "") -> dict[str, Any]:
        """``advocates find``: who fits (``dispatcher.advocate_view``), each with a button
        to their profile. Long names are cut, and fewer advocates are listed ("N more")
        until the card fits 28 KB."""
        rows = [{**a, "name": _cut(a["name"], 120), "button": "Show " + _cut(a["name"], 40),
                 "company": _cut(a["company"], 120), "industry": _cut(a["industry"], 60),
                 "region": _cut(a["region"], 30)} for a in advocates]
        shown = min(len(rows), ROSTER_ROWS)
        while True:
            card = self.renderer.render_json("teams/roster.json.j2", {
                "query": _cut(query, 200), "advocates": rows[:shown],
                "more": len(rows) - shown})
            if card_size(card) <= MAX_CARD_BYTES or shown == 0:
                return card
            shown -= 1

    def intake(self, *, form_id: str, values: Mapping[str, Any], errors: Mapping[str, str],
               known: KnownValues, today: date | None = None) -> dict[str, Any]:
        """The intake form, pre-filled with ``values`` and showing ``errors`` on their
        fields (server-side validation re-shows the form rather than dropping the input)."""
        shown = {k: v for k, v in values.items() if v not in (None, "", [], ())}
        try:
            call_length = int(str(shown.get("call_length_minutes", 30)).split(".")[0])
        except ValueError:
            call_length = 30
        keep = {name: _as_list(shown.get(name)) for name in
                ("industry", "region", "language", "products", "use_cases")}
        choices = intake_choices(known, timezone=str(shown.get("timezone") or "UTC"), keep=keep)
        if call_length not in CALL_LENGTHS:
            call_length = DEFAULT_CALL_LENGTH
        shown["call_length_minutes"] = str(call_length)
        context = {
            "form_id": form_id,
            "values": shown,
            "errors": dict(errors),
            "call_length": call_length,
            "min_date": today.isoformat() if today else None,
            "menus": {name: [{"title": c.title, "value": c.value} for c in listed]
                        for name, listed in choices.items()},
        }
        return self.renderer.render_json("teams/intake.json.j2", context)


def profile_context(profile: AdvocateProfile, timezone: str) -> dict[str, Any]:
    """What the profile card shows, as plain strings in the viewer's time zone."""
    advocate = profile.advocate
    availability = profile.availability
    following = profile.next_tier
    upcoming = [
        f"{item.reference_type.label} with {item.rep_name or 'a rep'}: "
        + (local_time(item.at, timezone) if item.state.value == "scheduled"
           else "time not booked yet")
        + f" (reference #{item.engagement_id})"
        for item in profile.upcoming[:PROFILE_ITEMS]]
    history = [
        f"{item.reference_type.label}, {local_time(item.at, timezone, '%d %b %Y')}: "
        f"{item.state.value.replace('_', ' ')}"
        + (f", {item.points} points" if item.points else "")
        for item in profile.history[:PROFILE_ITEMS]]
    return {
        "advocate_id": advocate.id,
        "name": _cut(advocate.name, 200),
        "email": advocate.email,
        "company": _cut(advocate.company, 200),
        "availability": availability,
        "tier": profile.tier.label,
        "points": advocate.points,
        "next_tier": f"{following[1]} more to {following[0].label}" if following else "",
        "usage": [str(profile.last_90_days), str(profile.last_365_days),
                  str(profile.open_asks)],
        "cooldown_days": profile.limits.cooldown_days,
        "blocked": [] if profile.can_be_asked.allowed else list(profile.can_be_asked.reasons),
        "can_pause": availability == "active" or availability.startswith("snoozed"),
        "can_resume": availability == "paused" or availability.startswith("on leave"),
        "retired": availability == "left the program",
        "upcoming": upcoming,
        "history": history,
    }


def limit_fields(profile: AdvocateProfile, program: LimitPolicy) -> list[dict[str, Any]]:
    """The four limits as form fields (``bot.conversation.forms.limit_fields``: an advocate
    may only be stricter than the program); ``override`` is a manager's current value."""
    return [{"id": f.name, "label": f.label, "min": f.low, "max": f.high, "value": f.value,
             "override": getattr(profile.advocate.manager_limits, f.name)}
            for f in shared_limit_fields(profile.limits, program)]


def fit(render: Any, lines: list[dict[str, Any]]) -> dict[str, Any]:
    """Render with as many text lines as fit in Teams' size limit (the last ones go first,
    each long line is cut too), keeping every button."""
    card = render(lines)
    if card_size(card) <= MAX_CARD_BYTES:
        return card
    shown = [dict(line, text=line["text"][:500]) for line in lines]
    while len(shown) > 1:
        card = render([*shown, {"text": ELLIPSIS_LINE, "gap": False}])
        if card_size(card) <= MAX_CARD_BYTES:
            return card
        shown = shown[: max(1, len(shown) * 3 // 4)]
    card = render([*shown, {"text": ELLIPSIS_LINE, "gap": False}])
    if card_size(card) > MAX_CARD_BYTES:
        raise ValueError("card over Teams' 28 KB limit even without its text")
    return card
