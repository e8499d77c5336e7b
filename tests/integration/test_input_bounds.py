"""What storage cannot hold is refused on its field, the same way on SQLite and PostgreSQL.

Each value here once reached the database and failed the write on one of them (numeric
overflow, NUL in text, an id past the integer column) or overflowed date maths; now the
service refuses it as ``InvalidInput`` naming the field, and nothing is written. The
values just inside each bound are stored and read back exactly, on both databases.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.errors import InvalidInput, NotFound
from bot.domain.inputs import MAX_AMOUNT
from bot.domain.model import Outcome, Role
from bot.domain.policy import ProgramPolicy
from bot.services.advocates import pause_advocate
from bot.services.context import ServiceContext
from bot.services.outcomes import record_outcome
from bot.services.requests import submit_request
from bot.services.scheduling import pick_time
from storage.tables import RequestRow
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes import FixedClock, words
from tests.unit.conftest import PM_EMAIL, actor, advocate_actor, person, sample_draft
from tests.unit.test_scheduling import SLOT_0, seed_engagement

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RILEY = person("riley.rep@vendor.example", "Riley Rep", timezone="America/New_York")
FREE_TEXT = ("prospect_company", "opportunity_name", "crm_opportunity_id",
             "opportunity_stage", "industry", "region", "language", "notes")


@pytest.fixture
def ctx(engine: AsyncEngine) -> ServiceContext:
    return ServiceContext(uow=SqlUnitOfWorkFactory(engine), clock=FixedClock(START),
                          policy=ProgramPolicy(), program_managers=(PM_EMAIL,))


async def stored_requests(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return (await connection.execute(select(func.count()).select_from(RequestRow))
                ).scalar_one()


async def refused(ctx: ServiceContext, **draft: Any) -> dict[str, str]:
    with pytest.raises(InvalidInput) as error:
        await submit_request(ctx, actor(RILEY), sample_draft(**draft))
    return words(error.value)


async def test_the_largest_amount_the_column_holds_is_stored_exactly(
        ctx: ServiceContext, engine: AsyncEngine) -> None:
    submitted = await submit_request(ctx, actor(RILEY),
                                     sample_draft(opportunity_amount="999,999,999,999.99"))
    async with ctx.uow() as uow:
        request = await uow.requests.get(submitted.request.id or 0)
    assert request is not None and request.opportunity_amount == MAX_AMOUNT


@pytest.mark.parametrize("amount", ["1000000000000", 10**12, Decimal("1e12"), "1e1000000",
                                    Decimal("1e1000000"), "9" * 5000, "-1", "NaN", "12,5"])
async def test_an_amount_storage_cannot_hold_is_refused_on_its_field(
        ctx: ServiceContext, engine: AsyncEngine, amount: object) -> None:
    errors = await refused(ctx, opportunity_amount=amount)
    assert set(errors) == {"opportunity_amount"}
    assert await stored_requests(engine) == 0


@pytest.mark.parametrize("field", FREE_TEXT)
async def test_a_nul_in_any_free_text_field_is_refused_on_that_field(
        ctx: ServiceContext, engine: AsyncEngine, field: str) -> None:
    errors = await refused(ctx, **{field: "Globex\x00 Bank"})
    assert set(errors) == {field} and "control characters" in errors[field]
    assert await stored_requests(engine) == 0


async def test_control_characters_in_list_entries_are_refused_too(
        ctx: ServiceContext) -> None:
    assert set(await refused(ctx, products=("Payments", "API\x1b[2J"))) == {"products"}


@pytest.mark.parametrize("needed_by", [date(9999, 12, 31), "9999-12-31", date(2029, 1, 1)])
async def test_a_needed_by_date_out_of_range_is_refused_on_its_field(
        ctx: ServiceContext, engine: AsyncEngine, needed_by: object) -> None:
    errors = await refused(ctx, needed_by=needed_by)
    assert errors == {"needed_by": "Pick a date within the next two years."}
    assert await stored_requests(engine) == 0


@pytest.mark.parametrize("value", ["1e1000000", Decimal("1e1000000"), 10**40, "9" * 5000])
async def test_huge_numbers_in_whole_number_fields_are_refused(
        ctx: ServiceContext, value: object) -> None:
    errors = await refused(ctx, call_length_minutes=value, parallel_asks=value)
    assert set(errors) == {"call_length_minutes", "parallel_asks"}


async def test_an_influenced_amount_past_the_column_is_refused_and_the_edge_is_stored(
        ctx: ServiceContext) -> None:
    seeded = await seed_engagement(cast(Any, SimpleNamespace(uow=ctx.uow)), RILEY)
    await pick_time(ctx, advocate_actor(seeded.advocate), seeded.id, slot=0)
    cast(FixedClock, ctx.clock).set(SLOT_0 + timedelta(hours=1))
    for too_much in (Decimal("1e12"), Decimal("1e1000000")):
        with pytest.raises(InvalidInput) as error:
            await record_outcome(ctx, actor(RILEY), seeded.id, Outcome.COMPLETED,
                                 helpfulness=4, influenced_amount=too_much)
        assert set(words(error.value)) == {"influenced_amount"}
    await record_outcome(ctx, actor(RILEY), seeded.id, Outcome.COMPLETED, helpfulness=4,
                         influenced_amount=MAX_AMOUNT)
    async with ctx.uow() as uow:
        engagement = await uow.engagements.get(seeded.id)
    assert engagement is not None and engagement.influenced_amount == MAX_AMOUNT


@pytest.mark.parametrize("advocate_id", [2**31, 2**63, 10**30, -1, 0])
async def test_an_id_no_row_can_have_is_simply_not_found(
        ctx: ServiceContext, advocate_id: int) -> None:
    manager = actor(person(PM_EMAIL, "Pat Manager"), Role.PROGRAM_MANAGER)
    with pytest.raises(NotFound):
        await pause_advocate(ctx, manager, advocate_id)
