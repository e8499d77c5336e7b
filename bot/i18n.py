"""Languages: which ones the bot speaks, how a person's locale is read, and the catalogs.

A language is a folder ``templates/locales/<lang>/LC_MESSAGES/`` holding gettext ``.po``
files (English, the templates' own language, needs none). The ``.po`` files are read as
they are, merged and compiled in memory the first time a language is used, so a fresh
``pip install -e .`` needs no build step (docs/translating.md).

Locales are Babel identifiers (``ja_JP``, ``en_US``): the language picks the catalog and
the whole locale formats dates and numbers.
"""

from __future__ import annotations

import gettext
import importlib.util
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

DEFAULT_LOCALE = "en"


def locales_dir() -> Path:
    from bot.rendering import templates_dir

    return templates_dir() / "locales"


@lru_cache(maxsize=1)
def supported_languages() -> tuple[str, ...]:
    """English, then every language with a catalog folder, by code."""
    root = locales_dir()
    found = sorted(p.name for p in root.iterdir()
                   if (p / "LC_MESSAGES").is_dir()) if root.is_dir() else []
    return (DEFAULT_LOCALE, *(lang for lang in found if lang != DEFAULT_LOCALE))


@lru_cache(maxsize=256)
def parse_locale(value: str | None) -> Locale | None:
    """A locale as people and platforms write it (``ja-JP``, ``ja_JP``, ``ja``,
    ``Japanese``, ``日本語``, ``english``), or None when it names no locale."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        return Locale.parse(text.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        pass
    folded = text.casefold()
    for code in NAMED_LANGUAGES:
        locale = Locale.parse(code)
        names = {locale.get_display_name(code).casefold(),
                 *(locale.get_language_name(other).casefold() for other in ("en", "ja")),
                 (locale.english_name or "").casefold()}
        if folded in names:
            return locale
    return None


# The languages whose names (in English, Japanese and their own) are understood as well as
# their codes: every language a roster is likely to name.
NAMED_LANGUAGES = ("en", "ja", "de", "fr", "es", "pt", "it", "nl", "sv", "da", "fi", "nb",
                   "pl", "cs", "tr", "ru", "uk", "ar", "he", "hi", "zh", "ko", "th", "vi",
                   "id", "ms")


def normalize(value: str | None) -> str | None:
    """The canonical spelling (``ja_JP``) of a locale, or None when it names none."""
    locale = parse_locale(value)
    return str(locale) if locale else None


def catalog_language(value: str | None) -> str:
    """The language whose catalog a person reads: their locale's language when the bot
    speaks it, else English."""
    locale = parse_locale(value)
    if locale and locale.language in supported_languages():
        return locale.language
    return DEFAULT_LOCALE


@lru_cache(maxsize=16)
def translations(language: str) -> gettext.NullTranslations:
    """Every ``.po`` file of a language, merged (fuzzy entries left out) and compiled."""
    if language == DEFAULT_LOCALE:
        return gettext.NullTranslations()
    folder = locales_dir() / language / "LC_MESSAGES"
    merged = Catalog(locale=language)
    for path in sorted(folder.glob("*.po")):
        with path.open("rb") as handle:
            part = read_po(handle, locale=language)
        for message in part:
            if message.id and message.string and not message.fuzzy:
                merged[message.id] = message
    buffer = BytesIO()
    write_mo(buffer, merged)
    buffer.seek(0)
    return Translations(fp=buffer)


# Fonts with the glyphs a language's charts need, where the default font lacks them:
# (package, file inside it). IPAexGothic covers Japanese and Latin.
_FONTS = {"ja": ("matplotlib_fontja", "fonts/ipaexg.ttf")}


def chart_font(locale: str | None) -> Path | None:
    """The font file a chart in this locale is drawn with, or None for the default one."""
    parsed = parse_locale(locale)
    wanted = _FONTS.get(parsed.language) if parsed else None
    if wanted is None:
        return None
    spec = importlib.util.find_spec(wanted[0])
    folders = list(spec.submodule_search_locations or ()) if spec else []
    if not folders:
        raise FileNotFoundError(f"the font package {wanted[0]} is not installed")
    return Path(folders[0]) / wanted[1]


class PseudoTranslations(gettext.NullTranslations):
    """Every catalog word wrapped in ⟦ ⟧: what a test renders to find words that did not
    pass through the catalog (tests/unit/test_i18n_catalog.py)."""

    def gettext(self, message: str) -> str:
        return f"⟦{message}⟧"

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return f"⟦{singular if n == 1 else plural}⟧"

    def pgettext(self, context: str, message: str) -> str:
        return f"⟦{message}⟧"

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        return self.ngettext(singular, plural, n)
