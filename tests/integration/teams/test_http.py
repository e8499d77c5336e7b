"""Teams over real HTTP: activities POSTed to ``/api/messages`` on the aiohttp app (built
with ``handlers.web.create_web_app`` plus the Teams route), the real ``CloudAdapter`` and
SQL storage, and a fake Bot Framework connector receiving what the bot sends.

This is where the botbuilder 4.17 invoke pitfall would show: an ``adaptiveCard/action``
must come back as HTTP 200 with the refreshed card, not 500.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import App, open_app
from bot.config import Settings
from bot.domain.model import Identity, Platform
from bot.services.dispatch import OutboxDispatcher
from handlers.teams.app import TeamsFrontEnd
from handlers.web import create_web_app
from tests.integration.teams.conftest import (
    action,
    actions,
    assert_valid_card,
    invoke,
    personal_activity,
    texts,
)
from tests.integration.teams.connector import FakeConnector
from tests.unit.conftest import build_advocate

TENANT = "tenant-http"
PM = "pat.manager@vendor.example"
RITA = {"id": "29:rita", "name": "Rita Rep", "email": "rita@vendor.example"}
ADA = {"id": "29:ada", "name": "Ada Lovelace", "email": "ada@customer.example"}


def activity(who: dict[str, str], service_url: str, **fields: Any) -> dict[str, Any]:
    return personal_activity(who, service_url, tenant=TENANT, **fields)


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()
    for who in (RITA, ADA):
        fake.add_member(who)
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def bot_app(tmp_path: Path) -> AsyncIterator[App]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}", auto_migrate=True,
                        teams_enabled=True, program_managers=[PM])
    async with open_app(settings) as app:
        yield app


@pytest.fixture
async def served(bot_app: App) -> AsyncIterator[tuple[TestClient, TeamsFrontEnd]]:
    front = bot_app.teams  # the front end bootstrap built and create_web_app mounts
    web_app = create_web_app(bot_app)
    client = TestClient(TestServer(web_app))
    await client.start_server()
    yield client, front
    await client.close()


async def post(client: TestClient, body: dict[str, Any]) -> tuple[int, Any]:
    response = await client.post("/api/messages", json=body)
    payload = await response.json() if response.content_type == "application/json" else None
    return response.status, payload


async def test_a_request_and_its_consent_over_http(
        served: tuple[TestClient, TeamsFrontEnd], connector: FakeConnector,
        bot_app: App) -> None:
    client, front = served
    assert "UNAUTHENTICATED local mode" in front.startup_message()
    url = connector.url

    # Both install the app: welcomed, and their addresses and emails are stored.
    for who in (RITA, ADA):
        status, _ = await post(client, activity(who, url, type="installationUpdate",
                                                action="add"))
        assert status in (200, 201)
        (welcome,) = connector.cards_to(f"a:{who['id']}")
        assert action(welcome, "intake.open")
    async with bot_app.uow() as uow:
        person = await uow.people.get_by_identity(Identity(Platform.TEAMS, TENANT, ADA["id"]))
        assert person is not None and person.email == ADA["email"]
        assert person.timezone == "Europe/Berlin"
        ada_advocate = await uow.advocates.add(build_advocate(email=ADA["email"],
                                                              name="Ada Lovelace"))
        await uow.commit()

    # Rita asks for the form and submits it: the invoke answers 200 with the new card.
    await post(client, activity(RITA, url, type="message", text="reference"))
    form = connector.cards_to("a:29:rita")[-1]
    submit = action(form, "intake.submit", choose="rep")
    today = datetime.now(UTC).date()
    inputs = {"prospect_company": "Globex", "reference_type": "call",
              "needed_by": (today + timedelta(days=20)).isoformat(),
              "proposed_time_1.date": (today + timedelta(days=10)).isoformat(),
              "proposed_time_1.time": "15:00", "timezone": "Europe/Berlin",
              "call_length_minutes": "30", "parallel_asks": "1",
              "industry": "Fintech", "region": "EMEA", "products": "Payments API"}
    status, body = await post(client, activity(RITA, url, **invoke(submit, **inputs)))
    assert status == 200, body
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert_valid_card(body["value"])
    assert texts(body["value"])[0].startswith("Request #")

    # The outbox delivers the matches to Rita through the real adapter.
    dispatcher = OutboxDispatcher(bot_app.uow, {Platform.TEAMS: front.messenger},
                                  bot_app.clock)
    stats = await dispatcher.run_once()
    assert stats.sent == 1, stats
    matches = connector.cards_to("a:29:rita")[-1]
    ask_ada = action(matches, "request.ask", advocate_id=ada_advocate.id)
    status, body = await post(client, activity(RITA, url, **invoke(ask_ada)))
    assert status == 200 and texts(body["value"])[0] == "Asked."

    # Ada gets the ask proactively and accepts on the card.
    await dispatcher.run_once()
    ask_card = connector.cards_to("a:29:ada")[-1]
    assert_valid_card(ask_card)
    ask_call = next(c for c in reversed(connector.calls) if c.conversation == "a:29:ada")
    accept = action(ask_card, "ask.accept")
    status, body = await post(client, activity(ADA, url, **invoke(accept)))
    assert status == 200
    assert texts(body["value"])[0] == "You said yes. Thank you!"
    assert not actions(body["value"])

    # The outbox then replaces the ask in place and sends the times to pick from.
    await dispatcher.run_once()
    updates = [c for c in connector.calls if c.method == "PUT"]
    assert [u.conversation for u in updates] == ["a:29:ada"]
    assert updates[0].activity_id == ask_call_id(connector, ask_call)
    pick = connector.cards_to("a:29:ada")[-1]
    assert action(pick, "schedule.pick", slot=0)


async def test_a_program_manager_exports_the_roster_and_accepts_the_file_over_http(
        served: tuple[TestClient, TeamsFrontEnd], connector: FakeConnector,
        bot_app: App) -> None:
    """``advocates export`` over ``/api/messages``: a file consent card, then Teams' accept
    (a ``fileConsent/invoke``) makes the bot upload the CSV and show it as a file card.
    A forged accept from a rep uploads nothing."""
    client, _ = served
    url = connector.url
    pat = {"id": "29:pat", "name": "Pat Manager", "email": PM}
    connector.members[pat["id"]] = {"id": pat["id"], "name": pat["name"], "email": PM,
                                    "userPrincipalName": PM, "aadObjectId": "aad-29:pat"}
    async with bot_app.uow() as uow:
        await uow.advocates.add(build_advocate(email=ADA["email"], name="Ada Lovelace"))
        await uow.commit()

    status, _ = await post(client, activity(pat, url, type="message", text="advocates export"))
    assert status in (200, 201)
    note, consent = [c.body for c in connector.calls if c.conversation == "a:29:pat"]
    assert note["text"].startswith("The advocate roster as of today: 1 advocate(s)")
    (card,) = consent["attachments"]
    assert card["contentType"] == "application/vnd.microsoft.teams.card.file.consent"
    accept_context = card["content"]["acceptContext"]
    assert ADA["email"] not in str(card)

    def accepted(name: str) -> dict[str, Any]:
        return {"type": "invoke", "name": "fileConsent/invoke", "value": {
            "type": "fileUpload", "action": "accept", "context": accept_context,
            "uploadInfo": {"name": card["name"], "uploadUrl": connector.upload_url(name),
                           "contentUrl": f"https://onedrive.example/{name}",
                           "uniqueId": "u-1", "fileType": "csv"}}}

    status, _ = await post(client, activity(RITA, url, **accepted("forged.csv")))
    assert status == 200
    assert "forged.csv" not in connector.uploads
    refusal = [c.body for c in connector.calls if c.conversation == "a:29:rita"][-1]
    assert refusal["text"] == "Sorry, only a program manager can manage the advocate roster."

    status, _ = await post(client, activity(pat, url, **accepted("roster.csv")))
    assert status == 200
    data = connector.uploads["roster.csv"]
    assert data.decode().startswith("Email,") and ADA["email"].encode() in data
    assert connector.upload_ranges["roster.csv"] == f"bytes 0-{len(data) - 1}/{len(data)}"
    shown = [c.body for c in connector.calls if c.conversation == "a:29:pat"][-1]
    (file_card,) = shown["attachments"]
    assert file_card["contentType"] == "application/vnd.microsoft.teams.card.file.info"
    assert file_card["contentUrl"] == "https://onedrive.example/roster.csv"


async def test_a_profile_button_refreshes_the_card_over_http(
        served: tuple[TestClient, TeamsFrontEnd], connector: FakeConnector,
        bot_app: App) -> None:
    """The Pause button on ``advocates show``: HTTP 200 with the refreshed card (the
    invoke pitfall would make it 500)."""
    client, _ = served
    connector.members["29:pat"] = {"id": "29:pat", "name": "Pat Manager", "email": PM}
    pat = {"id": "29:pat", "name": "Pat Manager", "email": PM}
    async with bot_app.uow() as uow:
        ada = await uow.advocates.add(build_advocate(email=ADA["email"], name="Ada Lovelace"))
        await uow.commit()
    await post(client, activity(pat, connector.url, type="message",
                                text=f"advocates show {ADA['email']}"))
    profile = connector.cards_to("a:29:pat")[-1]
    pause = action(profile, "profile.pause", advocate_id=ada.id)
    status, body = await post(client, activity(pat, connector.url, **invoke(
        pause, until="", reason="conference season")))
    assert status == 200, body
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert_valid_card(body["value"])
    assert action(body["value"], "profile.resume", advocate_id=ada.id)
    async with bot_app.uow() as uow:
        stored = await uow.advocates.get(ada.id or 0)
    assert stored is not None and stored.status.value == "paused"


def ask_call_id(connector: FakeConnector, call: Any) -> str:
    index = connector.calls.index(call)
    return f"activity-{index + 1}"


async def test_a_request_that_is_not_json_is_refused(
        served: tuple[TestClient, TeamsFrontEnd]) -> None:
    client, _ = served
    response = await client.post("/api/messages", data=b"hello",
                                 headers={"Content-Type": "text/plain"})
    assert response.status == 415


async def test_with_an_app_id_a_request_without_a_valid_token_gets_401(
        tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}", auto_migrate=True,
                        microsoft_app_id="7d3c9a1e-5b2f-4c8d-9e0a-1f2b3c4d5e6f",
                        microsoft_app_password="secret")
    async with open_app(settings) as bot_app:
        assert "Bot Framework tokens required" in bot_app.teams.startup_message()
        web_app = create_web_app(bot_app)
        async with TestClient(TestServer(web_app)) as client:
            body = activity(RITA, "https://smba.trafficmanager.net/emea/", type="message",
                            text="reference")
            response = await client.post("/api/messages", json=body)
            assert response.status == 401
            response = await client.post("/api/messages", json=body,
                                         headers={"Authorization": "Bearer not-a-token"})
            assert response.status == 401
            async with bot_app.uow() as uow:
                assert await uow.people.get_by_identity(
                    Identity(Platform.TEAMS, TENANT, RITA["id"])) is None
