"""TeamsMessenger through the real CloudAdapter to a fake connector: proactive cards from
stored conversation references, in-place updates, calendar invites, the digest with its
chart, Teams' throttling mapped to back-off, and people the bot cannot reach reported
instead of skipped."""

from __future__ import annotations

import asyncio
import base64
import random
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)

from bot.domain.model import Identity, Person, Platform
from bot.ports import DeliveryError, OutboxStatus, OutgoingMessage
from bot.rendering import Renderer
from bot.services.context import ServiceContext
from bot.services.digest import digest_context, digest_for_week, send_weekly_digest
from bot.services.dispatch import OutboxDispatcher
from bot.services.notices import unreachable_notices
from handlers.teams.cards import CARD_CONTENT_TYPE, MAX_CARD_BYTES, TeamsCards
from handlers.teams.messenger import SendPacer, TeamsMessenger
from tests import digest_fixture
from tests.fakes import FakeDatabase, FixedClock, ics_of
from tests.integration.teams.conftest import action, assert_valid_card
from tests.integration.teams.connector import FakeConnector
from tests.unit.conftest import PM_EMAIL, START

ADA = Person("ada@customer.example", "Ada Lovelace",
             Identity(Platform.TEAMS, "tenant-1", "29:ada"), "Asia/Tokyo")
PAT = Person(PM_EMAIL, "Pat Manager", Identity(Platform.TEAMS, "tenant-1", "29:pat"),
             "Europe/Berlin")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class _Config:
    APP_ID = ""
    APP_PASSWORD = ""
    APP_TYPE = "MultiTenant"
    APP_TENANTID = ""


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = await FakeConnector().start()
    yield fake
    await fake.close()


@pytest.fixture
def db() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def messenger(db: FakeDatabase, clock: FixedClock) -> TeamsMessenger:
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(_Config()))
    return TeamsMessenger(adapter, TeamsCards(Renderer()), db.uow)


async def know(db: FakeDatabase, who: Person, service_url: str) -> None:
    """``who`` has opened the bot in Teams: the bot holds their conversation reference."""
    assert who.identity is not None
    user_id = who.identity.user_id
    async with db.uow() as uow:
        await uow.people.upsert(who)
        await uow.people.save_conversation_reference(who.identity, {
            "user": {"id": user_id, "name": who.display_name},
            "bot": {"id": "28:bot", "name": "Advocate Bot"},
            "conversation": {"id": "a:" + user_id.removeprefix("29:"),
                             "conversationType": "personal", "tenantId": "tenant-1"},
            "channelId": "msteams", "serviceUrl": service_url})
        await uow.commit()


async def know_ada(db: FakeDatabase, service_url: str) -> None:
    await know(db, ADA, service_url)


def ask_message(key: str = "ask:1", replaces: str | None = None, **extra: object
                ) -> OutgoingMessage:
    context = {
        "ask_id": 1, "advocate_name": "Ada Lovelace", "timezone": "Asia/Tokyo",
        "expires_at": (START + timedelta(hours=48)).isoformat(), "not_now_snooze_days": 14,
        "request": {"id": 1, "prospect_company": None, "industry": "Fintech", "region": "EMEA",
                    "company_size": "201-1000", "products": ["Payments API"], "use_cases": [],
                    "language": "", "reference_type": "call",
                    "reference_type_label": "Reference call", "needs_call_time": True,
                    "needed_by": "2026-03-20", "proposed_times": [
                        (START + timedelta(days=8)).isoformat()],
                    "call_length_minutes": 30, "notes": "Say \"hi\" <&> 🚀",
                    "rep_name": "Riley Rep"},
        **extra,
    }
    return OutgoingMessage(recipient=ADA, template="ask", context=context, key=key,
                           replaces=replaces)


async def queue(db: FakeDatabase, *messages: OutgoingMessage) -> None:
    async with db.uow() as uow:
        for message in messages:
            await uow.outbox.add(message, now=START)
        await uow.commit()


async def test_a_card_goes_to_the_stored_conversation_and_is_later_updated_in_place(
        db: FakeDatabase, clock: FixedClock, messenger: TeamsMessenger,
        connector: FakeConnector) -> None:
    await know_ada(db, connector.url)
    dispatcher = OutboxDispatcher(db.uow, {Platform.TEAMS: messenger}, clock)
    await queue(db, ask_message())
    assert (await dispatcher.run_once()).sent == 1
    (call,) = connector.calls
    assert call.method == "POST" and call.conversation == "a:ada"
    card = call.body["attachments"][0]["content"]
    assert_valid_card(card)
    assert action(card, "ask.accept", ask_id=1)
    assert "Reference call" in call.body["summary"] or "reference call" in call.body["summary"]

    closed = OutgoingMessage(recipient=ADA, template="ask_withdrawn", context={
        **ask_message().context, "outcome": "withdrawn", "why": "filled"},
        key="ask:1:withdrawn", replaces="ask:1")
    await queue(db, closed)
    assert (await dispatcher.run_once()).sent == 1
    update = connector.calls[-1]
    assert (update.method, update.activity_id) == ("PUT", "activity-1")


async def test_an_invite_follows_as_a_file_consent_card(
        db: FakeDatabase, clock: FixedClock, messenger: TeamsMessenger,
        connector: FakeConnector) -> None:
    await know_ada(db, connector.url)
    invite = {"engagement_id": 7, "request_id": 1, "role": "advocate",
              "start": (START + timedelta(days=8)).isoformat(),
              "end": (START + timedelta(days=8, minutes=30)).isoformat(), "sequence": 0,
              "now": START.isoformat(), "cancelled": False,
              "reference_type_label": "Reference call", "prospect": "", "meeting_link": "",
              "advocate": {"name": "Ada Lovelace", "title": "", "company": "Harbor",
                           "email": "ada@harbor.example"},
              "rep": {"name": "Riley Rep", "email": "riley@vendor.example"}}
    message = ask_message(invite=invite, ics_filename="reference-7.ics")
    ics = ics_of(message)
    assert "SUMMARY:Reference call with Riley Rep" in ics
    await queue(db, message)
    await OutboxDispatcher(db.uow, {Platform.TEAMS: messenger}, clock).run_once()
    consent = connector.calls[-1].body["attachments"][0]
    assert consent["contentType"] == "application/vnd.microsoft.teams.card.file.consent"
    assert consent["name"] == "reference-7.ics"
    assert consent["content"]["acceptContext"]["ics"] == ics
    assert consent["content"]["sizeInBytes"] == len(ics.encode())


@pytest.mark.parametrize(("status", "headers", "expected"), [
    (429, {"Retry-After": "7"}, 7.0),
    (412, {}, 2.0),
    (502, {}, 5.0),
    (504, {"Retry-After": "11"}, 11.0),
])
async def test_throttling_and_gateway_errors_back_off(
        db: FakeDatabase, clock: FixedClock, messenger: TeamsMessenger,
        connector: FakeConnector, status: int, headers: dict[str, str],
        expected: float) -> None:
    await know_ada(db, connector.url)
    await queue(db, ask_message())
    connector.fail_next.append((status, headers))
    stats = await OutboxDispatcher(db.uow, {Platform.TEAMS: messenger}, clock).run_once()
    assert stats.retried == 1
    (row,) = db.state.outbox.values()
    assert row.status == OutboxStatus.PENDING
    assert row.next_attempt_at == START + timedelta(seconds=expected)
    assert str(status) in row.last_error


async def test_a_bot_removed_by_the_user_is_a_dead_letter_at_once(
        db: FakeDatabase, clock: FixedClock, messenger: TeamsMessenger,
        connector: FakeConnector) -> None:
    await know_ada(db, connector.url)
    await queue(db, ask_message())
    connector.fail_next.append((403, {}))
    stats = await OutboxDispatcher(db.uow, {Platform.TEAMS: messenger}, clock).run_once()
    assert stats.dead == 1


async def test_someone_without_a_conversation_is_reported_to_the_program_managers(
        db: FakeDatabase, clock: FixedClock, messenger: TeamsMessenger,
        connector: FakeConnector) -> None:
    async with db.uow() as uow:
        await uow.people.upsert(ADA)  # known from the roster, never opened the bot
        await uow.commit()
    await queue(db, ask_message(), ask_message(key="ask:2"))
    ctx = ServiceContext(uow=db.uow, clock=clock, program_managers=(PM_EMAIL,),
                         program_timezone="Europe/Berlin")
    stats = await OutboxDispatcher(db.uow, {Platform.TEAMS: messenger}, clock,
                                   on_unreachable=unreachable_notices(ctx)).run_once()
    assert stats.dead == 2
    assert connector.calls == []
    reports = [m.message for m in db.state.outbox.values()
               if m.message.template == "teams_unreachable"]
    assert len(reports) == 1  # once per person, not per message
    assert reports[0].recipient.email == PM_EMAIL
    text = Renderer().text("teams_unreachable", reports[0].context)
    assert "Ada Lovelace (ada@customer.example)" in text
    dead = [m for m in db.state.outbox.values() if m.status == OutboxStatus.DEAD]
    assert all("no Teams conversation" in m.last_error for m in dead)


async def test_the_pacer_keeps_a_conversation_under_seven_a_second() -> None:
    now = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = SendPacer(clock=lambda: now[0], sleep=sleep)
    for _ in range(7):
        await pacer.acquire("a:ada", "tenant-1")
    assert slept == []
    await pacer.acquire("a:ada", "tenant-1")
    assert slept == [pytest.approx(1.0)]
    await pacer.acquire("a:bob", "tenant-1")  # another conversation is not held up
    assert len(slept) == 1


async def test_concurrent_sends_never_share_the_last_slot() -> None:
    """The dispatcher delivers several messages at once; twenty sends racing for one
    conversation must still go out at most seven in any second."""
    now = [100.0]
    taken: list[float] = []

    async def sleep(seconds: float) -> None:
        # Sleepers overlap as real ones do: each wakes at its own moment, not one after
        # another, and the others run in between.
        wake = now[0] + seconds
        await asyncio.sleep(0)
        now[0] = max(now[0], wake)

    pacer = SendPacer(clock=lambda: now[0], sleep=sleep)

    async def send() -> None:
        await pacer.acquire("a:ada", "tenant-1")
        taken.append(now[0])

    await asyncio.gather(*(send() for _ in range(20)))
    assert len(taken) == 20
    for start in taken:
        assert sum(1 for t in taken if start <= t < start + 1.0) <= 7


async def test_the_pacer_hands_long_waits_back_to_the_outbox() -> None:
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    pacer = SendPacer(clock=lambda: now[0], sleep=sleep)
    for i in range(60):  # 60 in 30 s for one conversation, paced at 7/s
        now[0] = i * 0.2
        await pacer.acquire("a:ada", "tenant-1")
    with pytest.raises(DeliveryError) as raised:
        await pacer.acquire("a:ada", "tenant-1")
    assert raised.value.retry_after is not None and raised.value.retry_after > 5


def digest_ctx(db: FakeDatabase, clock: FixedClock) -> ServiceContext:
    return ServiceContext(uow=db.uow, clock=clock, program_managers=(PM_EMAIL,),
                          program_timezone=digest_fixture.ZONE)


def images_in(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [element for element in card["body"] if element["type"] == "Image"]


async def test_the_weekly_digest_arrives_as_one_card_carrying_its_chart_under_28_kb(
        db: FakeDatabase, clock: FixedClock, messenger: TeamsMessenger,
        connector: FakeConnector) -> None:
    await know(db, PAT, connector.url)
    await digest_fixture.load(db.uow)
    assert await send_weekly_digest(digest_ctx(db, clock), START, "2026-W10",
                                    digest_fixture.PERIOD_DAY) == 1
    (queued,) = [m.message for m in db.state.outbox.values() if m.message.template == "digest"]
    chart = messenger.cards.renderer.chart_png(queued.context)
    assert chart is not None and chart.startswith(PNG_SIGNATURE)

    stats = await OutboxDispatcher(db.uow, {Platform.TEAMS: messenger}, clock).run_once()
    assert stats.sent == 1
    (call,) = connector.calls  # one activity: the chart rides in the card
    assert (call.method, call.conversation) == ("POST", "a:pat")
    assert call.size <= MAX_CARD_BYTES
    (attachment,) = call.body["attachments"]
    assert attachment["contentType"] == CARD_CONTENT_TYPE
    card = attachment["content"]
    assert_valid_card(card)
    (image,) = images_in(card)
    prefix, data = image["url"].split(",", 1)
    assert prefix == "data:image/png;base64"
    assert base64.b64decode(data) == chart
    assert {"title": "Requests opened", "value": "4 (up 2)"} in card["body"][2]["facts"]
    assert call.body["summary"].startswith("*Reference program: week 2026-W10*")


async def test_a_chart_too_big_for_the_card_follows_it_as_an_inline_image(
        db: FakeDatabase, clock: FixedClock, messenger: TeamsMessenger,
        connector: FakeConnector) -> None:
    await know(db, PAT, connector.url)
    await digest_fixture.load(db.uow)
    context = digest_context(await digest_for_week(digest_ctx(db, clock),
                                                   digest_fixture.PERIOD_DAY))
    busy = PNG_SIGNATURE + random.Random(7).randbytes(19_000)  # ~25 KB once in base64
    messenger.cards.renderer.chart_png = lambda _context: busy  # type: ignore[method-assign]
    await queue(db, OutgoingMessage(recipient=PAT, template="digest", key="digest:big",
                                    context=context))
    stats = await OutboxDispatcher(db.uow, {Platform.TEAMS: messenger}, clock).run_once()
    assert stats.sent == 1
    card_call, image_call = connector.calls
    assert all(c.size <= MAX_CARD_BYTES for c in connector.calls)
    card = card_call.body["attachments"][0]["content"]
    assert_valid_card(card)
    assert images_in(card) == []
    (image,) = image_call.body["attachments"]
    assert image["contentType"] == "image/png"
    assert image["name"] == "digest-2026-W10.png"
    prefix, data = image["contentUrl"].split(",", 1)
    assert prefix == "data:image/png;base64" and base64.b64decode(data) == busy
    (row,) = [m for m in db.state.outbox.values() if m.message.key == "digest:big"]
    assert row.platform_ref == "activity-1"  # the card, not the image, is the message
