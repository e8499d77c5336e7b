"""Matching's in-process copy of the roster (``storage.roster_cache``): brought up to date
by row version on every ranking, never holding a write that was not committed, and kept
by each engine (each replica) on its own."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.model import Advocate, AdvocateStatus
from storage.db import create_engine
from storage.uow import SqlUnitOfWorkFactory


async def names(factory: SqlUnitOfWorkFactory) -> list[str]:
    async with factory() as uow:
        return [a.name for a in await uow.advocates.active_roster()]


async def set_status(factory: SqlUnitOfWorkFactory, email: str, status: AdvocateStatus, *,
                     commit: bool = True) -> list[str]:
    """Change one advocate; the roster as the same unit of work sees it afterwards."""
    async with factory() as uow:
        advocate = await uow.advocates.get_by_email(email)
        assert advocate is not None
        advocate.status = status
        await uow.advocates.update(advocate)
        seen = [a.name for a in await uow.advocates.active_roster()]
        if commit:
            await uow.commit()
        return seen


async def test_the_copy_follows_committed_writes_and_never_keeps_a_rolled_back_one(
        engine: AsyncEngine) -> None:
    factory = SqlUnitOfWorkFactory(engine)
    async with factory() as uow:
        await uow.advocates.upsert_many([(Advocate(f"a{n}@x.example", f"A{n}", "X"), f"f{n}")
                                         for n in range(3)])
        await uow.advocates.add(Advocate("b@x.example", "B", "Y"))
        await uow.commit()
    assert await names(factory) == ["A0", "A1", "A2", "B"]
    # its own write, seen by the unit of work that made it, gone with its rollback (even
    # when the next write, committed, takes the same version number)
    assert await set_status(factory, "a1@x.example", AdvocateStatus.PAUSED,
                            commit=False) == ["A0", "A2", "B"]
    assert await set_status(factory, "b@x.example", AdvocateStatus.RETIRED) == ["A0", "A1", "A2"]
    assert await names(factory) == ["A0", "A1", "A2"]
    # a second engine on the same database (another replica) keeps its own copy
    other = create_engine(engine.url.render_as_string(hide_password=False))
    try:
        replica = SqlUnitOfWorkFactory(other)
        assert await names(replica) == ["A0", "A1", "A2"]
        await set_status(replica, "b@x.example", AdvocateStatus.ACTIVE)
        await set_status(factory, "a0@x.example", AdvocateStatus.PAUSED)
        assert await names(factory) == await names(replica) == ["A1", "A2", "B"]
    finally:
        await other.dispose()
