"""After the call: the rep reports the outcome, the advocate earns points and is thanked,
and a no-show frees the advocate's slot."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.domain.errors import DomainError, InvalidInput, NotAllowed
from bot.domain.model import (
    Actor,
    EngagementState,
    Outcome,
    Person,
    ReferenceType,
    RequestState,
)
from bot.rendering import Renderer
from bot.services.advocates import Tier, next_tier, tier_for
from bot.services.asks import ask_advocate
from bot.services.context import ServiceContext
from bot.services.outcomes import add_comment, record_outcome
from bot.services.scheduling import pick_time, reschedule
from tests.fakes import FakeDatabase, FixedClock, raises_saying, words
from tests.unit.conftest import (
    REP_EMAIL,
    AddAdvocate,
    actor,
    advocate_actor,
    audit_actions,
    last_to,
    outbox,
    person,
    templates_to,
)
from tests.unit.test_scheduling import SLOT_0, SLOT_1, Seeded, reload, render, seed_engagement

AFTER_CALL = SLOT_0 + timedelta(hours=1)
BAD_RATING = {"helpfulness": "Rate the call from 1 (not helpful) to 5 (very helpful)."}
BAD_AMOUNT = {"influenced_amount": "Enter the amount the call influenced: 0 or more."}


@pytest.fixture
async def held(ctx: ServiceContext, db: FakeDatabase, clock: FixedClock,
               rep_person: Person) -> Seeded:
    """A call booked for SLOT_0 that has just taken place."""
    seeded = await seed_engagement(db, rep_person)
    await pick_time(ctx, advocate_actor(seeded.advocate), seeded.id, slot=0)
    clock.set(AFTER_CALL)
    return seeded


async def points_of(db: FakeDatabase, seeded: Seeded) -> int:
    async with db.uow() as uow:
        advocate = await uow.advocates.get(seeded.advocate.id or 0)
    assert advocate is not None
    return advocate.points


async def usage_times(db: FakeDatabase, seeded: Seeded) -> tuple[Any, ...]:
    advocate_id = seeded.advocate.id or 0
    async with db.uow() as uow:
        usage = await uow.advocates.usage([advocate_id], since=SLOT_0 - timedelta(days=365))
    return usage[advocate_id].engagement_times


# --- completed ----------------------------------------------------------------------------


async def test_a_completed_call_awards_points_closes_the_request_and_thanks_the_advocate(
        ctx: ServiceContext, db: FakeDatabase, held: Seeded, rep: Actor) -> None:
    engagement = await record_outcome(ctx, rep, held.id, Outcome.COMPLETED, helpfulness=4,
                                      influenced_amount=Decimal("125000.50"))

    assert engagement.state is EngagementState.COMPLETED
    stored, request = await reload(db, held)
    assert stored.outcome is Outcome.COMPLETED
    assert stored.helpfulness == 4
    assert stored.influenced_amount == Decimal("125000.50")
    assert stored.points_awarded == 10 and stored.completed_at == AFTER_CALL
    assert request.state is RequestState.COMPLETED
    assert await points_of(db, held) == 10
    thanks = last_to(db, held.advocate.email, "thank_you")
    assert thanks.context["points"] == 10 and thanks.context["total_points"] == 10
    assert thanks.context["tier"] == "Bronze"
    text = render(thanks)
    assert "Thank you, Aiko Tanaka" in text
    assert "40 more to reach Silver" in text
    assert "one-line comment" in text
    assert "engagement.completed" in audit_actions(db, f"engagement:{held.id}")


async def test_points_follow_the_reference_type_from_the_policy(
        ctx: ServiceContext, db: FakeDatabase, clock: FixedClock, rep_person: Person,
        rep: Actor) -> None:
    seeded = await seed_engagement(db, rep_person, reference_type=ReferenceType.CASE_STUDY,
                                   proposed_times=())
    async with db.uow() as uow:
        advocate = await uow.advocates.get(seeded.advocate.id or 0)
        assert advocate is not None
        advocate.points = 120
        await uow.advocates.update(advocate)
        await uow.commit()

    # A case study has no call: it completes straight from "accepted".
    await record_outcome(ctx, rep, seeded.id, Outcome.COMPLETED, helpfulness=5,
                         influenced_amount=None)

    assert await points_of(db, seeded) == 160
    thanks = last_to(db, seeded.advocate.email, "thank_you")
    assert thanks.context["points"] == 40 and thanks.context["tier"] == "Gold"
    assert thanks.context["next_tier"] is None
    assert "more to reach" not in render(thanks)


async def test_recording_the_same_outcome_twice_changes_nothing(
        ctx: ServiceContext, db: FakeDatabase, held: Seeded, rep: Actor, pm: Actor) -> None:
    await record_outcome(ctx, rep, held.id, Outcome.COMPLETED, helpfulness=4,
                         influenced_amount=None)
    before = (len(outbox(db)), len(db.state.audit), db.commits)

    again = await record_outcome(ctx, pm, held.id, Outcome.COMPLETED, helpfulness=2,
                                 influenced_amount=Decimal(1))

    assert again.helpfulness == 4
    assert (len(outbox(db)), len(db.state.audit), db.commits) == before
    assert await points_of(db, held) == 10
    assert templates_to(db, held.advocate.email).count("thank_you") == 1


async def test_a_different_outcome_for_a_closed_call_is_refused_with_the_reason(
        ctx: ServiceContext, held: Seeded, rep: Actor) -> None:
    await record_outcome(ctx, rep, held.id, Outcome.COMPLETED, helpfulness=3,
                         influenced_amount=None)
    for outcome in (Outcome.NO_SHOW, Outcome.RESCHEDULED):
        with pytest.raises(InvalidInput) as refused:
            await record_outcome(ctx, rep, held.id, outcome, helpfulness=None,
                                 influenced_amount=None)
        assert "already recorded as completed" in words(refused.value)["outcome"]


@pytest.mark.parametrize(("helpfulness", "amount", "errors"), [
    (None, None, {"helpfulness": "Please rate how helpful the call was, from 1 to 5."}),
    (0, None, BAD_RATING),
    (6, None, BAD_RATING),
    (True, None, BAD_RATING),
    (3, Decimal("-0.01"), BAD_AMOUNT),
    (3, Decimal("NaN"), BAD_AMOUNT),
    (9, Decimal(-5), {**BAD_RATING, **BAD_AMOUNT}),
])
async def test_bad_ratings_and_amounts_are_refused_on_their_fields(
        ctx: ServiceContext, db: FakeDatabase, held: Seeded, rep: Actor, helpfulness: Any,
        amount: Decimal | None, errors: dict[str, str]) -> None:
    with pytest.raises(InvalidInput) as refused:
        await record_outcome(ctx, rep, held.id, Outcome.COMPLETED, helpfulness=helpfulness,
                             influenced_amount=amount)
    assert words(refused.value) == errors
    assert (await reload(db, held))[0].state is EngagementState.SCHEDULED


async def test_zero_influence_is_a_fine_answer(
        ctx: ServiceContext, held: Seeded, rep: Actor) -> None:
    engagement = await record_outcome(ctx, rep, held.id, Outcome.COMPLETED, helpfulness=1,
                                      influenced_amount=Decimal(0))
    assert engagement.influenced_amount == Decimal(0)


async def test_only_the_requests_rep_or_a_program_manager_may_record_it(
        ctx: ServiceContext, db: FakeDatabase, held: Seeded, other_rep: Actor,
        pm: Actor) -> None:
    for someone in (other_rep, advocate_actor(held.advocate)):
        with raises_saying(NotAllowed, "isn't yours"):
            await record_outcome(ctx, someone, held.id, Outcome.COMPLETED, helpfulness=5,
                                 influenced_amount=None)
    engagement = await record_outcome(ctx, pm, held.id, Outcome.COMPLETED, helpfulness=5,
                                      influenced_amount=None)
    assert engagement.state is EngagementState.COMPLETED


async def test_a_call_never_booked_has_no_outcome_but_a_written_reference_does(
        ctx: ServiceContext, db: FakeDatabase, rep_person: Person, rep: Actor) -> None:
    unbooked = await seed_engagement(db, rep_person)
    for outcome in (Outcome.COMPLETED, Outcome.NO_SHOW):
        with pytest.raises(InvalidInput) as refused:
            await record_outcome(ctx, rep, unbooked.id, outcome, helpfulness=4,
                                 influenced_amount=None)
        assert "No time has been booked" in words(refused.value)["outcome"]
    written = await seed_engagement(db, rep_person, reference_type=ReferenceType.EMAIL,
                                    proposed_times=())
    with pytest.raises(InvalidInput):
        await record_outcome(ctx, rep, written.id, Outcome.NO_SHOW, helpfulness=None,
                             influenced_amount=None)
    done = await record_outcome(ctx, rep, written.id, Outcome.COMPLETED, helpfulness=4,
                                influenced_amount=None)
    assert done.state is EngagementState.COMPLETED and done.points_awarded == 5


async def test_an_outcome_cannot_be_recorded_before_the_call(
        ctx: ServiceContext, clock: FixedClock, held: Seeded, rep: Actor) -> None:
    clock.set(SLOT_0 - timedelta(hours=2))
    with pytest.raises(InvalidInput) as refused:
        await record_outcome(ctx, rep, held.id, Outcome.COMPLETED, helpfulness=5,
                             influenced_amount=None)
    assert "booked for Tue 10 Mar 2026, 10:00 EDT" in words(refused.value)["outcome"]


# --- no-show and rescheduled ------------------------------------------------------------------


async def test_a_no_show_frees_the_advocates_slot_and_asks_the_rep_what_next(
        ctx: ServiceContext, db: FakeDatabase, held: Seeded, rep: Actor) -> None:
    assert await usage_times(db, held) == (SLOT_0,)

    engagement = await record_outcome(ctx, rep, held.id, Outcome.NO_SHOW, helpfulness=None,
                                      influenced_amount=None)

    assert engagement.state is EngagementState.NO_SHOW
    assert engagement.outcome is Outcome.NO_SHOW and engagement.points_awarded == 0
    assert await usage_times(db, held) == ()
    assert (await reload(db, held))[1].state is RequestState.MATCHING
    assert await points_of(db, held) == 0
    follow_up = last_to(db, REP_EMAIL, "no_show_follow_up")
    text = render(follow_up)
    assert "didn't happen" in text and "Ask another advocate" in text and "Cancel" in text
    assert "thank_you" not in templates_to(db, held.advocate.email)
    # A second report of the same no-show is a no-op.
    count = len(outbox(db))
    await record_outcome(ctx, rep, held.id, Outcome.NO_SHOW, helpfulness=None,
                         influenced_amount=None)
    assert len(outbox(db)) == count


async def test_after_a_no_show_the_rep_can_ask_another_advocate_but_not_rebook(
        ctx: ServiceContext, db: FakeDatabase, held: Seeded, rep: Actor,
        add_advocate: AddAdvocate) -> None:
    standby = await add_advocate(name="Sam Standby")
    await record_outcome(ctx, rep, held.id, Outcome.NO_SHOW, helpfulness=None,
                         influenced_amount=None)

    with raises_saying(DomainError, "closed as a no-show"):
        await reschedule(ctx, rep, held.id)
    ask = await ask_advocate(ctx, rep, held.request.id or 0)

    assert ask is not None and ask.advocate_id == standby.id
    assert (await reload(db, held))[1].state is RequestState.ASKING


async def test_rescheduled_after_the_call_books_the_same_advocate_again(
        ctx: ServiceContext, db: FakeDatabase, held: Seeded, rep: Actor) -> None:
    await record_outcome(ctx, rep, held.id, Outcome.RESCHEDULED, helpfulness=None,
                         influenced_amount=None)

    again = last_to(db, held.advocate.email, "pick_time_again")
    assert [s["slot"] for s in again.context["slots"]] == [1]
    assert again.context["invite"] is None  # the old time is past: nothing to take out
    booked = await pick_time(ctx, advocate_actor(held.advocate), held.id, slot=1)
    assert booked.state is EngagementState.SCHEDULED and booked.scheduled_at == SLOT_1
    assert await usage_times(db, held) == (SLOT_1,)


async def test_reporting_rescheduled_is_the_same_as_rescheduling(
        ctx: ServiceContext, db: FakeDatabase, held: Seeded, rep: Actor) -> None:
    engagement = await record_outcome(ctx, rep, held.id, Outcome.RESCHEDULED, helpfulness=None,
                                      influenced_amount=None)

    assert engagement.state is EngagementState.ACCEPTED and engagement.scheduled_at is None
    assert engagement.outcome is None  # nothing final happened
    assert (await reload(db, held))[1].state is RequestState.ACCEPTED
    assert templates_to(db, held.advocate.email)[-1] == "pick_time_again"
    assert templates_to(db, REP_EMAIL)[-1] == "call_rescheduled"
    told = last_to(db, REP_EMAIL, "call_rescheduled")
    assert "(reported as rescheduled)" in Renderer().text(told.template, told.context)
    count = len(outbox(db))
    await record_outcome(ctx, rep, held.id, Outcome.RESCHEDULED, helpfulness=None,
                         influenced_amount=None)
    assert len(outbox(db)) == count


# --- the advocate's comment -----------------------------------------------------------------


async def test_the_advocate_leaves_a_one_line_comment_after_a_completed_call(
        ctx: ServiceContext, db: FakeDatabase, held: Seeded, rep: Actor) -> None:
    advocate = advocate_actor(held.advocate)
    with pytest.raises(InvalidInput) as early:
        await add_comment(ctx, advocate, held.id, "Nice people")
    assert "once the call has taken place" in words(early.value)["comment"]
    await record_outcome(ctx, rep, held.id, Outcome.COMPLETED, helpfulness=5,
                         influenced_amount=None)

    engagement = await add_comment(ctx, advocate, held.id, "  Great questions,\n fun call! 🎉 ")

    assert engagement.advocate_comment == "Great questions, fun call! 🎉"
    assert (await reload(db, held))[0].advocate_comment == "Great questions, fun call! 🎉"
    audits = audit_actions(db, f"engagement:{held.id}")
    assert audits.count("engagement.commented") == 1
    await add_comment(ctx, advocate, held.id, "Great questions, fun call! 🎉")
    assert audit_actions(db, f"engagement:{held.id}").count("engagement.commented") == 1


async def test_comments_are_the_advocates_own_and_at_most_500_characters(
        ctx: ServiceContext, db: FakeDatabase, held: Seeded, rep: Actor) -> None:
    await record_outcome(ctx, rep, held.id, Outcome.COMPLETED, helpfulness=5,
                         influenced_amount=None)
    advocate = advocate_actor(held.advocate)
    with pytest.raises(NotAllowed):
        await add_comment(ctx, rep, held.id, "I speak for them")
    with pytest.raises(InvalidInput) as empty:
        await add_comment(ctx, advocate, held.id, "   \n ")
    assert words(empty.value) == {"comment": "Write a line first."}
    with pytest.raises(InvalidInput) as long:
        await add_comment(ctx, advocate, held.id, "x" * 501)
    assert words(long.value) == {
        "comment": "Please keep it to 500 characters (this one has 501)."}
    assert (await add_comment(ctx, advocate, held.id, "y" * 500)).advocate_comment == "y" * 500


# --- tiers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("points", "tier", "upcoming"), [
    (0, Tier.BRONZE, (Tier.SILVER, 50)),
    (49, Tier.BRONZE, (Tier.SILVER, 1)),
    (50, Tier.SILVER, (Tier.GOLD, 100)),
    (149, Tier.SILVER, (Tier.GOLD, 1)),
    (150, Tier.GOLD, None),
    (10_000, Tier.GOLD, None),
])
def test_tiers_bronze_below_50_silver_below_150_then_gold(
        points: int, tier: Tier, upcoming: tuple[Tier, int] | None) -> None:
    assert tier_for(points) is tier
    assert next_tier(points) == upcoming


@pytest.mark.parametrize("name", ["O'Brien \"The Bank\" & Sons", "株式会社テスト「日本語」",
                                  "<b>x</b> & <@U123>", "Rocket 🚀\nLtd"])
async def test_outcome_messages_render_for_awkward_names(
        ctx: ServiceContext, db: FakeDatabase, clock: FixedClock, name: str) -> None:
    rep = actor(person(REP_EMAIL, name, timezone="America/New_York"))
    first = await seed_engagement(db, rep.person, advocate={"name": name, "company": name},
                                  prospect=name)
    second = await seed_engagement(db, rep.person, advocate={"name": name + "2"},
                                   prospect=name)
    for seeded in (first, second):
        await pick_time(ctx, advocate_actor(seeded.advocate), seeded.id, slot=0)
    clock.set(AFTER_CALL)
    await record_outcome(ctx, rep, first.id, Outcome.COMPLETED, helpfulness=5,
                         influenced_amount=None)
    await record_outcome(ctx, rep, second.id, Outcome.NO_SHOW, helpfulness=None,
                         influenced_amount=None)

    texts = {m.template: render(m) for m in outbox(db)}
    assert {"thank_you", "no_show_follow_up"} <= set(texts)
    assert name in texts["thank_you"] and name in texts["no_show_follow_up"]
