"""When the dispatcher runs: at once after a commit (not a poll later), back within a second
for a retry after a server error, exactly ``Retry-After`` after a 429.

The loops here run with a 60-second poll interval: a message still arriving within the
(generous) timeouts proves that something other than the poll woke the dispatcher.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.clock import SystemClock
from bot.domain.model import Identity, Person, Platform
from bot.ports import DeliveryError, OutboxMessage, OutgoingMessage
from bot.services.dispatch import OutboxDispatcher, Wakeup, retry_delay
from tests.fakes import FakeDatabase, FakeMessenger, FixedClock

RILEY = Person(email="riley@vendor.example", display_name="Riley",
               identity=Identity(Platform.SLACK, "T1", "URILEY"))
GENEROUS = 10.0  # seconds; only a broken wake-up comes near it (the poll here is 60 s)


class SignallingMessenger(FakeMessenger):
    """A fake messenger whose deliveries can be awaited."""

    def __init__(self) -> None:
        super().__init__(Platform.SLACK)
        self.delivered = asyncio.Event()
        self.attempts = 0

    async def deliver(self, message: OutboxMessage) -> str | None:
        self.attempts += 1
        ref = await super().deliver(message)
        self.delivered.set()
        return ref


async def queue(db: FakeDatabase, key: str, wakeup: Wakeup | None = None) -> None:
    async with db.uow() as uow:
        await uow.outbox.add(OutgoingMessage(recipient=RILEY, template="hello",
                                             context={"n": key}, key=key),
                             now=SystemClock().now())
        await uow.commit()
    if wakeup is not None:
        wakeup()  # what the SQL unit-of-work factory does after such a commit


@pytest.fixture
async def running() -> AsyncIterator[tuple[FakeDatabase, SignallingMessenger, OutboxDispatcher]]:
    db, slack = FakeDatabase(), SignallingMessenger()
    dispatcher = OutboxDispatcher(db.uow, {Platform.SLACK: slack}, SystemClock(),
                                  rng=random.Random(7))
    stop = asyncio.Event()
    worker = asyncio.create_task(dispatcher.run_forever(stop, interval=60))
    await asyncio.sleep(0)  # the first pass finds nothing and starts its 60 s wait
    yield db, slack, dispatcher
    stop.set()
    await asyncio.wait_for(worker, timeout=GENEROUS)


# --- the retry schedule, as a pure function ---------------------------------------------


@pytest.mark.parametrize("draw", [0.0, 0.25, 0.5, 0.999999])
def test_the_first_retry_after_a_server_error_comes_within_a_second(draw: float) -> None:
    assert 0.5 < retry_delay(0, draw) <= 1.0


def test_retries_back_off_exponentially_within_their_jitter_bounds() -> None:
    rng = random.Random(11)
    for attempts in range(12):
        ceiling = min(3600.0, 2.0**attempts)
        delays = [retry_delay(attempts, rng.random()) for _ in range(200)]
        assert all(ceiling / 2 < d <= ceiling for d in delays), attempts
        assert max(delays) - min(delays) > ceiling / 4  # really jittered, not constant


def test_the_delay_is_capped_and_without_jitter_is_the_ceiling() -> None:
    assert retry_delay(30, 0.5, max_delay=60.0, jitter=0.0) == 60.0
    assert [retry_delay(n, 0.9, base_delay=5.0, jitter=0.0) for n in range(4)] == [
        5.0, 10.0, 20.0, 40.0]
    assert retry_delay(10_000, 0.0) == 3600.0  # no overflow for absurd counts


@pytest.mark.parametrize(("attempts", "draw", "jitter"), [(-1, 0.5, 0.5), (0, 1.0, 0.5),
                                                          (0, -0.1, 0.5), (0, 0.5, 1.5)])
def test_nonsense_arguments_are_refused_with_the_reason(attempts: int, draw: float,
                                                        jitter: float) -> None:
    with pytest.raises(ValueError, match=r"^(attempts|draw|jitter) must be"):
        retry_delay(attempts, draw, jitter=jitter)


# --- the loop ------------------------------------------------------------------------------


async def test_a_commit_wakes_the_dispatcher_without_waiting_for_the_poll(
        running: tuple[FakeDatabase, SignallingMessenger, OutboxDispatcher]) -> None:
    db, slack, dispatcher = running

    await queue(db, "m1", dispatcher.wakeup)

    await asyncio.wait_for(slack.delivered.wait(), timeout=GENEROUS)
    assert [d.context["n"] for d in slack.transcript] == ["m1"]


async def test_without_the_signal_the_message_waits_for_the_poll(
        running: tuple[FakeDatabase, SignallingMessenger, OutboxDispatcher]) -> None:
    db, slack, _ = running

    await queue(db, "m1")  # committed, but nobody told the dispatcher

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(slack.delivered.wait(), timeout=0.3)
    assert slack.transcript == []


async def test_a_commit_during_a_pass_gets_a_pass_of_its_own(
        running: tuple[FakeDatabase, SignallingMessenger, OutboxDispatcher]) -> None:
    db, slack, dispatcher = running
    second_queued = asyncio.Event()
    original = slack.deliver

    async def deliver_and_commit_another(message: OutboxMessage) -> str | None:
        if message.message.key == "m1":
            await queue(db, "m2", dispatcher.wakeup)  # lands while m1's pass is running
            second_queued.set()
        return await original(message)

    slack.deliver = deliver_and_commit_another  # type: ignore[method-assign]
    await queue(db, "m1", dispatcher.wakeup)

    for _ in range(int(GENEROUS / 0.01)):
        if len(slack.transcript) == 2:
            break
        await asyncio.sleep(0.01)
    assert second_queued.is_set()
    assert [d.context["n"] for d in slack.transcript] == ["m1", "m2"]


async def test_after_a_server_error_the_loop_is_back_for_the_retry_within_a_second(
        running: tuple[FakeDatabase, SignallingMessenger, OutboxDispatcher]) -> None:
    db, slack, dispatcher = running
    slack.fail_next.append(DeliveryError("HTTP 500"))

    await queue(db, "m1", dispatcher.wakeup)

    await asyncio.wait_for(slack.delivered.wait(), timeout=GENEROUS)
    assert slack.attempts == 2
    assert dispatcher.totals.retried == 1 and dispatcher.totals.sent == 1


async def test_a_429_is_retried_exactly_after_retry_after_not_the_backoff() -> None:
    db, slack = FakeDatabase(), SignallingMessenger()
    clock = FixedClock(SystemClock().now() + timedelta(seconds=1))
    dispatcher = OutboxDispatcher(db.uow, {Platform.SLACK: slack}, clock)
    await queue(db, "m1")
    slack.fail_next.append(DeliveryError("ratelimited", retry_after=7))

    await dispatcher.run_once()

    [waiting] = db.state.outbox.values()
    assert waiting.next_attempt_at == clock.now() + timedelta(seconds=7)


async def test_every_outcome_is_reported_to_the_observer() -> None:
    seen: list[tuple[str, str, bool]] = []

    class Recorder:
        def outbox_result(self, platform: str, result: str, *, rate_limited: bool) -> None:
            seen.append((platform, result, rate_limited))

    db, slack = FakeDatabase(), FakeMessenger(Platform.SLACK)
    dispatcher = OutboxDispatcher(db.uow, {Platform.SLACK: slack}, SystemClock(),
                                  observer=Recorder())
    slack.fail_next.append(DeliveryError("ratelimited", retry_after=0))
    await queue(db, "m1")
    async with db.uow() as uow:  # nobody the bot knows: a dead letter
        await uow.outbox.add(OutgoingMessage(recipient=Person(email="ghost@x.example"),
                                             template="hello", context={}, key="m2"),
                             now=SystemClock().now())
        await uow.commit()

    await dispatcher.run_once()
    await dispatcher.run_once()

    assert sorted(seen) == [("slack", "retry", True), ("slack", "sent", False),
                            ("unknown", "dead", False)]
