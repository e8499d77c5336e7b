"""Asking for consent, read as conversations: what each person received, and when."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.errors import (
    DomainError,
    InvalidInput,
    LimitReached,
    NotAllowed,
    NotFound,
    Problem,
)
from bot.domain.hours import WorkingHours, fits
from bot.domain.model import (
    Actor,
    Advocate,
    AdvocateStatus,
    AskState,
    Engagement,
    EngagementState,
    ReferenceRequest,
    ReferenceType,
    RequestState,
)
from bot.rendering import Renderer
from bot.services.asks import (
    UnknownAnswer,
    answer_ask,
    ask_advocate,
    decide_approval,
    expire_asks,
)
from bot.services.context import ServiceContext
from bot.services.messages import approval_key, ask_key, pick_time_key
from bot.services.requests import submit_request
from bot.services.scheduling import confirm_time, pick_time, reschedule
from tests.fakes import FakeDatabase, FixedClock, phrases, raises_saying, said
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
    sample_draft,
    templates_to,
    with_policy,
)


async def open_request(ctx: ServiceContext, rep: Actor, **draft: object) -> ReferenceRequest:
    return (await submit_request(ctx, rep, sample_draft(**draft))).request


async def add_engagements(db: FakeDatabase, advocate: Advocate, *days_ago: int) -> None:
    """Engagements from other requests, as if accepted ``days_ago`` days before START."""
    async with db.uow() as uow:
        for days in days_ago:
            await uow.engagements.add(Engagement(
                request_id=0, advocate_id=advocate.id, ask_id=0,
                reference_type=ReferenceType.CALL,
                accepted_at=START - timedelta(days=days)))
        await uow.commit()


def advocate_of(db: FakeDatabase, advocate: Advocate) -> Advocate:
    return db.state.advocates[advocate.id]


# --- asking ----------------------------------------------------------------------------


async def test_a_rep_who_picks_an_advocate_sees_the_ask_go_out_and_no_contact_details(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate) -> None:
    ada = await add_advocate(name="Ada Lovelace", title="CFO")
    bob = await add_advocate()
    request = await open_request(ctx, rep)

    ask = await ask_advocate(ctx, rep, request.id, ada.id)

    assert ask.state == AskState.PENDING
    assert ask.expires_at == START + timedelta(hours=48)
    assert db.state.requests[request.id].state == RequestState.ASKING
    (the_ask,) = messages_to(db, ada.email)
    assert the_ask.template == "ask" and the_ask.key == ask_key(ask.id)
    shown = the_ask.context
    assert shown["timezone"] == "Europe/Berlin"
    assert shown["request"]["proposed_times"] == ["2026-03-10T15:00:00+00:00",
                                                  "2026-03-11T16:30:00+00:00"]
    assert shown["request"]["rep_name"] == "Riley Rep"
    assert shown["request"]["prospect_company"] is None
    assert "Globex" not in json.dumps(shown)
    assert messages_to(db, bob.email) == []
    sent = last_to(db, REP_EMAIL)
    assert sent.template == "ask_sent"
    assert sent.context["advocate"] == {"id": ada.id, "name": "Ada Lovelace",
                                        "company": ada.company}
    assert ada.email not in json.dumps(sent.context) and "CFO" not in json.dumps(sent.context)


async def test_the_prospect_is_named_to_the_advocate_only_if_the_program_allows(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate) -> None:
    ada = await add_advocate()
    open_ctx = with_policy(ctx, show_prospect_name=True)
    request = await open_request(open_ctx, rep)
    await ask_advocate(open_ctx, rep, request.id, ada.id)
    assert last_to(db, ada.email, "ask").context["request"]["prospect_company"] == "Globex Bank"


async def test_another_rep_cannot_ask_advocates_for_my_request(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, other_rep: Actor,
        add_advocate: AddAdvocate) -> None:
    ada = await add_advocate()
    request = await open_request(ctx, rep)
    with raises_saying(NotAllowed, "isn't yours"):
        await ask_advocate(ctx, other_rep, request.id, ada.id)
    assert db.state.asks == {}


async def test_an_advocate_who_is_resting_cannot_be_asked_and_the_rep_learns_why(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate) -> None:
    await add_advocate()
    resting = await add_advocate()
    request = await open_request(ctx, rep)  # the matches show the rep both advocates
    advocate_of(db, resting).snoozed_until = START + timedelta(days=5)  # then one rests
    with pytest.raises(LimitReached) as blocked:
        await ask_advocate(ctx, rep, request.id, resting.id)
    assert any("snoozed until 2026-03-07" in r for r in phrases(blocked.value.reasons))
    assert said(blocked.value).startswith(f"{resting.name} cannot be asked right now: snoozed")
    assert db.state.asks == {}


async def test_a_rep_asking_an_advocate_the_matches_never_showed_learns_nothing(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, pm: Actor,
        add_advocate: AddAdvocate) -> None:
    """An id outside the rep's matches gets the neutral refusal, whatever it belongs to:
    a resting advocate, one who left, or nobody at all (issue 10, ids reveal nothing)."""
    await add_advocate()
    resting = await add_advocate(snoozed_until=START + timedelta(days=5))
    gone = await add_advocate(status=AdvocateStatus.RETIRED)
    request = await open_request(ctx, rep)
    for advocate_id in (resting.id, gone.id, 999):
        with pytest.raises(NotFound) as refused:
            await ask_advocate(ctx, rep, request.id, advocate_id)
        assert refused.value.problem == Problem("not_yours")
    with pytest.raises(LimitReached):  # a program manager may ask anyone, and learns why
        await ask_advocate(ctx, pm, request.id, resting.id)
    assert db.state.asks == {}


async def test_a_program_manager_override_is_audited(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, pm: Actor,
        add_advocate: AddAdvocate) -> None:
    await add_advocate()
    busy = await add_advocate()
    await add_engagements(db, busy, 20, 40, 60)
    request = await open_request(ctx, rep)

    ask = await ask_advocate(ctx, pm, request.id, busy.id,
                             override_reason="Only customer on this core banking platform")

    assert ask.override_reason == "Only customer on this core banking platform"
    (override,) = [e for e in db.state.audit if e.action == "limit.override"]
    assert override.actor == PM_EMAIL
    assert override.subject == f"advocate:{busy.id}"
    assert override.detail["reason"] == "Only customer on this core banking platform"
    assert any("3 of 3 engagements" in r for r in phrases(override.detail["reasons"]))
    assert templates_to(db, busy.email) == ["ask"]


async def test_only_a_program_manager_can_override_and_only_with_a_reason(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, pm: Actor,
        add_advocate: AddAdvocate) -> None:
    await add_advocate()
    busy = await add_advocate()
    await add_engagements(db, busy, 20, 40, 60)
    request = await open_request(ctx, rep)
    with raises_saying(NotAllowed, "only a program manager can override"):
        await ask_advocate(ctx, rep, request.id, busy.id, override_reason="please")
    with pytest.raises(LimitReached):
        await ask_advocate(ctx, pm, request.id, busy.id, override_reason="   ")
    assert "limit.override" not in audit_actions(db)


async def test_a_request_holds_only_as_many_open_asks_as_the_rep_chose(
        ctx: ServiceContext, rep: Actor, add_advocate: AddAdvocate) -> None:
    ada, bob = await add_advocate(), await add_advocate()
    request = await open_request(ctx, rep)
    await ask_advocate(ctx, rep, request.id, ada.id)
    with raises_saying(DomainError, "already has 1 open ask"):
        await ask_advocate(ctx, rep, request.id, bob.id)


async def test_the_same_advocate_is_never_asked_twice_for_a_request(
        ctx: ServiceContext, rep: Actor, add_advocate: AddAdvocate) -> None:
    ada = await add_advocate()
    await add_advocate()
    request = await open_request(ctx, rep, parallel_asks=3)
    ask = await ask_advocate(ctx, rep, request.id, ada.id)
    await answer_ask(ctx, advocate_actor(ada), ask.id, "decline")
    with raises_saying(DomainError, "already been asked"):
        await ask_advocate(ctx, rep, request.id, ada.id)


async def test_ask_the_best_available_skips_advocates_already_asked(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate) -> None:
    second = await add_advocate(health_score=70)
    best = await add_advocate(health_score=100)
    await add_advocate(health_score=10)  # unhealthy: a caution, so never offered
    request = await open_request(ctx, rep, parallel_asks=3)
    first_ask = await ask_advocate(ctx, rep, request.id)
    second_ask = await ask_advocate(ctx, rep, request.id)
    assert (first_ask.advocate_id, second_ask.advocate_id) == (best.id, second.id)
    with raises_saying(DomainError, "Nobody else fits"):
        await ask_advocate(ctx, rep, request.id)
    assert db.state.requests[request.id].state == RequestState.ASKING


# --- answering ---------------------------------------------------------------------------


async def test_a_yes_creates_an_engagement_shares_contact_details_and_asks_for_a_time(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, clock: FixedClock,
        add_advocate: AddAdvocate) -> None:
    ada = await add_advocate(name="Ada Lovelace", title="CFO")
    request = await open_request(ctx, rep)
    ask = await ask_advocate(ctx, rep, request.id, ada.id)
    clock.advance(hours=3)

    answered = await answer_ask(ctx, advocate_actor(ada), ask.id, "accept")

    assert answered.state == AskState.ACCEPTED
    assert answered.answered_at == START + timedelta(hours=3)
    (engagement,) = db.state.engagements.values()
    assert (engagement.state, engagement.advocate_id, engagement.ask_id) == (
        EngagementState.ACCEPTED, ada.id, ask.id)
    assert engagement.duration_minutes == 30
    assert db.state.requests[request.id].state == RequestState.ACCEPTED
    assert templates_to(db, ada.email) == ["ask", "ask_answered", "pick_time"]
    assert last_to(db, ada.email, "ask_answered").replaces == ask_key(ask.id)
    pick = last_to(db, ada.email, "pick_time")
    assert pick.key == pick_time_key(engagement.id)
    assert pick.context["slots"] == [  # the program sets no hours here: every time is offered
        {"slot": 0, "starts_at": "2026-03-10T15:00:00+00:00"},
        {"slot": 1, "starts_at": "2026-03-11T16:30:00+00:00"}]
    assert (pick.context["outside_hours"], pick.context["suggested"]) == (0, [])
    yes = last_to(db, REP_EMAIL, "ask_accepted").context
    assert yes["advocate"] == {"id": ada.id, "name": "Ada Lovelace", "company": ada.company,
                               "title": "CFO", "email": ada.email}
    assert yes["engagement_id"] == engagement.id
    assert audit_actions(db, f"ask:{ask.id}") == ["ask.created", "ask.accepted"]
    assert audit_actions(db, f"request:{request.id}") == [
        "request.submitted", "request.matching", "request.matches_shown", "request.asking",
        "request.accepted"]
    assert audit_actions(db, f"engagement:{engagement.id}") == ["engagement.accepted"]


async def test_a_double_clicked_accept_creates_one_engagement(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate) -> None:
    ada = await add_advocate()
    request = await open_request(ctx, rep)
    ask = await ask_advocate(ctx, rep, request.id, ada.id)
    await answer_ask(ctx, advocate_actor(ada), ask.id, "accept")
    sent = len(outbox(db))

    again = await answer_ask(ctx, advocate_actor(ada), ask.id, "accept")
    late_no = await answer_ask(ctx, advocate_actor(ada), ask.id, "decline")

    assert again.state == late_no.state == AskState.ACCEPTED
    assert len(db.state.engagements) == 1
    assert len(outbox(db)) == sent


async def test_nobody_can_answer_for_an_advocate_not_even_a_program_manager(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, pm: Actor,
        add_advocate: AddAdvocate) -> None:
    ada = await add_advocate()
    request = await open_request(ctx, rep)
    ask = await ask_advocate(ctx, rep, request.id, ada.id)
    for someone_else in (pm, rep):
        with raises_saying(NotAllowed, "isn't yours"):
            await answer_ask(ctx, someone_else, ask.id, "accept")
    assert db.state.asks[ask.id].state == AskState.PENDING


async def test_an_unknown_answer_is_refused(ctx: ServiceContext, rep: Actor,
                                            add_advocate: AddAdvocate) -> None:
    ada = await add_advocate()
    request = await open_request(ctx, rep)
    ask = await ask_advocate(ctx, rep, request.id, ada.id)
    with pytest.raises(UnknownAnswer):
        await answer_ask(ctx, advocate_actor(ada), ask.id, "maybe")  # type: ignore[arg-type]


async def test_a_yes_past_the_limits_is_closed_kindly_and_the_next_advocate_is_asked(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate) -> None:
    ada = await add_advocate()
    bob = await add_advocate()
    request = await open_request(ctx, rep)
    ask = await ask_advocate(ctx, rep, request.id, ada.id)
    # Meanwhile Ada said yes to three other requests.
    await add_engagements(db, ada, 10, 30, 60)

    answered = await answer_ask(ctx, advocate_actor(ada), ask.id, "accept")

    assert answered.state == AskState.WITHDRAWN
    # Stored as codes (no chat shows it; the audit keeps the reasons to be worded).
    assert "engagement_cap(used=3, cap=3, days=90" in answered.decline_reason
    assert all(e.request_id != request.id for e in db.state.engagements.values())
    closed = last_to(db, ada.email)
    assert closed.template == "ask_closed" and closed.replaces == ask_key(ask.id)
    assert any("3 of 3" in r for r in phrases(closed.context["reasons"]))
    assert templates_to(db, bob.email) == ["ask"]
    assert templates_to(db, REP_EMAIL)[-2:] == ["ask_declined", "ask_sent"]
    assert last_to(db, REP_EMAIL, "ask_declined").context["answer"] == "unavailable"
    assert db.state.requests[request.id].state == RequestState.ASKING


async def test_a_program_manager_override_carries_through_to_the_yes(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, pm: Actor,
        add_advocate: AddAdvocate) -> None:
    await add_advocate()
    busy = await add_advocate()
    await add_engagements(db, busy, 20, 40, 60)
    request = await open_request(ctx, rep)
    ask = await ask_advocate(ctx, pm, request.id, busy.id, override_reason="Board request")

    assert (await answer_ask(ctx, advocate_actor(busy), ask.id, "accept")).state == (
        AskState.ACCEPTED)
    assert audit_actions(db).count("limit.override") == 2


async def test_accepting_withdraws_the_other_parallel_ask(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate) -> None:
    ada, bob = await add_advocate(health_score=100), await add_advocate(health_score=90)
    request = await open_request(ctx, rep, parallel_asks=2)
    first = await ask_advocate(ctx, rep, request.id, ada.id)
    second = await ask_advocate(ctx, rep, request.id, bob.id)

    await answer_ask(ctx, advocate_actor(ada), first.id, "accept")

    assert db.state.asks[second.id].state == AskState.WITHDRAWN
    withdrawn = last_to(db, bob.email)
    assert withdrawn.template == "ask_withdrawn"
    assert withdrawn.replaces == ask_key(second.id)
    assert withdrawn.context["why"] == "filled"
    # Bob's late yes changes nothing.
    assert (await answer_ask(ctx, advocate_actor(bob), second.id, "accept")).state == (
        AskState.WITHDRAWN)
    assert len(db.state.engagements) == 1


async def test_a_yes_to_a_case_study_needs_no_time_picking(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate) -> None:
    ada = await add_advocate(reference_types=frozenset({ReferenceType.CASE_STUDY}))
    request = await open_request(ctx, rep, reference_type="case_study", proposed_times=())
    ask = await ask_advocate(ctx, rep, request.id, ada.id)
    await answer_ask(ctx, advocate_actor(ada), ask.id, "accept")
    assert templates_to(db, ada.email) == ["ask", "ask_answered"]


async def test_two_declines_in_a_row_snooze_the_advocate_for_30_days(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, clock: FixedClock,
        add_advocate: AddAdvocate) -> None:
    ada = await add_advocate()
    first = await open_request(ctx, rep)
    second = await open_request(ctx, rep, prospect_company="Initech")
    ask = await ask_advocate(ctx, rep, first.id, ada.id)
    await answer_ask(ctx, advocate_actor(ada), ask.id, "decline")
    assert advocate_of(db, ada).snoozed_until is None
    assert last_to(db, ada.email, "ask_answered").context["snoozed_until"] is None

    clock.advance(days=1)
    ask = await ask_advocate(ctx, rep, second.id, ada.id)
    await answer_ask(ctx, advocate_actor(ada), ask.id, "decline")

    until = START + timedelta(days=31)
    assert advocate_of(db, ada).snoozed_until == until
    assert last_to(db, ada.email, "ask_answered").context["snoozed_until"] == until.isoformat()
    assert audit_actions(db, f"advocate:{ada.id}") == ["advocate.snoozed"]


async def test_the_decline_reason_stays_with_the_program_managers(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate) -> None:
    ada = await add_advocate()
    await add_advocate()
    request = await open_request(ctx, rep)
    ask = await ask_advocate(ctx, rep, request.id, ada.id)
    await answer_ask(ctx, advocate_actor(ada), ask.id, "decline",
                     reason="Our CTO is unhappy with the last release")

    told = last_to(db, REP_EMAIL, "ask_declined").context
    assert told["answer"] == "decline"
    assert "CTO" not in json.dumps([m.context for m in messages_to(db, REP_EMAIL)])
    (declined,) = [e for e in db.state.audit if e.action == "ask.declined"]
    assert declined.detail["reason"] == "Our CTO is unhappy with the last release"


async def test_not_now_rests_the_advocate_for_14_days_and_the_next_one_is_asked(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate) -> None:
    ada = await add_advocate(health_score=100)
    bob = await add_advocate(health_score=90)
    request = await open_request(ctx, rep)
    ask = await ask_advocate(ctx, rep, request.id, ada.id)

    answered = await answer_ask(ctx, advocate_actor(ada), ask.id, "not_now")

    assert answered.state == AskState.SNOOZED
    assert advocate_of(db, ada).snoozed_until == START + timedelta(days=14)
    assert last_to(db, ada.email).template == "ask_answered"
    assert last_to(db, REP_EMAIL, "ask_declined").context["answer"] == "not_now"
    assert templates_to(db, bob.email) == ["ask"]
    assert last_to(db, REP_EMAIL, "ask_sent").context["automatic"] is True


async def test_when_nobody_is_left_the_request_is_unfulfilled_and_everyone_is_told(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate) -> None:
    ada = await add_advocate()
    request = await open_request(ctx, rep)
    ask = await ask_advocate(ctx, rep, request.id, ada.id)
    await answer_ask(ctx, advocate_actor(ada), ask.id, "decline")

    assert db.state.requests[request.id].state == RequestState.UNFULFILLED
    assert templates_to(db, REP_EMAIL)[-1] == "request_unfulfilled_rep"
    pm_note = last_to(db, PM_EMAIL, "request_unfulfilled").context
    assert pm_note["asked"] == [{"id": ada.id, "name": ada.name, "company": ada.company,
                                 "outcome": "declined"}]
    assert pm_note["reason"] == "no_one_left"


# --- expiry ------------------------------------------------------------------------------


async def test_an_unanswered_ask_expires_after_48_hours_and_the_next_advocate_is_asked(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, clock: FixedClock,
        add_advocate: AddAdvocate) -> None:
    ada = await add_advocate(name="Ada Lovelace", health_score=100)
    bob = await add_advocate(health_score=90)
    request = await open_request(ctx, rep)
    ask = await ask_advocate(ctx, rep, request.id, ada.id)

    clock.advance(hours=47, minutes=59)
    assert await expire_asks(ctx) == 0
    clock.advance(minutes=1)
    assert await expire_asks(ctx) == 1

    assert db.state.asks[ask.id].state == AskState.EXPIRED
    expired = last_to(db, ada.email)
    assert expired.template == "ask_expired" and expired.replaces == ask_key(ask.id)
    unanswered = last_to(db, REP_EMAIL, "ask_unanswered").context
    assert unanswered["advocate"]["name"] == "Ada Lovelace"
    assert templates_to(db, bob.email) == ["ask"]
    assert "ask.expired" in audit_actions(db, f"ask:{ask.id}")
    assert await expire_asks(ctx) == 0  # the sweep is safe to repeat


async def test_an_ask_past_the_needed_by_date_is_not_passed_on(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, clock: FixedClock,
        add_advocate: AddAdvocate) -> None:
    ada = await add_advocate()
    bob = await add_advocate()
    request = await open_request(ctx, rep, needed_by=date(2026, 3, 3),
                                 proposed_times=[datetime(2026, 3, 3, 15, tzinfo=UTC)])
    await ask_advocate(ctx, rep, request.id, ada.id)
    clock.advance(hours=48)  # 4 March 09:00 UTC: 04:00 in New York, the 3rd is over
    assert await expire_asks(ctx) == 1
    assert messages_to(db, bob.email) == []
    assert db.state.requests[request.id].state == RequestState.UNFULFILLED
    assert last_to(db, PM_EMAIL, "request_unfulfilled").context["reason"] == "needed_by_passed"


async def test_nobody_is_asked_for_a_request_whose_needed_by_date_has_passed(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, clock: FixedClock,
        add_advocate: AddAdvocate) -> None:
    ada = await add_advocate()
    request = await open_request(ctx, rep, needed_by=date(2026, 3, 3),
                                 proposed_times=[datetime(2026, 3, 3, 15, tzinfo=UTC)])
    clock.set(datetime(2026, 3, 4, 5, 0, tzinfo=UTC))  # midnight has passed in New York
    with raises_saying(DomainError, "has passed"):
        await ask_advocate(ctx, rep, request.id, ada.id)
    assert db.state.asks == {}


async def test_one_broken_ask_does_not_stop_the_expiry_sweep(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, clock: FixedClock,
        add_advocate: AddAdvocate) -> None:
    ada, bob = await add_advocate(), await add_advocate()
    broken = await open_request(ctx, rep)
    fine = await open_request(ctx, rep, prospect_company="Initech")
    broken_ask = await ask_advocate(ctx, rep, broken.id, ada.id)
    fine_ask = await ask_advocate(ctx, rep, fine.id, bob.id)
    del db.state.requests[broken.id]  # e.g. a row another process removed
    clock.advance(hours=49)

    with pytest.raises(ExceptionGroup) as failed:
        await expire_asks(ctx)

    assert len(failed.value.exceptions) == 1
    assert db.state.asks[fine_ask.id].state == AskState.EXPIRED
    assert db.state.asks[broken_ask.id].state == AskState.PENDING


# --- approval ----------------------------------------------------------------------------


@pytest.fixture
def approval_ctx(ctx: ServiceContext) -> ServiceContext:
    return with_policy(ctx, require_approval=True)


async def test_with_approval_required_the_account_owner_decides_before_the_advocate_hears(
        approval_ctx: ServiceContext, db: FakeDatabase, rep: Actor, owner: Actor,
        clock: FixedClock, add_advocate: AddAdvocate) -> None:
    ada = await add_advocate(account_owner_email=OWNER_EMAIL)
    async with db.uow() as uow:  # the bot has met the owner in chat: Paris time
        await uow.people.upsert(owner.person)
        await uow.commit()
    request = await open_request(approval_ctx, rep)

    ask = await ask_advocate(approval_ctx, rep, request.id, ada.id)

    assert ask.state == AskState.AWAITING_APPROVAL
    assert db.state.requests[request.id].state == RequestState.AWAITING_APPROVAL
    assert messages_to(db, ada.email) == []
    approval = last_to(db, OWNER_EMAIL)
    assert approval.template == "approval_request"
    assert approval.key == approval_key(ask.id, OWNER_EMAIL)
    assert approval.context["request"]["prospect_company"] == "Globex Bank"
    assert approval.context["timezone"] == "Europe/Paris"
    assert last_to(db, REP_EMAIL, "ask_sent").context["awaiting_approval"] is True

    clock.advance(hours=5)
    approved = await decide_approval(approval_ctx, owner, ask.id, approve=True)

    assert approved.state == AskState.PENDING
    assert approved.approved_by == OWNER_EMAIL
    assert approved.expires_at == START + timedelta(hours=5 + 48)
    assert templates_to(db, ada.email) == ["ask"]
    closed = last_to(db, OWNER_EMAIL)
    assert (closed.template, closed.replaces) == ("approval_closed",
                                                  approval_key(ask.id, OWNER_EMAIL))
    assert closed.context["outcome"] == "approved"
    assert db.state.requests[request.id].state == RequestState.ASKING


async def test_a_denied_approval_tells_the_rep_and_asks_the_next_advocate(
        approval_ctx: ServiceContext, db: FakeDatabase, rep: Actor, owner: Actor,
        add_advocate: AddAdvocate) -> None:
    ada = await add_advocate(account_owner_email=OWNER_EMAIL, health_score=100)
    bob = await add_advocate(health_score=90)
    request = await open_request(approval_ctx, rep)
    ask = await ask_advocate(approval_ctx, rep, request.id, ada.id)

    denied = await decide_approval(approval_ctx, owner, ask.id, approve=False,
                                   reason="Escalation open")

    assert denied.state == AskState.DENIED
    assert messages_to(db, ada.email) == []
    assert last_to(db, REP_EMAIL, "approval_denied").context["advocate"]["id"] == ada.id
    assert "Escalation" not in json.dumps([m.context for m in messages_to(db, REP_EMAIL)])
    # Bob has no account owner, so the program managers approve him.
    assert last_to(db, PM_EMAIL).template == "approval_request"
    assert last_to(db, PM_EMAIL).context["as_account_owner"] is False
    assert [a.advocate_id for a in db.state.asks.values()
            if a.state == AskState.AWAITING_APPROVAL] == [bob.id]


async def test_with_nobody_to_approve_the_ask_goes_straight_to_the_advocate(
        approval_ctx: ServiceContext, db: FakeDatabase, rep: Actor,
        add_advocate: AddAdvocate) -> None:
    no_managers = replace(approval_ctx, program_managers=())
    ada = await add_advocate()
    request = await open_request(no_managers, rep)
    ask = await ask_advocate(no_managers, rep, request.id, ada.id)
    assert ask.state == AskState.PENDING
    assert templates_to(db, ada.email) == ["ask"]
    assert "approval.skipped" in audit_actions(db, f"request:{request.id}")


async def test_only_the_account_owner_or_a_program_manager_may_approve(
        approval_ctx: ServiceContext, db: FakeDatabase, rep: Actor, pm: Actor,
        add_advocate: AddAdvocate) -> None:
    ada = await add_advocate(account_owner_email=OWNER_EMAIL)
    request = await open_request(approval_ctx, rep)
    ask = await ask_advocate(approval_ctx, rep, request.id, ada.id)
    for not_theirs in (rep, advocate_actor(ada)):
        with raises_saying(NotAllowed, "isn't yours"):
            await decide_approval(approval_ctx, not_theirs, ask.id, approve=True)
    assert (await decide_approval(approval_ctx, pm, ask.id, approve=True)).state == (
        AskState.PENDING)


async def test_a_second_approval_click_changes_nothing(
        approval_ctx: ServiceContext, db: FakeDatabase, rep: Actor, owner: Actor,
        add_advocate: AddAdvocate) -> None:
    ada = await add_advocate(account_owner_email=OWNER_EMAIL)
    request = await open_request(approval_ctx, rep)
    ask = await ask_advocate(approval_ctx, rep, request.id, ada.id)
    await decide_approval(approval_ctx, owner, ask.id, approve=True)
    sent = len(outbox(db))
    assert (await decide_approval(approval_ctx, owner, ask.id, approve=False)).state == (
        AskState.PENDING)
    assert len(outbox(db)) == sent


async def test_an_approval_nobody_gives_expires_and_the_approver_message_is_closed(
        approval_ctx: ServiceContext, db: FakeDatabase, rep: Actor, clock: FixedClock,
        add_advocate: AddAdvocate) -> None:
    ada = await add_advocate(account_owner_email=OWNER_EMAIL)
    request = await open_request(approval_ctx, rep)
    ask = await ask_advocate(approval_ctx, rep, request.id, ada.id)
    clock.advance(hours=48)

    assert await expire_asks(approval_ctx) == 1

    closed = last_to(db, OWNER_EMAIL)
    assert closed.template == "approval_closed" and closed.context["outcome"] == "expired"
    assert closed.replaces == approval_key(ask.id, OWNER_EMAIL)
    assert messages_to(db, ada.email) == []
    assert last_to(db, REP_EMAIL, "ask_unanswered").context["awaiting_approval"] is True


async def test_an_approval_for_an_advocate_who_filled_up_meanwhile_is_not_sent_on(
        approval_ctx: ServiceContext, db: FakeDatabase, rep: Actor, owner: Actor,
        add_advocate: AddAdvocate) -> None:
    ada = await add_advocate(account_owner_email=OWNER_EMAIL)
    request = await open_request(approval_ctx, rep)
    ask = await ask_advocate(approval_ctx, rep, request.id, ada.id)
    await add_engagements(db, ada, 20, 40, 60)

    decided = await decide_approval(approval_ctx, owner, ask.id, approve=True)

    assert decided.state == AskState.WITHDRAWN
    assert messages_to(db, ada.email) == []
    assert last_to(db, OWNER_EMAIL).context["outcome"] == "unavailable"


RENDERER = Renderer()


# --- the advocate's call hours -----------------------------------------------------------

# Monday 9 March, New York (EDT since the 8th): 10:00 is 23:00 in Tokyo, 21:00 is Tuesday
# 10:00 there.
MIDNIGHT_IN_TOKYO = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
MORNING_IN_TOKYO = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)


async def test_a_tokyo_advocate_is_offered_only_the_reps_times_inside_her_hours(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate) -> None:
    hours = replace(ctx, policy=replace(ctx.policy, default_hours="Mon-Fri 09:00-18:00"))
    aiko = await add_advocate(name="Aiko", timezone="Asia/Tokyo")
    request = await open_request(hours, rep,
                                 proposed_times=(MIDNIGHT_IN_TOKYO, MORNING_IN_TOKYO))
    ask = await ask_advocate(hours, rep, request.id, aiko.id)
    await answer_ask(hours, advocate_actor(aiko), ask.id, "accept")

    pick = last_to(db, aiko.email, "pick_time")
    assert pick.context["slots"] == [{"slot": 1, "starts_at": MORNING_IN_TOKYO.isoformat()}]
    assert (pick.context["outside_hours"], pick.context["suggested"]) == (1, [])
    said = RENDERER.text("pick_time", pick.context)
    assert "Tue 10 Mar 2026, 10:00 JST" in said and "23:00" not in said
    assert "One of the rep's times falls outside your call hours" in said

    (engagement,) = db.state.engagements.values()
    with raises_saying(InvalidInput, "outside your call hours"):  # an old or forged button
        await pick_time(hours, advocate_actor(aiko), engagement.id or 0, slot=0)
    booked = await pick_time(hours, advocate_actor(aiko), engagement.id or 0, slot=1)
    assert booked.scheduled_at == MORNING_IN_TOKYO


async def test_when_none_of_the_reps_times_fit_three_times_inside_both_are_suggested(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate) -> None:
    hours = replace(ctx, policy=replace(ctx.policy, default_hours="Mon-Fri 09:00-18:00"))
    aiko = await add_advocate(name="Aiko", timezone="Asia/Tokyo", call_hours="Mon-Fri 6-9")
    request = await open_request(hours, rep, proposed_times=(MIDNIGHT_IN_TOKYO,))
    ask = await ask_advocate(hours, rep, request.id, aiko.id)
    await answer_ask(hours, advocate_actor(aiko), ask.id, "accept")

    pick = last_to(db, aiko.email, "pick_time")
    assert (pick.context["slots"], pick.context["outside_hours"]) == ([], 1)
    suggested = [datetime.fromisoformat(t) for t in pick.context["suggested"]]
    assert len(suggested) == 3
    theirs = WorkingHours.parse("Mon-Fri 6-9", zone="Asia/Tokyo")
    reps = WorkingHours.parse("Mon-Fri 09:00-18:00", zone="America/New_York")
    for moment in suggested:  # her early morning is the rep's late afternoon: inside both
        assert fits(theirs, moment, timedelta(minutes=30))
        assert fits(reps, moment, timedelta(minutes=30))
    said = RENDERER.text("pick_time", pick.context)
    assert "Propose a time that suits you." in said and "Times inside your hours" in said
    engagement_id = (await only_engagement(db)).id or 0
    with raises_saying(InvalidInput, "outside your call hours"):  # proposed by hand, at night
        await pick_time(hours, advocate_actor(aiko), engagement_id, proposed=MIDNIGHT_IN_TOKYO)
    proposed = await pick_time(hours, advocate_actor(aiko), engagement_id, proposed=suggested[1])
    assert proposed.proposed_at == suggested[1]  # the suggestion's button proposes it
    booked = await confirm_time(hours, rep, engagement_id, True, proposed=suggested[1])
    assert booked.scheduled_at == suggested[1]

    await reschedule(hours, rep, engagement_id)  # the new pick follows the same rules
    again = last_to(db, aiko.email, "pick_time_again")
    assert again.context["slots"] == [] and len(again.context["suggested"]) == 3
    assert all(fits(theirs, datetime.fromisoformat(t), timedelta(minutes=30))
               for t in again.context["suggested"])
    with raises_saying(InvalidInput, "outside your call hours"):
        await pick_time(hours, advocate_actor(aiko), engagement_id, proposed=MIDNIGHT_IN_TOKYO)


async def only_engagement(db: FakeDatabase) -> Engagement:
    (engagement,) = db.state.engagements.values()
    return engagement


async def test_a_reps_hours_are_the_programs_default_where_the_rep_is(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate) -> None:
    from bot.services.bookings import rep_hours

    aiko = await add_advocate(name="Aiko", timezone="Asia/Tokyo", call_hours="Mon-Fri 6-9")
    request = await open_request(ctx, rep, proposed_times=(MIDNIGHT_IN_TOKYO,))
    anytime = rep_hours(ctx, request)  # the program sets no hours: the rep takes any time
    assert fits(anytime, MIDNIGHT_IN_TOKYO + timedelta(hours=7), timedelta(hours=2))
    hours = replace(ctx, policy=replace(ctx.policy, default_hours="Mon-Fri 09:00-18:00"))
    theirs = rep_hours(hours, request)
    assert theirs.text() == "Mon-Fri 09:00-18:00" and theirs.zone == request.timezone
    # With no program hours, only the advocate's own hours limit the suggestions.
    ask = await ask_advocate(ctx, rep, request.id, aiko.id)
    await answer_ask(ctx, advocate_actor(aiko), ask.id, "accept")
    suggested = last_to(db, aiko.email, "pick_time").context["suggested"]
    assert suggested == ["2026-03-02T21:00:00+00:00", "2026-03-02T21:30:00+00:00",
                         "2026-03-02T22:00:00+00:00"]  # Tue 06:00 in Tokyo, every half hour
