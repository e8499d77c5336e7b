"""Typed words over HTTP on both surfaces: the same words, typed by the same person, are the
same command and get the same reply in Slack and in Teams.

The parser is shared (``bot.conversation.words``), so the two surfaces agree by
construction up to the parser; this test holds what lies around it: each surface reads the
person, their roles and the words from its own payload, dispatches, and shows the reply.
Two copies of one program (the same roster, the same clock) are driven through the real
HTTP doors — signed Slack slash commands on ``/slack/events``, Teams messages on
``/api/messages`` — with the same script, in the same order, so commands that change
something (pause, limits, resume) meet the same state on both. Each dispatch is recorded:
the commands must be equal but for who sent them, the replies equal template for template
and, rendered with one plain markup, word for word; and each person must have been shown
something.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

import handlers.slack.listeners.commands as slack_commands
import handlers.teams.handler as teams_handler
from bot.bootstrap import open_app
from bot.conversation import commands as c
from bot.conversation.replies import Reply
from handlers.web import create_web_app
from tests.fakes import FixedClock
from tests.integration.slack.conftest import ADA, PAT, RILEY, START, Slack, settings_for
from tests.integration.teams.connector import FakeConnector
from tests.slack_fake import FakeSlack
from tests.unit.conftest import build_advocate

TENANT = "tenant-parity"
ZONE = "Europe/Berlin"
PEOPLE = {"rep": RILEY, "advocate": ADA, "manager": PAT}

# (who, words after the command name): run in this order on both surfaces.
SCRIPT: tuple[tuple[str, str], ...] = (
    ("rep", "reference help"),
    ("rep", "reference"),
    ("rep", "reference fintech payments EMEA"),
    ("rep", "reference list"),
    ("rep", "reference list all"),
    ("rep", "reference cancel twelve"),
    ("rep", "reference cancel #99 lost the deal"),
    ("rep", "advocate me"),
    ("rep", "advocate language"),
    ("rep", "advocate language Klingonish"),
    ("rep", "advocate language 日本語"),
    ("rep", "reference list"),  # now in Japanese, on both
    ("rep", "advocate language en"),
    ("rep", "advocates find fintech"),
    ("advocate", "advocate"),
    ("advocate", "advocate me"),
    ("advocate", "advocate limits 90d=2"),
    ("advocate", "advocate limits 90d=lots"),
    ("advocate", "advocate pause until 2026-04-01 because parental leave"),
    ("advocate", "advocate pause until someday"),
    ("advocate", "advocate resume"),
    ("advocate", "advocate hours Mon-Fri 08:00-16:00"),
    ("advocate", "advocate hours whenever"),
    ("advocate", "advocate hours default"),
    ("rep", "advocate hours 9-17"),
    ("advocate", "reference list"),
    ("advocate", "advocates show Ada Advocate"),
    ("manager", "advocates"),
    ("manager", "advocates find fintech"),
    ("manager", "advocates show Ada Advocate"),
    ("manager", "advocates show nobody-like-this"),
    ("manager", "advocates pause Ada Advocate until 2026-04-01 because on leave"),
    ("manager", "advocates resume ada@harbor.example"),
    ("manager", "advocates limits Ada quarter=4 year=10 rest=21 asks=1 because renewal push"),
    ("manager", "advocates limits Ada clear because back to normal"),
    ("manager", "advocates limits Ada"),
    ("manager", "advocates import"),
    ("manager", "advocates export"),
    ("manager", "advocates digest now"),
    ("rep", "advocates digest now"),
    ("manager", "advocates report 2026-Q1"),
    ("manager", "advocates report spring"),
    ("rep", "advocates report"),
    ("manager", "advocates frobnicate"),
    ("advocate", "advocate leave"),
)


class Plain:
    """One markup for both surfaces' replies, so their words can be compared."""

    @staticmethod
    def b(text: object) -> str:
        return str(text)

    t = code = cmd = b


@dataclasses.dataclass
class Seen:
    command: c.Command
    reply: Reply


def without_sender(command: c.Command) -> tuple[str, dict[str, Any]]:
    fields = {f.name: getattr(command, f.name) for f in dataclasses.fields(command)
              if f.name not in ("actor", "key")}
    return type(command).__name__, fields


def recording(seen: list[Seen], real: Callable[..., Awaitable[Reply]]
              ) -> Callable[..., Awaitable[Reply]]:
    async def dispatch(ctx: Any, command: c.Command) -> Reply:
        reply = await real(ctx, command)
        seen.append(Seen(command, reply))
        return reply
    return dispatch


@pytest.fixture
async def program(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """``open_program(name)``: a program with the roster seeded, served over HTTP with both
    the Slack and the Teams doors; yields (bot, slack harness, teams connector, teams url)."""
    stack: list[Callable[[], Awaitable[None]]] = []

    async def open_program(name: str) -> tuple[Any, Slack, FakeConnector, str]:
        database = tmp_path / f"{name}.db"
        shutil.copyfile(sqlite_template, database)
        fake = await FakeSlack().start()
        stack.append(fake.stop)
        connector = await FakeConnector().start()
        stack.append(connector.close)
        for user_id, email, person_name, _ in PEOPLE.values():
            fake.add_user(user_id, email, person_name, ZONE)
            teams_id = "29:" + user_id
            connector.members[teams_id] = {"id": teams_id, "name": person_name,
                                           "email": email, "userPrincipalName": email,
                                           "aadObjectId": "aad-" + user_id}
        clock = FixedClock(START)
        settings = settings_for(database, fake, teams_enabled=True, program_timezone=ZONE)
        context = open_app(settings, clock=clock)
        bot = await context.__aenter__()
        stack.append(lambda: context.__aexit__(None, None, None))
        async with bot.uow() as uow:
            await uow.advocates.add(build_advocate(email=ADA[1], name=ADA[2], timezone=ZONE,
                                                   industry="Fintech", company="Harbor Bank"))
            await uow.commit()
        web_app = create_web_app(bot)  # Slack's route, and Teams' (bot.teams)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        stack.append(runner.cleanup)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        http = aiohttp.ClientSession()
        stack.append(http.close)
        harness = Slack(bot=bot, fake=fake, url=f"http://127.0.0.1:{port}/slack/events",
                        http=http, clock=clock, dispatcher=None)  # type: ignore[arg-type]
        return bot, harness, connector, f"http://127.0.0.1:{port}/api/messages"

    yield open_program
    for close in reversed(stack):
        await close()


def teams_message(who: tuple[str, ...], service_url: str, text: str, n: int) -> dict[str, Any]:
    user_id = "29:" + who[0]
    return {"type": "message", "text": text, "id": f"m{n}", "channelId": "msteams",
            "serviceUrl": service_url, "localTimezone": ZONE, "locale": "en-US",
            "from": {"id": user_id, "name": who[2], "aadObjectId": "aad-" + who[0]},
            "recipient": {"id": "28:bot", "name": "Advocate Bot"},
            "conversation": {"id": "a:" + user_id, "conversationType": "personal",
                             "tenantId": TENANT},
            "channelData": {"tenant": {"id": TENANT}}}


async def test_every_typed_example_is_the_same_command_and_reply_on_slack_and_teams(
        program: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    slack_seen: list[Seen] = []
    teams_seen: list[Seen] = []
    monkeypatch.setattr(slack_commands, "dispatch",
                        recording(slack_seen, slack_commands.dispatch))
    monkeypatch.setattr(teams_handler, "dispatch", recording(teams_seen, teams_handler.dispatch))

    slack_bot, slack, _, _ = await program("slack")
    teams_bot, _, connector, teams_url = await program("teams")

    for n, (who, words) in enumerate(SCRIPT):
        person = PEOPLE[who]
        name, _, rest = words.partition(" ")
        before = (len(slack_seen), len(slack.fake.calls) + len(slack.fake.responses))
        response = await slack.command(person, "/" + name, rest)
        assert response.status == 200, (words, response.text)
        await slack.settle()
        shown_on_slack = (len(slack.fake.calls) + len(slack.fake.responses) > before[1]
                          or bool(response.text.strip()))

        sent_before = len(connector.calls)
        async with slack.http.post(teams_url,
                                   json=teams_message(person, connector.url, words, n)) as answer:
            assert answer.status in (200, 201), (words, await answer.text())
        shown_on_teams = len(connector.calls) > sent_before

        assert len(slack_seen) == before[0] + 1, f"Slack did not dispatch {words!r}"
        assert len(teams_seen) == len(slack_seen), f"Teams did not dispatch {words!r}"
        on_slack, on_teams = slack_seen[-1], teams_seen[-1]
        assert without_sender(on_slack.command) == without_sender(on_teams.command), words
        emails = (on_slack.command.actor.person.email, on_teams.command.actor.person.email)
        assert emails == (person[1], person[1]), words
        assert on_slack.command.actor.roles == on_teams.command.actor.roles, words
        assert (on_slack.reply.template, on_slack.reply.tone, on_slack.reply.form) == \
            (on_teams.reply.template, on_teams.reply.tone, on_teams.reply.form), words
        if slack_bot.renderer.has(f"text/replies/{on_slack.reply.template}.txt.j2"):
            assert slack_bot.renderer.reply_lines(on_slack.reply, Plain) == \
                teams_bot.renderer.reply_lines(on_teams.reply, Plain), words
        assert shown_on_slack, f"Slack showed nothing for {words!r}"
        assert shown_on_teams, f"Teams showed nothing for {words!r}"

    templates = {seen.reply.template for seen in slack_seen}
    assert {"help", "intake", "refused", "unreadable", "advocate_paused", "advocate_limits",
            "profile", "roster", "roster_export", "digest_sent", "left_program",
            "report_sent", "language", "language_chosen"} <= templates
    chosen = [(s.reply.locale, t.reply.locale) for s, t in zip(slack_seen, teams_seen,
                                                                strict=True)
              if s.reply.template == "language_chosen"]
    assert chosen == [("ja", "ja"), ("en", "en")]
    assert len(slack_seen) == len(SCRIPT)


async def test_a_language_chosen_by_typing_is_the_language_of_the_replies_on_both(
        program: Callable[..., Any]) -> None:
    """``advocate language 日本語`` on Slack and on Teams: the answer is in Japanese, so is
    every reply after it (Teams' client still says en-US: the person's choice wins), and
    the choice is stored on the person."""
    _, slack, _, _ = await program("slack")
    teams_bot, _, connector, teams_url = await program("teams")
    shown: dict[str, list[str]] = {"slack": [], "teams": []}
    for n, words in enumerate(("advocate language 日本語", "advocate language")):
        name, _, rest = words.partition(" ")
        before = len(slack.fake.responses)
        await slack.command(RILEY, "/" + name, rest)
        await slack.settle()
        shown["slack"] += [str(r.args.get("text")) for r in slack.fake.responses[before:]]
        sent_before = len(connector.calls)
        async with slack.http.post(teams_url,
                                   json=teams_message(RILEY, connector.url, words, n)):
            pass
        shown["teams"] += [str(c.body.get("text")) for c in connector.calls[sent_before:]]
    for surface, texts in shown.items():
        assert texts[0] == "今後、ボットは*日本語*でお知らせします。".replace(
            "*", "**" if surface == "teams" else "*"), (surface, texts)
        assert texts[1].startswith("現在、ボットの表示言語は"), (surface, texts)
    async with teams_bot.uow() as uow:
        [rep] = await uow.people.find_by_email(RILEY[1])
    assert (rep.chosen_locale, rep.locale) == ("ja", "en_US")
