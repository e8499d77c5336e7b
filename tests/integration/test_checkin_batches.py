"""Check-ins are queued in batches (a few multi-row INSERTs per unit of work), still once
per (job, period, advocate) through the ledger: with replicas racing over the same
period, with a run cut short half-way, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.model import Advocate
from bot.domain.policy import ProgramPolicy
from bot.services import checkins
from bot.services.checkins import send_check_ins
from bot.services.context import ServiceContext
from storage.db import create_engine
from storage.tables import IdempotencyKeyRow, OutboxRow
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes import FixedClock

NOW = datetime(2026, 4, 1, 8, tzinfo=UTC)
PERIOD = "2026-Q2"
ADVOCATES = 23


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checkins, "BATCH", 5)  # 23 advocates: five batches, the last short


@pytest.fixture
async def second_engine(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    other = create_engine(engine.url.render_as_string(hide_password=False))
    yield other
    await other.dispose()


def replica(engine: AsyncEngine) -> ServiceContext:
    return ServiceContext(uow=SqlUnitOfWorkFactory(engine), clock=FixedClock(NOW),
                          policy=ProgramPolicy(), program_timezone="Europe/Berlin")


async def add_advocates(engine: AsyncEngine) -> None:
    async with SqlUnitOfWorkFactory(engine)() as uow:
        for n in range(ADVOCATES):
            await uow.advocates.add(Advocate(email=f"adv{n}@customer.example",
                                             name=f"Advocate {n}", company="Acme"))
        await uow.commit()


async def check_ins(engine: AsyncEngine) -> Counter[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(OutboxRow.recipient_email).where(OutboxRow.template == "check_in"))
        return Counter(email for (email,) in rows)


async def test_replicas_racing_over_the_batches_queue_each_check_in_once(
        engine: AsyncEngine, second_engine: AsyncEngine) -> None:
    await add_advocates(engine)

    counts = await asyncio.gather(send_check_ins(replica(engine), NOW, PERIOD),
                                  send_check_ins(replica(second_engine), NOW, PERIOD),
                                  send_check_ins(replica(engine), NOW, PERIOD))

    assert sum(counts) == ADVOCATES  # what each run says it queued adds up
    queued = await check_ins(engine)
    assert len(queued) == ADVOCATES and set(queued.values()) == {1}


class Crash(Exception):
    """The process dying between two batches."""


async def test_a_run_cut_short_is_completed_by_the_next_without_repeats(
        engine: AsyncEngine) -> None:
    await add_advocates(engine)
    ctx = replica(engine)
    units = 0

    def dies_at_the_third_batch() -> object:
        nonlocal units
        units += 1  # the first unit of work reads the roster, then one per batch
        if units == 4:
            raise Crash
        return ctx.uow()

    with pytest.raises(Crash):
        await send_check_ins(replace(ctx, uow=dies_at_the_third_batch), NOW, PERIOD)
    assert sum((await check_ins(engine)).values()) == 10  # two whole batches

    assert await send_check_ins(ctx, NOW, PERIOD) == ADVOCATES - 10
    assert await send_check_ins(ctx, NOW, PERIOD) == 0  # done: one lookup, nothing else

    queued = await check_ins(engine)
    assert len(queued) == ADVOCATES and set(queued.values()) == {1}
    async with engine.connect() as connection:
        keys = set(await connection.scalars(select(IdempotencyKeyRow.key)))
    assert f"done:checkin:{PERIOD}" in keys
    assert len([k for k in keys if k.startswith(f"checkin:{PERIOD}:")]) == ADVOCATES
