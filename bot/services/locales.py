"""Which language a person reads the bot in: read once, stored, resolved in one place.

A person's locale is, first that wins:

1. the one they chose themselves (``/advocate language ja``, the App Home, Teams'
   profile card), stored on their ``people`` row;
2. the roster's ``Locale`` column, for an advocate (by email);
3. what their chat platform says (Slack's ``users.info`` locale, asked once with the rest
   of their profile; the locale of their Teams activities), stored on their row;
4. the program's ``PROGRAM_LOCALE`` (also the language of channel posts).

Nothing here asks a platform: the outbox dispatcher and the surfaces read stored values.
Locales are Babel identifiers (``ja_JP``, ``en``); ``bot.i18n.normalize`` reads what
people and platforms write (``ja``, ``ja-JP``, ``ja_JP``, ``Japanese``, ``日本語``). The
languages a person may choose are English and the catalogs shipped under
``templates/locales/`` (``bot.i18n.supported_languages``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from babel import Locale

from bot.domain.errors import DomainError
from bot.domain.model import Actor, Person, Role
from bot.i18n import parse_locale, supported_languages
from bot.ports import UnitOfWork
from bot.services.context import ServiceContext


def language_code(text: str | None) -> str | None:
    """``en``, ``EN``, ``English``, ``英語``, ``en-US``, ``en_GB`` → ``en``; None when
    it names no language."""
    locale = parse_locale(text)
    return locale.language if locale else None


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


async def reading(ctx: ServiceContext, uow: UnitOfWork, actor: Actor) -> Actor:
    """``actor`` with the locale their replies are rendered in: from their stored person
    (choice, platform) and, for an advocate who chose none, the roster's ``Locale`` (one
    indexed query). No platform is asked."""
    person = actor.person
    roster = None
    if not person.chosen_locale and person.email and actor.has(Role.ADVOCATE):
        roster = (await uow.advocates.locales([person.email])).get(person.email.lower())
    return replace(actor, locale=resolve_locale(person, roster, ctx.program_locale))


async def choose_language(ctx: ServiceContext, actor: Actor, typed: str) -> str:
    """Keep the language ``actor`` chose (a code or a name: ``ja``, ``日本語``); its code.
    One the bot has no catalog for is refused, naming the ones it has."""
    languages = supported_languages()
    code = supported_language(typed, languages)
    if code is None:
        raise DomainError("language_not_offered", typed=typed.strip()[:40],
                          choices=list(language_names(languages).values()))
    identity = actor.person.identity
    if identity is None:  # only chat users choose; the surfaces always know who they are
        raise DomainError("language_not_kept")
    async with ctx.uow() as uow:
        if not await uow.people.choose_locale(identity, code):
            await uow.people.upsert(actor.person)  # first met here: keep them, then choose
            await uow.people.choose_locale(identity, code)
        await uow.commit()
    return code


def supported_language(locale: str | None, languages: Iterable[str]) -> str | None:
    """The one of ``languages`` that ``locale`` (any spelling) is written in, or None."""
    code = language_code(locale or "")
    return code if code is not None and code in set(languages) else None


def language_names(languages: Iterable[str]) -> dict[str, str]:
    """Each language named in itself (``English``, ``日本語``), for a menu of languages."""
    return {code: Locale.parse(code).get_display_name(code) or code for code in languages}


__all__ = [
    "choose_language",
    "language_code",
    "language_names",
    "reading",
    "resolve_locale",
    "supported_language",
]
