"""Quarterly check-ins: the numbers, the answers, one reminder."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.model import AdvocateStatus, LimitOverrides
from bot.rendering import Renderer
from bot.services.checkins import (
    CheckInChoice,
    add_months,
    answer_check_in,
    send_check_in_reminders,
    send_check_ins,
)
from bot.services.context import ServiceContext
from tests.fakes import FakeDatabase, FixedClock
from tests.unit.conftest import (
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
    assert templates_to(db, talkative.email) == ["check_in"]
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
