"""The digest's SQL aggregates on SQLite and PostgreSQL give the hand-computed numbers,
and the other report queries agree with the in-memory fakes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.domain.policy import ProgramPolicy
from bot.services.context import ServiceContext
from bot.services.digest import Digest, digest_for_week
from storage.uow import SqlUnitOfWorkFactory
from tests import digest_fixture
from tests.fakes import FakeDatabase, FixedClock

NOW = datetime(2026, 3, 2, 8, tzinfo=UTC)


def _ctx(uow: object) -> ServiceContext:
    return ServiceContext(uow=uow, clock=FixedClock(NOW), policy=ProgramPolicy(),  # type: ignore[arg-type]
                          program_managers=("pm@vendor.example",),
                          program_timezone=digest_fixture.ZONE)


async def test_digest_numbers_from_sql_match_the_fixture(
        uow_factory: SqlUnitOfWorkFactory) -> None:
    await digest_fixture.load(uow_factory)
    digest = await digest_for_week(_ctx(uow_factory), digest_fixture.PERIOD_DAY)
    assert {m.key: (m.value, m.previous) for m in digest.metrics} == digest_fixture.EXPECTED
    assert [(a.name, a.points, a.engagements) for a in digest.top_advocates] == [("Ada", 10, 1)]
    assert [(x.name, x.used_90, x.limit_90, x.used_365) for x in digest.loads] == [
        ("Ada", 3, 3, 3), ("Ben", 2, 3, 2)]
    assert digest.renewals_total == 1
    fake = FakeDatabase()
    await digest_fixture.load(fake.uow)
    in_memory = await digest_for_week(_ctx(fake.uow), digest_fixture.PERIOD_DAY)

    def without_request_ids(d: Digest) -> Digest:  # the fake numbers rows differently
        return replace(d, waiting=tuple(replace(w, request_id=0) for w in d.waiting))

    assert without_request_ids(digest) == without_request_ids(in_memory)


async def test_recognition_and_check_in_queries_agree_with_the_fakes(
        uow_factory: SqlUnitOfWorkFactory) -> None:
    ids = await digest_fixture.load(uow_factory)
    fake = FakeDatabase()
    await digest_fixture.load(fake.uow)
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    async with uow_factory() as sql_uow, fake.uow() as fake_uow:
        # (the fake numbers every row from one counter, so engagement ids differ)
        assert [replace(e, engagement_id=0) for e in
                await sql_uow.reports.completed_engagements(start, end)] == [
            replace(e, engagement_id=0) for e in
            await fake_uow.reports.completed_engagements(start, end)]
        assert await sql_uow.reports.advocate_numbers(start, end) == (
            await fake_uow.reports.advocate_numbers(start, end))
        done = await sql_uow.reports.completed_engagements(start, end)
        assert [(e.advocate_id, e.ordinal) for e in done] == [
            (ids["Ada"], 1), (ids["Ben"], 1), (ids["Ada"], 2), (ids["Ada"], 3)]
        numbers = await sql_uow.reports.advocate_numbers(start, end)
        assert numbers[ids["Ada"]].completed == 3 and numbers[ids["Ada"]].points == 30
        await sql_uow.idempotency.claim("checkin:2026-Q2:1", now=NOW)
        await sql_uow.idempotency.claim("checkin:2026-Q2:10", now=NOW)
        await sql_uow.idempotency.claim("checkin:2026_Q2:2", now=NOW)  # _ is no wildcard
        assert await sql_uow.reports.claimed_keys("checkin:2026-Q2:") == {
            "checkin:2026-Q2:1", "checkin:2026-Q2:10"}
        assert await sql_uow.reports.expiring_asks(NOW, NOW + timedelta(days=1)) == []
