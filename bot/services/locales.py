"""Which language a person reads the bot in: read once, stored, resolved in one place.

A person's locale is, first that wins:

1. the one they chose themselves (``/advocate language ja``, the App Home, Teams'
   profile card), stored on their ``people`` row;
2. the roster's ``Locale`` column, for an advocate (by email);
3. what their chat platform says (Slack's ``users.info`` locale, asked once with the rest
   of their profile; the locale of their Teams activities), stored on their row;
4. the program's ``PROGRAM_LOCALE`` (also the language of channel posts).

Nothing here asks a platform: the outbox dispatcher and the surfaces read stored values.
Locales are Babel identifiers (``ja_JP``, ``en``); ``normalize_locale`` reads what people
and platforms write (``ja``, ``ja-JP``, ``ja_JP``, ``Japanese``, ``日本語``). The
languages a person may choose are the catalogs shipped under ``templates/locales/`` plus
English (``available_languages``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from babel import Locale, UnknownLocaleError

from bot.domain.model import Person

DEFAULT_LOCALE: Final = "en"
# The languages whose names people here write language names in ("Japanese", "日本語",
# "Japanisch" all name ``ja``).
LANGUAGE_NAME_LOCALES: Final = ("en", "ja", "de", "fr", "es", "pt", "it", "zh", "ko", "nl")


@functools.cache
def _language_codes() -> dict[str, str]:
    """Every language name (in the locales people here write in) and code → its code."""
    codes: dict[str, str] = {}
    for shown_in in LANGUAGE_NAME_LOCALES:
        for code, name in Locale.parse(shown_in).languages.items():
            codes.setdefault(name.casefold(), code)
            codes.setdefault(code.casefold(), code)
    return codes


def language_code(text: str) -> str | None:
    """``en``, ``EN``, ``English``, ``英語``, ``en-US``, ``en_GB`` → ``en``; None when
    it names no language."""
    folded = text.strip().casefold()
    if not folded:
        return None
    found = _language_codes().get(folded)
    if found is not None:
        return found.split("_")[0]
    parsed = normalize_locale(folded)
    return parsed.split("_")[0] if parsed else None


def normalize_locale(text: str | None) -> str | None:
    """A locale as Babel names it (``ja_JP``, ``en``, ``zh_Hant_TW``) from a code in any
    case or separator (``ja-JP``, ``ja_jp``) or a language's name in one of
    ``LANGUAGE_NAME_LOCALES`` (``Japanese``, ``日本語``); None when it names none."""
    raw = (text or "").strip()
    if not raw or len(raw) > 35:
        return None
    try:
        return str(Locale.parse(raw.replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError):
        pass
    code = _language_codes().get(raw.casefold())
    if code is None:
        return None
    try:
        return str(Locale.parse(code))
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def resolve_locale(person: Person | None, roster: str | None, program: str) -> str:
    """The locale ``person`` reads: their choice, the roster's, their platform's, the
    program's (see the module's docstring)."""
    if person is not None and person.chosen_locale:
        return person.chosen_locale
    if roster:
        return roster
    if person is not None and person.locale:
        return person.locale
    return program


def templates_root() -> Path:
    """The templates folder (inside the installed package, or at the repository root),
    found as the renderer finds it."""
    here = Path(__file__).resolve().parents[1]
    for candidate in (here / "templates", here.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"no templates folder beside {here}")


@functools.cache
def available_languages(root: Path | None = None) -> tuple[str, ...]:
    """The languages a person may choose: English and every catalog under
    ``templates/locales/``, English first, the others by code."""
    folder = (root or templates_root()) / "locales"
    found = {p.name for p in folder.iterdir() if (p / "LC_MESSAGES").is_dir()} if (
        folder.is_dir()) else set()
    return (DEFAULT_LOCALE, *sorted(found - {DEFAULT_LOCALE}))


def supported_language(locale: str | None, languages: Iterable[str]) -> str | None:
    """The one of ``languages`` that ``locale`` (any spelling) is written in, or None."""
    code = language_code(locale or "")
    return code if code is not None and code in set(languages) else None


def language_names(languages: Iterable[str]) -> dict[str, str]:
    """Each language named in itself (``English``, ``日本語``), for a menu of languages."""
    return {code: Locale.parse(code).get_display_name(code) or code for code in languages}


__all__ = [
    "DEFAULT_LOCALE",
    "available_languages",
    "language_code",
    "language_names",
    "normalize_locale",
    "resolve_locale",
    "supported_language",
    "templates_root",
]
