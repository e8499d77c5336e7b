"""Recognition posts, milestones and the SLA nudges."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.model import (
    Ask,
    AskState,
    Engagement,
    EngagementState,
    ReferenceRequest,
    ReferenceType,
    RequestState,
)
from bot.domain.policy import JobsPolicy
from bot.rendering import Renderer
from bot.services.context import ServiceContext
from bot.services.nudges import nudge_needed_by, remind_expiring_asks
from bot.services.recognition import post_top_advocates, recognise_engagements
from tests.fakes import FakeDatabase
from tests.unit.conftest import PM_EMAIL, REP_EMAIL, AddAdvocate, outbox, person, templates_to

CHANNEL = "C0PROGRAM"
NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture
def rctx(ctx: ServiceContext) -> ServiceContext:
    jobs = JobsPolicy(program_channel=f"#{CHANNEL}", milestones=(1, 2))
    return replace(ctx, policy=replace(ctx.policy, jobs=jobs))


async def _request(db: FakeDatabase, *, state: RequestState, needed_by: date,
                   created_at: datetime = NOW - timedelta(days=3)) -> ReferenceRequest:
    async with db.uow() as uow:
        request = await uow.requests.add(ReferenceRequest(
            rep=person(REP_EMAIL), prospect_company="Globex", reference_type=ReferenceType.CALL,
            needed_by=needed_by, created_at=created_at, state=state, timezone="UTC"))
        await uow.commit()
    return request


async def _complete(db: FakeDatabase, advocate_id: int, at: datetime, points: int = 10) -> None:
    request = await _request(db, state=RequestState.COMPLETED, needed_by=at.date())
    async with db.uow() as uow:
        ask = await uow.asks.add(Ask(request_id=request.id, advocate_id=advocate_id, rank=1,
                                     created_at=at, expires_at=None, state=AskState.ACCEPTED))
        await uow.engagements.add(Engagement(
            request_id=request.id, advocate_id=advocate_id, ask_id=ask.id,
            reference_type=ReferenceType.CASE_STUDY, accepted_at=at,
            state=EngagementState.COMPLETED, completed_at=at, points_awarded=points))
        await uow.commit()


def render_all(db: FakeDatabase) -> list[str]:
    """Every queued message as text: the templates take the contexts the services build."""
    renderer = Renderer()
    return [renderer.text(m.template, m.context) for m in outbox(db)]


def channel_posts(db: FakeDatabase) -> list[str]:
    return [m.template for m in outbox(db)
            if m.recipient.identity is not None and m.recipient.identity.user_id == CHANNEL]


async def test_named_advocates_are_thanked_in_the_channel_and_others_privately(
        db: FakeDatabase, rctx: ServiceContext, add_advocate: AddAdvocate) -> None:
    ada = await add_advocate(name="Ada", public_recognition=True, points=160)
    bo = await add_advocate(name="Bo")
    for advocate in (ada, bo):
        await _complete(db, advocate.id, NOW - timedelta(days=2))
        await _complete(db, advocate.id, NOW - timedelta(days=1))
    await _complete(db, bo.id, NOW - timedelta(days=30))  # long ago: not this sweep's business
    assert await recognise_engagements(rctx, NOW) == 5
    assert await recognise_engagements(rctx, NOW) == 0
    # Ada's 1st and 2nd are both milestones here; Bo's recent ones are his 2nd (a
    # milestone, told privately) and 3rd (thanked by the outcome's thank-you DM only).
    assert channel_posts(db) == ["recognition_engagement", "recognition_milestone",
                                 "recognition_engagement", "recognition_milestone"]
    assert templates_to(db, bo.email) == ["milestone_private"]
    assert [m.context["count"] for m in outbox(db) if m.template == "milestone_private"] == [2]
    texts = render_all(db)
    assert "Milestone! Ada" in texts[1] and "first engagement" in texts[1]
    private = [t for m, t in zip(outbox(db), texts, strict=True)
               if m.template == "milestone_private"]
    assert "that was your 2nd engagement" in private[0]
    from bot.rendering import Renderer

    labels = Renderer().env.get_template("text/replies/labels.j2").module
    assert [str(labels.ordinal(n)) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 25, 101)] == [
        "first", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "25th", "101st"]
    first = next(m for m in outbox(db) if m.template == "recognition_engagement")
    assert first.context["tier"] == "Gold" and first.context["reference_type_label"] == (
        "Case study")


async def test_the_quarterly_post_names_only_those_who_opted_in(
        db: FakeDatabase, rctx: ServiceContext, add_advocate: AddAdvocate) -> None:
    ada = await add_advocate(name="Ada", public_recognition=True)
    bo = await add_advocate(name="Bo")
    await _complete(db, ada.id, datetime(2026, 2, 1, tzinfo=UTC), points=10)
    await _complete(db, bo.id, datetime(2026, 2, 2, tzinfo=UTC), points=40)
    assert await post_top_advocates(rctx, NOW, "2026-Q2") == 1
    assert await post_top_advocates(rctx, NOW, "2026-Q2") == 0
    (post,) = [m for m in outbox(db) if m.template == "recognition_top"]
    assert post.context == {"quarter": "2026-Q1", "unnamed": 1, "timezone": "Europe/Berlin",
                            "named": [{"name": "Ada", "points": 10, "engagements": 1}]}
    assert "1 more top advocate who prefers to stay unnamed" in render_all(db)[0]


async def test_no_channel_means_no_public_posts(
        db: FakeDatabase, ctx: ServiceContext, add_advocate: AddAdvocate) -> None:
    ada = await add_advocate(public_recognition=True)
    await _complete(db, ada.id, NOW - timedelta(days=1))
    await recognise_engagements(ctx, NOW)
    assert channel_posts(db) == [] and templates_to(db, ada.email) == ["milestone_private"]
    assert await post_top_advocates(ctx, NOW, "2026-Q2") == 0


async def test_an_advocate_is_reminded_once_before_their_ask_expires(
        db: FakeDatabase, rctx: ServiceContext, add_advocate: AddAdvocate) -> None:
    ada = await add_advocate()
    request = await _request(db, state=RequestState.ASKING, needed_by=date(2026, 3, 20))
    async with db.uow() as uow:
        await uow.asks.add(Ask(request_id=request.id, advocate_id=ada.id, rank=1,
                               created_at=NOW - timedelta(hours=40),
                               expires_at=NOW + timedelta(hours=8)))
        await uow.asks.add(Ask(request_id=request.id, advocate_id=ada.id, rank=2,
                               created_at=NOW, expires_at=NOW + timedelta(hours=48)))
        await uow.commit()
    assert await remind_expiring_asks(rctx, NOW) == 1
    assert await remind_expiring_asks(rctx, NOW + timedelta(hours=1)) == 0
    assert templates_to(db, ada.email) == ["ask_reminder"]
    assert "closes on Mon 02 Mar 2026, 18:00 CET" in render_all(db)[0]


async def test_needed_by_near_nudges_rep_and_managers_and_past_it_closes_matching(
        db: FakeDatabase, rctx: ServiceContext) -> None:
    soon = await _request(db, state=RequestState.ASKING, needed_by=date(2026, 3, 3))
    later = await _request(db, state=RequestState.MATCHING, needed_by=date(2026, 3, 20))
    stuck = await _request(db, state=RequestState.MATCHING, needed_by=date(2026, 3, 1))
    assert await nudge_needed_by(rctx, NOW) == 3  # rep + manager for `soon`, `stuck` closed
    assert await nudge_needed_by(rctx, NOW) == 0
    assert templates_to(db, PM_EMAIL) == ["needed_by_nudge", "request_unfulfilled"]
    assert templates_to(db, REP_EMAIL) == ["needed_by_nudge", "request_unfulfilled_rep"]
    nudge = next(m for m in outbox(db) if m.template == "needed_by_nudge")
    assert nudge.context["request"]["id"] == soon.id and nudge.context["hours_left"] == 39
    async with db.uow() as uow:
        assert (await uow.requests.get(stuck.id)).state is RequestState.UNFULFILLED
        assert (await uow.requests.get(later.id)).state is RequestState.MATCHING
    assert "no advocate has said yes yet" in render_all(db)[0]
