"""What a person waits for never loads the whole roster: at 100,000 advocates a roster
read takes seconds, more than Slack's 3 seconds for opening a modal. The intake opens and
is filed from matching's in-process copy (``active_roster``); only the CLI's list and
export, and the digest's SQL, read the roster as a whole."""

from __future__ import annotations

from typing import Any

import pytest

from bot.conversation import commands as c
from bot.conversation.dispatcher import dispatch
from bot.domain.model import Actor, AdvocateStatus
from bot.services.context import ServiceContext
from tests.fakes import FakeAdvocates
from tests.unit.conftest import AddAdvocate, sample_draft


async def test_opening_and_filing_the_intake_reads_the_roster_copy_not_the_roster(
        ctx: ServiceContext, rep: Actor, add_advocate: AddAdvocate,
        monkeypatch: pytest.MonkeyPatch) -> None:
    await add_advocate(industry="Fintech")
    loads: list[dict[str, Any]] = []
    real_list = FakeAdvocates.list

    async def spying(self: FakeAdvocates, **kwargs: Any) -> Any:
        loads.append(kwargs)
        return await real_list(self, **kwargs)

    async def the_copy(self: FakeAdvocates) -> Any:  # storage.roster_cache, in production
        return await real_list(self, status=AdvocateStatus.ACTIVE)

    monkeypatch.setattr(FakeAdvocates, "list", spying)
    monkeypatch.setattr(FakeAdvocates, "active_roster", the_copy)

    opened = await dispatch(ctx, c.StartRequest(rep, "fintech payments"))
    assert opened.form == "intake" and opened.context["known"].industries == ("Fintech",)
    filed = await dispatch(ctx, c.SubmitIntake(rep, sample_draft()))
    assert filed.template in ("request_filed", "nobody_fits")
    assert loads == []


async def test_the_intakes_menus_are_worked_out_again_only_when_the_roster_changes(
        ctx: ServiceContext, add_advocate: AddAdvocate,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.services.intake import known_values

    await add_advocate(industry="Fintech")
    shared: list[Any] = []

    async def the_copy(self: FakeAdvocates) -> Any:  # one list until the roster changes
        if not shared:
            shared.append(await FakeAdvocates.list(self, status=AdvocateStatus.ACTIVE))
        return shared[0]

    monkeypatch.setattr(FakeAdvocates, "active_roster", the_copy)
    async with ctx.uow() as uow:
        first = await known_values(uow)
        assert await known_values(uow) is first and first.industries == ("Fintech",)
    await add_advocate(industry="Retail")
    shared.clear()  # the roster changed: the copy hands out a new list
    async with ctx.uow() as uow:
        assert (await known_values(uow)).industries == ("Fintech", "Retail")
