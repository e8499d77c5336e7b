"""Adaptive Cards (1.5) for Teams, rendered from ``templates/teams/``.

Every outbox message becomes a card: its plain-text version (``templates/text``, the same
words Slack's fallback uses) laid out one TextBlock per line, plus the buttons of
``templates/teams/<template>.json.j2`` when the message asks for an answer; a message with
no Teams template is the text alone (``message.json.j2``). A few notifications lay out their
own context instead (the digest: facts and its chart; the private milestone). The
interactive cards (welcome, intake form, the status a clicked card turns into, the request
list) have their own templates and helpers here. A form's inputs are its spec's fields
(``bot/conversation/formspec.py``) laid out by ``templates/teams/fields.j2``, wherever
the form sits: the intake card, or a message card's ShowCard (``form_fields``). Nothing
here imports botbuilder: cards are plain dicts, so they are tested against the Adaptive
Card schema without an SDK.

Teams refuses messages over about 28 KB, so ``fit`` cuts a card's text (never its buttons)
until it fits, rather than letting the message die in the outbox.

A message carrying a chart (``chart``: the digest's 12-week trend, drawn by
``Renderer.chart_png``) shows it in its card as an Image with a ``data:`` URI when the
card, chart included, leaves room under 28 KB for the rest of the activity (the digest's
chart is 8-11 KB of base64). The limit counts the whole activity, so an image attachment
on the same activity would not save a byte: a chart too big for the card follows in a
message of its own, as an inline
image attachment, and one too big even for that is left out (the card lists the numbers).
The card's template shows ``chart_url`` or, given ``chart_follows``, says the chart follows.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from bot.conversation import formspec
from bot.conversation.forms import DEFAULT_CALL_LENGTH, LIMIT_NAMES, call_lengths, limit_fields
from bot.conversation.formspec import FORMS, PROPOSED_TIMES, Sources, field_errors
from bot.conversation.views import profile_view
from bot.domain.errors import InvalidInput
from bot.domain.policy import LimitPolicy
from bot.i18n import supported_languages
from bot.rendering import Renderer
from bot.services.advocates import AdvocateProfile
from bot.services.intake import KnownValues
from bot.services.locales import language_code, language_names

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

    def __init__(self, renderer: Renderer, *, program: LimitPolicy | None = None) -> None:
        """``program``: the program's limits, which bound the limits forms' fields."""
        self.renderer = renderer
        self.program = program
        self._locales: dict[str, TeamsCards] = {}
        fields = functools.partial(form_fields, program=program or LimitPolicy())

        def install(env: Any) -> None:
            # Card templates that place what people typed make it inert with this.
            env.filters["inert"] = inert_links
            # Message cards that carry a form lay out its fields from the spec.
            env.globals["form_fields"] = fields
        renderer.extend(install)

    def for_locale(self, locale: str | None) -> TeamsCards:
        """The same cards in a person's locale (``Renderer.for_locale``)."""
        renderer = self.renderer.for_locale(locale)
        if renderer is self.renderer:
            return self
        if renderer.locale not in self._locales:  # the family's renderers share `install`
            cards = copy.copy(self)
            cards.renderer = renderer
            self._locales[renderer.locale] = cards
        return self._locales[renderer.locale]

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
        """``message``, with the chart a message carries (``Renderer.chart_png``) placed:
        in the card when it fits there with room to spare, else after it as an inline
        image."""
        png = self.renderer.chart_png(context)
        base = {k: v for k, v in context.items() if k != "chart"}
        if not png:
            card, text = self.message(template, base)
            return RenderedMessage(card, text)
        data_url = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
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
        viewer may use: the advocate's own limits form and language menu, or a program
        manager's override."""
        shown = profile_context(profile)
        card: dict[str, Any] = self.renderer.render_json("teams/profile.json.j2", {
            "advocate": shown,
            "timezone": timezone,
            "viewer": viewer,
            "min_date": today.isoformat() if today else None,
            "own_limits": form_fields("own_limits", limits=profile.limits,
                                      program=program_limits),
            "pause": form_fields("pause"),
            "call_hours": form_fields("call_hours", {"hours": profile.advocate.call_hours}),
            "overrides": override_fields(profile),
        })
        if viewer == "self" and (shown["can_pause"] or shown["can_resume"]):  # not gone
            card["body"].extend(self.renderer.render_json("teams/language_menu.j2", {
                "current": language_code(self.renderer.locale) or "en",
                "choices": list(language_names(supported_languages()).items())}))
        return card

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

    def intake(self, *, form_id: str, values: Mapping[str, Any], errors: Mapping[str, Any],
               known: KnownValues, today: date | None = None) -> dict[str, Any]:
        """The intake form (the ``intake`` spec's fields), pre-filled with ``values`` and
        showing ``errors`` on their fields (server-side validation re-shows the form
        rather than dropping the input)."""
        shown = {k: v for k, v in values.items() if v not in (None, "", [], ())}
        for name in PROPOSED_TIMES:  # a day and a time box, as the card sent them back
            day, clock = str(shown.pop(f"{name}.date", "")), str(shown.pop(f"{name}.time", ""))
            if day or clock:
                shown[name] = f"{day}T{clock}" if day and clock else day or clock
        shown.setdefault("parallel_asks", "1")
        length = str(shown.get("call_length_minutes", DEFAULT_CALL_LENGTH)).split(".")[0]
        shown["call_length_minutes"] = length if length in {
            str(n) for n in call_lengths(length)} else str(DEFAULT_CALL_LENGTH)
        keep = {name: _as_list(shown.get(name)) for name in
                ("industry", "region", "language", "products", "use_cases")}
        zone = str(shown.get("timezone") or "UTC")
        sources = Sources(known=known, timezone=zone, locale=self.renderer.locale,
                          keep={**keep, "call_length_minutes": [shown["call_length_minutes"]]})
        context = {
            "form_id": form_id,
            "form": "intake",
            "fields": formspec.shown(FORMS["intake"].fields(sources), shown),
            "errors": field_errors(self.renderer, FORMS["intake"],
                                   InvalidInput(dict(errors))) if errors else {},
            "timezone": zone,
            "min_date": today.isoformat() if today else None,
        }
        return self.renderer.render_json("teams/intake.json.j2", context)


def profile_context(profile: AdvocateProfile) -> dict[str, Any]:
    """What the profile card shows: the profile every surface shows, names cut to fit."""
    view = profile_view(profile, items=PROFILE_ITEMS)
    return {**view, "name": _cut(view["name"], 200), "company": _cut(view["company"], 200)}


def form_fields(form: str, values: Mapping[str, Any] | None = None, *,
                limits: LimitPolicy | Mapping[str, int] | None = None,
                program: LimitPolicy | Mapping[str, int] | None = None,
                known: Mapping[str, Iterable[str]] | None = None,
                timezone: str = "UTC") -> list[dict[str, Any]]:
    """A form's fields for a card template (``teams/fields.j2``); a limits form is
    pre-filled with the advocate's ``limits``, bounded by the ``program``'s; ``known``:
    the roster's values a message carries (``KnownValues``' fields, as lists)."""
    current, bounds = _policy(limits), _policy(program or limits)
    if values is None and current is not None and bounds is not None:
        values = {f.name: f.value for f in limit_fields(current, bounds)}
    roster = KnownValues(**{k: tuple(v) for k, v in (known or {}).items()})
    sources = Sources(limits=current or LimitPolicy(), program=bounds or LimitPolicy(),
                      known=roster, timezone=timezone)
    return formspec.shown(FORMS[form].fields(sources), values)


def _policy(raw: LimitPolicy | Mapping[str, int] | None) -> LimitPolicy | None:
    if raw is None or isinstance(raw, LimitPolicy):
        return raw
    return LimitPolicy(**{name: int(raw[name]) for name in LIMIT_NAMES})


def override_fields(profile: AdvocateProfile) -> list[dict[str, Any]]:
    """A program manager's override of the four limits: each field's current override."""
    return [{"id": name, "override": getattr(profile.advocate.manager_limits, name)}
            for name in LIMIT_NAMES]


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
