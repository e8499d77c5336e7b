"""The Teams door, ``POST /api/messages``, probed over HTTP against the running app.

A body that is not an activity gets 400 (with an app id and no token: 401) and causes
nothing, never a 500 with a traceback. An activity from a tenant the bot does not serve
gets 403 and causes nothing. Unauthenticated local mode refuses to start on a HOST that
is not a loopback address.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text
from typer.testing import CliRunner

from bot.bootstrap import App, open_app
from bot.cli import app as cli
from bot.config import Settings, SettingsError, load_settings
from handlers.web import create_web_app
from tests.integration.teams.connector import FakeConnector

APP_ID = "7d3c9a1e-5b2f-4c8d-9e0a-1f2b3c4d5e6f"
OURS = "0f0e0d0c-0b0a-4909-8807-060504030201"
THEIRS = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
RITA = {"id": "29:rita", "name": "Rita Rep", "email": "rita@vendor.example"}

NOT_ACTIVITIES: dict[str, bytes] = {
    "a list": b"[1]",
    "a string": b'"x"',
    "null": b"null",
    "from is a string": b'{"from": "x"}',
    "no type": json.dumps({"from": {"id": "29:x"}, "conversation": {"id": "a:1"},
                           "channelId": "msteams", "serviceUrl": "http://127.0.0.1:9/"}).encode(),
    "type is a number": json.dumps({"type": 5, "from": {"id": "29:x"},
                                    "conversation": {"id": "a:1"}, "channelId": "msteams",
                                    "serviceUrl": "http://127.0.0.1:9/"}).encode(),
    "no from": json.dumps({"type": "message", "text": "reference",
                           "conversation": {"id": "a:1"}, "channelId": "msteams",
                           "serviceUrl": "http://127.0.0.1:9/"}).encode(),
    "conversation is a list": json.dumps({"type": "message", "from": {"id": "29:x"},
                                          "conversation": [1], "channelId": "msteams",
                                          "serviceUrl": "http://127.0.0.1:9/"}).encode(),
    "no serviceUrl": json.dumps({"type": "message", "from": {"id": "29:x"},
                                 "conversation": {"id": "a:1"},
                                 "channelId": "msteams"}).encode(),
    "a timestamp that is not a date": json.dumps({
        "type": "message", "from": {"id": "29:x"}, "conversation": {"id": "a:1"},
        "channelId": "msteams", "serviceUrl": "http://127.0.0.1:9/",
        "timestamp": "yesterday"}).encode(),
    "not UTF-8": b'{"type": "message", "text": "\xff\xfe"}',
    "not JSON": b"{not json",
}


def activity(service_url: str, tenant: str | None, **fields: Any) -> dict[str, Any]:
    conversation: dict[str, Any] = {"id": "a:29:rita", "conversationType": "personal"}
    body: dict[str, Any] = {
        "type": "message", "text": "reference", "channelId": "msteams",
        "serviceUrl": service_url, "id": "in-1",
        "from": {"id": RITA["id"], "name": RITA["name"], "aadObjectId": "aad-rita"},
        "recipient": {"id": "28:bot", "name": "Advocate Bot"},
        "conversation": conversation,
    }
    if tenant is not None:
        conversation["tenantId"] = tenant
        body["channelData"] = {"tenant": {"id": tenant}}
    body.update(fields)
    return body


async def snapshot(bot_app: App) -> dict[str, list[tuple[Any, ...]]]:
    async with bot_app.engine.connect() as connection:
        tables = [row[0] for row in await connection.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"))]
        return {table: sorted(map(tuple, await connection.execute(
                    text(f'SELECT * FROM "{table}"'))), key=repr)
                for table in tables}


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()
    fake.members[RITA["id"]] = {"id": RITA["id"], "name": RITA["name"],
                                "email": RITA["email"], "userPrincipalName": RITA["email"]}
    await fake.start()
    yield fake
    await fake.close()


async def serve(settings: Settings) -> AsyncIterator[tuple[TestClient, App]]:
    async with open_app(settings) as bot_app:
        web_app = create_web_app(bot_app)  # mounts bot_app.teams at /api/messages
        async with TestClient(TestServer(web_app)) as client:
            yield client, bot_app


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}", auto_migrate=True,
                    **overrides)


@pytest.fixture(params=["local mode", "with an app id"])
async def teams(request: pytest.FixtureRequest, tmp_path: Path
                ) -> AsyncIterator[tuple[TestClient, App]]:
    if request.param == "local mode":
        settings = settings_for(tmp_path, teams_enabled=True)
    else:
        settings = settings_for(tmp_path, microsoft_app_id=APP_ID,
                                microsoft_app_password="secret")
    async for served in serve(settings):
        yield served


@pytest.mark.parametrize("name", list(NOT_ACTIVITIES))
async def test_a_body_that_is_not_an_activity_gets_4xx_and_causes_nothing(
        teams: tuple[TestClient, App], caplog: pytest.LogCaptureFixture, name: str) -> None:
    client, bot_app = teams
    before = await snapshot(bot_app)
    caplog.clear()
    caplog.set_level(logging.INFO)
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = await client.post("/api/messages", data=NOT_ACTIVITIES[name],
                                     headers={"Content-Type": "application/json", **headers})
        assert 400 <= response.status < 500, (response.status, await response.text())
    assert await snapshot(bot_app) == before
    assert all(record.exc_info is None for record in caplog.records)
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) <= 2


async def test_in_local_mode_a_malformed_activity_is_named_in_the_answer(
        tmp_path: Path) -> None:
    async for client, _ in serve(settings_for(tmp_path, teams_enabled=True)):
        response = await client.post("/api/messages", json={"from": "x"})
        assert response.status == 400
        assert "wrong type" in (await response.json())["error"]
        response = await client.post("/api/messages", data=b"null",
                                     headers={"Content-Type": "application/json"})
        assert response.status == 400
        assert "not a JSON object" in (await response.json())["error"]


async def test_an_activity_from_another_tenant_is_refused_and_causes_nothing(
        tmp_path: Path, connector: FakeConnector) -> None:
    settings = settings_for(tmp_path, teams_enabled=True, teams_allowed_tenants=[OURS])
    async for client, bot_app in serve(settings):
        before = await snapshot(bot_app)
        for tenant in (THEIRS, None):
            response = await client.post("/api/messages",
                                         json=activity(connector.url, tenant))
            assert response.status == 403
        invoke = activity(connector.url, THEIRS, type="invoke", name="adaptiveCard/action",
                          value={"action": {"type": "Action.Execute", "verb": "intake.open",
                                            "data": {}}})
        assert (await client.post("/api/messages", json=invoke)).status == 403
        assert connector.calls == []
        assert await snapshot(bot_app) == before

        response = await client.post("/api/messages",
                                     json=activity(connector.url, OURS.upper()))
        assert response.status in (200, 201)
        assert connector.calls  # our own tenant is served: the form went out


async def test_the_apps_own_tenant_is_the_default(tmp_path: Path,
                                                  connector: FakeConnector) -> None:
    settings = settings_for(tmp_path, teams_enabled=True, microsoft_app_tenant_id=OURS)
    assert settings.teams_tenants == {OURS}
    async for client, _ in serve(settings):
        refused = await client.post("/api/messages", json=activity(connector.url, THEIRS))
        served = await client.post("/api/messages", json=activity(connector.url, OURS))
        assert (refused.status, served.status) == (403, 201)


def test_teams_allowed_tenants_must_be_tenant_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEAMS_ALLOWED_TENANTS", f"{OURS}, contoso.com")
    with pytest.raises(SettingsError, match=r"TEAMS_ALLOWED_TENANTS: 'contoso\.com' is not"):
        load_settings()
    monkeypatch.setenv("TEAMS_ALLOWED_TENANTS", f"{OURS};{THEIRS.upper()}")
    assert load_settings().teams_tenants == {OURS, THEIRS}


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "bot.example.com"])
def test_unauthenticated_teams_refuses_to_start_on_a_public_host(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    monkeypatch.setenv("TEAMS_ENABLED", "true")
    result = CliRunner().invoke(cli, ["serve", "--host", host])
    assert result.exit_code == 1
    assert f"HOST={host}" in result.output and "MicrosoftAppId" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_unauthenticated_teams_may_listen_on_loopback(host: str) -> None:
    assert Settings(teams_enabled=True, host=host).teams_active


def test_with_an_app_id_teams_may_listen_anywhere() -> None:
    settings = Settings(microsoft_app_id=APP_ID, microsoft_app_password="x", host="0.0.0.0")
    assert settings.teams_active and settings.teams_tenants == frozenset()


async def test_a_failed_write_logs_no_personal_data(
        tmp_path: Path, connector: FakeConnector, caplog: pytest.LogCaptureFixture) -> None:
    """The Teams turn-error log carries the database error with its traceback; it must
    name the failure without the values that were being written (email, name)."""
    async for client, bot_app in serve(settings_for(tmp_path, teams_enabled=True)):
        async with bot_app.engine.begin() as connection:
            await connection.execute(text(
                "CREATE TRIGGER refuse_people BEFORE INSERT ON people "
                "BEGIN SELECT RAISE(ABORT, 'disk quota exceeded'); END"))
        caplog.set_level(logging.INFO)
        response = await client.post("/api/messages", json=activity(
            connector.url, None, type="installationUpdate", action="add"))
        assert response.status < 500
    formatter = logging.Formatter("%(message)s")
    lines = [formatter.format(record) for record in caplog.records]
    assert any("disk quota exceeded" in line for line in lines)
    assert not any(RITA["email"] in line or RITA["name"] in line for line in lines)
