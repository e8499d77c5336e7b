"""Teams over HTTP: only the tenant's own members are reps, and ids say nothing.

The fake connector answers ``TeamsInfo.get_member`` the way Teams does, with ``userRole``
and ``tenantId``; the real handler reads them. A customer advocate, a guest and a member
of another tenant who type ``reference`` get a polite refusal, no form and no match, and
the database does not change. Someone else's advocate id and a missing one get the same
words.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import App, open_app
from bot.config import Settings
from handlers.web import create_web_app
from tests.fakes import NOT_YOURS
from tests.integration.teams.conftest import actions, assert_valid_card, invoke
from tests.integration.teams.connector import FakeConnector
from tests.integration.teams.test_doors import snapshot
from tests.integration.teams.test_http import ADA, RITA, TENANT, activity, post
from tests.unit.conftest import build_advocate

GUS = {"id": "29:gus", "name": "Gus Guest", "email": "gus@vendor.example"}
NO_REQUESTS = "Sorry, only a sales rep or a program manager can request a reference."


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()
    for who in (RITA, ADA, GUS):
        fake.add_member(who, userRole="user", tenantId=TENANT)
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[TestClient, App]]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}", auto_migrate=True,
                        teams_enabled=True)
    async with open_app(settings) as bot_app:
        async with bot_app.uow() as uow:
            await uow.advocates.add(build_advocate(email=ADA["email"], name="Ada Lovelace"))
            await uow.advocates.add(build_advocate(
                email="bea@otherco.example", name="Bea Confidential", company="OtherCo",
                industry="Fintech"))
            await uow.commit()
        web_app = create_web_app(bot_app)  # mounts bot_app.teams at /api/messages
        async with TestClient(TestServer(web_app)) as client:
            yield client, bot_app


def said_to(connector: FakeConnector, who: dict[str, str]) -> list[dict[str, Any]]:
    return [c.body for c in connector.calls if c.conversation == f"a:{who['id']}"]


async def assert_refused(served: tuple[TestClient, App], connector: FakeConnector,
                         who: dict[str, str]) -> None:
    client, bot_app = served
    await post(client, activity(who, connector.url, type="message", text="help"))
    before = await snapshot(bot_app)
    connector.calls.clear()
    for text in ("reference fintech", "reference list"):
        status, _ = await post(client, activity(who, connector.url, type="message", text=text))
        assert status in (200, 201)
    opened = invoke({"verb": "intake.open", "data": {}})
    status, body = await post(client, activity(who, connector.url, **opened))
    assert status == 200
    replies = said_to(connector, who)
    assert [r["text"] for r in replies] == [NO_REQUESTS, NO_REQUESTS.replace(
        "request a reference", "list reference requests")]
    assert body["value"] == NO_REQUESTS
    assert connector.cards_to(f"a:{who['id']}") == []
    assert "Bea" not in str(connector.calls) + str(body)
    assert await snapshot(bot_app) == before


async def test_an_advocate_typing_reference_is_refused_and_sees_no_match(
        served: tuple[TestClient, App], connector: FakeConnector) -> None:
    await assert_refused(served, connector, ADA)


@pytest.mark.parametrize("member", [{"userRole": "guest"}, {"userRole": "anonymous"},
                                    {"tenantId": "another-tenant"}],
                         ids=["guest", "anonymous", "another tenant"])
async def test_a_guest_or_a_member_of_another_tenant_is_not_a_rep(
        served: tuple[TestClient, App], connector: FakeConnector, member: dict[str, str]
        ) -> None:
    connector.members[GUS["id"]].update(member)
    await assert_refused(served, connector, GUS)


async def test_a_member_of_the_tenant_gets_the_form(
        served: tuple[TestClient, App], connector: FakeConnector) -> None:
    client, _ = served
    await post(client, activity(RITA, connector.url, type="message", text="reference"))
    assert len(connector.cards_to(f"a:{RITA['id']}")) == 1


async def test_roster_show_of_someone_elses_id_and_a_missing_one_say_the_same(
        served: tuple[TestClient, App], connector: FakeConnector) -> None:
    client, bot_app = served
    await post(client, activity(RITA, connector.url, type="message", text="help"))
    before = await snapshot(bot_app)
    answers = []
    for advocate_id in (1, 2, 999):
        for verb in ("roster.show", "profile.pause"):
            status, body = await post(client, activity(RITA, connector.url, **invoke(
                {"verb": verb, "data": {"advocate_id": advocate_id}})))
            assert status == 200
            answers.append(body["value"])
    assert answers == [NOT_YOURS] * 6
    assert await snapshot(bot_app) == before


async def test_the_welcome_card_shows_the_request_commands_only_to_those_who_may_request(
        served: tuple[TestClient, App], connector: FakeConnector) -> None:
    client, _ = served
    connector.members[GUS["id"]]["userRole"] = "guest"
    for who, may in ((RITA, True), (ADA, False), (GUS, False)):
        await post(client, activity(who, connector.url, type="installationUpdate",
                                    action="add"))
        await post(client, activity(who, connector.url, type="message", text="help"))
        cards = connector.cards_to(f"a:{who['id']}")
        assert len(cards) == 2, who
        for card in cards:
            assert_valid_card(card)
            shows = any(a["verb"] == "intake.open" for a in actions(card))
            assert shows is may and ("reference list" in str(card)) is may, who
