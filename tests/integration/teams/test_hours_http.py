"""Working hours over HTTP on Teams (issue 15), as ``tests/integration/slack/test_hours.py``
on Slack: activities POSTed to ``/api/messages``, the real adapter and SQL storage, a fake
connector receiving what the bot sends, and one fixed clock for the bot and the outbox.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import App, open_app
from bot.config import Settings
from bot.domain.hours import WorkingHours, fits
from bot.domain.model import EngagementState, Platform
from bot.services.checkins import send_check_ins
from bot.services.dispatch import OutboxDispatcher
from bot.services.reminders import due_reminders
from handlers.web import create_web_app
from tests.fakes import FixedClock
from tests.integration.teams.conftest import action, actions, invoke, personal_activity, texts
from tests.integration.teams.connector import FakeConnector
from tests.unit.conftest import build_advocate

TENANT = "tenant-hours"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday: 04:00 in New York, 18:00 in Tokyo
RITA = {"id": "29:rita", "name": "Rita Rep", "email": "rita@vendor.example",
        "zone": "America/New_York"}
AIKO = {"id": "29:aiko", "name": "Aiko Tanaka", "email": "aiko@kumo.example",
        "zone": "Asia/Tokyo"}
NORA = {"id": "29:nora", "name": "Nora Park", "email": "nora@empire.example",
        "zone": "America/New_York"}
HERS = WorkingHours.parse("Mon-Fri 07:00-18:00", zone="Asia/Tokyo")
RITAS = WorkingHours.parse("Mon-Fri 09:00-18:00", zone="America/New_York")
CALL = timedelta(minutes=30)


def activity(who: dict[str, str], service_url: str, **fields: Any) -> dict[str, Any]:
    return personal_activity(who, service_url, tenant=TENANT, **fields)


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()
    for who in (RITA, AIKO, NORA):
        fake.add_member(who)
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def bot_app(tmp_path: Path) -> AsyncIterator[App]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}", auto_migrate=True,
                        teams_enabled=True, program_managers=["pat.manager@vendor.example"])
    async with open_app(settings, clock=FixedClock(START)) as app:
        yield app


async def test_a_new_york_rep_and_a_tokyo_advocate_meet_inside_both_their_hours_on_teams(
        bot_app: App, connector: FakeConnector) -> None:
    assert bot_app.teams is not None
    client = TestClient(TestServer(create_web_app(bot_app)))
    await client.start_server()
    clock = bot_app.clock
    assert isinstance(clock, FixedClock)
    dispatcher = OutboxDispatcher(bot_app.uow, {Platform.TEAMS: bot_app.teams.messenger}, clock)

    async def post(who: dict[str, str], **fields: Any) -> Any:
        response = await client.post("/api/messages",
                                     json=activity(who, connector.url, **fields))
        assert response.status in (200, 201), await response.text()
        return await response.json() if response.content_type == "application/json" else None

    def last_card(who: dict[str, str]) -> dict[str, Any]:
        return connector.cards_to(f"a:{who['id']}")[-1]

    try:
        for who in (RITA, AIKO, NORA):
            await post(who, type="installationUpdate", action="add")
        async with bot_app.uow() as uow:
            aiko = await uow.advocates.add(build_advocate(
                email=AIKO["email"], name=AIKO["name"], timezone=AIKO["zone"]))
            await uow.advocates.add(build_advocate(
                email=NORA["email"], name=NORA["name"], timezone=NORA["zone"], industry="Retail"))
            await uow.commit()

        # 1. Aiko says when she takes calls, in words, then on her profile card.
        await post(AIKO, type="message", text="advocate hours 9-17")
        profile = last_card(AIKO)
        assert "Mon-Fri 09:00-17:00 (Asia/Tokyo)" in json.dumps(profile)
        change = action(profile, "profile.hours")
        refused = await post(AIKO, **invoke(change, hours="whenever"))
        assert "Write the hours like Mon-Fri 09:00-18:00" in json.dumps(refused)  # said why
        body = await post(AIKO, **invoke(change, hours="Mon-Fri 7am-6pm"))
        assert "Mon-Fri 07:00-18:00 (Asia/Tokyo)" in json.dumps(body)  # the card refreshed
        async with bot_app.uow() as uow:
            stored = await uow.advocates.get(aiko.id or 0)
        assert stored is not None and stored.call_hours == "Mon-Fri 07:00-18:00"

        # 2. Rita's form comes with her next three working mornings filled in.
        await post(RITA, type="message", text="reference")
        form = last_card(RITA)
        shown = json.dumps(form)
        assert all(f'"value": "2026-03-0{day}"' in shown for day in (3, 4, 5))
        assert shown.count('"value": "09:00"') == 3

        # 3. She proposes her own 10:00 and 09:00; the matches say what they are for Aiko.
        submit = action(form, "intake.submit", choose="rep")
        inputs = {"prospect_company": "Globex", "reference_type": "call",
                  "needed_by": "2026-03-20", "proposed_time_1.date": "2026-03-03",
                  "proposed_time_1.time": "10:00", "proposed_time_2.date": "2026-03-04",
                  "proposed_time_2.time": "09:00", "proposed_time_3.date": "",
                  "proposed_time_3.time": "", "timezone": "America/New_York",
                  "call_length_minutes": "30", "parallel_asks": "1", "industry": "Fintech",
                  "region": "EMEA", "products": "Payments API"}
        body = await post(RITA, **invoke(submit, **inputs))
        assert body["statusCode"] == 200, body
        await dispatcher.run_once()
        matches = last_card(RITA)
        assert any("Tue 03 Mar, 10:00 your time = Wed 04 Mar, 00:00 for Aiko Tanaka, "
                   "outside their call hours" in t for t in texts(matches))
        await post(RITA, **invoke(action(matches, "request.ask", advocate_id=aiko.id)))

        # 4. Aiko accepts: none of Rita's times is offered; three suggestions are.
        await dispatcher.run_once()
        await post(AIKO, **invoke(action(last_card(AIKO), "ask.accept")))
        await dispatcher.run_once()
        pick = last_card(AIKO)
        verbs = [a["verb"] for a in actions(pick)]
        assert "schedule.pick" not in verbs
        suggestions = [a for a in actions(pick) if a["verb"] == "schedule.suggest"]
        times = [datetime.fromisoformat(a["data"]["at"]) for a in suggestions]
        assert len(times) == 3
        assert all(fits(HERS, t, CALL) and fits(RITAS, t, CALL) for t in times)
        engagement_id = suggestions[0]["data"]["engagement_id"]

        # 5. A forged pick of Rita's midnight time is refused; nothing is booked.
        refused = await post(AIKO, **invoke({"verb": "schedule.pick", "data": {
            "engagement_id": engagement_id, "slot": 0}}))
        assert "outside your call hours" in json.dumps(refused)

        # 6. She clicks the first suggestion; Rita confirms; the call books inside both.
        await post(AIKO, **invoke(suggestions[0]))
        await dispatcher.run_once()
        await post(RITA, **invoke(action(last_card(RITA), "schedule.confirm")))
        await dispatcher.run_once()
        async with bot_app.uow() as uow:
            engagement = await uow.engagements.get(engagement_id)
        assert engagement is not None and engagement.state is EngagementState.SCHEDULED
        assert engagement.scheduled_at == times[0] == datetime(2026, 3, 2, 22, 0, tzinfo=UTC)

        # 7. The reminder goes at once, at 04:00 for Rita and 18:00 for Aiko.
        assert await due_reminders(bot_app.ctx) == 2
        assert (await dispatcher.run_once()).sent == 2

        # 8. Check-ins queued at 09:00 UTC: Nora's at 09:00 in New York, Aiko's at 09:00
        #    in Tokyo the next day.
        assert await send_check_ins(bot_app.ctx, START, "2026-Q1", START.date()) == 2
        assert (await dispatcher.run_once()).sent == 0
        before = (len(connector.cards_to("a:29:nora")), len(connector.cards_to("a:29:aiko")))
        clock.set(datetime(2026, 3, 2, 14, 0, tzinfo=UTC))
        assert (await dispatcher.run_once()).sent == 1
        assert len(connector.cards_to("a:29:nora")) == before[0] + 1
        clock.set(datetime(2026, 3, 3, 0, 0, tzinfo=UTC))
        assert (await dispatcher.run_once()).sent == 1
        assert len(connector.cards_to("a:29:aiko")) == before[1] + 1
    finally:
        await client.close()
