"""Program managers' App Home: the roster's counts come from matching's roster copy and
an indexed count, and "resting or at a limit" is worked out once for every advocate with
nothing of their own to check (usage, snooze, leave, own limits)."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.limits import check_can_ask
from bot.domain.model import Actor, AdvocateStatus, Ask, AskState, LimitOverrides, Usage
from bot.services.context import ServiceContext
from bot.services.home import program_glance
from tests.fakes import FakeDatabase
from tests.unit.conftest import AddAdvocate


async def test_the_glance_counts_resting_advocates_like_checking_each_one(
        ctx: ServiceContext, db: FakeDatabase, pm: Actor, add_advocate: AddAdvocate) -> None:
    now = ctx.now()
    for _ in range(3):
        await add_advocate()
    await add_advocate(snoozed_until=now + timedelta(days=3))
    await add_advocate(unavailable_until=(now + timedelta(days=10)).date())
    await add_advocate(own_limits=LimitOverrides(max_open_asks=1))
    await add_advocate(manager_limits=LimitOverrides(max_per_90_days=0))
    await add_advocate(status=AdvocateStatus.PAUSED)
    busy = await add_advocate()
    for n in range(ctx.policy.limits.max_open_asks):
        db.state.asks[100 + n] = Ask(request_id=1, advocate_id=busy.id or 0, rank=1,
                                     created_at=now, expires_at=now + timedelta(days=2),
                                     state=AskState.PENDING, id=100 + n)
    glance = await program_glance(ctx, pm)
    async with db.uow() as uow:
        active = await uow.advocates.list(status=AdvocateStatus.ACTIVE)
        usage = await uow.advocates.usage([a.id or 0 for a in active], since=now)
    one_by_one = sum(not check_can_ask(a, usage.get(a.id or 0, Usage()),
                                       ctx.policy.limits, now).allowed for a in active)
    assert one_by_one == 4  # snoozed, on leave, a manager's cap of 0, the busy one
    assert glance.stats["resting"] == one_by_one
    assert glance.stats["active_advocates"] == 8
    assert glance.stats["paused_advocates"] == 1
