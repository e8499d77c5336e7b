"""Fuzzing ``POST /api/messages`` of the running app over HTTP, authenticated and not.

Two apps per module, each on its own SQLite file, with a fake Bot Framework connector:
one in the unauthenticated local mode (every activity it is sent counts as one Teams
vouched for: the "signed" side), one with a ``MicrosoftAppId`` (where an activity without
a valid Bot Framework token is the "unsigned" side). The verbs are the app's own
(``bot.conversation.clicks.VERBS``) and so are the data keys each verb reads, recorded
from the parser itself; the typed sub-commands come from ``bot.conversation.words``.

* Unauthenticated (no token, a token that is not a JWT, a JWT signed by anyone but the
  Bot Framework): 401, nothing sent to the connector, not a row changed.
* Authenticated: never a 5xx, never a traceback or an ERROR line, never the "something
  went wrong" apology; an invoke answers 200.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import TestClient, TestServer
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given
from hypothesis import strategies as st

from bot.bootstrap import App, open_app
from bot.config import Settings
from bot.conversation import clicks as commands
from bot.conversation import words
from bot.conversation.clicks import draft_from_form
from bot.domain.model import Actor, Person
from handlers.teams.app import _BotFrameworkConfig, activity_problem
from handlers.web import create_web_app
from tests.integration.fuzz.harness import (
    LogTap,
    OpenIdServer,
    Served,
    attach_tap,
    hostile_text,
    hostile_value,
    mutated,
    small_ids,
    snapshot,
)
from tests.integration.teams.connector import FakeConnector
from tests.unit.conftest import build_advocate

APP_ID = "7d3c9a1e-5b2f-4c8d-9e0a-1f2b3c4d5e6f"
PM = "pat.manager@vendor.example"
PEOPLE = {
    "29:rita": ("Rita Rep", "rita@vendor.example"),
    "29:ada": ("Ada Advocate", "ada@harbor.example"),
    "29:pat": ("Pat Manager", PM),
}
APOLOGY = "something went wrong"
SUB_COMMANDS = sorted(set(re.findall(r'word == "(\w+)"', Path(words.__file__).read_text())))


class Recording(Mapping[str, Any]):
    """Card data that answers every key with ``"1"`` and remembers which were read."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.asked.add(key)
        return "1"

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return "1"

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def data_keys() -> dict[str, list[str]]:
    """For each verb, the data keys the parser reads (every ``choice`` of a check-in)."""
    someone = Actor(Person("x@vendor.example"))
    keys: dict[str, list[str]] = {}
    for verb in sorted(commands.VERBS):
        data = Recording()
        draft = draft_from_form(data) if verb == "intake.submit" else None
        for choice in ("", "pause", "change_limits"):
            action = commands.CardAction(verb, data)
            if verb == "checkin.answer":
                action = commands.CardAction(verb, _With(data, choice=choice))
            try:
                commands.command_of(someone, action, zone="UTC", draft=draft)
            except (commands.BadAction, ValueError):
                pass
        keys[verb] = sorted(data.asked)
    return keys


class _With(Mapping[str, Any]):
    def __init__(self, inner: Recording, **fixed: str) -> None:
        self._inner, self._fixed = inner, fixed

    def __getitem__(self, key: str) -> Any:
        return self.get(key)

    def get(self, key: str, default: Any = None) -> Any:
        return self._fixed[key] if key in self._fixed else self._inner.get(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._fixed)

    def __len__(self) -> int:
        return len(self._fixed)


DATA_KEYS = data_keys()


@dataclass
class Door:
    served: Served
    local: TestClient
    local_app: App
    guarded: TestClient
    guarded_app: App
    connector: FakeConnector
    tap: LogTap

    def post(self, client: TestClient, body: Any, headers: dict[str, str] | None = None
             ) -> tuple[int, str]:
        async def go() -> tuple[int, str]:
            response = await client.post("/api/messages", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json",
                                                  **(headers or {})})
            return response.status, await response.text()

        return self.served.run(go)

    def reset(self) -> None:
        self.connector.calls.clear()
        self.tap.clear()


@pytest.fixture(scope="module")
def door(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Door]:
    served = Served()
    tap, detach = attach_tap()
    folder = tmp_path_factory.mktemp("fuzz-teams")

    async def app(name: str, **settings: Any) -> tuple[TestClient, App]:
        database = folder / f"{name}.db"
        shutil.copyfile(sqlite_template, database)
        bot = await served.stack.enter_async_context(open_app(Settings(
            database_url=f"sqlite:///{database}", program_managers=[PM], **settings)))
        async with bot.uow() as uow:
            await uow.advocates.add(build_advocate(email="ada@harbor.example", name="Ada"))
            await uow.commit()
        client = await served.stack.enter_async_context(
            TestClient(TestServer(create_web_app(bot))))
        return client, bot

    async def start() -> Door:
        connector = FakeConnector()
        for user_id, (name, email) in PEOPLE.items():
            connector.members[user_id] = {"id": user_id, "name": name, "email": email,
                                          "userPrincipalName": email, "userRole": "user"}
        await connector.start()
        served.stack.push_async_callback(connector.close)
        local, local_app = await app("local", teams_enabled=True)
        guarded, guarded_app = await app("guarded", microsoft_app_id=APP_ID,
                                         microsoft_app_password="secret")
        check_tokens_against(guarded_app, openid.metadata_url)
        return Door(served, local, local_app, guarded, guarded_app, connector, tap)

    openid = OpenIdServer()
    try:
        yield served.run(start)
    finally:
        detach()
        served.close()
        openid.close()


def check_tokens_against(bot_app: App, metadata_url: str) -> None:
    """The app's Bot Framework adapter, as built from its settings, but fetching the
    channel's signing keys from ``metadata_url`` (there is no internet here)."""
    front = bot_app.teams
    assert front is not None
    config = _BotFrameworkConfig(bot_app.settings)
    config.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = metadata_url  # type: ignore[attr-defined]
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(config))
    adapter.on_turn_error = front.adapter.on_turn_error
    front.adapter = adapter


# --- shapes ----------------------------------------------------------------------------

users = st.one_of(st.sampled_from(sorted(PEOPLE)), hostile_text.filter(bool))


def activity(door: Door, user: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": "message", "channelId": "msteams", "serviceUrl": door.connector.url,
        "id": "in-1", "localTimezone": "Europe/Berlin",
        "from": {"id": user, "name": "Someone", "aadObjectId": "aad-someone"},
        "recipient": {"id": "28:bot", "name": "Advocate Bot"},
        "conversation": {"id": f"a:{user}", "conversationType": "personal",
                         "tenantId": "tenant-1"},
        "channelData": {"tenant": {"id": "tenant-1"}},
        **fields,
    }


@st.composite
def card_data(draw: st.DrawFn, verb: str) -> dict[str, Any]:
    keys = DATA_KEYS[verb]
    chosen = draw(st.lists(st.sampled_from(keys), unique=True)) if keys else []
    values = st.one_of(small_ids, hostile_value(), st.sampled_from(
        ["pause", "change_limits", "keep_active", "leave", "best", "2026-03-09", "10:00"]))
    return {key: draw(values) for key in chosen}


@st.composite
def activities(draw: st.DrawFn, door: Door) -> dict[str, Any]:
    kind = draw(st.sampled_from(["words", "execute", "submit", "update", "invoke"]))
    user = draw(users)
    verb = draw(st.sampled_from(sorted(commands.VERBS)))
    if kind == "words":
        text = draw(st.one_of(
            st.builds(lambda w, rest: f"{w} {rest}", st.sampled_from(SUB_COMMANDS),
                      hostile_text),
            hostile_text, st.just("<at>Advocate Bot</at> advocate pause until 9999-12-31")))
        body = activity(door, user, text=text)
    elif kind == "execute":
        body = activity(door, user, type="invoke", name="adaptiveCard/action", value={
            "action": {"type": "Action.Execute", "verb": verb,
                       "data": draw(card_data(verb))}, "trigger": "manual"})
    elif kind == "submit":
        body = activity(door, user, replyToId="card-1",
                        value={"verb": verb, **draw(card_data(verb))})
    elif kind == "update":
        body = activity(door, user, type=draw(st.sampled_from(
            ["conversationUpdate", "installationUpdate"])), action="add",
            membersAdded=[{"id": draw(users)}, {"id": "28:bot"}])
    else:
        body = activity(door, user, type="invoke", name=draw(st.one_of(
            st.just("fileConsent/invoke"), hostile_text)), value=draw(hostile_value()))
    return draw(mutated(body, keep=("serviceUrl", "channelId", "type", "conversation")))


FORGER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def forged_tokens() -> st.SearchStrategy[dict[str, str]]:
    """No token, a token that is no JWT, one signed with a shared secret, one signed with
    a key the Bot Framework never published (under the published key's id or another)."""
    claims = st.fixed_dictionaries({
        "iss": st.sampled_from(["https://api.botframework.com", "https://evil.example"]),
        "aud": st.sampled_from([APP_ID, "someone-else"]),
        "serviceurl": st.one_of(hostile_text, st.just("http://127.0.0.1/")),
        "exp": st.sampled_from([2_000_000_000, 1_000_000_000])})
    kids = st.sampled_from([OpenIdServer.KID, "unknown-kid", ""])

    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    return st.one_of(
        st.just({}),
        st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=60).map(bearer),
        claims.map(lambda c: bearer(jwt.encode(c, "k" * 32))),
        st.builds(lambda c, kid: bearer(jwt.encode(c, FORGER, algorithm="RS256",
                                                   headers={"kid": kid})), claims, kids),
    )


# --- checks ------------------------------------------------------------------------------


def sent(door: Door) -> str:
    return json.dumps([c.body for c in door.connector.calls])


def test_the_parser_was_seen_reading_every_verb() -> None:
    assert DATA_KEYS["intake.submit"] and DATA_KEYS["checkin.answer"]
    assert all(DATA_KEYS[verb] for verb in commands.VERBS if verb != "intake.open"), DATA_KEYS


@given(data=st.data())
def test_authenticated_activities(door: Door, data: st.DataObject) -> None:
    body = data.draw(activities(door))
    door.reset()
    status, answer = door.post(door.local, body)
    assert status < 500, (status, answer[:300])
    assert not door.tap.loud(), "\n".join(door.tap.loud())
    assert APOLOGY not in sent(door) and APOLOGY not in answer


@given(data=st.data())
def test_unauthenticated_activities_are_refused_and_change_nothing(
        door: Door, data: st.DataObject) -> None:
    verb = data.draw(st.sampled_from(sorted(commands.VERBS)))
    body = data.draw(st.sampled_from([
        activity(door, "29:rita", text=data.draw(hostile_text)),
        activity(door, "29:ada", type="invoke", name="adaptiveCard/action", value={
            "action": {"type": "Action.Execute", "verb": verb,
                       "data": data.draw(card_data(verb))}}),
    ]))
    headers = data.draw(forged_tokens())
    before = door.served.run(snapshot(door.guarded_app.engine))
    door.reset()
    status, _ = door.post(door.guarded, body, headers)
    # a body that is no activity may be refused before its token is looked at, and a
    # header over 8 KB before the request is read (400)
    too_long = len(headers.get("Authorization", "")) > 8000
    assert status in ((400, 401) if activity_problem(body) or too_long else (401,))
    assert door.connector.calls == []
    assert door.served.run(snapshot(door.guarded_app.engine)) == before
    assert not door.tap.loud(), "\n".join(door.tap.loud())


# --- what the fuzzing found, pinned --------------------------------------------------------


def pinned(door: Door) -> dict[str, tuple[dict[str, Any], int]]:
    """Activities that crashed a turn (an ERROR with a traceback, an apology) or answered
    5xx before, and the status now, in local mode."""
    execute = {"action": {"type": "Action.Execute", "verb": "ask.accept", "data": {}}}
    return {
        "a user the roster does not know": (activity(door, "29:nobody", text="help"), 201),
        "an invoke the bot has no handler for (was 501)": (
            activity(door, "29:rita", type="invoke", name="", value=execute), 400),
        "an invoke whose value is text": (
            activity(door, "29:rita", type="invoke", name="fileConsent/invoke",
                     value="accept"), 400),
        "a lone surrogate in from.id": (activity(door, "29:\ud800"), 400),
        "a NUL in the conversation id": (activity(door, "29:rita\x00"), 400),
        "a non-ASCII conversation id": (activity(door, "29:\u202erita"), 400),
        "a brace in the conversation id": (activity(door, "{}"), 400),
        "a 10,000-character activity id": (activity(door, "29:rita", id="x" * 10_000), 400),
        "channelData.tenant as text": (
            activity(door, "29:rita", text="help", channelData={"tenant": "t"}), 201),
        "a conversation update without a recipient": (
            {k: v for k, v in activity(door, "29:ada", type="conversationUpdate",
                                       membersAdded=[{"id": "29:ada"}]).items()
             if k != "recipient"}, 201),
        "a member added who is null": (
            activity(door, "29:ada", type="conversationUpdate",
                     membersAdded=[None, {"id": "28:bot"}]), 201),
        "an intake whose industry is a number": (
            activity(door, "29:pat", type="invoke", name="adaptiveCard/action", value={
                "action": {"type": "Action.Execute", "verb": "intake.submit",
                           "data": {"industry": 0}}}), 200),
        "a 10,000-character time zone": (
            activity(door, "29:rita", text="help", localTimezone="x" * 10_000), 201),
    }


@pytest.mark.parametrize("name", [
    "a user the roster does not know", "an invoke the bot has no handler for (was 501)",
    "an invoke whose value is text", "a lone surrogate in from.id",
    "a NUL in the conversation id", "a non-ASCII conversation id",
    "a brace in the conversation id", "a 10,000-character activity id",
    "channelData.tenant as text", "a conversation update without a recipient",
    "a member added who is null", "an intake whose industry is a number",
    "a 10,000-character time zone"])
def test_what_the_fuzzing_found(door: Door, name: str) -> None:
    body, expected = pinned(door)[name]
    door.reset()
    status, _ = door.post(door.local, body)
    assert (status, door.tap.loud()) == (expected, [])
    assert APOLOGY not in sent(door)


@pytest.mark.parametrize("token", [
    "", "Bearer ", "Bearer not-a-jwt", "Basic dXNlcjpwYXNz",
    "Bearer " + jwt.encode({"iss": "https://api.botframework.com", "aud": APP_ID}, "k" * 32),
    "Bearer " + jwt.encode({"iss": "https://api.botframework.com", "aud": APP_ID}, FORGER,
                           algorithm="RS256", headers={"kid": OpenIdServer.KID}),
    "Bearer " + jwt.encode({"iss": "https://api.botframework.com", "aud": APP_ID}, FORGER,
                           algorithm="RS256", headers={"kid": "unknown-kid"}),
], ids=["none", "empty bearer (was 500)", "not a JWT", "basic", "HS256", "forged RS256",
        "unknown kid"])
def test_every_forged_token_is_a_401(door: Door, token: str) -> None:
    before = door.served.run(snapshot(door.guarded_app.engine))
    door.reset()
    status, _ = door.post(door.guarded, activity(door, "29:rita", text="reference"),
                          {"Authorization": token} if token else {})
    assert (status, door.connector.calls, door.tap.loud()) == (401, [], [])
    assert door.served.run(snapshot(door.guarded_app.engine)) == before
