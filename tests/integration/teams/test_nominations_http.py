"""A nomination walks to an active advocate with recorded consent, through Teams over
HTTP: activities POSTed to ``/api/messages``, the real ``CloudAdapter``, SQL storage and a
fake Bot Framework connector. Olive (the account owner) nominates by typing and by the
"Nominate as advocate" message action, Pat (the program manager) decides on his card,
Cara (the customer) joins from hers; a duplicate, a decline's reason and "No thanks" are
seen by the people they concern."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import App, open_app
from bot.config import Settings
from bot.domain.model import AdvocateStatus, Platform
from bot.services.dispatch import OutboxDispatcher
from handlers.web import create_web_app
from tests.integration.teams.conftest import (
    action,
    assert_valid_card,
    invoke,
    personal_activity,
    texts,
)
from tests.integration.teams.connector import FakeConnector
from tests.unit.conftest import build_advocate

TENANT = "tenant-nominate"
PAT = {"id": "29:pat", "name": "Pat Manager", "email": "pat.manager@vendor.example"}
OLIVE = {"id": "29:olive", "name": "Olive Owner", "email": "olive.owner@vendor.example"}
CARA = {"id": "29:cara", "name": "Cara Customer", "email": "cara@harbor.example"}
DAN = {"id": "29:dan", "name": "Dan Customer", "email": "dan@harbor.example"}


def activity(who: dict[str, str], service_url: str, **fields: Any) -> dict[str, Any]:
    return personal_activity(who, service_url, tenant=TENANT, **fields)


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()
    for who in (PAT, OLIVE, CARA, DAN):
        fake.add_member(who)
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def bot_app(tmp_path: Path) -> AsyncIterator[App]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}", auto_migrate=True,
                        teams_enabled=True, program_managers=[PAT["email"]])
    async with open_app(settings) as app:
        yield app


@pytest.fixture
async def client(bot_app: App) -> AsyncIterator[TestClient]:
    served = TestClient(TestServer(create_web_app(bot_app)))
    await served.start_server()
    yield served
    await served.close()


async def post(client: TestClient, body: dict[str, Any]) -> Any:
    response = await client.post("/api/messages", json=body)
    assert response.status in (200, 201), await response.text()
    return await response.json() if response.content_type == "application/json" else None


def said_to(connector: FakeConnector, who: dict[str, str]) -> str:
    """Everything the bot sent ``who`` (messages and cards), as one text."""
    return json.dumps([c.body for c in connector.calls if c.conversation == f"a:{who['id']}"],
                      ensure_ascii=False)


async def test_a_nomination_walks_to_an_active_advocate_over_teams(
        client: TestClient, connector: FakeConnector, bot_app: App) -> None:
    url = connector.url
    for who in (PAT, OLIVE, CARA, DAN):  # each has the app: the bot can write to them
        await post(client, activity(who, url, type="installationUpdate", action="add"))
    async with bot_app.uow() as uow:
        await uow.advocates.add(build_advocate(email="ben@harbor.example", name="Ben Harbor",
                                               company="Harbor Bank",
                                               account_owner_email=OLIVE["email"]))
        await uow.commit()
    teams = bot_app.teams
    assert teams is not None
    dispatcher = OutboxDispatcher(bot_app.uow, {Platform.TEAMS: teams.messenger},
                                  bot_app.clock)

    # Olive nominates Cara by typing; a second time is a duplicate.
    await post(client, activity(OLIVE, url, type="message",
                                text="advocates nominate cara@harbor.example Great results"))
    await post(client, activity(OLIVE, url, type="message",
                                text="advocates nominate cara@harbor.example"))
    told = said_to(connector, OLIVE)
    assert "is nominated" in told and "already nominated by Olive Owner" in told

    # Pat approves on his card; Cara is invited, Olive told.
    await dispatcher.run_once()
    review = connector.cards_to("a:29:pat")[-1]
    assert_valid_card(review)
    assert "Great results" in json.dumps(review)
    body = await post(client, activity(PAT, url, **invoke(action(review, "nomination.approve"))))
    assert body["statusCode"] == 200
    await dispatcher.run_once()
    invite = connector.cards_to("a:29:cara")[-1]
    assert_valid_card(invite)
    assert "By joining the customer reference program you agree" in json.dumps(invite)
    assert "approved your nomination of" in said_to(connector, OLIVE)

    # `advocate join` shows her the same invitation card again.
    await post(client, activity(CARA, url, type="message", text="advocate join"))
    again = connector.cards_to("a:29:cara")[-1]
    assert_valid_card(again)
    assert action(again, "invite.join")["data"] == action(invite, "invite.join")["data"]

    # Cara joins from the card's form: her roster row and consent are recorded.
    join = action(invite, "invite.join")
    body = await post(client, activity(CARA, url, **invoke(
        join, reference_types="call,email", languages="English, German",
        timezone="Europe/Berlin", per_quarter="2", public_thanks="no", consent="agree")))
    assert body["statusCode"] == 200
    assert "Welcome aboard" in " ".join(texts(body["value"]))
    await dispatcher.run_once()
    assert "Welcome to the customer reference program" in said_to(connector, CARA)
    assert "joined the advocate program" in said_to(connector, OLIVE)
    async with bot_app.uow() as uow:
        cara = await uow.advocates.get_by_email(CARA["email"])
        consent = await uow.consents.latest(CARA["email"])
    assert cara is not None and cara.status is AdvocateStatus.ACTIVE
    assert cara.own_limits.max_per_90_days == 2 and cara.languages == ("English", "German")
    assert consent is not None and (consent.platform, consent.version) == ("teams", "v1")

    # The message action on Dan's message: the form comes pre-filled, sending files it.
    payload = {"commandId": "nominateAdvocate", "commandContext": "message",
               "messagePayload": {"id": "m1", "from": {"user": {
                   "id": DAN["id"], "displayName": DAN["name"]}},
                   "body": {"contentType": "html", "content": "<p>Your API saved us weeks</p>"}}}
    body = await post(client, activity(OLIVE, url, type="invoke",
                                       name="composeExtension/fetchTask", value=payload))
    card = body["task"]["value"]["card"]["content"]
    assert_valid_card(card)
    filled = {i["id"]: i.get("value") for i in card["body"] if i["type"] == "Input.Text"}
    assert filled == {"email": DAN["email"], "name": DAN["name"],
                      "reason": "Your API saved us weeks"}
    body = await post(client, activity(OLIVE, url, type="invoke",
                                       name="composeExtension/submitAction",
                                       value={**payload, "data": filled}))
    assert body["task"]["type"] == "message" and "is nominated" in body["task"]["value"]

    # Pat declines Dan with a reason; Olive reads it. Nominated again, Dan says No thanks.
    await dispatcher.run_once()
    review = connector.cards_to("a:29:pat")[-1]
    await post(client, activity(PAT, url, **invoke(action(review, "nomination.decline"),
                                                  reason="Renewal talks first")))
    await dispatcher.run_once()
    assert "declined your nomination of Dan Customer: Renewal talks first" in said_to(
        connector, OLIVE)
    await post(client, activity(OLIVE, url, type="message",
                                text="advocates nominate dan@harbor.example"))
    await dispatcher.run_once()
    review = connector.cards_to("a:29:pat")[-1]
    await post(client, activity(PAT, url, **invoke(action(review, "nomination.approve"))))
    await dispatcher.run_once()
    invite = connector.cards_to("a:29:dan")[-1]
    await post(client, activity(DAN, url, **invoke(action(invite, "invite.no_thanks"))))
    await dispatcher.run_once()
    assert "said no thanks" in said_to(connector, OLIVE)
    await post(client, activity(DAN, url, type="message", text="advocate join"))
    assert "no open invitation" in said_to(connector, DAN)
    await post(client, activity(OLIVE, url, type="message",
                                text="advocates nominate dan@harbor.example"))
    assert 'said \\"No thanks\\" to an invitation' in said_to(connector, OLIVE)
