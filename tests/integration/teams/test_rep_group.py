"""``REP_TEAMS_GROUP``: only members of that Azure AD group are reps on Teams.

Over HTTP against the running app, with ``GraphGroups`` talking to a local fake of
Microsoft Graph and of the Azure AD token endpoint (there is no internet here): a member
of the tenant outside the group is refused like any non-rep (no form, no match, nothing
written), a member gets the form. The bot asks with its own app credentials (client
credentials), reuses the token, remembers each answer for ``GROUP_REFRESH_AFTER``, keeps
the last answer when Graph fails, and without one refuses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import App, open_app
from bot.config import Settings, SettingsError, load_settings
from handlers.teams.graph import GROUP_REFRESH_AFTER, GraphGroups
from tests.integration.teams.connector import FakeConnector
from tests.integration.teams.test_http import RITA, activity, post
from tests.integration.teams.test_reps import GUS, assert_refused, connector, served

__all__ = ["connector", "served"]  # the fixtures, shared with test_reps

GROUP = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
APP = {"app_id": "7d3c9a1e-5b2f-4c8d-9e0a-1f2b3c4d5e6f", "app_password": "s3cret",
       "tenant_id": "0f0e0d0c-0b0a-4909-8807-060504030201"}


@dataclass
class FakeGraph:
    members: set[str] = field(default_factory=set)  # aadObjectIds in GROUP
    failing: bool = False
    tokens: list[dict[str, str]] = field(default_factory=list)  # token requests' forms
    checks: list[str] = field(default_factory=list)  # users asked about
    server: TestServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    async def _token(self, request: web.Request) -> web.Response:
        self.tokens.append(dict(await request.post()))
        return web.json_response({"access_token": f"token-{len(self.tokens)}",
                                  "expires_in": 3599, "token_type": "Bearer"})

    async def _check(self, request: web.Request) -> web.Response:
        if not request.headers.get("Authorization", "").startswith("Bearer token-"):
            return web.json_response({"error": {"code": "InvalidAuthenticationToken"}},
                                     status=401)
        user = request.match_info["user"]
        self.checks.append(user)
        if self.failing:
            return web.json_response({"error": {"code": "serviceNotAvailable"}}, status=503)
        asked = (await request.json())["groupIds"]
        return web.json_response({"value": [g for g in asked if user in self.members]})

    async def start(self) -> FakeGraph:
        app = web.Application()
        app.router.add_post("/login/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_post("/graph/users/{user}/checkMemberGroups", self._check)
        self.server = TestServer(app)
        await self.server.start_server()
        return self


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    fake = await FakeGraph().start()
    yield fake
    assert fake.server is not None
    await fake.server.close()


def groups(graph: FakeGraph, now: list[float] | None = None) -> GraphGroups:
    clock = now or [0.0]
    return GraphGroups(GROUP, graph_url=f"{graph.url}/graph", login_url=f"{graph.url}/login",
                       monotonic=lambda: clock[0], **APP)


async def test_a_member_of_the_tenant_outside_the_group_is_not_a_rep(
        served: tuple[TestClient, App], connector: FakeConnector, graph: FakeGraph) -> None:
    client, bot_app = served
    assert bot_app.teams is not None
    bot_app.teams.bot.rep_group = groups(graph)
    graph.members.add(f"aad-{RITA['id']}")
    await assert_refused(served, connector, GUS)
    await post(client, activity(RITA, connector.url, type="message", text="reference"))
    assert len(connector.cards_to(f"a:{RITA['id']}")) == 1  # in the group: the form
    assert graph.tokens[0] == {"grant_type": "client_credentials", "client_id": APP["app_id"],
                               "client_secret": APP["app_password"],
                               "scope": "https://graph.microsoft.com/.default"}
    assert len(graph.tokens) == 1  # one token, reused


async def test_answers_are_remembered_and_kept_when_graph_fails(graph: FakeGraph) -> None:
    now = [0.0]
    reps = groups(graph, now)
    graph.members.add("aad-rita")
    assert (await reps.contains("aad-rita"), await reps.contains("aad-gus")) == (True, False)
    assert await reps.contains("aad-rita") is True
    assert graph.checks == ["aad-rita", "aad-gus"]  # the second answer came from memory
    graph.failing = True
    now[0] = GROUP_REFRESH_AFTER + 1
    assert await reps.contains("aad-rita") is True  # Graph failed: the last answer stands
    assert await reps.contains("aad-new") is False  # none to keep: not a rep
    assert await reps.contains(None) is False
    assert len(graph.tokens) == 1


async def test_graph_unreachable_makes_nobody_a_rep(tmp_path: Path) -> None:
    reps = GraphGroups(GROUP, graph_url="http://127.0.0.1:9/graph",
                       login_url="http://127.0.0.1:9/login", **APP)
    assert await reps.contains("aad-rita") is False


async def test_the_setting_wires_the_group_with_the_apps_credentials(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}", auto_migrate=True,
                        microsoft_app_id=APP["app_id"], microsoft_app_password="s3cret",
                        microsoft_app_tenant_id=APP["tenant_id"], rep_teams_group=GROUP.upper(),
                        graph_api_url="http://graph.test/v1.0")
    async with open_app(settings) as bot_app:
        assert bot_app.teams is not None
        wired: Any = bot_app.teams.bot.rep_group
        assert (wired.group_id, wired.tenant_id, wired.app_id, wired.graph_url) == (
            GROUP, APP["tenant_id"], APP["app_id"], "http://graph.test/v1.0")


def test_rep_teams_group_needs_a_guid_and_the_apps_credentials(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ADVOCATE_BOT_CONFIG", raising=False)
    monkeypatch.setenv("REP_TEAMS_GROUP", "Sales Reps")
    with pytest.raises(SettingsError, match="'sales reps' is not an Azure AD group object id"):
        load_settings()
    monkeypatch.setenv("REP_TEAMS_GROUP", GROUP)
    with pytest.raises(SettingsError, match="REP_TEAMS_GROUP needs MicrosoftAppId"):
        load_settings()
