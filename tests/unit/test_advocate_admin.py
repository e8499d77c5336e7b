"""Roster administration for one advocate: pause and resume, limits (the advocate's own,
stricter only; a program manager's override, audited), leaving the program, the profile."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.domain.errors import DomainError, InvalidInput, NotAllowed
from bot.domain.limits import check_can_ask
from bot.domain.model import (
    Actor,
    Advocate,
    AdvocateStatus,
    Ask,
    AskState,
    EngagementState,
    LimitOverrides,
    Outcome,
    Person,
    ReferenceRequest,
    ReferenceType,
    RequestState,
    Usage,
)
from bot.rendering import Renderer
from bot.services.advocates import (
    Tier,
    advocate_profile,
    leave_program,
    pause_advocate,
    resume_advocate,
    set_manager_limits,
    set_own_limits,
)
from bot.services.context import ServiceContext
from bot.services.outcomes import record_outcome
from bot.services.scheduling import pick_time
from tests.fakes import FakeDatabase, FixedClock, raises_saying, words
from tests.unit.conftest import (
    OWNER_EMAIL,
    PM_EMAIL,
    REP_EMAIL,
    START,
    AddAdvocate,
    advocate_actor,
    audit_actions,
    last_to,
    messages_to,
    outbox,
    templates_to,
)
from tests.unit.test_scheduling import SLOT_0, seed_engagement

RENDERER = Renderer()


async def stored(db: FakeDatabase, advocate: Advocate) -> Advocate:
    async with db.uow() as uow:
        found = await uow.advocates.get(advocate.id or 0)
    assert found is not None
    return found


def text_of(db: FakeDatabase, email: str, template: str) -> str:
    message = last_to(db, email, template)
    return RENDERER.text(message.template, message.context)


@pytest.fixture
async def avery(add_advocate: AddAdvocate) -> Advocate:
    return await add_advocate(name="Avery Advocate", email="avery@customer.example",
                              timezone="Asia/Tokyo")


# --- pause and resume ------------------------------------------------------------------------


async def test_an_advocate_can_pause_themself_until_they_resume(
        ctx: ServiceContext, db: FakeDatabase, avery: Advocate) -> None:
    me = advocate_actor(avery)

    paused = await pause_advocate(ctx, me, avery.id or 0, until=None, reason="busy quarter")

    assert paused.status is AdvocateStatus.PAUSED
    assert (await stored(db, avery)).status is AdvocateStatus.PAUSED
    assert not check_can_ask(paused, Usage(), ctx.policy.limits, START).allowed
    assert audit_actions(db, f"advocate:{avery.id}") == ["advocate.paused"]
    assert outbox(db) == []  # they did it themself; the handler answers them

    resumed = await resume_advocate(ctx, me, avery.id or 0)
    assert resumed.status is AdvocateStatus.ACTIVE
    assert check_can_ask(resumed, Usage(), ctx.policy.limits, START).allowed
    assert audit_actions(db, f"advocate:{avery.id}") == ["advocate.paused", "advocate.resumed"]


async def test_a_dated_pause_ends_by_itself_the_day_after(
        ctx: ServiceContext, db: FakeDatabase, avery: Advocate, pm: Actor) -> None:
    paused = await pause_advocate(ctx, pm, avery.id or 0, until=date(2026, 3, 15),
                                  reason="parental leave")

    assert paused.status is AdvocateStatus.ACTIVE
    assert paused.unavailable_until == date(2026, 3, 15)
    limits = ctx.policy.limits
    on_leave = check_can_ask(paused, Usage(), limits, datetime(2026, 3, 15, 14, 0, tzinfo=UTC))
    assert not on_leave.allowed  # 23:00 on the 15th in Tokyo
    # Midnight in Tokyo (15:00 UTC) starts the 16th there: askable again, no job needed.
    back = check_can_ask(paused, Usage(), limits, datetime(2026, 3, 15, 15, 0, tzinfo=UTC))
    assert back.allowed
    # A program manager did it, so the advocate is told why the asks stopped.
    text = text_of(db, avery.email, "advocate_paused")
    assert "Pat Manager has paused your reference requests through 2026-03-15" in text
    assert "parental leave" in text


async def test_pausing_the_same_way_twice_changes_nothing(
        ctx: ServiceContext, db: FakeDatabase, avery: Advocate, pm: Actor) -> None:
    await pause_advocate(ctx, pm, avery.id or 0, until=None)
    before = (len(outbox(db)), len(db.state.audit))
    await pause_advocate(ctx, pm, avery.id or 0, until=None)
    assert (len(outbox(db)), len(db.state.audit)) == before


async def test_a_pause_cannot_end_in_the_past(
        ctx: ServiceContext, avery: Advocate) -> None:
    with pytest.raises(InvalidInput) as refused:
        await pause_advocate(ctx, advocate_actor(avery), avery.id or 0,
                             until=date(2026, 3, 1))
    assert words(refused.value) == {"until": "Pick a day from today on."}


async def test_nobody_else_can_pause_or_resume_an_advocate(
        ctx: ServiceContext, avery: Advocate, rep: Actor, owner: Actor,
        add_advocate: AddAdvocate) -> None:
    other = advocate_actor(await add_advocate())
    for someone in (rep, owner, other):
        with raises_saying(NotAllowed, "isn't yours"):
            await pause_advocate(ctx, someone, avery.id or 0, until=None)
        with pytest.raises(NotAllowed):
            await resume_advocate(ctx, someone, avery.id or 0)


async def test_a_program_manager_resuming_someone_tells_them(
        ctx: ServiceContext, db: FakeDatabase, avery: Advocate, pm: Actor) -> None:
    await pause_advocate(ctx, advocate_actor(avery), avery.id or 0, until=None)
    await resume_advocate(ctx, pm, avery.id or 0)
    assert templates_to(db, avery.email) == ["advocate_resumed"]
    assert "Pat Manager has resumed" in text_of(db, avery.email, "advocate_resumed")


# --- limits ----------------------------------------------------------------------------------


async def test_an_advocate_may_tighten_their_own_limits(
        ctx: ServiceContext, db: FakeDatabase, avery: Advocate) -> None:
    wish = LimitOverrides(max_per_90_days=1, cooldown_days=30)

    updated = await set_own_limits(ctx, advocate_actor(avery), avery.id or 0, wish)

    assert updated.own_limits == wish
    assert (await stored(db, avery)).own_limits == wish
    [entry] = [e for e in db.state.audit if e.action == "limit.own"]
    assert entry.detail["after"] == {"max_per_90_days": 1, "max_per_365_days": None,
                                     "cooldown_days": 30, "max_open_asks": None}


async def test_an_advocate_cannot_loosen_their_limits(
        ctx: ServiceContext, db: FakeDatabase, avery: Advocate) -> None:
    with pytest.raises(InvalidInput) as refused:
        await set_own_limits(ctx, advocate_actor(avery), avery.id or 0,
                             LimitOverrides(max_per_90_days=5, cooldown_days=7))
    assert set(words(refused.value)) == {"max_per_90_days", "cooldown_days"}
    assert (await stored(db, avery)).own_limits == LimitOverrides()
    assert db.state.audit == []


async def test_own_limits_are_the_advocates_alone_to_set(
        ctx: ServiceContext, avery: Advocate, pm: Actor, rep: Actor) -> None:
    for someone in (pm, rep):
        with raises_saying(NotAllowed, "isn't yours"):
            await set_own_limits(ctx, someone, avery.id or 0, LimitOverrides(max_per_90_days=1))


async def test_a_program_managers_override_needs_a_reason_and_is_audited_before_and_after(
        ctx: ServiceContext, db: FakeDatabase, avery: Advocate, pm: Actor) -> None:
    with pytest.raises(InvalidInput) as no_reason:
        await set_manager_limits(ctx, pm, avery.id or 0, LimitOverrides(max_per_90_days=6),
                                 reason="   ")
    assert list(words(no_reason.value)) == ["reason"]

    await set_manager_limits(ctx, pm, avery.id or 0, LimitOverrides(max_per_90_days=6),
                             reason="Loves talking to prospects")
    updated = await set_manager_limits(ctx, pm, avery.id or 0,
                                       LimitOverrides(max_per_90_days=4, cooldown_days=7),
                                       reason="Asked for fewer")

    assert updated.manager_limits == LimitOverrides(max_per_90_days=4, cooldown_days=7)
    overrides = [e for e in db.state.audit if e.action == "limit.override"]
    assert [e.actor for e in overrides] == [PM_EMAIL, PM_EMAIL]
    assert overrides[1].subject == f"advocate:{avery.id}"
    assert overrides[1].detail == {
        "before": {"max_per_90_days": 6, "max_per_365_days": None, "cooldown_days": None,
                   "max_open_asks": None},
        "after": {"max_per_90_days": 4, "max_per_365_days": None, "cooldown_days": 7,
                  "max_open_asks": None},
        "reason": "Asked for fewer",
    }


async def test_only_program_managers_override_limits_and_never_with_negatives(
        ctx: ServiceContext, avery: Advocate, rep: Actor, pm: Actor) -> None:
    for someone in (rep, advocate_actor(avery)):
        with raises_saying(NotAllowed, "only a program manager"):
            await set_manager_limits(ctx, someone, avery.id or 0,
                                     LimitOverrides(max_per_90_days=9), reason="because")
    with pytest.raises(InvalidInput) as refused:
        await set_manager_limits(ctx, pm, avery.id or 0, LimitOverrides(cooldown_days=-1),
                                 reason="typo")
    assert words(refused.value) == {
        "cooldown_days": "The rest between references cannot be negative."}


# --- leaving -----------------------------------------------------------------------------------


async def open_ask(db: FakeDatabase, advocate: Advocate, rep: Person,
                   state: AskState = AskState.PENDING) -> tuple[ReferenceRequest, Ask]:
    """A request currently asking ``advocate`` (as ``ask_next`` leaves it)."""
    async with db.uow() as uow:
        request = await uow.requests.add(ReferenceRequest(
            rep=rep, prospect_company="Globex Bank", reference_type=ReferenceType.CALL,
            needed_by=date(2026, 3, 20), created_at=START, industry="Fintech", region="EMEA",
            products=("Payments API",), timezone="America/New_York",
            proposed_times=(SLOT_0,),
            state=(RequestState.ASKING if state is AskState.PENDING
                   else RequestState.AWAITING_APPROVAL)))
        ask = await uow.asks.add(Ask(
            request_id=request.id or 0, advocate_id=advocate.id or 0, rank=1,
            created_at=START, expires_at=START + timedelta(hours=48), state=state,
            approver_email=OWNER_EMAIL if state is AskState.AWAITING_APPROVAL else None))
        await uow.commit()
    return request, ask


async def test_leaving_withdraws_every_open_ask_at_once_and_moves_each_request_on(
        ctx: ServiceContext, db: FakeDatabase, avery: Advocate, add_advocate: AddAdvocate,
        rep_person: Person) -> None:
    standby = await add_advocate(name="Sam Standby")
    first, first_ask = await open_ask(db, avery, rep_person)
    second, second_ask = await open_ask(db, avery, rep_person,
                                        state=AskState.AWAITING_APPROVAL)

    result = await leave_program(ctx, advocate_actor(avery), avery.id or 0)

    assert result.advocate.status is AdvocateStatus.RETIRED
    assert (await stored(db, avery)).status is AdvocateStatus.RETIRED
    assert sorted(a.id or 0 for a in result.withdrawn) == [first_ask.id, second_ask.id]
    assert {a.state for a in db.state.asks.values() if a.advocate_id == avery.id} == {
        AskState.WITHDRAWN}
    # The pending ask's message loses its buttons, in place.
    closed = last_to(db, avery.email, "left_program_ask_closed")
    assert closed.replaces == f"ask:{first_ask.id}"
    # The approval the account owner had not given yet is closed, in place, too.
    approval = last_to(db, OWNER_EMAIL, "approval_closed")
    assert approval.replaces == f"approval:{second_ask.id}:{OWNER_EMAIL}"
    assert approval.context["outcome"] == "withdrawn"
    # The rep is told, and each request moves on to the next-best advocate.
    rep_notices = [m for m in messages_to(db, REP_EMAIL) if m.template == "left_program_rep"]
    assert [m.context["request"]["id"] for m in rep_notices] == [first.id, second.id]
    assert "Avery Advocate (" in text_of(db, REP_EMAIL, "left_program_rep")
    assert {a.advocate_id for a in db.state.asks.values() if a.state.is_open} == {standby.id}
    assert "ask.withdrawn" in audit_actions(db, f"ask:{first_ask.id}")
    [left] = [e for e in db.state.audit if e.action == "advocate.left"]
    assert sorted(left.detail["withdrawn_asks"]) == [first_ask.id, second_ask.id]
    farewell = text_of(db, avery.email, "left_program")
    assert "You've left the reference program" in farewell
    assert "2 open asks were withdrawn" in farewell
    assert all(RENDERER.text(m.template, m.context) for m in outbox(db))


async def test_calls_already_agreed_stay_on_when_an_advocate_leaves(
        ctx: ServiceContext, db: FakeDatabase, rep_person: Person, pm: Actor) -> None:
    booked = await seed_engagement(db, rep_person)
    await pick_time(ctx, advocate_actor(booked.advocate), booked.id, slot=0)

    result = await leave_program(ctx, pm, booked.advocate.id or 0)

    assert [e.id for e in result.kept] == [booked.id]
    assert db.state.engagements[booked.id].state is EngagementState.SCHEDULED
    farewell = text_of(db, booked.advocate.email, "left_program")
    assert "Pat Manager has taken you off the reference program" in farewell
    assert "Tue 10 Mar 2026, 23:00 JST" in farewell


async def test_leaving_twice_changes_nothing_and_a_leaver_cannot_be_paused(
        ctx: ServiceContext, db: FakeDatabase, avery: Advocate, rep: Actor) -> None:
    me = advocate_actor(avery)
    with pytest.raises(NotAllowed):
        await leave_program(ctx, rep, avery.id or 0)
    await leave_program(ctx, me, avery.id or 0)
    before = (len(outbox(db)), len(db.state.audit))

    again = await leave_program(ctx, me, avery.id or 0)

    assert again.withdrawn == () and (len(outbox(db)), len(db.state.audit)) == before
    with raises_saying(DomainError, "has left the program"):
        await pause_advocate(ctx, me, avery.id or 0, until=None)
    with raises_saying(DomainError, "has left the program"):
        await resume_advocate(ctx, me, avery.id or 0)


# --- the profile -------------------------------------------------------------------------------


async def test_the_profile_shows_usage_limits_tier_and_history(
        ctx: ServiceContext, db: FakeDatabase, clock: FixedClock, rep_person: Person,
        rep: Actor) -> None:
    done = await seed_engagement(db, rep_person, advocate={"points": 45})
    me = advocate_actor(done.advocate)
    await pick_time(ctx, me, done.id, slot=0)
    clock.set(SLOT_0 + timedelta(hours=2))
    await record_outcome(ctx, rep, done.id, Outcome.COMPLETED, helpfulness=5,
                         influenced_amount=None)
    await set_own_limits(ctx, me, done.advocate.id or 0, LimitOverrides(max_per_90_days=2))

    profile = await advocate_profile(ctx, me, done.advocate.id or 0)

    assert profile.usage_line == "1 of 2 this quarter"
    assert str(profile.last_365_days) == "1 of 8 in 365 days"
    assert str(profile.open_asks) == "0 of 2 open asks"
    assert profile.limits.max_per_90_days == 2
    assert profile.tier is Tier.SILVER and profile.next_tier == (Tier.GOLD, 95)
    assert profile.availability == "active"
    assert profile.upcoming == ()
    [item] = profile.history
    assert item.state is EngagementState.COMPLETED and item.points == 10
    assert item.at == SLOT_0 and item.rep_name == "Riley Rep"
    assert item.prospect_company is None  # hidden from advocates by the program
    # The 14-day cooldown after the call keeps them from being asked right now.
    assert not profile.can_be_asked.allowed
    assert profile.can_be_asked.until == SLOT_0 + timedelta(days=14)


async def test_the_profile_is_for_the_advocate_and_program_managers_only(
        ctx: ServiceContext, avery: Advocate, pm: Actor, rep: Actor, owner: Actor,
        add_advocate: AddAdvocate) -> None:
    assert (await advocate_profile(ctx, pm, avery.id or 0)).advocate.email == avery.email
    other = advocate_actor(await add_advocate())
    for someone in (rep, owner, other):
        with raises_saying(NotAllowed, "isn't yours"):
            await advocate_profile(ctx, someone, avery.id or 0)


@pytest.mark.parametrize(("changes", "expected"), [
    ({"status": AdvocateStatus.PAUSED}, "paused"),
    ({"status": AdvocateStatus.RETIRED}, "left the program"),
    ({"unavailable_until": date(2026, 4, 3)}, "on leave through 2026-04-03"),
    ({"snoozed_until": START + timedelta(days=30)}, "snoozed until 2026-04-01"),
    ({"unavailable_until": date(2026, 3, 1)}, "active"),
])
async def test_the_profile_says_why_someone_is_not_being_asked(
        ctx: ServiceContext, db: FakeDatabase, avery: Advocate, pm: Actor,
        changes: dict[str, Any], expected: str) -> None:
    async with db.uow() as uow:
        await uow.advocates.update(replace(avery, **changes))
        await uow.commit()
    assert (await advocate_profile(ctx, pm, avery.id or 0)).availability == expected
