"""Two reps can never push an advocate past a limit at the same moment.

An advocate one engagement below the 90-day cap holds 20 pending asks (for 20 different
requests). All 20 accepts race, each through the real service in its own unit of work, its
own database session and connection. Exactly one engagement may come out — on SQLite and
on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.model import (
    Actor,
    Advocate,
    Ask,
    AskState,
    Engagement,
    EngagementState,
    Person,
    ReferenceRequest,
    ReferenceType,
    RequestState,
    Role,
)
from bot.domain.policy import ProgramPolicy
from bot.services.asks import answer_ask
from bot.services.context import ServiceContext
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes import FixedClock

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
RACERS = 20


async def test_twenty_racing_accepts_one_below_the_cap_yield_exactly_one_engagement(
    engine: AsyncEngine,
) -> None:
    uow = SqlUnitOfWorkFactory(engine)
    ctx = ServiceContext(uow=uow, clock=FixedClock(NOW), policy=ProgramPolicy())
    rep = Person(email="riley.rep@vendor.example", display_name="Riley Rep")

    async with uow() as tx:
        advocate = await tx.advocates.add(
            Advocate(email="ada@customer.example", name="Ada Advocate", company="Customer AG")
        )
        assert advocate.id is not None
        # Two engagements already in the last 90 days: the default cap is 3.
        for days_ago in (60, 30):
            past = await tx.requests.add(
                ReferenceRequest(
                    rep=rep,
                    prospect_company=f"Earlier {days_ago}",
                    reference_type=ReferenceType.CALL,
                    needed_by=date(2026, 5, 30),
                    created_at=NOW - timedelta(days=days_ago + 5),
                    state=RequestState.COMPLETED,
                )
            )
            done = await tx.asks.add(
                Ask(
                    request_id=past.id,
                    advocate_id=advocate.id,
                    rank=1,
                    created_at=NOW - timedelta(days=days_ago + 4),
                    expires_at=None,
                    state=AskState.ACCEPTED,
                    answered_at=NOW - timedelta(days=days_ago + 3),
                )
            )
            await tx.engagements.add(
                Engagement(
                    request_id=past.id,
                    advocate_id=advocate.id,
                    ask_id=done.id,
                    reference_type=ReferenceType.CALL,
                    accepted_at=NOW - timedelta(days=days_ago + 3),
                    scheduled_at=NOW - timedelta(days=days_ago),
                    state=EngagementState.COMPLETED,
                )
            )
        ask_ids = []
        for n in range(RACERS):
            request = await tx.requests.add(
                ReferenceRequest(
                    rep=rep,
                    prospect_company=f"Prospect {n}",
                    reference_type=ReferenceType.CALL,
                    needed_by=date(2026, 7, 31),
                    created_at=NOW - timedelta(hours=2),
                    proposed_times=(NOW + timedelta(days=20),),
                    state=RequestState.ASKING,
                )
            )
            ask = await tx.asks.add(
                Ask(
                    request_id=request.id,
                    advocate_id=advocate.id,
                    rank=1,
                    created_at=NOW - timedelta(hours=1),
                    expires_at=NOW + timedelta(hours=47),
                )
            )
            ask_ids.append(ask.id)
        await tx.commit()

    the_advocate = Actor(
        person=Person(email="ada@customer.example"), roles=frozenset({Role.ADVOCATE, Role.REP})
    )
    results = await asyncio.gather(
        *(answer_ask(ctx, the_advocate, ask_id, "accept") for ask_id in ask_ids),
        return_exceptions=True,
    )
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, f"accepts failed instead of being refused politely: {errors[:3]}"

    async with uow() as tx:
        engagements = await tx.engagements.list_for_advocate(advocate.id)
        new = [e for e in engagements if e.state != EngagementState.COMPLETED]
        asks = [await tx.asks.get(ask_id) for ask_id in ask_ids]
        usage = (await tx.advocates.usage([advocate.id], since=NOW - timedelta(days=365)))[
            advocate.id
        ]

    assert len(new) == 1, f"{len(new)} engagements created by {RACERS} racing accepts"
    assert sum(1 for a in asks if a and a.state == AskState.ACCEPTED) == 1
    assert all(a and not a.state.is_open for a in asks), "every raced ask got an answer"
    assert len(usage.engagement_times) == 3
