"""Teams: the language each person reads. Every activity carries the client's ``locale``,
kept on the person; their own choice (typed, or the profile card's menu) wins over it; an
advocate's roster ``Locale`` wins over the client's."""

from __future__ import annotations

from botbuilder.schema import Activity, ActivityTypes

from tests.integration.teams.conftest import TeamsPerson, TeamsWorld, action, cards_in
from tests.integration.teams.test_handler import ADA_EMAIL, add_ada
from tests.unit.conftest import REP_EMAIL


async def say_in(person: TeamsPerson, text: str, locale: str) -> list[Activity]:
    return await person._turn(Activity(type=ActivityTypes.message, text=text, locale=locale))


async def stored(world: TeamsWorld, email: str) -> tuple[str | None, str | None]:
    async with world.db.uow() as uow:
        [person] = await uow.people.find_by_email(email)
    return person.locale, person.chosen_locale


async def test_the_teams_clients_locale_is_kept_and_the_reply_is_in_it(
        world: TeamsWorld) -> None:
    riley = world.person("Riley Rep", REP_EMAIL)
    (reply,) = await say_in(riley, "advocate language", "ja-JP")
    assert (reply.text or "").startswith("現在、ボットの表示言語は")
    assert await stored(world, REP_EMAIL) == ("ja_JP", None)
    (reply,) = await say_in(riley, "advocate language", "en-US")  # Teams switched to English
    assert (reply.text or "").startswith("You read the bot in")
    assert await stored(world, REP_EMAIL) == ("en_US", None)


async def test_an_own_choice_wins_over_the_client_and_the_roster_over_the_client(
        world: TeamsWorld) -> None:
    await add_ada(world)
    async with world.db.uow() as uow:
        ada = await uow.advocates.get_by_email(ADA_EMAIL)
        assert ada is not None
        ada.locale = "ja"
        await uow.advocates.update(ada)
        await uow.commit()
    her = world.person("Ada Lovelace", ADA_EMAIL)
    (reply,) = await say_in(her, "advocate language", "en-US")
    assert (reply.text or "").startswith("現在、ボットの表示言語は")  # the roster's ja
    (card,) = cards_in(await say_in(her, "advocate me", "en-US"))
    menu = next(b for b in card["body"] if b.get("id") == "language")
    assert menu["value"] == "ja" and [c["title"] for c in menu["choices"]] == ["English", "日本語"]
    answer = await her.click(action(card, "language.choose"), language="en")
    assert answer["value"] == "From now on the bot writes to you in **English**."
    assert await stored(world, ADA_EMAIL) == ("en_US", "en")
    (reply,) = await say_in(her, "advocate language", "ja-JP")
    assert (reply.text or "").startswith("You read the bot in")  # her choice wins
