"""The top-level message texts (``templates/text/*.txt.j2``) and the Teams cards
(``templates/teams/``) show no word of their own that bypasses the catalog.

Every message the services send is rendered, as text and as a Teams card, in the
pseudo-locale (``tests/i18n_check.py``: each catalog word wrapped in ⟦ ⟧). The words these
templates borrow from shared files (``text/forms/words.j2``, ``text/replies/labels.j2``) and
the refusal and reason texts (``problem_text``) are replaced by bracketed stand-ins, so this
test answers for these templates alone: a word left outside the brackets that is not data
was written into one of them without ``_()`` or ``{% trans %}``.
"""

from __future__ import annotations

import re
from typing import Any

import jinja2
import pytest

from bot.rendering import Renderer, templates_dir
from handlers.teams.cards import TeamsCards
from tests.i18n_check import data_strings, pseudo_renderer, stray_words, visible_strings

SHARED = ("text/forms/words.j2", "text/replies/labels.j2")
# What a person types, not words: the commands the app package lists.
COMMANDS = ["reference cancel", "reference list", "reference", "advocate me", "advocates help",
            "advocates nominate",
            "advocates", "help"]


def stand_ins() -> dict[str, str]:
    """Each shared file's macros, answering one bracketed word whatever they are given."""
    sources = {}
    for name in SHARED:
        macros = re.findall(r"{%-?\s*macro (\w+)\(", (templates_dir() / name).read_text())
        sources[name] = "".join(
            f"{{% macro {m}() %}}⟦{m}{{{{ varargs | length }}}}{{{{ kwargs | length }}}}⟧"
            "{% endmacro %}" for m in macros)
    return sources


def isolated(renderer: Renderer) -> Renderer:
    renderer.env.loader = jinja2.ChoiceLoader([jinja2.DictLoader(stand_ins()),
                                               renderer.env.loader])  # type: ignore[list-item]
    renderer.env.globals["problem_text"] = lambda *_args, **_kwargs: "⟦problem⟧"
    return renderer


@pytest.fixture(scope="module")
def text_renderer() -> Renderer:
    return isolated(pseudo_renderer())


@pytest.fixture(scope="module")
def cards() -> TeamsCards:
    return TeamsCards(isolated(pseudo_renderer()))


def strays(payload: Any, data: list[str]) -> list[str]:
    """Words outside the brackets. A card's fallbackText is its text cut at 1000
    characters (the text itself is checked whole)."""
    if isinstance(payload, str):
        return stray_words(payload, data)
    shown = {k: v for k, v in payload.items() if k != "fallbackText"}
    return [w for text in visible_strings(shown) for w in stray_words(text, data)]


def test_the_check_finds_a_word_written_around_the_catalog(text_renderer: Renderer) -> None:
    template = text_renderer.env.from_string(
        '{% import "text/replies/labels.j2" as l %}{{ l.state("open") }} '
        '{{ _("Needed by: %(d)s", d=day) }} {{ problem_text(x) }} Hello')
    text = template.render(day="2026-03-20", x=None)
    assert stray_words(text, ["2026-03-20"]) == ["Hello"]


async def test_every_message_text_and_card_passes_through_the_catalog(
        text_renderer: Renderer, cards: TeamsCards) -> None:
    from tests.templates.test_teams_templates import every_message

    found: dict[str, set[str]] = {}
    for message in await every_message("plain"):
        data = list(data_strings(message.context))
        for surface, payload in (
                ("text", text_renderer.text(message.template, message.context)),
                ("teams", cards.outgoing(message.template, message.context).card)):
            if words := strays(payload, data):
                found.setdefault(f"{surface}/{message.template}", set()).update(words)
    assert not found, "\n".join(f"{k}: {sorted(v)}" for k, v in sorted(found.items()))


async def test_every_teams_form_and_list_passes_through_the_catalog(cards: TeamsCards) -> None:
    from bot.domain.policy import LimitPolicy
    from bot.services.advocates import advocate_profile
    from bot.services.intake import KnownValues
    from tests.unit.conftest import START, advocate_actor
    from tests.unit.test_templates_text import World

    w = World()
    ada = await w.advocate("Ada", "plain", timezone="Asia/Tokyo")
    profile = await advocate_profile(w.ctx, advocate_actor(ada), ada.id or 0)
    request = {"id": 12, "prospect_company": "Globex", "reference_type_label": "Reference call",
               "needed_by": "2026-03-20", "state": "awaiting_approval"}
    row = {"advocate_id": 1, "name": "Ada", "email": "ada@customer.example",
           "company": "Acme", "industry": "Fintech", "region": "EMEA", "status": "paused"}
    shown: dict[str, Any] = {
        "intake": cards.intake(form_id="f1", values={}, errors={}, known=KnownValues()),
        "welcome": cards.welcome(name="Ada", bot_name="Advocate Bot"),
        "request_list": cards.request_list([request]),
        "no_requests": cards.request_list([]),
        "roster": cards.roster([row], query="fin"),
        "nobody": cards.roster([]),
        **{f"profile_{viewer}": cards.profile(profile, viewer=viewer, timezone="Asia/Tokyo",
                                              program_limits=LimitPolicy(),
                                              today=START.date())
           for viewer in ("self", "manager")},
        "package": cards.renderer.render_json("teams/package/words.json.j2",
                                              {"name": "Advocate Bot"}),
    }
    from bot.conversation.forms import COMMON_TIMEZONES
    from bot.i18n import supported_languages
    from bot.services.locales import language_names

    data = [*data_strings(profile), *data_strings(request), *data_strings(row),
            *COMMON_TIMEZONES, *(z.replace("_", " ") for z in COMMON_TIMEZONES),
            *language_names(supported_languages()).values(),  # each in its own language
            "Advocate Bot", "fin"]
    found = {name: sorted(set(words)) for name, payload in shown.items()
             if (words := strays(payload, data + (COMMANDS if name == "package"
                                                  else [])))}
    assert not found, "\n".join(f"{k}: {v}" for k, v in found.items())
