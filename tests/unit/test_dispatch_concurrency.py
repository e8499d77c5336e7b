"""The dispatcher delivers a pass's messages concurrently (bounded per platform, the first
alone), records the pass in one unit of work, keeps what finished when interrupted, and
wakes up when a rate limit lifts rather than a whole interval later."""

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
               identity=Identity(Platform.SLACK, "T1", "URILEY"))


class SlowMessenger(FakeMessenger):
    """Takes ``delay`` seconds per message and remembers how many were in flight at once."""

    def __init__(self, delay: float = 0.01) -> None:
        super().__init__(Platform.SLACK)
        self.delay = delay
        self.in_flight = 0
        self.peak = 0
        self.order: list[tuple[str, int]] = []  # (key, in flight when it started)

    async def deliver(self, message: OutboxMessage) -> str | None:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        self.order.append((message.message.key, self.in_flight))
        try:
            await asyncio.sleep(self.delay)
            return await super().deliver(message)
        finally:
            self.in_flight -= 1


async def queue(db: FakeDatabase, clock: FixedClock, count: int) -> None:
    async with db.uow() as uow:
        for n in range(count):
            await uow.outbox.add(OutgoingMessage(recipient=RILEY, template="hello",
                                                 context={"n": n}, key=f"m{n:03d}"),
                                 now=clock.now())
        await uow.commit()


def statuses(db: FakeDatabase) -> dict[OutboxStatus, int]:
    counts: dict[OutboxStatus, int] = {}
    for message in db.state.outbox.values():
        counts[message.status] = counts.get(message.status, 0) + 1
    return counts


async def test_a_pass_delivers_concurrently_but_never_more_than_the_bound(
        db: FakeDatabase, clock: FixedClock) -> None:
    slack = SlowMessenger()
    dispatcher = OutboxDispatcher(db.uow, {Platform.SLACK: slack}, clock, concurrency=4)
    await queue(db, clock, 20)

    assert await dispatcher.run_once(limit=20) == DispatchStats(sent=20)

    assert slack.peak == 4
    assert slack.order[0] == ("m000", 1)  # the first goes alone...
    assert slack.order[1][1] == 1  # ...and the others only once it is answered
    assert statuses(db) == {OutboxStatus.SENT: 20}


async def test_concurrency_one_is_the_old_sequential_delivery(
        db: FakeDatabase, clock: FixedClock) -> None:
    slack = SlowMessenger(delay=0)
    dispatcher = OutboxDispatcher(db.uow, {Platform.SLACK: slack}, clock, concurrency=1)
    await queue(db, clock, 5)
    await dispatcher.run_once()
    assert slack.peak == 1
    assert [key for key, _ in slack.order] == [f"m{n:03d}" for n in range(5)]
    with pytest.raises(ValueError, match="concurrency"):
        OutboxDispatcher(db.uow, {}, clock, concurrency=0)


async def test_a_pass_is_recorded_in_one_unit_of_work(
        db: FakeDatabase, clock: FixedClock) -> None:
    opened = 0
    factory = db.uow

    def counting_uow():  # type: ignore[no-untyped-def]
        nonlocal opened
        opened += 1
        return factory()

    slack = FakeMessenger(Platform.SLACK)
    slack.fail_next.append(DeliveryError("HTTP 503"))
    dispatcher = OutboxDispatcher(counting_uow, {Platform.SLACK: slack}, clock)
    await queue(db, clock, 30)

    assert await dispatcher.run_once(limit=30) == DispatchStats(sent=29, retried=1)
    assert opened == 2  # the claim and the results, not one per message


async def test_a_429_in_flight_defers_the_messages_not_yet_started(
        db: FakeDatabase, clock: FixedClock) -> None:
    slack = SlowMessenger()
    dispatcher = OutboxDispatcher(db.uow, {Platform.SLACK: slack}, clock, concurrency=2)
    await queue(db, clock, 10)
    real_deliver = slack.deliver

    async def deliver(message: OutboxMessage) -> str | None:
        if message.message.key == "m002":
            raise DeliveryError("ratelimited", retry_after=30)
        return await real_deliver(message)

    slack.deliver = deliver  # type: ignore[method-assign]

    stats = await dispatcher.run_once(limit=10)

    # m000 alone, then m001 and m002 in flight together; m002's 429 stops the rest.
    assert stats == DispatchStats(sent=2, retried=1, deferred=7)
    waiting = [m for m in db.state.outbox.values() if m.status == OutboxStatus.PENDING]
    assert {m.next_attempt_at for m in waiting} == {START + timedelta(seconds=30)}
    assert sum(m.attempts for m in waiting) == 1  # deferred ones were not tried
    assert dispatcher.blocked_for() == 30.0


async def test_an_interrupted_pass_keeps_what_was_delivered(
        db: FakeDatabase, clock: FixedClock) -> None:
    slack = SlowMessenger(delay=0.05)
    dispatcher = OutboxDispatcher(db.uow, {Platform.SLACK: slack}, clock, concurrency=2)
    await queue(db, clock, 10)

    task = asyncio.create_task(dispatcher.run_once(limit=10))
    for _ in range(200):
        if len(slack.transcript) >= 3:
            break
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    delivered = {d.context["n"] for d in slack.transcript}
    sent = {m.message.context["n"] for m in db.state.outbox.values()
            if m.status == OutboxStatus.SENT}
    assert sent == delivered and len(sent) >= 3
    assert slack.in_flight == 0  # nothing left running after the pass
    # The rest are still pending under their lease, and delivered once it runs out.
    clock.advance(minutes=2)
    assert (await dispatcher.run_once(limit=10)).sent == 10 - len(sent)
    assert sorted(d.context["n"] for d in slack.transcript) == list(range(10))


async def test_run_forever_resumes_when_the_rate_limit_lifts(
        db: FakeDatabase, clock: FixedClock, caplog: pytest.LogCaptureFixture) -> None:
    """Deferred messages are retried as soon as the platform's block lifts, not an
    ``interval`` later (a 60 s interval here would time the test out)."""
    from bot.clock import SystemClock

    slack = FakeMessenger(Platform.SLACK)
    slack.fail_next.append(DeliveryError("ratelimited", retry_after=0.05))
    dispatcher = OutboxDispatcher(db.uow, {Platform.SLACK: slack}, SystemClock())
    async with db.uow() as uow:
        for n in range(3):
            await uow.outbox.add(OutgoingMessage(recipient=RILEY, template="hello",
                                                 context={"n": n}, key=f"m{n}"),
                                 now=SystemClock().now() - timedelta(seconds=1))
        await uow.commit()
    stop = asyncio.Event()
    with caplog.at_level(logging.INFO, logger="bot.services.dispatch"):
        worker = asyncio.create_task(dispatcher.run_forever(stop, interval=60))
        for _ in range(200):
            if len(slack.transcript) == 3:
                break
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(worker, timeout=1)

    assert sorted(d.context["n"] for d in slack.transcript) == [0, 1, 2]
    assert dispatcher.totals == DispatchStats(sent=3, retried=1, deferred=2)
    assert "outbox pass: 0 sent, 1 retried, 0 dead, 2 deferred" in caplog.text
    assert "since start: 3 sent, 1 retried, 0 dead" in caplog.text
