"""The Slack door, probed as an attacker would: over HTTP, against the running app.

A request Slack did not sign gets 401 whatever its headers and body look like, and
causes nothing at all: no Web API call, no post to the ``response_url`` it names, no
database write, and at most one short log line that never repeats the body. A signed
body the bot cannot read gets 400 the same way. A signed request from a workspace the bot
is not installed in is refused (403). A write that fails logs no bound values.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import shutil
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.bootstrap import open_app
from handlers.slack.app import build_slack_app, start_socket_mode
from tests.fakes import FixedClock
from tests.integration.slack.conftest import (
    ADA,
    RILEY,
    SECRET,
    START,
    Slack,
    load_fixture,
    settings_for,
    signed_headers,
)
from tests.slack_fake import FakeSlack

#: Put in every probe's body: it must never show up in a log.
MARKER = "MARKER-body-7f3e"


def command_fields(**overrides: str) -> dict[str, str]:
    """A ``/reference`` command by Riley whose ``response_url`` points at the fake."""
    body = load_fixture("req_slash_command")
    body.update(user_id=RILEY[0], command="/reference", text=MARKER)
    body.update(overrides)
    return body


async def snapshot(slack: Slack) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: "no database write" compared as a whole."""
    async with slack.bot.engine.connect() as connection:
        tables = [row[0] for row in await connection.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"))]
        return {table: sorted(map(tuple, await connection.execute(
                    text(f'SELECT * FROM "{table}"'))), key=repr)
                for table in tables}


def formatted(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every captured record as a handler would write it, traceback included."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return [formatter.format(record) for record in caplog.records]


async def assert_nothing_happened(slack: Slack, before: dict[str, Any],
                                  caplog: pytest.LogCaptureFixture) -> None:
    await slack.settle()
    assert slack.fake.calls == []  # no Web API call, not even auth.test
    assert slack.fake.responses == []  # no post to the response_url the body named
    assert await snapshot(slack) == before
    lines = formatted(caplog)
    assert not any(MARKER in line for line in lines)
    loud = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert len(loud) <= 1, [r.getMessage() for r in loud]
    assert all(len(r.getMessage()) < 200 and r.exc_info is None for r in loud)


def signed_bytes(body: bytes) -> dict[str, str]:
    """Slack's headers for raw bytes (``signed_headers`` takes text, which not every
    body is): the signature covers exactly the bytes sent."""
    timestamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), b"v0:" + timestamp.encode() + b":" + body,
                      hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": "v0=" + digest,
            "Content-Type": "application/x-www-form-urlencoded"}


def form(fields: dict[str, str]) -> str:
    return urllib.parse.urlencode(fields)


def unsigned_probes(slack: Slack) -> dict[str, tuple[bytes, dict[str, str]]]:
    """Requests Slack did not sign, each shaped to reach a different crash found before."""
    apology_bait = form(command_fields(response_url=slack.fake.response_url("ssrf")))
    fresh = str(int(time.time()))
    forged = {"X-Slack-Request-Timestamp": fresh, "X-Slack-Signature": "v0=" + "0" * 64,
              "Content-Type": "application/x-www-form-urlencoded"}
    return {
        "timestamp abc": (apology_bait.encode(), {
            "X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=" + "a" * 64,
            "Content-Type": "application/x-www-form-urlencoded"}),
        "no headers": (apology_bait.encode(),
                       {"Content-Type": "application/x-www-form-urlencoded"}),
        "wrong secret": (apology_bait.encode(),
                         signed_headers(apology_bait, secret="not-the-" + SECRET)),
        "signature of another body": (apology_bait.encode(), signed_headers("text=list")),
        "stale": (apology_bait.encode(),
                  signed_headers(apology_bait, timestamp=int(time.time()) - 3600)),
        "timestamp in the future": (apology_bait.encode(),
                                    signed_headers(apology_bait, timestamp=int(time.time())
                                                   + 3600)),
        "payload not JSON": (form({"payload": "{not json " + MARKER}).encode(), forged),
        "payload a list": (form({"payload": json.dumps([MARKER])}).encode(), forged),
        "payload null": (form({"payload": "null", "x": MARKER}).encode(), forged),
        "not UTF-8": (b"payload=" + MARKER.encode() + b"\xff\xfe\xc3(", forged),
        "1 MB body": ((MARKER + "=" + "A" * 1_000_000).encode(), forged),
        "JSON event": (json.dumps({"type": "event_callback", "team_id": "T0001", "event": {
            "type": "app_home_opened", "user": RILEY[0], "tab": "home"}, "x": MARKER}).encode(),
            {**forged, "Content-Type": "application/json"}),
    }


PROBES = ["timestamp abc", "no headers", "wrong secret", "signature of another body", "stale",
          "timestamp in the future", "payload not JSON", "payload a list", "payload null",
          "not UTF-8", "1 MB body", "JSON event"]


@pytest.mark.parametrize("probe", PROBES)
async def test_an_unsigned_request_gets_401_and_causes_nothing(
        slack: Slack, caplog: pytest.LogCaptureFixture, probe: str) -> None:
    body, headers = unsigned_probes(slack)[probe]
    before = await snapshot(slack)
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    async with slack.http.post(slack.url, data=body, headers=headers) as response:
        status = response.status
        answer = await response.text()
    assert status == 401
    assert MARKER not in answer
    await assert_nothing_happened(slack, before, caplog)


async def test_a_body_over_a_megabyte_is_refused_even_when_chunked(
        slack: Slack, caplog: pytest.LogCaptureFixture) -> None:
    body = (MARKER + "=" + "A" * (2 * 1024 * 1024)).encode()
    before = await snapshot(slack)
    caplog.clear()
    caplog.set_level(logging.DEBUG)

    async def chunks() -> Any:
        for start in range(0, len(body), 256 * 1024):
            yield body[start:start + 256 * 1024]

    async with slack.http.post(slack.url, data=chunks(), headers=signed_bytes(body)) as response:
        assert response.status == 401
    await assert_nothing_happened(slack, before, caplog)


@pytest.mark.parametrize("body", [
    form({"payload": "{not json " + MARKER}).encode(),
    form({"payload": json.dumps([MARKER])}).encode(),
    form({"payload": "null", "x": MARKER}).encode(),
    form({"payload": json.dumps(MARKER)}).encode(),
    b"payload=" + MARKER.encode() + b"\xff\xfe\xc3(",
    form({"payload": json.dumps({"type": "block_actions", "team": [MARKER],
                                 "authorizations": 5, "user": MARKER})}).encode(),
], ids=["not JSON", "a list", "null", "a string", "not UTF-8", "fields of the wrong type"])
async def test_a_signed_body_that_is_not_a_slack_request_gets_400_and_causes_nothing(
        slack: Slack, caplog: pytest.LogCaptureFixture, body: bytes) -> None:
    before = await snapshot(slack)
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    async with slack.http.post(slack.url, data=body, headers=signed_bytes(body)) as response:
        assert response.status == 400
        assert "error" in await response.json()
    await assert_nothing_happened(slack, before, caplog)


async def test_a_signed_command_from_another_workspace_is_refused(
        slack: Slack, caplog: pytest.LogCaptureFixture) -> None:
    before = await snapshot(slack)
    caplog.set_level(logging.DEBUG)
    response = await slack.post_form(command_fields(
        team_id="T0OTHER", response_url=slack.fake.response_url("other")))
    assert response.status == 403
    await slack.settle()
    assert {c.method for c in slack.fake.calls} == {"auth.test"}  # whose workspace is ours
    assert slack.fake.responses == []
    assert await snapshot(slack) == before
    assert not any(MARKER in line for line in formatted(caplog))


async def test_a_signed_command_from_the_installed_workspace_is_served(slack: Slack) -> None:
    response = await slack.post_form(command_fields(text=""))
    assert response.status == 200
    await slack.settle()
    assert len(slack.fake.calls_to("views.open")) == 1


async def test_an_external_advocate_clicking_in_a_slack_connect_dm_is_not_refused(
        slack: Slack) -> None:
    """In a shared conversation ``team.id`` is the bot's side and ``user.team_id`` the
    clicker's: the workspace check reads the first, so Slack Connect keeps working."""
    payload = load_fixture("req_block_actions")
    payload["user"].update(id=ADA[0], team_id="T0EXTERNAL")
    payload["actions"][0].update(action_id="ask_accept", value="999")
    payload["response_url"] = slack.fake.response_url("connect")
    response = await slack.post_payload(payload)
    assert response.status == 200


@pytest.mark.parametrize("settings_overrides", [{"slack_team_id": ["T0002"]}])
async def test_slack_team_id_names_the_workspaces_served(
        slack: Slack, settings_overrides: dict[str, Any]) -> None:
    slack.fake.add_user(*RILEY, team_id="T0002")  # a member of the workspace served
    refused = await slack.post_form(command_fields(text=""))  # from T0001
    served = await slack.post_form(command_fields(text="", team_id="T0002"))
    assert (refused.status, served.status) == (403, 200)
    await slack.settle()
    assert len(slack.fake.calls_to("views.open")) == 1


async def test_a_failed_write_logs_neither_emails_nor_typed_values(
        slack: Slack, caplog: pytest.LogCaptureFixture) -> None:
    """A database error used to carry every bound value into the log with its traceback.
    Make the first write of a command fail and look at what was logged at the level a
    deployment runs (``LOG_LEVEL=INFO``; ``serve`` keeps the drivers' DEBUG chatter, which
    echoes every statement, off even at DEBUG)."""
    async with slack.bot.engine.begin() as connection:
        for table in ("people", "idempotency_keys", "reference_requests", "outbox"):
            await connection.execute(text(
                f'CREATE TRIGGER refuse_{table} BEFORE INSERT ON "{table}" '
                "BEGIN SELECT RAISE(ABORT, 'disk quota exceeded'); END"))
    caplog.set_level(logging.INFO)
    response = await slack.command(RILEY, "/reference", "fintech " + MARKER)
    assert response.status == 200
    await slack.settle()
    lines = formatted(caplog)
    assert any("disk quota exceeded" in line for line in lines)  # the failure was logged
    for secret in (RILEY[1], RILEY[2], MARKER):
        assert not any(secret in line for line in lines), secret


async def test_over_socket_mode_another_workspace_is_refused_too(
        sqlite_template: Path, tmp_path: Path, fake_slack: FakeSlack) -> None:
    """Socket Mode payloads are not signed; the workspace check still applies, and the
    refused envelope is acknowledged so that Slack does not deliver it again."""
    database = tmp_path / "bot.db"
    shutil.copyfile(sqlite_template, database)
    settings = settings_for(database, fake_slack, slack_signing_secret="",
                            slack_app_token="xapp-1-test")
    async with open_app(settings, clock=FixedClock(START)) as bot:
        handler = await start_socket_mode(build_slack_app(bot), settings.slack_app_token)
        try:
            for envelope, team in (("env-other", "T0OTHER"), ("env-ours", "T0001")):
                command = command_fields(text="", team_id=team, trigger_id=f"trigger-{team}",
                                         response_url=fake_slack.response_url(envelope))
                await fake_slack.socket_outbox.put({
                    "envelope_id": envelope, "type": "slash_commands", "payload": command,
                    "accepts_response_payload": True, "retry_attempt": 0})
            for _ in range(500):
                if len(fake_slack.socket_replies) == 2 and fake_slack.calls_to("views.open"):
                    break
                await asyncio.sleep(0.02)
        finally:
            await handler.close_async()
    # both acknowledged (so Slack does not redeliver the refused one), one served
    assert sorted(r["envelope_id"] for r in fake_slack.socket_replies) == [
        "env-other", "env-ours"]
    [opened] = fake_slack.calls_to("views.open")
    assert opened.args["trigger_id"] == "trigger-T0001"
    assert fake_slack.responses == []


def test_slack_team_id_must_be_workspace_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import SettingsError, load_settings

    monkeypatch.delenv("ADVOCATE_BOT_CONFIG", raising=False)
    monkeypatch.setenv("SLACK_TEAM_ID", "T0001, acme.slack.com")
    with pytest.raises(SettingsError, match=r"SLACK_TEAM_ID: 'acme\.slack\.com' is not"):
        load_settings()
    monkeypatch.setenv("SLACK_TEAM_ID", "T0001;E0ORG")
    assert load_settings().slack_team_id == ["T0001", "E0ORG"]
