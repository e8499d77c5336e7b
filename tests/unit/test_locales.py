"""Which language each person reads: one resolution order, read from stored values, and
the outbox dispatcher giving every message its recipient's locale."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.conversation import commands as c
from bot.conversation import words
from bot.conversation.dispatcher import dispatch
from bot.conversation.forms import intake_choices
from bot.domain.errors import Problem
from bot.domain.model import Actor, Identity, Person, Platform
from bot.i18n import normalize, supported_languages
from bot.ports import OutgoingMessage
from bot.roster_csv import parse_languages
from bot.services.context import ServiceContext
from bot.services.dispatch import OutboxDispatcher
from bot.services.intake import KnownValues
from bot.services.locales import (
    language_code,
    language_names,
    resolve_locale,
    supported_language,
)
from tests.fakes import FakeDatabase, FakeMessenger, FixedClock
from tests.unit.conftest import build_advocate, sample_draft

KEN = Person(email="ken@customer.example", display_name="Ken",
             identity=Identity(Platform.SLACK, "T1", "UKEN"))


@pytest.mark.parametrize(("chosen", "roster", "platform", "expected"), [
    ("en", "ja", "ja_JP", "en"),  # their own choice wins over everything
    (None, "ja", "en_US", "ja"),  # then the roster
    (None, None, "ja_JP", "ja_JP"),  # then the platform
    (None, None, None, "de"),  # then the program
])
def test_a_persons_locale_is_their_choice_then_the_roster_then_the_platform_then_the_program(
    chosen: str | None, roster: str | None, platform: str | None, expected: str
) -> None:
    person = replace(KEN, locale=platform, chosen_locale=chosen)
    assert resolve_locale(person, roster, "de") == expected


def test_nobody_known_reads_the_programs_language() -> None:
    assert resolve_locale(None, None, "ja") == "ja"


@pytest.mark.parametrize(("text", "locale"), [
    ("ja", "ja"), ("ja-JP", "ja_JP"), ("ja_JP", "ja_JP"), ("JA-jp", "ja_JP"),
    ("Japanese", "ja"), ("日本語", "ja"), ("英語", "en"), ("English", "en"),
    ("en-US", "en_US"), ("", None), ("  ", None), ("Klingonish", None), ("x" * 80, None),
])
def test_locales_are_read_by_code_or_by_name(text: str, locale: str | None) -> None:
    assert normalize(text) == locale


@pytest.mark.parametrize(("text", "code"), [
    ("ja", "ja"), ("Japanese", "ja"), ("日本語", "ja"), ("en", "en"), ("English", "en"),
    ("英語", "en"), ("en_GB", "en"), ("pt-BR", "pt"), ("nothing", None),
])
def test_a_language_is_known_by_its_code_or_its_name_in_either_language(
    text: str, code: str | None
) -> None:
    assert language_code(text) == code


def test_the_languages_to_choose_from_are_english_and_each_catalog_named_in_itself() -> None:
    languages = supported_languages()
    assert languages[0] == "en" and "ja" in languages
    assert language_names(["en", "ja"]) == {"en": "English", "ja": "日本語"}
    assert supported_language("日本語", languages) == "ja"
    assert supported_language("ja-JP", languages) == "ja"
    assert supported_language("Klingon", languages) is None


# --- the outbox dispatcher ----------------------------------------------------------------


async def _queue(db: FakeDatabase, clock: FixedClock, to: Person, key: str) -> None:
    async with db.uow() as uow:
        await uow.outbox.add(OutgoingMessage(recipient=to, template="hello", context={},
                                             key=key), now=clock.now())
        await uow.commit()


async def test_each_message_is_delivered_with_its_recipients_locale(
    db: FakeDatabase, clock: FixedClock
) -> None:
    slack = FakeMessenger(Platform.SLACK)
    rep = Person(email="rep@vendor.example", identity=Identity(Platform.SLACK, "T1", "UREP"),
                 locale="en_US")
    chooser = Person(email="pm@vendor.example", identity=Identity(Platform.SLACK, "T1", "UPM"),
                     locale="ja_JP")
    async with db.uow() as uow:
        for person in (KEN, rep, chooser):
            await uow.people.upsert(replace(person, locale=person.locale or "en_GB"))
        await uow.people.choose_locale(chooser.identity, "en")  # type: ignore[arg-type]
        await uow.advocates.add(build_advocate(email="ken@customer.example", locale="ja"))
        await uow.commit()
    channel = Person(email=None, identity=Identity(Platform.SLACK, "", "C1"))
    await _queue(db, clock, Person(email="KEN@customer.example"), "to-ken-by-email")
    await _queue(db, clock, rep, "to-rep")
    await _queue(db, clock, chooser, "to-chooser")
    await _queue(db, clock, channel, "to-channel")

    dispatcher = OutboxDispatcher(db.uow, {Platform.SLACK: slack}, clock, program_locale="de")
    assert (await dispatcher.run_once()).sent == 4

    locales = {d.to.identity.user_id: d.locale for d in slack.transcript if d.to.identity}
    # Ken: the roster's ja over Slack's en_GB; the rep: Slack's; the chooser: their own.
    assert locales == {"UKEN": "ja", "UREP": "en_US", "UPM": "en", "C1": "de"}


# --- spoken languages: matching and the intake's menu ------------------------------------


@pytest.mark.parametrize(("cell", "typed"), [
    ("日本語", "ja"), ("ja", "Japanese"), ("Japanese", "日本語"), ("JA-jp", "japanese"),
    ("英語", "English"), ("en", "英語"), ("English", "en"),
])
async def test_a_language_typed_in_the_intake_matches_the_roster_however_either_is_written(
    ctx: ServiceContext, db: FakeDatabase, rep: Actor, cell: str, typed: str
) -> None:
    async with db.uow() as uow:
        await uow.advocates.add(build_advocate(email="ken@customer.example",
                                               languages=parse_languages(cell)))
        await uow.advocates.add(build_advocate(email="ana@customer.example",
                                               languages=parse_languages("Portuguese")))
        await uow.commit()
    reply = await dispatch(ctx, c.SubmitIntake(rep, sample_draft(language=typed)))
    assert (reply.template, reply.context["matches"]) == ("request_filed", 1)


def test_the_intakes_languages_are_named_in_the_readers_language() -> None:
    known = KnownValues(languages=("English", "Japanese", "Klingon-ish"))
    titles = {locale: [(c.value, c.title) for c in intake_choices(
        known, timezone="UTC", locale=locale)["language"]] for locale in ("en", "ja_JP")}
    assert titles["en"] == [("English", "English"), ("Japanese", "Japanese"),
                            ("Klingon-ish", "Klingon-ish")]
    assert titles["ja_JP"] == [("English", "英語"), ("Japanese", "日本語"),
                               ("Klingon-ish", "Klingon-ish")]


# --- choosing one's language ---------------------------------------------------------------


def test_advocate_language_is_read_on_every_surface_for_anyone(rep: Actor) -> None:
    assert words.read("advocate language 日本語", rep) == c.ChooseLanguage(rep, "日本語")
    assert words.read("language ja", rep, command="advocate") == c.ChooseLanguage(rep, "ja")
    assert words.read("advocate language", rep) == c.ChooseLanguage(rep, "")


async def test_a_choice_is_kept_answered_in_it_and_an_unknown_one_refused(
    ctx: ServiceContext, db: FakeDatabase, rep: Actor
) -> None:
    async with db.uow() as uow:
        await uow.people.upsert(replace(rep.person, locale="en_US"))
        await uow.commit()
    refused = await dispatch(ctx, c.ChooseLanguage(rep, "Klingonish"))
    assert refused.template == "refused"
    assert refused.context["problem"] == Problem(
        "language_not_offered", typed="Klingonish", choices=["English", "日本語"])
    chosen = await dispatch(ctx, c.ChooseLanguage(rep, "日本語"))
    assert (chosen.template, chosen.locale, chosen.context["name"]) == (
        "language_chosen", "ja", "日本語")
    async with db.uow() as uow:
        stored = await uow.people.get_by_identity(rep.person.identity)  # type: ignore[arg-type]
    assert stored is not None and (stored.chosen_locale, stored.locale) == ("ja", "en_US")
    shown = await dispatch(ctx, c.ChooseLanguage(replace(rep, locale="ja"), ""))
    assert (shown.template, shown.context["current"], shown.context["example"]) == (
        "language", "ja", "en")
