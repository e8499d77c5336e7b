"""The program report's SQL aggregates on SQLite and PostgreSQL give the hand-computed
numbers of ``tests/report_fixture.py``."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.policy import ProgramPolicy
from bot.services.context import ServiceContext
from bot.services.report import parse_period, program_report, report_context
from storage.uow import SqlUnitOfWorkFactory
from tests import report_fixture as fx
from tests.fakes import FixedClock


def _ctx(uow: SqlUnitOfWorkFactory) -> ServiceContext:
    return ServiceContext(uow=uow, clock=FixedClock(datetime(2026, 4, 2, 8, tzinfo=UTC)),
                          policy=ProgramPolicy(), program_managers=("pm@vendor.example",),
                          program_timezone=fx.ZONE)


async def test_report_numbers_from_sql_match_the_fixture(
        uow_factory: SqlUnitOfWorkFactory) -> None:
    await fx.load(uow_factory)
    report = await program_report(_ctx(uow_factory), parse_period("last-quarter", fx.TODAY))
    assert (report.period.label, report.previous.label) == ("2026-Q1",
                                                           "2025-10-03..2025-12-31")
    assert {m.key: (m.value, m.previous) for m in report.summary} == fx.SUMMARY
    assert {m.key: (m.value, m.previous) for m in report.by_type} == fx.BY_TYPE
    assert {m.key: (m.value, m.previous) for m in report.health} == fx.HEALTH
    assert {m.key: (m.value, m.previous) for m in report.nominations} == fx.NOMINATIONS
    assert {by: list(rows) for by, rows in report.groups.items()} == fx.GROUPS
    assert len(report.weekly) == 14
    assert {w: (o, f) for w, o, f in report.weekly if o or f} == fx.WEEKS
    assert list(report.monthly) == fx.MONTHS
    assert report.advocate_limit == 3
    assert report_context(report)["per_advocate"] == [{"name": "Ada", "engagements": 2},
                                                      {"name": "Ben", "engagements": 1}]


async def test_an_empty_period_has_no_rates_or_times(uow_factory: SqlUnitOfWorkFactory) -> None:
    await fx.load(uow_factory)
    report = await program_report(_ctx(uow_factory), parse_period("2024-Q2", fx.TODAY))
    summary = {m.key: m for m in report.summary}
    assert summary["opened"].value == 0
    assert summary["fulfilment_rate"].value is None
    assert summary["median_time_to_accept"].value is None
    assert all(not rows for rows in report.groups.values())
    nominations = {m.key: m.value for m in report.nominations}
    assert nominations["nominated"] == 0 and nominations["waiting"] == 0
    assert nominations["conversion_rate"] is None and nominations["median_days_to_join"] is None
    context = report_context(report)
    assert context["per_advocate"] == [] and context["by_type"] == []
