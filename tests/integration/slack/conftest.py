"""Scenario tests of the Slack front end: the real server, signed payloads, a fake Slack.

``slack`` starts, per test, everything a deployment runs: the bot on a migrated SQLite
file (copied from the session template), ``handlers.web``'s aiohttp server on 127.0.0.1
with the Bolt app mounted at ``/slack/events``, and ``FakeSlack`` as the Web API
(``SLACK_API_URL`` points at it). Tests POST bodies shaped like Slack's (the ``req_*``
fixtures in ``tests/fixtures/slack``), signed the way Slack signs them, and read what each
person saw from the fake's recorded calls.

Bolt answers Slack as soon as a listener acks and finishes the listener afterwards, so
``Slack.settle()`` waits for those listeners, and ``Slack.deliver()`` runs the outbox
dispatcher until it has nothing left: that is when DMs reach the fake.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from bot.bootstrap import App, open_app
from bot.config import Settings
from bot.domain.model import Actor, Advocate, Platform
from bot.services.dispatch import DispatchStats, OutboxDispatcher
from bot.services.roles import resolve_actor
from handlers.slack.directory import SlackDirectory
from handlers.web import create_web_app
from tests.fakes import FixedClock
from tests.slack_fake import Call, FakeSlack
from tests.unit.conftest import build_advocate

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "slack"
SECRET = "0123456789abcdef0123456789abcdef"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, as in the service tests

RILEY = ("U0RILEY", "riley.rep@vendor.example", "Riley Rep", "America/New_York")
ADA = ("U0ADA", "ada@harbor.example", "Ada Advocate", "Europe/Berlin")
PAT = ("U0PAT", "pat.manager@vendor.example", "Pat Manager", "Europe/Berlin")
SAM = ("U0SAM", "sam.seller@vendor.example", "Sam Seller", "Europe/London")


def load_fixture(name: str) -> dict[str, Any]:
    """A payload shape from ``tests/fixtures/slack`` (a fresh copy, ``_about`` removed)."""
    data = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    data.pop("_about", None)
    return data


def signed_headers(body: str, *, secret: str = SECRET, timestamp: int | None = None,
                   content_type: str = "application/x-www-form-urlencoded") -> dict[str, str]:
    """Headers Slack would send with ``body``: ``v0`` HMAC-SHA256 of ``v0:ts:body``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature or "",
            "Content-Type": content_type}


def values(**inputs: dict[str, Any]) -> dict[str, Any]:
    """``view.state.values`` with one input per block, its action id equal to the block id
    (the forms' convention)."""
    return {block: {block: state} for block, state in inputs.items()}


def text_input(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def select(value: str) -> dict[str, Any]:
    return {"type": "static_select",
            "selected_option": {"text": {"type": "plain_text", "text": value}, "value": value}}


def multi(*chosen: str) -> dict[str, Any]:
    return {"type": "multi_static_select", "selected_options": [
        {"text": {"type": "plain_text", "text": v}, "value": v} for v in chosen]}


def date_input(day: str) -> dict[str, Any]:
    return {"type": "datepicker", "selected_date": day}


def moment_input(moment: datetime) -> dict[str, Any]:
    return {"type": "datetimepicker", "selected_date_time": int(moment.timestamp())}


@dataclass
class Response:
    status: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text) if self.text else None


@dataclass
class Slack:
    """Slack as the app sees it: it signs and sends payloads, and it is the Web API."""

    bot: App
    fake: FakeSlack
    url: str
    http: aiohttp.ClientSession
    clock: FixedClock
    dispatcher: OutboxDispatcher
    ack_times: list[float] = field(default_factory=list)
    _trigger: int = 0

    # --- sending ---------------------------------------------------------------------

    async def post(self, body: str, headers: dict[str, str]) -> Response:
        started = time.perf_counter()
        async with self.http.post(self.url, data=body.encode(), headers=headers) as response:
            text = await response.text()
        self.ack_times.append(time.perf_counter() - started)
        return Response(response.status, text)

    async def post_form(self, fields: dict[str, str], **extra_headers: str) -> Response:
        body = urllib.parse.urlencode(fields)
        return await self.post(body, {**signed_headers(body), **extra_headers})

    async def post_payload(self, payload: dict[str, Any]) -> Response:
        return await self.post_form({"payload": json.dumps(payload)})

    def _next_trigger(self) -> str:
        self._trigger += 1
        return f"{self._trigger}.738474920.trigger"

    async def command(self, user: tuple[str, ...], command: str, text: str = "") -> Response:
        """``user`` types ``command text``."""
        body = load_fixture("req_slash_command")
        token = f"cmd{self._trigger + 1}"
        body.update(user_id=user[0], user_name=user[1].split("@")[0], command=command,
                    text=text, trigger_id=self._next_trigger(),
                    response_url=self.fake.response_url(token))
        return await self.post_form(body)

    async def click(self, user: tuple[str, ...], action_id: str, value: str, *,
                    message_ts: str = "1700000000.000001", block_id: str = "buttons",
                    home: bool = False) -> Response:
        """``user`` clicks a button in a DM (or on their App Home)."""
        payload = load_fixture("req_block_actions_home" if home else "req_block_actions")
        payload["user"].update(id=user[0], username=user[1].split("@")[0])
        payload["trigger_id"] = self._next_trigger()
        if not home:
            payload["container"]["message_ts"] = message_ts
            payload["message"]["ts"] = message_ts
            payload["response_url"] = self.fake.response_url(f"click{self._trigger}")
        payload["actions"][0].update(action_id=action_id, value=value, block_id=block_id)
        return await self.post_payload(payload)

    async def submit(self, user: tuple[str, ...], callback_id: str,
                     state: dict[str, Any], *, private_metadata: str = "",
                     view_id: str = "V0MODAL", blocks: list[dict[str, Any]] | None = None
                     ) -> Response:
        """``user`` submits a modal (``blocks``: the view's blocks, which Slack sends too)."""
        payload = load_fixture("req_view_submission")
        payload["user"].update(id=user[0], username=user[1].split("@")[0])
        payload["view"].update(callback_id=callback_id, private_metadata=private_metadata,
                               id=view_id, root_view_id=view_id, blocks=blocks or [])
        payload["view"]["state"]["values"] = state
        return await self.post_payload(payload)

    async def event(self, body: dict[str, Any], *, retry: int | None = None) -> Response:
        text = json.dumps(body)
        headers = signed_headers(text, content_type="application/json")
        if retry is not None:
            headers.update({"X-Slack-Retry-Num": str(retry),
                            "X-Slack-Retry-Reason": "http_timeout"})
        return await self.post(text, headers)

    async def open_home(self, user: tuple[str, ...], event_id: str, *,
                        retry: int | None = None) -> Response:
        body = load_fixture("req_event_app_home_opened")
        body["event"]["user"] = user[0]
        body["event_id"] = event_id
        return await self.event(body, retry=retry)

    # --- waiting for the work after the ack ---------------------------------------------

    async def settle(self, limit: float = 10.0) -> None:
        """Wait until every listener Bolt left running after its ack has finished."""
        deadline = time.monotonic() + limit
        while True:
            running = [t for t in asyncio.all_tasks() if not t.done()
                       and "run_ack_function_asynchronously" in repr(t.get_coro())]
            if not running:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"listeners still running after {limit} s: {running}")
            await asyncio.sleep(0.005)

    async def deliver(self) -> DispatchStats:
        """Settle, then run the outbox until nothing is due: the DMs reach the fake."""
        await self.settle()
        total = DispatchStats()
        while True:
            stats = await self.dispatcher.run_once()
            if not stats.handled:
                return total
            total = DispatchStats(total.sent + stats.sent, total.retried + stats.retried,
                                  total.dead + stats.dead, total.deferred + stats.deferred)

    # --- what people saw -------------------------------------------------------------------

    def dms_to(self, user: tuple[str, ...]) -> list[Call]:
        """Messages posted to ``user``'s DM (by user id, as the app must), and updates of
        them, in order."""
        dm = "D" + user[0][1:]
        return [c for c in self.fake.calls
                if (c.method == "chat.postMessage" and c.args.get("channel") == user[0])
                or (c.method == "chat.update" and c.args.get("channel") == dm)]

    def replies_to(self, command_response: str) -> list[dict[str, Any]]:
        return [c.args for c in self.fake.responses if c.method == command_response]

    def ephemeral_texts(self) -> list[str]:
        return [str(c.args.get("text", "")) for c in self.fake.responses]

    def modals(self) -> list[dict[str, Any]]:
        return [c.args["view"] for c in self.fake.calls_to("views.open")]

    def homes(self, user: tuple[str, ...]) -> list[dict[str, Any]]:
        return [c.args["view"] for c in self.fake.calls_to("views.publish")
                if c.args.get("user_id") == user[0]]

    async def actor(self, user: tuple[str, ...]) -> Actor:
        """``user`` as the listeners see them: the directory's person, roles resolved."""
        directory = self.bot.directories[Platform.SLACK]
        assert isinstance(directory, SlackDirectory)
        person = await directory.person(user[0], "T0001")
        async with self.bot.uow() as uow:
            return await resolve_actor(self.bot.ctx, uow, person)

    async def add_advocate(self, **overrides: Any) -> Advocate:
        async with self.bot.uow() as uow:
            stored = await uow.advocates.add(build_advocate(**overrides))
            await uow.commit()
        return stored


def all_text(message: dict[str, Any]) -> str:
    """Every string in a message or view (its ``text`` and blocks), for "did they see X"."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, str):
            found.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({k: v for k, v in message.items() if k in ("text", "blocks", "title")})
    return "\n".join(found)


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Every button in a message's blocks (sections' accessories and actions' elements)."""
    found = []
    for block in message.get("blocks") or []:
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and accessory.get("type") == "button":
            found.append({**accessory, "block_id": block.get("block_id")})
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("type") == "button":
                found.append({**element, "block_id": block.get("block_id")})
    return found


def settings_for(database: Path, fake: FakeSlack, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{database}",
        "slack_bot_token": "xoxb-test-token",
        "slack_signing_secret": SECRET,
        "slack_api_url": fake.api_url,
        "program_managers": [PAT[1]],
        "program_timezone": "Europe/Berlin",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    for user in (RILEY, ADA, PAT, SAM):
        fake.add_user(*user)
    yield fake
    await fake.stop()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module to change the bot's settings (e.g. require approval)."""
    return {}


@pytest.fixture
async def slack(sqlite_template: Path, tmp_path: Path, fake_slack: FakeSlack,
                settings_overrides: dict[str, Any]) -> AsyncIterator[Slack]:
    database = tmp_path / "bot.db"
    shutil.copyfile(sqlite_template, database)
    clock = FixedClock(START)
    settings = settings_for(database, fake_slack, **settings_overrides)
    async with open_app(settings, clock=clock) as bot:
        runner = web.AppRunner(create_web_app(bot), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        dispatcher = OutboxDispatcher(bot.uow, bot.messengers, clock,
                                      directories=list(bot.directories.values()))
        async with aiohttp.ClientSession() as http:
            harness = Slack(bot=bot, fake=fake_slack, url=f"http://127.0.0.1:{port}/slack/events",
                            http=http, clock=clock, dispatcher=dispatcher)
            try:
                yield harness
                await harness.settle()
            finally:
                await runner.cleanup()


__all__ = [
    "ADA", "PAT", "RILEY", "SAM", "SECRET", "START", "Response", "Slack", "all_text", "buttons",
    "date_input", "load_fixture", "moment_input", "multi", "select", "settings_for",
    "signed_headers", "text_input", "values",
]
