"""The outbox dispatcher: every message delivered once, retried when it can be, and the
ones that cannot be delivered kept with a reason the digest can show."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from bot.domain.model import Identity, Person, Platform
from bot.ports import DeliveryError, OutboxMessage, OutboxStatus, OutgoingMessage
from bot.services.dispatch import DispatchStats, OutboxDispatcher
from tests.fakes import FakeDatabase, FakeMessenger, FixedClock
from tests.unit.conftest import START

RILEY = Person(email="riley@vendor.example", display_name="Riley",
               identity=Identity(Platform.SLACK, "T1", "URILEY"), timezone="America/New_York")
AVERY_BY_EMAIL = Person(email="Avery@Customer.example", display_name="Avery",
                        timezone="Asia/Tokyo")


@pytest.fixture
def slack() -> FakeMessenger:
    return FakeMessenger(Platform.SLACK)


@pytest.fixture
def teams() -> FakeMessenger:
    return FakeMessenger(Platform.TEAMS)


@pytest.fixture
def dispatcher(db: FakeDatabase, clock: FixedClock, slack: FakeMessenger,
               teams: FakeMessenger) -> OutboxDispatcher:
    return OutboxDispatcher(db.uow, {Platform.SLACK: slack, Platform.TEAMS: teams}, clock)


async def queue(db: FakeDatabase, clock: FixedClock, to: Person, key: str, *,
                template: str = "hello", replaces: str | None = None) -> bool:
    async with db.uow() as uow:
        added = await uow.outbox.add(
            OutgoingMessage(recipient=to, template=template, context={"n": key}, key=key,
                            replaces=replaces),
            now=clock.now())
        await uow.commit()
    return added


async def link_chat_user(db: FakeDatabase, person: Person) -> None:
    async with db.uow() as uow:
        await uow.people.upsert(person)
        await uow.commit()


def row(db: FakeDatabase, key: str) -> OutboxMessage:
    found = [m for m in db.state.outbox.values() if m.message.key == key]
    assert len(found) == 1
    return found[0]


async def test_a_message_to_a_chat_user_is_delivered_and_marked_sent(
        db: FakeDatabase, clock: FixedClock, dispatcher: OutboxDispatcher,
        slack: FakeMessenger) -> None:
    await queue(db, clock, RILEY, "m1")

    stats = await dispatcher.run_once()

    assert stats == DispatchStats(sent=1)
    assert [d.to.identity for d in slack.transcript] == [RILEY.identity]
    sent = row(db, "m1")
    assert sent.status == OutboxStatus.SENT
    assert sent.platform_ref == "slack-msg-1"
    assert sent.sent_at == START
    assert await dispatcher.run_once() == DispatchStats()  # nothing left to do


async def test_a_recipient_known_only_by_email_reaches_their_newest_chat_identity(
        db: FakeDatabase, clock: FixedClock, dispatcher: OutboxDispatcher,
        slack: FakeMessenger, teams: FakeMessenger) -> None:
    await link_chat_user(db, Person(email="avery@customer.example", display_name="Avery S",
                                    identity=Identity(Platform.SLACK, "T1", "UOLD")))
    await link_chat_user(db, Person(email="AVERY@customer.example", display_name="Avery T",
                                    identity=Identity(Platform.TEAMS, "tenant", "29:new")))
    await queue(db, clock, AVERY_BY_EMAIL, "m1")

    assert (await dispatcher.run_once()).sent == 1

    assert slack.transcript == []
    [delivery] = teams.transcript
    assert delivery.to.identity == Identity(Platform.TEAMS, "tenant", "29:new")
    assert delivery.to.timezone == "Asia/Tokyo"  # the service's zone for them is kept
    assert delivery.to.email == "Avery@Customer.example"


async def test_someone_who_never_used_the_bot_becomes_a_dead_letter_with_the_reason(
        db: FakeDatabase, clock: FixedClock, dispatcher: OutboxDispatcher,
        slack: FakeMessenger) -> None:
    await queue(db, clock, AVERY_BY_EMAIL, "m1")

    assert await dispatcher.run_once() == DispatchStats(dead=1)

    dead = row(db, "m1")
    assert dead.status == OutboxStatus.DEAD
    assert dead.last_error == ("no chat identity for Avery@Customer.example: "
                               "they have not used the bot yet")
    async with db.uow() as uow:
        letters = await uow.outbox.dead_letters(since=START - timedelta(days=7))
    assert [m.message.key for m in letters] == ["m1"]
    assert slack.transcript == []


async def test_retry_after_is_honoured_to_the_second(
        db: FakeDatabase, clock: FixedClock, dispatcher: OutboxDispatcher,
        slack: FakeMessenger) -> None:
    await queue(db, clock, RILEY, "m1")
    slack.fail_next.append(DeliveryError("ratelimited", retry_after=30))

    assert await dispatcher.run_once() == DispatchStats(retried=1)
    waiting = row(db, "m1")
    assert waiting.status == OutboxStatus.PENDING
    assert waiting.next_attempt_at == START + timedelta(seconds=30)
    assert waiting.last_error == "ratelimited"
    assert waiting.attempts == 1

    clock.advance(seconds=29)
    assert await dispatcher.run_once() == DispatchStats()
    clock.advance(seconds=1)
    assert await dispatcher.run_once() == DispatchStats(sent=1)
    assert len(slack.transcript) == 1


async def test_a_rate_limit_holds_back_the_rest_of_the_batch_for_that_platform_only(
        db: FakeDatabase, clock: FixedClock, dispatcher: OutboxDispatcher,
        slack: FakeMessenger, teams: FakeMessenger) -> None:
    await queue(db, clock, RILEY, "m1")
    await queue(db, clock, RILEY, "m2")
    teams_user = Person(email="t@x.example", identity=Identity(Platform.TEAMS, "t", "29:a"))
    await queue(db, clock, teams_user, "m3")
    slack.fail_next.append(DeliveryError("ratelimited", retry_after=10))

    stats = await dispatcher.run_once()

    assert stats == DispatchStats(sent=1, retried=1, deferred=1)
    assert row(db, "m2").attempts == 0  # not tried, not counted against it
    assert [d.to for d in teams.transcript] == [teams_user]
    clock.advance(seconds=10)
    assert await dispatcher.run_once() == DispatchStats(sent=2)
    assert [d.context["n"] for d in slack.transcript] == ["m1", "m2"]


async def test_server_errors_back_off_exponentially_up_to_the_cap(
        db: FakeDatabase, clock: FixedClock, slack: FakeMessenger) -> None:
    dispatcher = OutboxDispatcher(db.uow, {Platform.SLACK: slack}, clock, max_attempts=10,
                                  base_delay=5.0, max_delay=60.0, jitter=0.0)
    await queue(db, clock, RILEY, "m1")
    waits = []
    for _ in range(6):
        slack.fail_next.append(DeliveryError("HTTP 503"))
        before = clock.now()
        assert (await dispatcher.run_once()).retried == 1
        due = row(db, "m1").next_attempt_at
        assert due is not None
        waits.append((due - before).total_seconds())
        clock.set(due)

    assert waits == [5.0, 10.0, 20.0, 40.0, 60.0, 60.0]
    assert await dispatcher.run_once() == DispatchStats(sent=1)


async def test_a_permanent_error_is_a_dead_letter_at_once(
        db: FakeDatabase, clock: FixedClock, dispatcher: OutboxDispatcher,
        slack: FakeMessenger) -> None:
    await queue(db, clock, RILEY, "m1")
    slack.fail_next.append(DeliveryError("channel_not_found", permanent=True))

    assert await dispatcher.run_once() == DispatchStats(dead=1)
    assert row(db, "m1").last_error == "channel_not_found"
    clock.advance(hours=2)
    assert await dispatcher.run_once() == DispatchStats()
    assert slack.transcript == []


async def test_after_max_attempts_a_retryable_error_is_a_dead_letter(
        db: FakeDatabase, clock: FixedClock, slack: FakeMessenger) -> None:
    dispatcher = OutboxDispatcher(db.uow, {Platform.SLACK: slack}, clock, max_attempts=3)
    await queue(db, clock, RILEY, "m1")
    slack.fail_next.extend(DeliveryError("HTTP 502") for _ in range(3))

    results = []
    for _ in range(3):
        results.append(await dispatcher.run_once())
        clock.advance(hours=2)

    assert results == [DispatchStats(retried=1), DispatchStats(retried=1), DispatchStats(dead=1)]
    dead = row(db, "m1")
    assert dead.status == OutboxStatus.DEAD
    assert dead.last_error == "gave up after 3 attempts: HTTP 502"


async def test_an_unexpected_messenger_exception_is_retried_and_logged_never_lost(
        db: FakeDatabase, clock: FixedClock, dispatcher: OutboxDispatcher,
        caplog: pytest.LogCaptureFixture) -> None:
    class Broken(FakeMessenger):
        async def deliver(self, message: OutboxMessage) -> str | None:
            raise KeyError("blocks")

    broken = OutboxDispatcher(db.uow, {Platform.SLACK: Broken()}, clock)
    await queue(db, clock, RILEY, "m1")

    with caplog.at_level(logging.ERROR, logger="bot.services.dispatch"):
        assert await broken.run_once() == DispatchStats(retried=1)

    waiting = row(db, "m1")
    assert waiting.status == OutboxStatus.PENDING
    assert waiting.last_error == "KeyError('blocks')"
    assert waiting.next_attempt_at is not None
    assert START + timedelta(seconds=0.5) < waiting.next_attempt_at <= START + timedelta(
        seconds=1)  # the first retry comes within a second
    assert "outbox message" in caplog.text and "KeyError" in caplog.text
    clock.advance(seconds=1)
    assert await dispatcher.run_once() == DispatchStats(sent=1)


async def test_a_message_written_twice_with_the_same_key_is_delivered_once(
        db: FakeDatabase, clock: FixedClock, dispatcher: OutboxDispatcher,
        slack: FakeMessenger) -> None:
    assert await queue(db, clock, RILEY, "reminder:1:24h:riley")
    assert not await queue(db, clock, RILEY, "reminder:1:24h:riley")

    await dispatcher.run_once()
    await queue(db, clock, RILEY, "reminder:1:24h:riley")
    await dispatcher.run_once()

    assert len(slack.transcript) == 1


async def test_an_update_is_delivered_against_the_earlier_messages_platform_ref(
        db: FakeDatabase, clock: FixedClock, dispatcher: OutboxDispatcher,
        slack: FakeMessenger) -> None:
    await queue(db, clock, RILEY, "ask:7", template="ask")
    await dispatcher.run_once()
    original_ref = row(db, "ask:7").platform_ref
    assert original_ref

    await queue(db, clock, RILEY, "ask:7:withdrawn", template="ask_withdrawn",
                replaces="ask:7")
    await dispatcher.run_once()

    first, update = slack.transcript
    assert first.replaces_ref is None
    assert update.replaces_ref == original_ref
    assert row(db, "ask:7:withdrawn").platform_ref == original_ref


async def test_a_platform_without_a_messenger_is_retried_not_dropped(
        db: FakeDatabase, clock: FixedClock, slack: FakeMessenger) -> None:
    dispatcher = OutboxDispatcher(db.uow, {Platform.SLACK: slack}, clock, max_attempts=2)
    teams_user = Person(email="t@x.example", identity=Identity(Platform.TEAMS, "t", "29:a"))
    await queue(db, clock, teams_user, "m1")

    assert await dispatcher.run_once() == DispatchStats(retried=1)
    waiting = row(db, "m1")
    assert waiting.status == OutboxStatus.PENDING
    assert waiting.last_error == "no messenger configured for teams"

    clock.advance(hours=1)
    assert await dispatcher.run_once() == DispatchStats(dead=1)
    assert row(db, "m1").last_error == (
        "gave up after 2 attempts: no messenger configured for teams")


async def test_run_forever_delivers_until_told_to_stop(
        db: FakeDatabase, clock: FixedClock, dispatcher: OutboxDispatcher,
        slack: FakeMessenger) -> None:
    for n in range(3):
        await queue(db, clock, RILEY, f"m{n}")
    stop = asyncio.Event()
    worker = asyncio.create_task(dispatcher.run_forever(stop, interval=0.01))
    for _ in range(100):
        if len(slack.transcript) == 3:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(worker, timeout=1)

    assert [d.context["n"] for d in slack.transcript] == ["m0", "m1", "m2"]


async def test_run_forever_survives_a_failing_pass(
        clock: FixedClock, slack: FakeMessenger, caplog: pytest.LogCaptureFixture) -> None:
    calls = 0

    def broken_uow() -> FakeDatabase:
        nonlocal calls
        calls += 1
        raise ConnectionError("database is down")

    dispatcher = OutboxDispatcher(broken_uow, {Platform.SLACK: slack}, clock)  # type: ignore[arg-type]
    stop = asyncio.Event()
    worker = asyncio.create_task(dispatcher.run_forever(stop, interval=0.01))
    for _ in range(100):
        if calls >= 2:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(worker, timeout=1)

    assert calls >= 2
    assert "outbox pass failed" in caplog.text


async def test_an_answer_queued_before_its_ask_was_sent_updates_the_ask_in_place(
        db: FakeDatabase, clock: FixedClock, dispatcher: OutboxDispatcher,
        slack: FakeMessenger) -> None:
    await queue(db, clock, RILEY, "ask:1")
    await queue(db, clock, RILEY, "ask:1:answered", replaces="ask:1")

    assert await dispatcher.run_once() == DispatchStats(sent=1)  # the ask, alone
    assert await dispatcher.run_once() == DispatchStats(sent=1)  # then its update

    first, second = slack.transcript
    assert (first.context["n"], first.replaces_ref) == ("ask:1", None)
    assert second.context["n"] == "ask:1:answered"
    assert second.replaces_ref == row(db, "ask:1").platform_ref
