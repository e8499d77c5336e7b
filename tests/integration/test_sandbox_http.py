"""The browser sandbox's routes without a browser: when it is served at all, its CSRF and
host checks, a form's errors on its fields, the clock jumping ahead, files kept to the
person whose message carries them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import open_app
from bot.config import Settings, SettingsError, load_settings
from bot.domain.model import Platform
from bot.scheduler import start_scheduler
from handlers.sandbox.app import delivered
from handlers.sandbox.demo import ADVOCATE, REP, intake, seed
from handlers.web import create_web_app

MANAGER = "pat.morgan@lumora.example"


def settings_for(tmp_path: Path, **extra: Any) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'sandbox.db'}",
                    program_managers=[MANAGER], _env_file=None, **extra)  # type: ignore[call-arg]


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[TestClient, Any]]:
    """The demo sandbox (roster, history, open requests) behind a test client."""
    async with open_app(settings_for(tmp_path)) as bot_app:
        await seed(bot_app.sandbox.sandbox, bot_app.clock)
        scheduler = start_scheduler(bot_app)
        await delivered(bot_app)  # the demo's messages are in their inboxes
        client = TestClient(TestServer(create_web_app(bot_app), host="127.0.0.1"))
        await client.start_server()
        try:
            yield client, bot_app
        finally:
            await client.close()
            await scheduler.stop()


async def token(client: TestClient) -> str:
    page = await (await client.get("/")).text()
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


async def play(client: TestClient, email: str) -> str:
    response = await client.post("/as", data={"csrf": await token(client), "email": email})
    assert response.status == 200
    return await response.text()


# --- when it is served ------------------------------------------------------------------


def test_on_without_a_chat_platform_and_off_beside_one_unless_asked(tmp_path: Path) -> None:
    assert settings_for(tmp_path).sandbox_active
    slack = {"slack_bot_token": "xoxb-1", "slack_signing_secret": "s"}
    assert not settings_for(tmp_path, **slack).sandbox_active
    assert not settings_for(tmp_path, teams_enabled=True).sandbox_active
    assert settings_for(tmp_path, sandbox_enabled=True, **slack).sandbox_active


def test_never_on_an_address_other_machines_reach(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("HOST", "0.0.0.0")
    assert not load_settings().sandbox_active  # unasked: served without it
    monkeypatch.setenv("SANDBOX_ENABLED", "true")
    with pytest.raises(SettingsError, match=r"HOST=0\.0\.0\.0 with SANDBOX_ENABLED=true"):
        load_settings()


async def test_off_means_no_page_and_no_sandbox_messenger(tmp_path: Path) -> None:
    async with open_app(settings_for(tmp_path, host="0.0.0.0")) as bot_app:
        assert bot_app.sandbox is None and Platform.SANDBOX not in bot_app.messengers
        client = TestClient(TestServer(create_web_app(bot_app), host="127.0.0.1"))
        await client.start_server()
        try:
            assert (await client.get("/")).status == 404
            assert (await client.get("/healthz")).status == 200
        finally:
            await client.close()


# --- safety -----------------------------------------------------------------------------


async def test_a_form_without_the_pages_token_is_refused_and_changes_nothing(
        served: tuple[TestClient, Any]) -> None:
    client, bot_app = served
    await play(client, REP)
    before = bot_app.sandbox.sandbox.screen(REP).form
    for data in ({"text": "/reference"}, {"text": "/reference", "csrf": "forged"}):
        response = await client.post("/say", data=data)
        assert response.status == 403
        assert "reload the page" in await response.text()
    assert bot_app.sandbox.sandbox.screen(REP).form is before
    assert (await client.post("/as", data={"email": MANAGER})).status == 403


async def test_a_request_naming_another_host_is_refused(served: tuple[TestClient, Any]) -> None:
    client, _ = served
    response = await client.get("/", headers={"Host": "rebound.example:3000"})
    assert response.status == 403
    assert (await client.get("/", headers={"Host": "localhost:3000"})).status == 200


async def test_the_page_says_there_is_no_sign_in(served: tuple[TestClient, Any]) -> None:
    client, _ = served
    page = await (await client.get("/")).text()
    assert "There is no sign-in: this is a local, single-user tool" in page
    assert "Content-Security-Policy" in (await client.get("/")).headers


# --- forms ------------------------------------------------------------------------------


async def test_the_intake_forms_errors_are_on_their_fields_and_the_values_kept(
        served: tuple[TestClient, Any]) -> None:
    client, _ = served
    await play(client, REP)
    csrf = await token(client)
    opened = await (await client.post("/say", data={"csrf": csrf, "text": "/reference"})).text()
    assert 'name="prospect_company"' in opened
    page = await (await client.post("/act", data={
        "csrf": csrf, "verb": "intake.submit", "form_id": "f1", "choose": "rep",
        "prospect_company": "Acme Bank", "reference_type": "call",
        "opportunity_amount": "lots"})).text()
    needed_by = re.search(r'<div class="field invalid"><label for="intake-needed_by">.*?</div>',
                          page, re.S)
    assert needed_by is not None and "Please fill this in." in needed_by.group(0)
    assert 'aria-invalid="true"' in needed_by.group(0)
    amount = re.search(r'<div class="field invalid"><label for="intake-opportunity_amount">'
                       r'.*?</div>', page, re.S)
    assert amount is not None and 'value="lots"' in amount.group(0)
    assert 'value="Acme Bank"' in page


async def test_a_message_forms_error_is_on_its_field_in_that_message(
        served: tuple[TestClient, Any]) -> None:
    client, bot_app = served
    sandbox = bot_app.sandbox.sandbox
    asked = next(email for email, kept in sandbox.inbox.messages.items()
                 if any(m.template == "ask" for m in kept))
    ask = next(m for m in sandbox.inbox.of(asked) if m.template == "ask")
    await play(client, asked)
    page = await (await client.post("/act", data={
        "csrf": await token(client), "verb": "ask.decline", "message": ask.ref,
        "ask_id": str(ask.context["ask_id"]), "reason": "x" * 5000})).text()
    article = re.search(rf'<article id="{ask.ref}".*?</article>', page, re.S)
    assert article is not None
    assert re.search(r'aria-invalid="true"', article.group(0))
    assert "5000" not in article.group(0) and 'class="error"' in article.group(0)
    assert 'value="ask.accept"' in article.group(0)  # still unanswered: the buttons stay


# --- time and files ----------------------------------------------------------------------


async def test_an_invite_is_only_downloaded_by_the_person_it_was_sent_to(
        served: tuple[TestClient, Any]) -> None:
    client, bot_app = served
    booked = next(m for m in bot_app.sandbox.sandbox.inbox.of(REP)
                  if m.template == "call_confirmed")
    await play(client, REP)
    response = await client.get(f"/messages/{booked.ref}/invite.ics")
    assert response.status == 200 and "BEGIN:VCALENDAR" in await response.text()
    assert response.headers["Content-Disposition"].endswith('.ics"')
    await play(client, MANAGER)
    assert (await client.get(f"/messages/{booked.ref}/invite.ics")).status == 404


async def test_an_empty_database_still_lets_anyone_be_played(tmp_path: Path) -> None:
    async with open_app(Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}",
                                 _env_file=None)) as bot_app:  # type: ignore[call-arg]
        client = TestClient(TestServer(create_web_app(bot_app), host="127.0.0.1"))
        await client.start_server()
        try:
            page = await (await client.get("/")).text()
            assert "Nobody is on the roster yet" in page and 'id="person"' not in page
            page = await play(client, "someone@vendor.example")
            assert "You are someone (someone@vendor.example)" in page
            assert "Sales rep" in page and "New reference request" in page
        finally:
            await client.close()


async def test_a_week_ahead_brings_the_calls_reminders_its_outcome_prompt_and_the_digest(
        served: tuple[TestClient, Any]) -> None:
    client, bot_app = served
    sandbox = bot_app.sandbox.sandbox
    filed = await sandbox.click(REP, intake("Umbrella Pay", today=bot_app.ctx.now().date(),
                                            industry="Fintech", region="EMEA"))
    request_id = int(filed.context["id"])
    async with bot_app.uow() as uow:
        amelia = await uow.advocates.get_by_email(ADVOCATE)
    await sandbox.click(REP, {"verb": "request.ask", "request_id": str(request_id),
                              "advocate_id": str(amelia.id)})
    async with bot_app.uow() as uow:
        ask = (await uow.asks.list_for_request(request_id))[-1]
    await sandbox.click(ADVOCATE, {"verb": "ask.accept", "ask_id": str(ask.id)})
    async with bot_app.uow() as uow:
        engagement = await uow.engagements.get_for_request(request_id)
    booked = await sandbox.click(ADVOCATE, {"verb": "schedule.pick", "slot": "0",
                                            "engagement_id": str(engagement.id)})
    assert booked.context["state"] == "scheduled"

    def arrived(email: str, template: str) -> list[Any]:
        return [m for m in sandbox.inbox.of(email) if m.template == template
                and m.context.get("engagement_id") == engagement.id]

    assert not arrived(ADVOCATE, "call_reminder") and not arrived(REP, "outcome_prompt")
    assert not [m for m in sandbox.inbox.of(MANAGER) if m.template == "digest"]
    await play(client, ADVOCATE)
    csrf, before = await token(client), bot_app.clock.ahead
    assert (await client.post("/jump", data={"csrf": csrf, "hours": "5"})).status == 400
    assert (await client.post("/jump", data={"hours": "168"})).status == 403
    page = await (await client.post("/jump", data={"csrf": csrf, "hours": "168"})).text()
    assert bot_app.clock.ahead - before == timedelta(hours=168)
    assert len(arrived(ADVOCATE, "call_reminder")) == 2  # a day and an hour before
    assert arrived(REP, "outcome_prompt")
    assert 'value="schedule.reschedule"' in page  # the reminder's button, on her page
    assert [m for m in sandbox.inbox.of(MANAGER) if m.template == "digest"]  # Monday's


async def test_the_program_reports_charts_and_files_come_with_its_message(
        served: tuple[TestClient, Any]) -> None:
    client, _ = served
    await play(client, MANAGER)
    page = await (await client.post("/say", data={"csrf": await token(client),
                                                  "text": "/advocates report"})).text()
    links = re.findall(r'<a href="(/messages/m\d+/files/\d+)" download="([^"]+)"', page)
    assert {name.rsplit(".", 1)[1] for _, name in links} >= {"png", "csv", "xlsx"}
    for link, name in links:
        response = await client.get(link)
        assert response.status == 200 and await response.read()
        assert name in response.headers["Content-Disposition"]
    assert (await client.get(links[0][0].rsplit("/", 1)[0] + "/999")).status == 404
    await play(client, REP)
    assert (await client.get(links[0][0])).status == 404  # not the rep's message
