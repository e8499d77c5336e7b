"""The outbox dispatcher wakes when a unit of work commits messages, on SQLite and
PostgreSQL, and on PostgreSQL also when *another replica* commits them (``NOTIFY`` in the
committing transaction, ``LISTEN`` on a dedicated connection that survives being dropped).

Every dispatcher here polls once a minute: a message arriving within the generous timeouts
was delivered because of the signal, not the poll.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import SystemClock
from bot.domain.model import Identity, Person, Platform
from bot.ports import OutgoingMessage
from bot.services.dispatch import OutboxDispatcher, Wakeup
from storage.db import create_engine
from storage.notify import OutboxListener
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes import FakeMessenger

GENEROUS = 15.0  # seconds; the poll interval below is 60
POLL = 60.0
POSTGRES = [pytest.param("postgres", marks=pytest.mark.postgres)]


class Counting(FakeMessenger):
    """Records deliveries; ``wait_for(n, *others)`` returns once ``n`` were delivered (by
    this messenger and ``others`` together)."""

    def __init__(self) -> None:
        super().__init__(Platform.SLACK)

    async def wait_for(self, count: int, *others: Counting) -> None:
        async def reached() -> None:
            # Two messengers to watch: polled.
            while len(self.transcript) + sum(len(o.transcript) for o in others) < count:  # noqa: ASYNC110
                await asyncio.sleep(0.005)

        await asyncio.wait_for(reached(), timeout=GENEROUS)


def message(n: int) -> OutgoingMessage:
    return OutgoingMessage(
        recipient=Person(email=f"p{n}@x.example", identity=Identity(Platform.SLACK, "T1",
                                                                    f"U{n}")),
        template="hello", context={"n": n}, key=f"m{n}")


async def commit(uow_factory: SqlUnitOfWorkFactory, *numbers: int) -> None:
    async with uow_factory() as uow:
        for n in numbers:
            await uow.outbox.add(message(n), now=datetime.now(UTC))
        await uow.commit()


class Replica:
    """One bot process: its own engine, unit-of-work factory, dispatcher and (on
    PostgreSQL) listener, wired as the composition root wires them."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.wakeup = Wakeup()
        self.uow = SqlUnitOfWorkFactory(self.engine, on_outbox_commit=self.wakeup)
        self.slack = Counting()
        self.dispatcher = OutboxDispatcher(self.uow, {Platform.SLACK: self.slack},
                                           SystemClock(), wakeup=self.wakeup)
        self.listener = OutboxListener(self.engine, self.wakeup, reconnect_delay=0.05)
        self.stop = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    async def start(self) -> Replica:
        self.tasks = [asyncio.create_task(self.dispatcher.run_forever(self.stop, POLL)),
                      asyncio.create_task(self.listener.run(self.stop))]
        if self.listener.supported:
            await asyncio.wait_for(self.listener.listening.wait(), timeout=GENEROUS)
        await asyncio.sleep(0.05)  # the dispatcher's first (empty) pass, then its long wait
        return self

    async def close(self) -> None:
        self.stop.set()
        await asyncio.wait_for(asyncio.gather(*self.tasks), timeout=GENEROUS)
        await self.engine.dispose()


@pytest.fixture
async def replica(engine: AsyncEngine) -> AsyncIterator[Replica]:
    started = await Replica(engine.url.render_as_string(hide_password=False)).start()
    yield started
    await started.close()


async def test_a_commit_with_messages_wakes_this_replicas_dispatcher(replica: Replica) -> None:
    await commit(replica.uow, 1)

    await replica.slack.wait_for(1)
    assert [d.context["n"] for d in replica.slack.transcript] == [1]


async def test_only_a_commit_that_queued_messages_signals(replica: Replica) -> None:
    wakeup = Wakeup()
    uow_factory = SqlUnitOfWorkFactory(replica.engine, on_outbox_commit=wakeup)
    async with uow_factory() as uow:
        await uow.idempotency.claim("nothing-to-send", now=datetime.now(UTC))
        await uow.commit()
    assert not wakeup.is_set()
    async with uow_factory() as uow:
        await uow.outbox.add(message(1), now=datetime.now(UTC))
        await uow.rollback()
    assert not wakeup.is_set()
    async with uow_factory() as uow:  # leaving the block without commit() rolls back
        await uow.outbox.add(message(2), now=datetime.now(UTC))
    assert not wakeup.is_set()
    async with uow_factory() as uow:
        await uow.outbox.add(message(3), now=datetime.now(UTC))
        await uow.commit()
    assert wakeup.is_set()


@pytest.mark.parametrize("engine", POSTGRES, indirect=True)
async def test_notify_wakes_the_dispatcher_of_another_replica(engine: AsyncEngine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    other = await Replica(url).start()
    # The replica that serves the click: its commit signals its own process (no dispatcher
    # runs here) and NOTIFYs the others.
    clicks = SqlUnitOfWorkFactory(engine, on_outbox_commit=Wakeup())
    try:
        await commit(clicks, 1)
        await other.slack.wait_for(1)
        assert [d.context["n"] for d in other.slack.transcript] == [1]
    finally:
        await other.close()


@pytest.mark.parametrize("engine", POSTGRES, indirect=True)
async def test_the_listener_reconnects_after_losing_its_connection(engine: AsyncEngine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    other = await Replica(url).start()
    clicks = SqlUnitOfWorkFactory(engine)
    try:
        assert other.listener.connections == 1
        async with engine.begin() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"),
                                     {"pid": other.listener.server_pid})
        for _ in range(int(GENEROUS / 0.02)):
            if other.listener.connections == 2 and other.listener.listening.is_set():
                break
            await asyncio.sleep(0.02)
        assert other.listener.connections == 2

        await commit(clicks, 2)
        await other.slack.wait_for(1)
        assert [d.context["n"] for d in other.slack.transcript] == [2]
    finally:
        await other.close()


@pytest.mark.parametrize("engine", POSTGRES, indirect=True)
async def test_two_replicas_woken_together_deliver_each_message_once(
        engine: AsyncEngine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    first, second = await Replica(url).start(), await Replica(url).start()
    try:
        for batch in range(10):
            await commit(first.uow if batch % 2 else second.uow,
                         *range(batch * 10, batch * 10 + 10))
        await first.slack.wait_for(100, second.slack)
        await asyncio.sleep(0.2)  # anything delivered twice would arrive by now
    finally:
        await first.close()
        await second.close()
    delivered = [d.context["n"] for d in first.slack.transcript + second.slack.transcript]
    assert sorted(delivered) == list(range(100))
