"""Fuzzing ``POST /slack/events`` of the running app over HTTP, signed and unsigned.

One app per module (``door``): the bot on a migrated SQLite file with two advocates, the
aiohttp server, and ``FakeSlack`` as the Web API. What is sent is enumerated from the app
itself: the slash commands, button action ids, modal callback ids and events the Bolt app
registers (``Registry`` stands in for it while ``register_all`` runs), the sub-commands
``bot.conversation.words`` reads, and the block ids each modal's parser asks for (recorded
from one submission of each). Each shape then carries hostile values, fields of the wrong
type, or misses some.

* Unsigned (no signature, a wrong secret, another body's signature, stale, garbage
  headers): 401, and nothing at all happens — no Web API call, no post to the
  ``response_url`` the body names, not a row changed, at most one short log line.
* Signed: never a 5xx, never a traceback or an ERROR line, never the "something went
  wrong" apology; a modal gets a plain ack or ``response_action: errors`` with a message
  for each field named.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import shutil
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from bot.bootstrap import App, open_app
from bot.conversation import words
from handlers.slack import forms
from handlers.slack.listeners import register_all
from handlers.web import create_web_app
from tests.fakes import FixedClock
from tests.integration.fuzz.harness import (
    LogTap,
    Served,
    attach_tap,
    hostile_text,
    hostile_value,
    mutated,
    small_ids,
    snapshot,
)
from tests.integration.slack.conftest import (
    ADA,
    PAT,
    RILEY,
    SAM,
    SECRET,
    START,
    load_fixture,
    settings_for,
)
from tests.slack_fake import FakeSlack
from tests.unit.conftest import build_advocate

USERS = (RILEY, ADA, PAT, SAM)
APOLOGY = "something went wrong"
SUB_COMMANDS = sorted(set(re.findall(r'word == "(\w+)"', Path(words.__file__).read_text())))


@dataclass
class Registry:
    """Stands in for the Bolt app while ``register_all`` runs: what it registers."""

    commands: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    views: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    shortcuts: list[str] = field(default_factory=list)

    def _record(self, into: list[str], name: str) -> Any:
        into.append(name)
        return lambda listener: listener

    def command(self, name: str) -> Any:
        return self._record(self.commands, name)

    def action(self, name: str) -> Any:
        return self._record(self.actions, name)

    def view(self, name: str) -> Any:
        return self._record(self.views, name)

    def event(self, name: str) -> Any:
        return self._record(self.events, name)

    def shortcut(self, name: str) -> Any:
        return self._record(self.shortcuts, name)

    def use(self, middleware: Any) -> None:
        pass


class Recording(Mapping[str, Any]):
    """A modal's ``state.values`` that remembers which block ids were asked for."""

    def __init__(self, values: Mapping[str, Any], asked: set[str]) -> None:
        self._values, self._asked = values, asked

    def __getitem__(self, key: str) -> Any:
        self._asked.add(key)
        return self._values[key]

    def get(self, key: str, default: Any = None) -> Any:
        self._asked.add(key)
        return self._values.get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


@dataclass
class Door:
    served: Served
    bot: App
    fake: FakeSlack
    url: str
    http: aiohttp.ClientSession
    tap: LogTap
    registry: Registry
    block_ids: dict[str, list[str]] = field(default_factory=dict)

    def send(self, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        async def go() -> tuple[int, str]:
            async with self.http.post(self.url, data=body, headers=headers) as response:
                answer = (response.status, await response.text())
            await self.served.settle()
            return answer

        return self.served.run(go)

    def reset(self) -> None:
        self.fake.calls.clear()
        self.fake.responses.clear()
        self.tap.clear()

    def state(self) -> dict[str, Any]:
        return self.served.run(snapshot(self.bot.engine))


def sign(body: bytes, *, secret: str = SECRET, timestamp: int | None = None,
         content_type: str = "application/x-www-form-urlencoded") -> dict[str, str]:
    """Slack's headers for exactly these bytes."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body,
                      hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + digest,
            "Content-Type": content_type}


def form_body(fields: Mapping[str, Any]) -> bytes:
    """Form-encoded, lone surrogates passed through as the invalid UTF-8 they make."""
    return urllib.parse.urlencode(
        {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()},
        encoding="utf-8", errors="surrogatepass").encode("ascii")


def payload_body(payload: Any) -> bytes:
    return form_body({"payload": json.dumps(payload)})


def json_body(body: Any) -> bytes:
    return json.dumps(body).encode()


@pytest.fixture(scope="module")
def door(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Door]:
    served = Served()
    tap, detach = attach_tap()
    database = tmp_path_factory.mktemp("fuzz-slack") / "bot.db"
    shutil.copyfile(sqlite_template, database)

    async def start() -> Door:
        fake = await FakeSlack().start()
        served.stack.push_async_callback(fake.stop)
        for user in USERS:
            fake.add_user(*user)
        bot = await served.stack.enter_async_context(
            open_app(settings_for(database, fake), clock=FixedClock(START)))
        async with bot.uow() as uow:
            await uow.advocates.add(build_advocate(email=ADA[1], name=ADA[2]))
            await uow.advocates.add(build_advocate(email="bo@harbor.example", name="Bo"))
            await uow.commit()
        runner = web.AppRunner(create_web_app(bot), access_log=None)
        await runner.setup()
        served.stack.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        http = await served.stack.enter_async_context(aiohttp.ClientSession())
        registry = Registry()
        register_all(registry, None)  # type: ignore[arg-type]
        return Door(served, bot, fake, f"http://127.0.0.1:{port}/slack/events", http, tap,
                    registry)

    try:
        built = served.run(start)
        built.block_ids = discover_block_ids(built)
        yield built
    finally:
        detach()
        served.close()


def discover_block_ids(door: Door) -> dict[str, list[str]]:
    """Submit each registered modal once, empty, and record which block ids its parser
    asks ``state.values`` for."""
    asked: dict[str, set[str]] = {}
    real_state = forms._state
    current: set[str] = set()

    def recording_state(view: Mapping[str, Any]) -> Mapping[str, Any]:
        return Recording(real_state(view), current)

    forms._state = recording_state  # type: ignore[assignment]
    try:
        for callback_id in door.registry.views:
            current = asked.setdefault(callback_id, set())
            payload = submission(callback_id, RILEY[0], {}, "1")
            status, _ = door.send(payload_body(payload), sign(payload_body(payload)))
            assert status == 200, (callback_id, status)
    finally:
        forms._state = real_state  # type: ignore[assignment]
    return {name: sorted(ids) for name, ids in asked.items()}


# --- shapes ----------------------------------------------------------------------------

users = st.one_of(st.sampled_from([u[0] for u in USERS]), hostile_text)


def command_fields(door: Door, command: str, user: str, text: Any) -> dict[str, Any]:
    fields: dict[str, Any] = load_fixture("req_slash_command")
    fields.update(command=command, user_id=user, text=text,
                  response_url=door.fake.response_url("fuzz"))
    return fields


def click(action_id: str, user: str, value: Any, *,
          response_url: str | None = None) -> dict[str, Any]:
    """A click on the App Home, or in a DM when it has a ``response_url``."""
    payload = load_fixture("req_block_actions" if response_url else "req_block_actions_home")
    payload["user"]["id"] = user
    if response_url:
        payload["response_url"] = response_url
    payload["actions"][0].update(action_id=action_id, value=value,
                                 selected_option={"value": value})
    return payload


def submission(callback_id: str, user: str, state: dict[str, Any],
               metadata: Any) -> dict[str, Any]:
    payload = load_fixture("req_view_submission")
    payload["user"]["id"] = user
    payload["view"].update(callback_id=callback_id, private_metadata=metadata)
    payload["view"]["state"]["values"] = state
    return payload


ELEMENTS = ("plain_text_input", "number_input", "static_select", "radio_buttons",
            "multi_static_select", "checkboxes", "datepicker", "datetimepicker", "timepicker",
            "url_text_input", "users_select")
day_values = st.one_of(st.dates().map(str), hostile_text)
moments = st.one_of(st.integers(-(10**20), 10**20), hostile_value(0))


@st.composite
def element(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(ELEMENTS))
    value = draw(st.one_of(small_ids, hostile_value()))
    if kind in ("static_select", "radio_buttons"):
        return {"type": kind, "selected_option": draw(st.one_of(
            st.just({"value": value}), hostile_value()))}
    if kind in ("multi_static_select", "checkboxes"):
        return {"type": kind, "selected_options": draw(st.one_of(
            st.lists(st.builds(lambda v: {"value": v}, hostile_value()), max_size=4),
            hostile_value()))}
    if kind == "datepicker":
        return {"type": kind, "selected_date": draw(day_values)}
    if kind == "datetimepicker":
        return {"type": kind, "selected_date_time": draw(moments)}
    if kind == "timepicker":
        return {"type": kind, "selected_time": draw(hostile_text)}
    return {"type": kind, "value": value}


@st.composite
def modal_state(draw: st.DrawFn, block_ids: list[str]) -> dict[str, Any]:
    chosen = draw(st.lists(st.sampled_from(block_ids), unique=True)) if block_ids else []
    extra = draw(st.lists(hostile_text, max_size=1))
    return {block: {block: draw(element())} for block in [*chosen, *extra]}


def forgeries(body: bytes) -> st.SearchStrategy[dict[str, str]]:
    """Headers Slack would not send with ``body``."""
    now = int(time.time())
    junk = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80)
    return st.one_of(
        st.just({"Content-Type": "application/x-www-form-urlencoded"}),
        st.just(sign(body, secret="not-the-" + SECRET)),
        st.just(sign(body + b"&x=1")),
        st.integers(400, 10**6).map(lambda age: sign(body, timestamp=now - age)),
        st.integers(400, 10**6).map(lambda ahead: sign(body, timestamp=now + ahead)),
        st.builds(lambda ts, sig: {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig,
                                   "Content-Type": "application/json"}, junk, junk),
        st.builds(lambda sig: {**sign(body), "X-Slack-Signature": sig}, junk),
    )


# --- checks ------------------------------------------------------------------------------


def everything_said(door: Door) -> str:
    return json.dumps([c.args for c in [*door.fake.calls, *door.fake.responses]])


def assert_served(door: Door, status: int, answer: str, *, modal: bool = False) -> None:
    """A signed request: done, or refused clearly, never a crash."""
    assert status < 500 and status != 401, (status, answer[:300])
    assert not door.tap.loud(), "\n".join(door.tap.loud())
    assert APOLOGY not in everything_said(door)
    if modal and status == 200 and answer:
        reply = json.loads(answer)
        assert reply.get("response_action") in ("errors", "update", "push", "clear"), reply
        if reply["response_action"] == "errors":
            assert reply["errors"] and all(
                isinstance(m, str) and m.strip() for m in reply["errors"].values()), reply


def assert_nothing_happened(door: Door, before: dict[str, Any], status: int) -> None:
    assert status == 401
    assert door.fake.calls == [] and door.fake.responses == []
    assert door.state() == before
    said = door.tap.warnings()
    assert len(said) <= 1 and all(len(r.getMessage()) < 200 and not r.exc_info
                                  for r in said), [r.getMessage()[:200] for r in said]


# --- the tests ---------------------------------------------------------------------------


def test_the_app_registers_what_is_fuzzed(door: Door) -> None:
    """The enumeration is the app's own, and every modal's parser was seen reading."""
    registry = door.registry
    assert set(registry.commands) == {"/reference", "/advocate", "/advocates"}
    assert len(registry.actions) >= 20 and "app_home_opened" in registry.events
    assert all(door.block_ids[name] for name in registry.views), door.block_ids


@given(data=st.data())
def test_signed_slash_commands(door: Door, data: st.DataObject) -> None:
    command = data.draw(st.one_of(st.sampled_from(door.registry.commands), hostile_text))
    text = data.draw(st.one_of(
        st.builds(lambda w, rest: f"{w} {rest}", st.sampled_from(SUB_COMMANDS), hostile_text),
        st.builds(lambda rest: f"limits max_per_90_days={rest}", hostile_text),
        hostile_value(0)))
    fields = data.draw(mutated(command_fields(door, command, data.draw(users), text),
                               keep=("team_id", "response_url")))
    door.reset()
    status, answer = door.send(form_body(fields), sign(form_body(fields)))
    assert_served(door, status, answer)


@given(data=st.data())
def test_signed_button_clicks(door: Door, data: st.DataObject) -> None:
    action_id = data.draw(st.sampled_from(door.registry.actions))
    value = data.draw(st.one_of(small_ids, st.builds(lambda a, b: f"{a}:{b}", small_ids,
                                                     small_ids), hostile_value()))
    home = data.draw(st.booleans())
    payload = click(action_id, data.draw(users), value,
                    response_url=None if home else door.fake.response_url("fuzz"))
    payload = data.draw(mutated(payload, keep=("team", "type")))
    door.reset()
    status, answer = door.send(payload_body(payload), sign(payload_body(payload)))
    assert_served(door, status, answer)


@given(data=st.data())
def test_signed_modal_submissions(door: Door, data: st.DataObject) -> None:
    callback_id = data.draw(st.sampled_from(door.registry.views))
    state = data.draw(modal_state(door.block_ids[callback_id]))
    metadata = data.draw(st.one_of(small_ids, hostile_value(0),
                                   st.just(json.dumps({"channel": "C0SALES"}))))
    payload = submission(callback_id, data.draw(users), state, metadata)
    payload = data.draw(mutated(payload, keep=("team", "type")))
    door.reset()
    status, answer = door.send(payload_body(payload), sign(payload_body(payload)))
    assert_served(door, status, answer, modal=True)


@given(data=st.data())
def test_signed_events(door: Door, data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from([*door.registry.events, "url_verification", "other"]))
    if kind == "url_verification":
        body: dict[str, Any] = load_fixture("req_url_verification")
        body["challenge"] = data.draw(hostile_value(0))
    else:
        body = load_fixture("req_event_app_home_opened")
        body["event"].update(type=kind, user=data.draw(users),
                             tab=data.draw(st.one_of(st.just("home"), hostile_value(0))))
        body["event_id"] = data.draw(hostile_value(0))
    body = data.draw(mutated(body, keep=("team_id", "authorizations", "type")))
    door.reset()
    raw = json_body(body)
    status, answer = door.send(raw, sign(raw, content_type="application/json"))
    assert_served(door, status, answer)


@given(data=st.data())
def test_unsigned_requests_are_refused_and_change_nothing(door: Door,
                                                          data: st.DataObject) -> None:
    shape = data.draw(st.sampled_from(["command", "click", "modal", "event"]))
    if shape == "command":
        body = form_body(command_fields(door, data.draw(st.sampled_from(
            door.registry.commands)), RILEY[0], data.draw(hostile_text)))
    elif shape == "click":
        body = payload_body(click(data.draw(st.sampled_from(door.registry.actions)),
                                  data.draw(users), data.draw(small_ids),
                                  response_url=door.fake.response_url("bait")))
    elif shape == "modal":
        callback_id = data.draw(st.sampled_from(door.registry.views))
        body = payload_body(submission(callback_id, RILEY[0], data.draw(
            modal_state(door.block_ids[callback_id])), "1"))
    else:
        event = load_fixture("req_event_app_home_opened")
        body = json_body(event)
    headers = data.draw(forgeries(body))
    before = door.state()
    door.reset()
    status, _ = door.send(body, headers)
    assert_nothing_happened(door, before, status)


# --- the other routes --------------------------------------------------------------------


@given(path=st.sampled_from(["/healthz", "/readyz", "/metrics", "/slack/events", "/nope"]),
       method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"]),
       query=st.dictionaries(hostile_text, hostile_text, max_size=3),
       header=st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=9000))
def test_every_route_answers_any_request_without_a_5xx(
        door: Door, path: str, method: str, query: dict[str, str], header: str) -> None:
    url = door.url.replace("/slack/events", path) + "?" + urllib.parse.urlencode(
        query, errors="surrogatepass")

    async def go() -> int:
        try:
            async with door.http.request(method, url, headers={"X-Odd": header},
                                         data=b"x" if method != "GET" else None) as response:
                await response.read()
                return response.status
        except aiohttp.ClientResponseError as error:  # e.g. a 400 to a HEAD, with a body
            return error.status

    door.reset()
    status = door.served.run(go)
    assert status < 500 or (path == "/readyz" and status == 503), status
    assert not door.tap.loud(), "\n".join(door.tap.loud())


# --- what the fuzzing found, pinned --------------------------------------------------------


def pinned() -> dict[str, tuple[bytes, int]]:
    """Signed requests that crashed a listener or Bolt before, and the status now."""
    surrogate = click("home_pause", "\ud800x", "1")
    no_action_id = load_fixture("req_block_actions_home")
    del no_action_id["actions"][0]["action_id"]
    no_view_type = submission("intake", RILEY[0], {}, "")
    del no_view_type["view"]["type"]
    no_trigger = load_fixture("req_slash_command")
    del no_trigger["trigger_id"]
    response_url_a_number = click("ask_advocate", RILEY[0], "1", response_url="x")
    response_url_a_number["response_url"] = 1
    return {
        "a lone surrogate in user.id": (payload_body(surrogate), 400),
        "an action without action_id": (payload_body(no_action_id), 400),
        "a view without a type (was 500)": (payload_body(no_view_type), 400),
        "a command without trigger_id": (form_body(no_trigger), 400),
        "a response_url that is a number": (payload_body(response_url_a_number), 400),
    }


@pytest.mark.parametrize("name", ["a lone surrogate in user.id", "an action without action_id",
                                  "a view without a type (was 500)",
                                  "a command without trigger_id",
                                  "a response_url that is a number"])
def test_a_signed_body_the_listeners_cannot_read_is_a_400(door: Door, name: str) -> None:
    body, expected = pinned()[name]
    door.reset()
    status, answer = door.send(body, sign(body))
    assert (status, door.fake.calls, door.tap.loud()) == (expected, [], [])
    assert "error" in json.loads(answer)


def test_a_click_without_a_user_id_is_refused_politely(door: Door) -> None:
    payload = click("home_pause", RILEY[0], "1", response_url=door.fake.response_url("x"))
    del payload["user"]["id"]
    door.reset()
    status, answer = door.send(payload_body(payload), sign(payload_body(payload)))
    assert_served(door, status, answer)


def test_a_5000_digit_private_metadata_is_a_lost_form(door: Door) -> None:
    state = {"reason": {"reason": {"type": "plain_text_input", "value": "busy"}}}
    payload = submission("decline_reason", ADA[0], state, "1" * 5000)
    door.reset()
    status, answer = door.send(payload_body(payload), sign(payload_body(payload)))
    assert_served(door, status, answer, modal=True)


@pytest.mark.parametrize("products", [
    {"type": "multi_static_select", "selected_options": 7},
    {"type": "users_select", "selected_user": 0},
    {"type": "multi_static_select", "selected_options": [{"value": 0}]},
], ids=["selected_options a number", "a picker's number", "an option's value a number"])
def test_a_multi_select_that_is_not_a_list_gets_inline_errors(
        door: Door, products: dict[str, Any]) -> None:
    state = {"products": {"products": products}, "call_length_minutes": {
        "call_length_minutes": products}}
    payload = submission("intake", RILEY[0], state, json.dumps({"channel": "C0SALES"}))
    door.reset()
    status, answer = door.send(payload_body(payload), sign(payload_body(payload)))
    assert_served(door, status, answer, modal=True)
    assert json.loads(answer)["response_action"] == "errors"


def test_a_header_line_over_8_kb_is_one_short_warning(door: Door) -> None:
    async def go() -> int:
        async with door.http.get(door.url.replace("/slack/events", "/healthz"),
                                 headers={"X-Odd": "x" * 10_000}) as response:
            return response.status

    door.reset()
    assert door.served.run(go) == 400
    assert not door.tap.loud()
    assert any("malformed HTTP request: LineTooLong" in r.getMessage()
               for r in door.tap.warnings())


@pytest.mark.parametrize("helpfulness", ["²", "1" * 5000])
def test_digits_int_refuses_are_an_inline_error(door: Door, helpfulness: str) -> None:
    state = {"outcome": {"outcome": {"type": "radio_buttons",
                                     "selected_option": {"value": "completed"}}},
             "helpfulness": {"helpfulness": {"type": "static_select",
                                             "selected_option": {"value": helpfulness}}}}
    payload = submission("outcome", RILEY[0], state, "1")
    door.reset()
    status, answer = door.send(payload_body(payload), sign(payload_body(payload)))
    assert_served(door, status, answer, modal=True)
