"""Scheduled jobs with several replicas and restarts, on SQLite and PostgreSQL.

Two "replicas" are two engines (two connection pools) on one database, each running
``run_due_jobs`` at the same moment: every manager still gets one digest and every
advocate one check-in. A replica killed while delivering leaves pending outbox rows; the
restarted bot delivers each of them, and nothing twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.model import Advocate, Identity, Person, Platform
from bot.domain.policy import ProgramPolicy
from bot.jobs import run_due_jobs
from bot.ports import DeliveryError, OutboxMessage
from bot.services.context import ServiceContext
from bot.services.dispatch import OutboxDispatcher
from storage.db import create_engine
from storage.tables import OutboxRow
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes import FakeMessenger, FixedClock

MANAGERS = ("pat@vendor.example", "quinn@vendor.example", "rae@vendor.example")
ADVOCATES = 6
# Monday 6 April 2026, 09:00 in Berlin: the W15 digest is due and the Q2 check-ins
# (Wednesday 1 April) are still inside their catch-up window.
NOW = datetime(2026, 4, 6, 7, tzinfo=UTC)


class Killed(BaseException):
    """The process dying mid-delivery: not an error the dispatcher may catch."""


@pytest.fixture
async def second_engine(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    other = create_engine(engine.url.render_as_string(hide_password=False))
    yield other
    await other.dispose()


def replica(engine: AsyncEngine, clock: FixedClock) -> ServiceContext:
    return ServiceContext(uow=SqlUnitOfWorkFactory(engine), clock=clock, policy=ProgramPolicy(),
                          program_managers=MANAGERS, program_timezone="Europe/Berlin")


async def _people(engine: AsyncEngine) -> None:
    uow_factory = SqlUnitOfWorkFactory(engine)
    async with uow_factory() as uow:
        emails = list(MANAGERS)
        for n in range(ADVOCATES):
            advocate = await uow.advocates.add(Advocate(email=f"adv{n}@customer.example",
                                                        name=f"Advocate {n}", company="Acme"))
            emails.append(advocate.email)
        for n, email in enumerate(emails):
            await uow.people.upsert(Person(email=email, display_name=email,
                                           identity=Identity(Platform.SLACK, "T1", f"U{n}")))
        await uow.commit()


async def _count(engine: AsyncEngine, template: str) -> int:
    async with engine.connect() as connection:
        return await connection.scalar(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.template == template))


async def test_two_replicas_firing_together_send_one_digest_per_manager(
        engine: AsyncEngine, second_engine: AsyncEngine) -> None:
    await _people(engine)
    clock = FixedClock(NOW)
    a, b = replica(engine, clock), replica(second_engine, clock)
    for _ in range(3):  # a few rounds, to give the race every chance
        await asyncio.gather(run_due_jobs(a, NOW), run_due_jobs(b, NOW))
    assert await _count(engine, "digest") == len(MANAGERS)
    assert await _count(engine, "check_in") == ADVOCATES


class DyingMessenger(FakeMessenger):
    """Delivers ``survive`` messages, then the process dies."""

    def __init__(self, survive: int) -> None:
        super().__init__()
        self.survive = survive

    async def deliver(self, message: OutboxMessage) -> str | None:
        if len(self.transcript) >= self.survive:
            raise Killed
        return await super().deliver(message)


async def test_a_bot_killed_mid_delivery_delivers_everything_once_after_restart(
        engine: AsyncEngine, second_engine: AsyncEngine) -> None:
    await _people(engine)
    clock = FixedClock(NOW)
    first = replica(engine, clock)
    await run_due_jobs(first, NOW)
    dying = DyingMessenger(survive=4)
    with pytest.raises(Killed):
        await OutboxDispatcher(first.uow, {Platform.SLACK: dying}, clock).run_once()

    clock.advance(minutes=2)  # the dead process's lease on its claimed rows runs out
    restarted = replica(second_engine, clock)
    await run_due_jobs(restarted, clock.now())  # start-up catch-up: nothing new to queue
    alive = FakeMessenger()
    alive.fail_next.append(DeliveryError("Slack answered 503"))
    dispatcher = OutboxDispatcher(restarted.uow, {Platform.SLACK: alive}, clock, base_delay=1)
    for _ in range(5):
        await dispatcher.run_once()
        clock.advance(seconds=30)

    delivered = [(d.to.email, d.template) for d in dying.transcript + alive.transcript]
    expected = {(email, "digest") for email in MANAGERS} | {
        (f"adv{n}@customer.example", "check_in") for n in range(ADVOCATES)}
    assert sorted(delivered) == sorted(expected)  # every message, none twice
    async with engine.connect() as connection:
        assert await connection.scalar(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.status != "sent")) == 0
