"""A small program whose quarterly report was worked out by hand (see the comments).

Program zone Europe/Berlin; the report of 2026-Q1 covers 1 Jan 00:00 CET (31 Dec 23:00
UTC) to 1 Apr 00:00 CEST (31 Mar 22:00 UTC): 90 days, compared with the 90 days before
(2025-10-03..2025-12-31). R6, opened at 23:30 UTC on 31 December, is already 1 January in
Berlin and so belongs to Q1. Ids: R = request, E = engagement, N = nomination.
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
    AuditEntry,
    Engagement,
    EngagementState,
    Person,
    ReferenceRequest,
    ReferenceType,
    RequestState,
)
from bot.domain.nomination import Nomination, NominationState
from bot.ports import ReportGroup, UnitOfWorkFactory

ZONE = "Europe/Berlin"
TODAY = date(2026, 4, 2)  # "last-quarter" is 2026-Q1
RILEY = Person(email="Riley.Rep@vendor.example", display_name="Riley Rep")
SAM = Person(email="sam.seller@vendor.example", display_name="Sam Seller")
D = Decimal

# key: (2026-Q1, the 90 days before)
SUMMARY: dict[str, tuple[Any, Any]] = {
    "opened": (6, 2),  # R1-R6 / R7, R8
    "fulfilled": (3, 1),  # R1, R2, R6 / R7
    "unfulfilled": (1, 1),  # R3 / R8
    "fulfilment_rate": (0.75, 0.5),  # 3 of 4 closed / 1 of 2
    "median_time_to_accept": (18.0, 24.0),  # R1 6 h, R6 12 h, R4 24 h, R2 48 h / R7 24 h
    "p90_time_to_accept": (48.0, 24.0),  # the 4th of 4 (nearest rank) / the only one
    "influenced": (D("16000.50"), D("5000.00")),  # E1 + E2 + E4 / E5
    "won": (D("12000.00"), D("5000.00")),  # E1 "Closed Won" + E4 "closedwon" / E5 "Won"
}
BY_TYPE = {"call": (2, 1), "video_call": (1, 0)}  # E1, E4 / E5; E2
HEALTH: dict[str, tuple[Any, Any]] = {
    "active": (4, None),  # Ada, Ben, Cleo, Fay (as the roster stands now)
    "paused": (1, None),  # Dan
    "near_limit": (1, 0),  # Ada: E1, E4, E3 in 90 days = 3 of 3 / Ada 1 of 3 (E5)
    "idle": (2, 1),  # Cleo, Fay (Ben joined too recently) / Cleo (Fay joined too recently)
    "new": (1, 1),  # Ben (1 Feb) / Fay (1 Nov)
    "left": (1, 0),  # Eve (10 Mar)
}
NOMINATIONS: dict[str, tuple[Any, Any]] = {
    "nominated": (6, 3),  # N1-N6 / N7, N8, N9 (N10 is older)
    "approved": (4, 2),  # N1, N3, N5, N6 / N7, N8 (decided in the period)
    "declined": (1, 1),  # N2 / N9
    "joined": (2, 1),  # N1, N8 (nominated before, joined 6 Jan) / N7
    "waiting": (4, 2),  # N3 (not now), N4, N5 (joins 1 Apr), N10 / N8, N10
    "conversion_rate": (1 / 6, 1 / 3),  # N1 of N1-N6 / N7 of N7-N9 (N8 joined later)
    "median_days_to_join": (13.5, 4.0),  # N1 10 days, N8 17 days / N7 4 days
}
GROUPS = {
    "advocate": [ReportGroup("Ada", 3, 2, D("12000.00"), D("12000.00")),  # asks R1, R4, R6
                 ReportGroup("Ben", 1, 1, D("4000.50"), D("0.00"))],
    "rep": [ReportGroup("sam.seller@vendor.example", 3, 2, D("6000.50"), D("2000.00")),
            ReportGroup("riley.rep@vendor.example", 3, 1, D("10000.00"), D("10000.00"))],
    "industry": [ReportGroup("Banking", 3, 2, D("12000.00"), D("12000.00")),
                 ReportGroup("Retail", 2, 1, D("4000.50"), D("0.00")),
                 ReportGroup("", 1, 0, D("0.00"), D("0.00"))],  # R5 gave none
    "region": [ReportGroup("EMEA", 3, 2, D("12000.00"), D("12000.00")),
               ReportGroup("NA", 2, 1, D("4000.50"), D("0.00")),
               ReportGroup("", 1, 0, D("0.00"), D("0.00"))],
}
# ISO weeks 2026-W01 (clipped to start on 1 Jan) to 2026-W14 (clipped to end on 31 Mar):
# (opened, completed engagements); every other week is (0, 0).
WEEKS = {"2026-W01": (1, 0), "2026-W02": (1, 1), "2026-W03": (0, 1), "2026-W04": (1, 0),
         "2026-W06": (0, 1), "2026-W07": (1, 0), "2026-W10": (1, 0), "2026-W14": (1, 0)}
MONTHS = [("2026-01", 12000.0), ("2026-02", 4000.5), ("2026-03", 0.0)]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


async def load(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        async def advocate(name: str, **fields: Any) -> Advocate:
            values: dict[str, Any] = {"email": f"{name.lower()}@customer.example",
                                      "name": name, "company": f"{name} Corp",
                                      "joined_on": date(2025, 1, 1)}
            return await uow.advocates.add(Advocate(**{**values, **fields}))

        ada = await advocate("Ada")
        ben = await advocate("Ben", joined_on=date(2026, 2, 1))
        await advocate("Cleo")
        await advocate("Dan", status=AdvocateStatus.PAUSED)
        eve = await advocate("Eve", status=AdvocateStatus.RETIRED)
        await advocate("Fay", joined_on=date(2025, 11, 1))
        await uow.audit.append(AuditEntry(at=utc(2026, 3, 10, 9), actor=eve.email,
                                          action="advocate.left", subject=f"advocate:{eve.id}"))

        async def request(rep: Person, created_at: datetime, state: RequestState, *,
                          industry: str = "", region: str = "", stage: str = "",
                          updated_at: datetime | None = None) -> ReferenceRequest:
            return await uow.requests.add(ReferenceRequest(
                rep=rep, prospect_company="Globex", reference_type=ReferenceType.CALL,
                needed_by=date(2026, 6, 1), created_at=created_at, state=state,
                updated_at=updated_at or created_at, industry=industry, region=region,
                opportunity_stage=stage))

        async def engagement(r: ReferenceRequest, a: Advocate, kind: ReferenceType,
                             accepted_at: datetime, call: datetime,
                             influenced: str | None = None, done: bool = True) -> None:
            ask = await uow.asks.add(Ask(request_id=r.id, advocate_id=a.id, rank=1,
                                         created_at=r.created_at, expires_at=None,
                                         state=AskState.ACCEPTED, answered_at=accepted_at))
            await uow.engagements.add(Engagement(
                request_id=r.id, advocate_id=a.id, ask_id=ask.id, reference_type=kind,
                accepted_at=accepted_at,
                state=EngagementState.COMPLETED if done else EngagementState.SCHEDULED,
                scheduled_at=call, completed_at=call if done else None,
                influenced_amount=D(influenced) if influenced else None))

        call, video = ReferenceType.CALL, ReferenceType.VIDEO_CALL
        bank, retail = {"industry": "Banking", "region": "EMEA"}, {"industry": "Retail",
                                                                   "region": "NA"}
        # 2026-Q1
        r1 = await request(RILEY, utc(2026, 1, 5, 9), RequestState.COMPLETED, **bank,
                           stage=" Closed Won ")
        await engagement(r1, ada, call, utc(2026, 1, 5, 15), utc(2026, 1, 10, 10), "10000")
        r2 = await request(SAM, utc(2026, 1, 20, 9), RequestState.COMPLETED, **retail,
                           stage="Negotiation")
        await engagement(r2, ben, video, utc(2026, 1, 22, 9), utc(2026, 2, 5, 10), "4000.50")
        await request(RILEY, utc(2026, 2, 10, 8), RequestState.UNFULFILLED, **bank,
                      updated_at=utc(2026, 2, 20, 8))
        r4 = await request(SAM, utc(2026, 3, 2, 10), RequestState.SCHEDULED, **retail)
        await engagement(r4, ada, ReferenceType.CASE_STUDY, utc(2026, 3, 3, 10),
                         utc(2026, 3, 10, 10), done=False)
        await request(RILEY, utc(2026, 3, 30, 12), RequestState.ASKING)
        r6 = await request(SAM, utc(2025, 12, 31, 23, 30), RequestState.COMPLETED, **bank,
                           stage="closedwon")
        await engagement(r6, ada, call, utc(2026, 1, 1, 11, 30), utc(2026, 1, 15, 10), "2000")
        # The 90 days before
        r7 = await request(RILEY, utc(2025, 11, 3, 9), RequestState.COMPLETED, **bank,
                           stage="Won")
        await engagement(r7, ada, call, utc(2025, 11, 4, 9), utc(2025, 11, 10, 10), "5000")
        await request(SAM, utc(2025, 12, 1, 9), RequestState.UNFULFILLED, **retail,
                      updated_at=utc(2025, 12, 10, 9))
        # After the quarter: counted nowhere
        r9 = await request(SAM, utc(2026, 4, 1, 9), RequestState.COMPLETED, **retail)
        await engagement(r9, ben, call, utc(2026, 4, 1, 10), utc(2026, 4, 1, 12), "999")
        await _nominations(uow)
        await uow.commit()


async def _nominations(uow: Any) -> None:
    async def nomination(number: int, created_at: datetime, state: NominationState,
                         decided_at: datetime | None = None,
                         answered_at: datetime | None = None) -> None:
        await uow.nominations.add(Nomination(
            email=f"n{number}@customer.example", nominator_email=SAM.email,
            created_at=created_at, state=state, decided_at=decided_at,
            answered_at=answered_at, updated_at=answered_at or decided_at or created_at))

    joined, pending = NominationState.JOINED, NominationState.PENDING
    # 2026-Q1
    await nomination(1, utc(2026, 1, 5, 10), joined, utc(2026, 1, 6, 10), utc(2026, 1, 15, 10))
    await nomination(2, utc(2026, 1, 10, 10), NominationState.DECLINED, utc(2026, 1, 12, 10))
    await nomination(3, utc(2026, 2, 1, 10), NominationState.NOT_NOW, utc(2026, 2, 2, 10),
                     utc(2026, 2, 5, 10))
    await nomination(4, utc(2026, 3, 20, 10), pending)
    await nomination(5, utc(2026, 3, 25, 10), joined, utc(2026, 3, 26, 10), utc(2026, 4, 1, 10))
    await nomination(6, utc(2026, 2, 10, 10), NominationState.NO_THANKS, utc(2026, 2, 11, 10),
                     utc(2026, 2, 12, 10))
    # The 90 days before, and one older still waiting
    await nomination(7, utc(2025, 11, 1, 10), joined, utc(2025, 11, 2, 10), utc(2025, 11, 5, 10))
    await nomination(8, utc(2025, 12, 20, 10), joined, utc(2025, 12, 22, 10), utc(2026, 1, 6, 10))
    await nomination(9, utc(2025, 12, 1, 10), NominationState.DECLINED, utc(2025, 12, 2, 10))
    await nomination(10, utc(2025, 9, 1, 10), pending)
