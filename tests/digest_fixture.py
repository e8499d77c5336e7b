"""A small program whose digest numbers were worked out by hand (see the comments).

Loaded through the ports, so the same data serves the fake unit of work (unit tests) and
SQLite/PostgreSQL (``tests/integration/test_digest_sql.py``): both must find the numbers
below. Program zone Europe/Berlin; the digest of 2026-W10 (sent Monday 2 March) covers
Mon 23 Feb 00:00 CET (22 Feb 23:00 UTC) to Mon 2 Mar 00:00 CET (1 Mar 23:00 UTC), and
compares with the week before.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from bot.domain.model import (
    Advocate,
    AdvocateStatus,
    Ask,
    AskState,
    Engagement,
    EngagementState,
    Person,
    ReferenceRequest,
    ReferenceType,
    RequestState,
)
from bot.ports import OutgoingMessage, UnitOfWorkFactory

ZONE = "Europe/Berlin"
PERIOD_DAY = date(2026, 3, 2)
REP = Person(email="riley.rep@vendor.example", display_name="Riley Rep")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# The numbers a reader can check against the data below.
EXPECTED: dict[str, tuple[Any, Any]] = {  # key: (this week, the week before)
    "opened": (4, 2),  # R1-R4 / R6, R7
    "fulfilled": (1, 1),  # R1 / R6
    "unfulfilled": (1, 1),  # R3 / R7
    "fulfilment_rate": (0.5, 0.5),
    "median_time_to_accept": (15.0, 24.0),  # R1 6 h and R2 24 h / R6 24 h
    "waiting_past_sla": (1, 1),  # R5, never accepted
    "upcoming_calls": (1, 1),  # E2 on 4 Mar / E1 on 26 Feb
    "near_limit": (2, 1),  # Ada 3 of 3 and Ben 2 of 3 / Ada 2 of 3
    "idle": (1, 1),  # Cleo (Eve joined too recently, Dan is paused)
    "influenced": (Decimal("10000.00"), Decimal("5000.00")),
    "dead_letters": (1, 0),
}


async def _engagement(uow: Any, request: ReferenceRequest, advocate: Advocate, *,
                      accepted_at: datetime, scheduled_at: datetime | None,
                      completed_at: datetime | None = None,
                      influenced: Decimal | None = None, points: int = 0) -> Engagement:
    ask = await uow.asks.add(Ask(request_id=request.id, advocate_id=advocate.id, rank=1,
                                 created_at=request.created_at, expires_at=None,
                                 state=AskState.ACCEPTED, answered_at=accepted_at))
    return await uow.engagements.add(Engagement(
        request_id=request.id, advocate_id=advocate.id, ask_id=ask.id,
        reference_type=ReferenceType.CALL, accepted_at=accepted_at,
        state=EngagementState.COMPLETED if completed_at else EngagementState.SCHEDULED,
        scheduled_at=scheduled_at, completed_at=completed_at, influenced_amount=influenced,
        points_awarded=points))


async def load(uow_factory: UnitOfWorkFactory) -> dict[str, int]:
    """Write the fixture; returns the advocates' ids by first name."""
    async with uow_factory() as uow:
        def advocate(name: str, **fields: Any) -> Advocate:
            values: dict[str, Any] = {"email": f"{name.lower()}@customer.example", "name": name,
                                      "company": f"{name} Corp", "joined_on": date(2025, 1, 1)}
            values.update(fields)
            return Advocate(**values)

        ada = await uow.advocates.add(advocate("Ada", public_recognition=True, points=30))
        ben = await uow.advocates.add(advocate("Ben", renewal_date=date(2026, 3, 31)))
        cleo = await uow.advocates.add(advocate("Cleo"))
        dan = await uow.advocates.add(advocate("Dan", status=AdvocateStatus.PAUSED))
        eve = await uow.advocates.add(advocate("Eve", joined_on=date(2026, 2, 1)))

        async def request(created_at: datetime, state: RequestState,
                          updated_at: datetime | None = None) -> ReferenceRequest:
            return await uow.requests.add(ReferenceRequest(
                rep=REP, prospect_company="Globex", reference_type=ReferenceType.CALL,
                needed_by=date(2026, 3, 20), created_at=created_at, state=state,
                updated_at=updated_at or created_at))

        # This week.
        r1 = await request(utc(2026, 2, 23, 10), RequestState.COMPLETED, utc(2026, 2, 26, 15))
        await _engagement(uow, r1, ada, accepted_at=utc(2026, 2, 23, 16),
                          scheduled_at=utc(2026, 2, 26, 14), completed_at=utc(2026, 2, 26, 15),
                          influenced=Decimal("10000"), points=10)
        r2 = await request(utc(2026, 2, 24, 9), RequestState.SCHEDULED)
        await _engagement(uow, r2, ben, accepted_at=utc(2026, 2, 25, 9),
                          scheduled_at=utc(2026, 3, 4, 14))
        await request(utc(2026, 2, 25, 8), RequestState.UNFULFILLED, utc(2026, 2, 27, 12))
        await request(utc(2026, 2, 28, 12), RequestState.ASKING)  # 33 h old: within SLA
        # Earlier.
        await request(utc(2026, 2, 10, 9), RequestState.MATCHING)  # R5: past SLA throughout
        r6 = await request(utc(2026, 2, 17, 10), RequestState.COMPLETED, utc(2026, 2, 20, 10))
        await _engagement(uow, r6, ada, accepted_at=utc(2026, 2, 18, 10),
                          scheduled_at=utc(2026, 2, 20, 9), completed_at=utc(2026, 2, 20, 10),
                          influenced=Decimal("5000"), points=10)
        await request(utc(2026, 2, 18, 10), RequestState.UNFULFILLED, utc(2026, 2, 19, 10))
        r8 = await request(utc(2026, 1, 5, 9), RequestState.COMPLETED, utc(2026, 1, 8, 10))
        await _engagement(uow, r8, ada, accepted_at=utc(2026, 1, 6, 9),
                          scheduled_at=utc(2026, 1, 8, 9), completed_at=utc(2026, 1, 8, 10),
                          points=10)
        r9 = await request(utc(2026, 1, 10, 9), RequestState.COMPLETED, utc(2026, 1, 13, 10))
        await _engagement(uow, r9, ben, accepted_at=utc(2026, 1, 11, 9),
                          scheduled_at=utc(2026, 1, 13, 9), completed_at=utc(2026, 1, 13, 10),
                          points=10)
        await uow.outbox.add(OutgoingMessage(recipient=Person(email="gone@customer.example"),
                                             template="ask", context={}, key="fixture-dead"),
                             now=utc(2026, 2, 27, 8))
        await uow.commit()
    async with uow_factory() as uow:
        claimed = await uow.outbox.claim_due(utc(2026, 2, 27, 9))
        await uow.outbox.mark_dead(claimed[0].id, error="user_not_found",
                                   now=utc(2026, 2, 27, 9))
        await uow.commit()
    return {"Ada": ada.id, "Ben": ben.id, "Cleo": cleo.id, "Dan": dan.id, "Eve": eve.id}
