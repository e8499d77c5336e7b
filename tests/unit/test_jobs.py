"""Time travel through a quarter: every job fires when it should, once, in the program's
zone, across the spring DST change; a bot that was down catches up within the grace."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.model import (
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
from bot.domain.policy import JobsPolicy
from bot.jobs import due_periods, run_due_jobs
from bot.services.checkins import CheckInChoice, answer_check_in
from bot.services.context import ServiceContext
from tests.fakes import FakeDatabase, FixedClock
from tests.unit.conftest import PM_EMAIL, AddAdvocate, advocate_actor, outbox

BERLIN = "Europe/Berlin"
CHANNEL = "C0PROGRAM"
HOLIDAY = date(2026, 4, 1)  # Q2 starts on a Wednesday the program takes off


@pytest.fixture
def jobs_ctx(ctx: ServiceContext) -> ServiceContext:
    jobs = JobsPolicy(program_channel=CHANNEL, holidays=(HOLIDAY,))
    return replace(ctx, program_timezone=BERLIN, policy=replace(ctx.policy, jobs=jobs))


def sent(db: FakeDatabase, template: str) -> list[tuple[datetime, str]]:
    return [(m.created_at, m.message.key) for m in sorted(db.state.outbox.values(),
                                                          key=lambda m: m.id)
            if m.message.template == template]


def test_due_periods_minute_by_minute_through_a_quarter(jobs_ctx: ServiceContext) -> None:
    first_due: dict[tuple[str, str], datetime] = {}
    now = datetime(2026, 3, 16, tzinfo=UTC)
    while now < datetime(2026, 7, 1, tzinfo=UTC):
        for due in due_periods(jobs_ctx, now):
            first_due.setdefault((due.job, due.period), now)
        now += timedelta(minutes=1)
    digests = sorted(at for (job, _), at in first_due.items() if job == "digest")
    assert digests[:3] == [datetime(2026, 3, 16, 8, tzinfo=UTC),  # 09:00 CET
                           datetime(2026, 3, 23, 8, tzinfo=UTC),
                           datetime(2026, 3, 30, 7, tzinfo=UTC)]  # 09:00 CEST
    assert len(digests) == 16 and digests[-1] == datetime(2026, 6, 29, 7, tzinfo=UTC)
    assert all(at.astimezone(ZoneInfo(BERLIN)).time() == time(9)
               for at in digests)
    assert first_due[("check_ins", "2026-Q2")] == datetime(2026, 4, 2, 7, tzinfo=UTC)
    assert first_due[("top_advocates", "2026-Q2")] == datetime(2026, 4, 2, 7, tzinfo=UTC)
    assert first_due[("check_in_reminders", "2026-Q2")] == datetime(2026, 4, 16, 7, tzinfo=UTC)
    assert ("check_ins", "2026-Q1") not in first_due  # long past its grace on 16 March


async def _completed_engagement(db: FakeDatabase, advocate_id: int, at: datetime) -> None:
    async with db.uow() as uow:
        request = await uow.requests.add(ReferenceRequest(
            rep=Person(email="riley.rep@vendor.example"), prospect_company="Globex",
            reference_type=ReferenceType.CALL, needed_by=at.date(), created_at=at,
            state=RequestState.COMPLETED, updated_at=at))
        ask = await uow.asks.add(Ask(request_id=request.id, advocate_id=advocate_id, rank=1,
                                     created_at=at, expires_at=None, state=AskState.ACCEPTED))
        await uow.engagements.add(Engagement(
            request_id=request.id, advocate_id=advocate_id, ask_id=ask.id,
            reference_type=ReferenceType.CALL, accepted_at=at, scheduled_at=at,
            state=EngagementState.COMPLETED, completed_at=at, points_awarded=10))
        await uow.commit()


async def test_a_quarter_of_hourly_runs_sends_each_message_once_on_time(
        db: FakeDatabase, clock: FixedClock, jobs_ctx: ServiceContext,
        add_advocate: AddAdvocate) -> None:
    ada = await add_advocate(name="Ada", public_recognition=True)
    bo = await add_advocate(name="Bo")
    await add_advocate(name="Paused Pia", status=AdvocateStatus.PAUSED)
    await _completed_engagement(db, ada.id, datetime(2026, 2, 20, 12, tzinfo=UTC))

    # Hourly through the DST change, the quarter's start and the reminder (the pure test
    # above covers the whole quarter minute by minute).
    clock.set(datetime(2026, 3, 23, tzinfo=UTC))
    while clock.now() < datetime(2026, 4, 21, tzinfo=UTC):
        await run_due_jobs(jobs_ctx, clock.now())
        if clock.now() == datetime(2026, 4, 3, 10, tzinfo=UTC):
            await answer_check_in(jobs_ctx, advocate_actor(bo), bo.id, CheckInChoice.KEEP_ACTIVE,
                                  feedback="All good!")
        clock.advance(hours=1)

    digests = sent(db, "digest")
    assert digests == [
        (datetime(2026, 3, 23, 8, tzinfo=UTC), f"digest:2026-W13:{PM_EMAIL}"),
        (datetime(2026, 3, 30, 7, tzinfo=UTC), f"digest:2026-W14:{PM_EMAIL}"),
        (datetime(2026, 4, 6, 7, tzinfo=UTC), f"digest:2026-W15:{PM_EMAIL}"),
        (datetime(2026, 4, 13, 7, tzinfo=UTC), f"digest:2026-W16:{PM_EMAIL}"),
        (datetime(2026, 4, 20, 7, tzinfo=UTC), f"digest:2026-W17:{PM_EMAIL}")]
    check_in_at = datetime(2026, 4, 2, 7, tzinfo=UTC)
    assert sent(db, "check_in") == [(check_in_at, f"checkin:2026-Q2:{ada.id}"),
                                    (check_in_at, f"checkin:2026-Q2:{bo.id}")]
    assert sent(db, "check_in_reminder") == [
        (datetime(2026, 4, 16, 7, tzinfo=UTC), f"checkin-reminder:2026-Q2:{ada.id}")]
    (top,) = [m for m in outbox(db) if m.template == "recognition_top"]
    assert top.recipient.identity is not None and top.recipient.identity.user_id == CHANNEL
    assert top.context["named"] == [{"name": "Ada", "points": 10, "engagements": 1}]
    assert {m.template for m in outbox(db)} == {"digest", "check_in", "check_in_reminder",
                                                "recognition_top", "check_in_answered"}
    # Bo's answer replaced his check-in in place.
    assert [m.replaces for m in outbox(db) if m.template == "check_in_answered"] == [
        f"checkin:2026-Q2:{bo.id}"]


async def test_a_digest_missed_while_down_is_caught_up_within_the_grace_only(
        db: FakeDatabase, jobs_ctx: ServiceContext) -> None:
    await run_due_jobs(jobs_ctx, datetime(2026, 3, 2, 11, 30, tzinfo=UTC))  # up at 12:30 CET
    assert [key for _, key in sent(db, "digest")] == [f"digest:2026-W10:{PM_EMAIL}"]
    await run_due_jobs(jobs_ctx, datetime(2026, 3, 10, 8, 1, tzinfo=UTC))  # > 24 h late
    assert len(sent(db, "digest")) == 1
