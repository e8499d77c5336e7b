"""Every language's catalog is complete and keeps its placeholders, and nothing a person
reads bypasses the catalog.

The message ids are extracted from the code and the templates as ``pybabel extract -F
babel.cfg`` does (docs/translating.md). Every language under ``templates/locales/`` must
translate each one (no empty or fuzzy entry) with the same named placeholders. Then every
message the services send, on Slack, on Teams and as text, and every refusal, field error
and reason, is rendered in a pseudo-locale that wraps each catalog word in ⟦ ⟧: a word left
outside the brackets that is not data reached a person without passing through the
catalog.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bot.domain.errors import Problem
from bot.i18n import PseudoTranslations, locales_dir, supported_languages, translations
from bot.ports import OutboxMessage
from bot.rendering import PLAIN, Renderer
from handlers.slack.blockkit import MARKUP as SLACK_MARKUP
from handlers.slack.blockkit import install as install_blockkit
from handlers.slack.messenger import SlackMessenger
from handlers.teams.cards import TeamsCards
from handlers.teams.replies import MARKUP as TEAMS_MARKUP
from tests.i18n_check import data_strings, pseudo_renderer, stray_words, visible_strings
from tests.unit.test_architecture import ROOT

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
LANGUAGES = [lang for lang in supported_languages() if lang != "en"]


def extracted() -> dict[Any, list[str]]:
    """Every message id (a string, or (singular, plural)) with where it is used."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[Any, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map):
        if filename.startswith(("tests", ".venv", "bench")):
            continue
        found.setdefault(message, []).append(f"{filename}:{lineno}")
    return found


MESSAGES = extracted()


def catalog(language: str) -> Catalog:
    merged = Catalog(locale=language)
    for path in sorted((locales_dir() / language / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle, locale=language):
                if message.id:
                    merged[message.id] = message
    return merged


def test_the_extraction_sees_the_templates_words() -> None:
    assert len(MESSAGES) > 0 or not any(
        "{% trans" in p.read_text() for p in (ROOT / "templates").rglob("*.j2"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_id_has_a_translation(language: str) -> None:
    known = catalog(language)
    missing, fuzzy = [], []
    for message_id, where in MESSAGES.items():
        entry = known.get(message_id)
        strings = ([] if entry is None else
                   list(entry.string) if isinstance(entry.string, tuple | list)
                   else [entry.string])
        if entry is None or not all(strings):
            missing.append(f"{where[0]}: {message_id!r}")
        elif entry.fuzzy:
            fuzzy.append(f"{where[0]}: {message_id!r}")
    assert not missing, f"{len(missing)} untranslated in {language}:\n" + "\n".join(missing[:40])
    assert not fuzzy, f"{len(fuzzy)} fuzzy in {language}:\n" + "\n".join(fuzzy[:40])


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalog_holds_no_words_the_templates_no_longer_use(language: str) -> None:
    used = {m if isinstance(m, str) else tuple(m) for m in MESSAGES}
    stale = [e.id for e in catalog(language)
             if e.id and (e.id if isinstance(e.id, str) else tuple(e.id)) not in used]
    assert not stale, f"{len(stale)} stale in {language} (pybabel update drops them): {stale[:20]}"


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_placeholder_is_lost_or_renamed(language: str) -> None:
    wrong = []
    for entry in catalog(language):
        if not entry.id or not entry.string:
            continue
        if isinstance(entry.id, tuple | list):  # every form keeps the plural's placeholders
            wanted = _placeholders(entry.id[1])
            forms = list(entry.string)
        else:
            wanted, forms = _placeholders(entry.id), [entry.string]
        for form in forms:
            if _placeholders(form) != wanted and not (
                    isinstance(entry.id, tuple | list)
                    and wanted - {"count"} <= _placeholders(form) <= wanted):
                wrong.append(f"{entry.id!r}: {sorted(wanted)} → {form!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalog_loads_and_translates(language: str) -> None:
    words = translations(language)
    translated = [m for m in MESSAGES if isinstance(m, str)]
    if translated:
        assert any(words.gettext(m) != m for m in translated)


def test_the_checks_can_fail() -> None:
    assert stray_words("⟦Hello⟧ Ada said no", ["Ada"]) == ["said", "no"]
    assert stray_words("⟦Ada said ⟦no⟧⟧ <@U123> :tada: https://x.example/a") == []
    assert _placeholders("%(name)s and %(count)d") == {"name", "count"}
    assert PseudoTranslations().ngettext("one", "many", 2) == "⟦many⟧"


# --- the pseudo-locale ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def pseudo_slack() -> Renderer:
    return install_blockkit(pseudo_renderer())


@pytest.fixture(scope="module")
def pseudo_teams() -> TeamsCards:
    return TeamsCards(pseudo_renderer())


def _problems() -> Iterator[tuple[str, Problem]]:
    from tests.unit.test_error_codes import SITES

    for site in SITES:
        yield f"{site.code}@{site.where}", Problem(site.code, **site.params)


def test_every_refusal_field_error_and_reason_passes_through_the_catalog() -> None:
    renderer = pseudo_renderer()
    stray = {}
    for where, problem in _problems():
        for markup in (PLAIN, SLACK_MARKUP, TEAMS_MARKUP):
            text = renderer.problem_text(problem, markup)
            words = stray_words(text, data_strings(problem.params))
            if words:
                stray[where] = (text, words)
    assert not stray, "\n".join(f"{w}: {t!r} {s}" for w, (t, s) in list(stray.items())[:40])


async def test_every_message_passes_through_the_catalog_on_every_surface(
        pseudo_slack: Renderer, pseudo_teams: TeamsCards) -> None:
    from tests.templates.test_slack_templates import every_message

    text_renderer = pseudo_renderer()
    slack = SlackMessenger(client=None, renderer=pseudo_slack)  # type: ignore[arg-type]
    stray: dict[str, list[str]] = {}
    from bot.conversation.forms import COMMON_TIMEZONES

    # A Teams card may carry a form (the invite's onboarding): time zone names are data.
    zones = [*COMMON_TIMEZONES, *(z.replace("_", " ") for z in COMMON_TIMEZONES)]
    for message in await every_message("plain"):
        data = [*data_strings(message.context), *zones]
        shown = {"text": [text_renderer.text(message.template, message.context)],
                 "slack": list(visible_strings(slack.render(OutboxMessage(
                     id=1, message=message, created_at=None)))),  # type: ignore[arg-type]
                 "teams": list(visible_strings(pseudo_teams.outgoing(
                     message.template, message.context).card))}
        for surface, texts in shown.items():
            for text in texts:
                words = stray_words(text, data)
                if words:
                    stray.setdefault(f"{surface}/{message.template}", []).extend(words)
    assert not stray, "\n".join(f"{k}: {sorted(set(v))}" for k, v in stray.items())


def test_a_language_folder_is_what_makes_a_language() -> None:
    folders = {p.name for p in locales_dir().iterdir()} if locales_dir().is_dir() else set()
    assert set(supported_languages()) == {"en"} | {
        f for f in folders if (locales_dir() / f / "LC_MESSAGES").is_dir()}
    assert all(Path(p).suffix == ".po" for f in folders
               for p in (locales_dir() / f / "LC_MESSAGES").iterdir())


def test_a_japanese_chart_is_drawn_with_a_font_that_has_the_glyphs() -> None:
    from PIL import ImageFont

    from bot.i18n import chart_font

    assert chart_font("en") is None and chart_font("fr") is None
    font = ImageFont.truetype(str(chart_font("ja-JP")), 11)
    # IPAexGothic maps these characters; a font without them draws one .notdef box for each,
    # all alike.
    masks = {bytes(font.getmask(ch)) for ch in "依頼対応済"}
    assert len(masks) == 5


async def test_every_form_home_and_card_passes_through_the_catalog(
        pseudo_slack: Renderer, pseudo_teams: TeamsCards) -> None:
    from bot.domain.policy import LimitPolicy
    from bot.services.advocates import advocate_profile
    from bot.services.intake import KnownValues
    from handlers.slack import forms, home, intake
    from tests.templates.test_slack_templates import START, home_contexts, known_values
    from tests.unit.conftest import advocate_actor
    from tests.unit.test_templates_text import World

    r, cards, program = pseudo_slack, pseudo_teams, LimitPolicy()
    contexts = await home_contexts("plain")
    w = World()
    ada = await w.advocate("Ada", "plain", timezone="Asia/Tokyo")
    profile = await advocate_profile(w.ctx, advocate_actor(ada), ada.id or 0)
    shown: dict[str, Any] = {
        "slack/intake": intake.intake_view(r, known=known_values("plain"), draft=None,
                                           user_timezone="Asia/Tokyo", private_metadata="{}"),
        "slack/decline_reason": forms.decline_reason_view(r, ask_id=12),
        "slack/propose_time": forms.propose_time_view(r, engagement_id=3, timezone="Asia/Tokyo",
                                                      latest=START.date()),
        "slack/outcome": forms.outcome_view(r, engagement_id=3, advocate_name="Ada",
                                            currency="EUR"),
        "slack/comment": forms.comment_view(r, engagement_id=3),
        "slack/own_limits": forms.own_limits_view(r, advocate_id=7, current=program,
                                                  program=program),
        "slack/check_in_limits": forms.check_in_limits_view(r, advocate_id=7, current=program,
                                                            program=program),
        "slack/check_in_feedback": forms.check_in_feedback_view(r, advocate_id=7),
        **{f"slack/home_{n}": home.home_view(r, context=c) for n, c in enumerate(contexts)},
        "slack/profile": home.profile_message(r, advocate=contexts[1]["advocate"],
                                              timezone="Asia/Tokyo"),
        "teams/intake": cards.intake(form_id="f1", values={}, errors={}, known=KnownValues()),
        "teams/welcome": cards.welcome(name="Ada", bot_name="Advocate Bot"),
        "teams/request_list": cards.request_list([]),
        **{f"teams/profile_{viewer}": cards.profile(profile, viewer=viewer,
                                                    timezone="Asia/Tokyo",
                                                    program_limits=program,
                                                    today=START.date())
           for viewer in ("self", "manager")},
    }
    from babel import Locale

    from bot.conversation.forms import COMMON_TIMEZONES
    from bot.i18n import NAMED_LANGUAGES, supported_languages
    from bot.services.locales import language_names

    # Data, not words: the roster's values, time zone names, what the contexts carry.
    data = [*data_strings(contexts), *data_strings(profile), *data_strings(
        known_values("plain")), *COMMON_TIMEZONES, *(z.replace("_", " ") for z in COMMON_TIMEZONES),
        "Ada plain", "Advocate Bot",
        # The language menus name each language in itself, the intake's spoken languages
        # in the reader's (Babel's names: data).
        *language_names(supported_languages()).values(),
        *(Locale.parse(code).get_display_name("en") for code in NAMED_LANGUAGES)]
    stray = {name: sorted(set(words)) for name, payload in shown.items()
             if (words := [w for t in visible_strings(payload) for w in stray_words(t, data)])}
    assert not stray, "\n".join(f"{k}: {v}" for k, v in stray.items())
