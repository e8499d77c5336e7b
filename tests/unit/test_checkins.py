"""Quarterly check-ins: the numbers, the answers, one reminder."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from bot.domain.errors import InvalidInput, NotAllowed, NotFound
from bot.domain.model import AdvocateStatus, LimitOverrides, Role
from bot.rendering import Renderer
from bot.services.checkins import (
    CheckInChoice,
    add_months,
    answer_check_in,
    check_in_key,
    record_check_in_feedback,
    send_check_in_reminders,
    send_check_ins,
)
from bot.services.consent import CURRENT_VERSION
from bot.services.context import ServiceContext
from tests.fakes import FakeDatabase, FixedClock
from tests.unit.conftest import (
    PM_EMAIL,
    AddAdvocate,
    actor,
    advocate_actor,
    audit_actions,
    messages_to,
    person,
    templates_to,
)

SENT_AT = datetime(2026, 4, 1, 7, tzinfo=UTC)


async def test_every_active_advocate_gets_one_check_in_with_last_quarters_numbers(
        db: FakeDatabase, ctx: ServiceContext, add_advocate: AddAdvocate) -> None:
    ada = await add_advocate(points=60)
    pia = await add_advocate(status=AdvocateStatus.PAUSED)
    assert await send_check_ins(ctx, SENT_AT, "2026-Q2") == 1
    assert await send_check_ins(ctx, SENT_AT, "2026-Q2") == 0
    (message,) = messages_to(db, ada.email)
    assert message.key == f"checkin:2026-Q2:{ada.id}"
    assert message.context["quarter"] == "2026-Q1"
    assert message.context["numbers"] == {"asks": 0, "accepted": 0, "declined": 0,
                                          "completed": 0, "points": 0}
    assert (message.context["tier"], message.context["next_tier"]) == ("Silver", "Gold")
    assert messages_to(db, pia.email) == []
    text = Renderer().text("check_in", message.context)
    assert "your 2026-Q1 in numbers" in text and "Pause for 1, 3, 6 months" in text
    assert "60: Silver tier, 90 more to reach Gold" in text


async def test_one_reminder_goes_only_to_those_who_have_not_answered(
        db: FakeDatabase, ctx: ServiceContext, clock: FixedClock,
        add_advocate: AddAdvocate) -> None:
    quiet, talkative = await add_advocate(), await add_advocate()
    await send_check_ins(ctx, SENT_AT, "2026-Q2")
    clock.set(datetime(2026, 4, 3, 9, tzinfo=UTC))
    await answer_check_in(ctx, advocate_actor(talkative), talkative.id,
                          CheckInChoice.KEEP_ACTIVE, feedback="  Happy   to help ")
    later = datetime(2026, 4, 15, 7, tzinfo=UTC)
    assert await send_check_in_reminders(ctx, later, "2026-Q2", SENT_AT) == 1
    assert await send_check_in_reminders(ctx, later, "2026-Q2", SENT_AT) == 0
    assert templates_to(db, quiet.email) == ["check_in", "check_in_reminder"]
    assert templates_to(db, talkative.email) == ["check_in", "check_in_answered"]
    reminder = messages_to(db, quiet.email)[-1]
    assert "last reminder" in Renderer().text(reminder.template, reminder.context)
    (entry,) = [e for e in db.state.audit if e.action == "checkin.answered"]
    assert entry.detail["feedback"] == "Happy to help" and entry.detail["quarter"] == "2026-Q2"


async def test_pausing_for_three_months_puts_the_advocate_on_leave_through_the_day_before(
        db: FakeDatabase, ctx: ServiceContext, add_advocate: AddAdvocate) -> None:
    ada = await add_advocate()
    paused = await answer_check_in(ctx, advocate_actor(ada), ada.id, "pause", months=3)
    assert paused.unavailable_until == date(2026, 6, 1)  # 2 March + 3 months - 1 day
    assert audit_actions(db, f"advocate:{ada.id}") == ["advocate.paused", "checkin.answered"]
    with pytest.raises(InvalidInput):
        await answer_check_in(ctx, advocate_actor(ada), ada.id, "pause", months=2)


async def test_changing_limits_and_leaving_reuse_the_roster_rules(
        db: FakeDatabase, ctx: ServiceContext, add_advocate: AddAdvocate) -> None:
    ada = await add_advocate()
    changed = await answer_check_in(ctx, advocate_actor(ada), ada.id, "change_limits",
                                    limits=LimitOverrides(max_per_90_days=1))
    assert changed.own_limits.max_per_90_days == 1
    with pytest.raises(InvalidInput):  # looser than the program's: refused as in the profile
        await answer_check_in(ctx, advocate_actor(ada), ada.id, "change_limits",
                              limits=LimitOverrides(max_per_90_days=9))
    gone = await answer_check_in(ctx, advocate_actor(ada), ada.id, "leave")
    assert gone.status is AdvocateStatus.RETIRED


async def test_nobody_else_answers_someone_elses_check_in(
        ctx: ServiceContext, add_advocate: AddAdvocate) -> None:
    ada = await add_advocate()
    with pytest.raises(NotAllowed):
        await answer_check_in(ctx, actor(person("riley.rep@vendor.example")), ada.id,
                              "keep_active")
    with pytest.raises(InvalidInput):
        await answer_check_in(ctx, advocate_actor(ada), ada.id, "maybe")


def test_months_are_added_on_the_calendar() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)


async def test_an_answer_replaces_the_check_in_and_its_reminder_with_what_was_chosen(
        db: FakeDatabase, ctx: ServiceContext, clock: FixedClock,
        add_advocate: AddAdvocate) -> None:
    ada = await add_advocate(timezone="Asia/Tokyo")
    await send_check_ins(ctx, SENT_AT, "2026-Q2")
    await send_check_in_reminders(ctx, datetime(2026, 4, 15, 7, tzinfo=UTC), "2026-Q2", SENT_AT)
    clock.set(datetime(2026, 4, 16, 9, tzinfo=UTC))
    await answer_check_in(ctx, advocate_actor(ada), ada.id, "pause", months=3,
                          feedback="Busy <quarter> & more")
    first = [m for m in messages_to(db, ada.email) if m.template == "check_in_answered"]
    assert [m.replaces for m in first] == [check_in_key("2026-Q2", ada.id),
                                           check_in_key("2026-Q2", ada.id, reminder=True)]
    assert len({m.key for m in first}) == 2
    context = first[0].context
    assert (context["choice"], context["months"], context["until"]) == ("pause", 3,
                                                                         "2026-07-15")
    assert context["by_name"] == "" and context["feedback"] == "Busy <quarter> & more"
    text = Renderer().text("check_in_answered", context)
    assert "paused for 3 months, through 2026-07-15" in text and "Busy <quarter>" in text

    # Changing one's mind later updates the same messages again; a program manager's
    # answer says who gave it.
    clock.advance(hours=1)
    pat = actor(person(PM_EMAIL, "Pat Manager"), Role.PROGRAM_MANAGER)
    await answer_check_in(ctx, pat, ada.id, "keep_active")
    answered = [m for m in messages_to(db, ada.email) if m.template == "check_in_answered"]
    assert len(answered) == 4 and answered[-1].replaces == first[-1].replaces
    assert (answered[-1].context["choice"], answered[-1].context["by_name"]) == (
        "keep_active", "Pat Manager")
    assert "Pat Manager answered your 2026-Q2 check-in for you" in Renderer().text(
        "check_in_answered", answered[-1].context)


async def test_an_answer_without_a_check_in_this_quarter_replaces_nothing(
        db: FakeDatabase, ctx: ServiceContext, clock: FixedClock,
        add_advocate: AddAdvocate) -> None:
    ada = await add_advocate()
    await send_check_ins(ctx, SENT_AT, "2026-Q2")
    bo = await add_advocate()  # joined after the check-ins went out
    await answer_check_in(ctx, advocate_actor(ada), ada.id, "keep_active")  # 2 March: Q1
    assert templates_to(db, ada.email) == ["check_in"]
    clock.set(datetime(2026, 4, 2, 9, tzinfo=UTC))
    await answer_check_in(ctx, advocate_actor(bo), bo.id, "keep_active")
    assert templates_to(db, bo.email) == []
    await answer_check_in(ctx, advocate_actor(ada), ada.id, "keep_active")
    assert templates_to(db, ada.email) == ["check_in", "check_in_answered"]


async def test_feedback_alone_is_kept_without_answering_the_check_in(
        db: FakeDatabase, ctx: ServiceContext, clock: FixedClock,
        add_advocate: AddAdvocate) -> None:
    ada = await add_advocate()
    await send_check_ins(ctx, SENT_AT, "2026-Q2")
    clock.set(datetime(2026, 4, 3, 9, tzinfo=UTC))
    await record_check_in_feedback(ctx, advocate_actor(ada), ada.id, "  More   fintech\nplease ")
    (entry,) = [e for e in db.state.audit if e.action == "checkin.feedback"]
    assert (entry.subject, entry.detail) == (f"advocate:{ada.id}",
                                             {"quarter": "2026-Q2",
                                              "feedback": "More fintech please"})
    assert db.state.advocates[ada.id].status is AdvocateStatus.ACTIVE
    assert templates_to(db, ada.email) == ["check_in"]  # nothing replaced: still open
    later = datetime(2026, 4, 15, 7, tzinfo=UTC)
    assert await send_check_in_reminders(ctx, later, "2026-Q2", SENT_AT) == 1
    for text in ("", "   "):
        with pytest.raises(InvalidInput):
            await record_check_in_feedback(ctx, advocate_actor(ada), ada.id, text)
    with pytest.raises(InvalidInput):
        await record_check_in_feedback(ctx, advocate_actor(ada), ada.id, "x" * 1001)
    with pytest.raises(NotAllowed):
        await record_check_in_feedback(ctx, actor(person("riley.rep@vendor.example")),
                                       ada.id, "Hi")
    with pytest.raises(NotFound):
        await record_check_in_feedback(ctx, advocate_actor(ada), 999, "Hi")
    assert [e.action for e in db.state.audit].count("checkin.feedback") == 1


async def test_a_changed_consent_wording_is_confirmed_again_at_the_check_in(
        db: FakeDatabase, ctx: ServiceContext, add_advocate: AddAdvocate) -> None:
    from bot.conversation import commands as c
    from bot.conversation.dispatcher import dispatch
    from bot.domain.nomination import ConsentRecord
    from handlers.slack import blockkit
    from handlers.teams.cards import TeamsCards

    old, current = await add_advocate(), await add_advocate()
    async with db.uow() as uow:
        for who, version in ((old, "v0"), (current, CURRENT_VERSION)):
            await uow.consents.add(ConsentRecord(
                email=who.email, version=version, agreed_at=datetime(2025, 1, 6, tzinfo=UTC),
                platform="teams", agreed_to=("call",), advocate_id=who.id))
        await uow.commit()
    await send_check_ins(ctx, SENT_AT, "2026-Q2")
    (asked,) = messages_to(db, old.email)
    assert asked.context["consent_to_confirm"] == CURRENT_VERSION
    assert messages_to(db, current.email)[0].context["consent_to_confirm"] is None
    assert "Our terms for the reference program have changed" in Renderer().text(
        "check_in", asked.context)
    slack = json.dumps(blockkit.install(Renderer()).render_json("slack/check_in.json.j2",
                                                                asked.context))
    teams = json.dumps(TeamsCards(Renderer()).outgoing("check_in", asked.context).card)
    assert '"consent_confirm"' in slack and '"consent.confirm"' in teams

    confirmed = await dispatch(ctx, c.ConfirmConsent(advocate_actor(old), old.id or 0))
    assert confirmed.template == "consent_confirmed"
    async with db.uow() as uow:
        latest = await uow.consents.latest(old.email)
    assert latest is not None and (latest.version, latest.agreed_to) == (
        CURRENT_VERSION, ("call",))
    refused = await dispatch(ctx, c.ConfirmConsent(advocate_actor(current), old.id or 0))
    assert refused.context["problem"].code == "not_yours"
