"""Forgetting an advocate on SQLite and PostgreSQL: afterwards their email and name are in
no column of any table, and the program's numbers are what they were. Also the CLI."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from bot.cli import app
from bot.domain.errors import NotFound
from bot.domain.model import (
    Advocate,
    AdvocateStatus,
    Ask,
    AskState,
    AuditEntry,
    CompanySize,
    Engagement,
    EngagementState,
    Identity,
    Outcome,
    Person,
    Platform,
    ReferenceRequest,
    ReferenceType,
    RequestState,
)
from bot.ports import OutgoingMessage
from bot.services.messages import advocate_contact
from bot.services.privacy import forget_advocate, forgotten_email, forgotten_name
from storage.tables import Base
from storage.uow import SqlUnitOfWorkFactory

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EMAIL = "zoe.laurent@verdier.example"
NAME = "Zoë Laurent"
IDENTITY = Identity(Platform.TEAMS, "tenant-1", "29:zoe-aad")
REP = Person(email="riley.rep@vendor.example", display_name="Riley Rep",
             identity=Identity(Platform.SLACK, "T1", "U-RILEY"), timezone="America/New_York")
WINDOW = (NOW - timedelta(days=60), NOW + timedelta(days=1))


def advocate(email: str, name: str, **overrides: Any) -> Advocate:
    fields: dict[str, Any] = dict(
        email=email, name=name, company="Verdier SAS", title="Directrice financière",
        account_id="001VERD", industry="Retail", region="EMEA", country="FR",
        company_size=CompanySize.M, products=("Payments API",), timezone="Europe/Paris",
        reference_types=frozenset({ReferenceType.CALL}), account_owner_email=None,
        health_score=88, nps=9, renewal_date=date(2026, 9, 1), notes="Prefers mornings",
        do_not_use_with=("Initech",), points=30, public_recognition=True,
        consent_source="crm-import", consented_at=NOW - timedelta(days=100))
    fields.update(overrides)
    return Advocate(**fields)


async def seed(uow_factory: SqlUnitOfWorkFactory) -> dict[str, int]:
    async with uow_factory() as uow:
        zoe = await uow.advocates.add(advocate(EMAIL, NAME))
        standby = await uow.advocates.add(advocate("sam@standby.example", "Sam Standby",
                                                   company="Standby Ltd", account_id="001STBY",
                                                   notes="", points=0))
        assert zoe.id is not None and standby.id is not None
        done = await uow.requests.add(ReferenceRequest(
            rep=REP, prospect_company="Globex Bank", reference_type=ReferenceType.CALL,
            needed_by=date(2026, 3, 20), created_at=NOW - timedelta(days=40),
            industry="Retail", region="EMEA", products=("Payments API",),
            state=RequestState.COMPLETED, updated_at=NOW - timedelta(days=20)))
        ask = await uow.asks.add(Ask(
            request_id=done.id or 0, advocate_id=zoe.id, rank=1,
            created_at=NOW - timedelta(days=39), expires_at=NOW - timedelta(days=37),
            state=AskState.ACCEPTED, answered_at=NOW - timedelta(days=38)))
        await uow.engagements.add(Engagement(
            request_id=done.id or 0, advocate_id=zoe.id, ask_id=ask.id or 0,
            reference_type=ReferenceType.CALL, accepted_at=NOW - timedelta(days=38),
            state=EngagementState.COMPLETED, outcome=Outcome.COMPLETED, helpfulness=5,
            influenced_amount=Decimal("75000.00"), points_awarded=30,
            advocate_comment=f"Merci ! — {NAME}", completed_at=NOW - timedelta(days=20)))
        asking = await uow.requests.add(ReferenceRequest(
            rep=REP, prospect_company="Initrode", reference_type=ReferenceType.CALL,
            needed_by=date(2026, 3, 25), created_at=NOW - timedelta(days=1),
            industry="Retail", region="EMEA", products=("Payments API",),
            proposed_times=(NOW + timedelta(days=5),), state=RequestState.ASKING))
        pending = await uow.asks.add(Ask(
            request_id=asking.id or 0, advocate_id=zoe.id, rank=1, created_at=NOW,
            expires_at=NOW + timedelta(hours=48)))
        await uow.people.upsert(Person(email=EMAIL, display_name=NAME, identity=IDENTITY,
                                       timezone="Europe/Paris"))
        await uow.people.save_conversation_reference(IDENTITY, {"user": {"name": NAME}})
        await uow.people.upsert(REP)
        to_zoe = Person(email=EMAIL, display_name=NAME, identity=IDENTITY)
        await uow.outbox.add(OutgoingMessage(to_zoe, "thanks", {"advocate_name": NAME},
                                             key="thanks:1"), now=NOW)
        await uow.outbox.add(OutgoingMessage(to_zoe, "checkin", {"advocate_name": NAME},
                                             key="checkin:1"), now=NOW)
        await uow.outbox.add(OutgoingMessage(to_zoe, "reminder", {"advocate_name": NAME},
                                             key="reminder:1"), now=NOW)
        await uow.outbox.add(OutgoingMessage(REP, "ask_accepted_rep", {
            "advocate": advocate_contact(zoe)}, key="ask_accepted_rep:1"), now=NOW)
        await uow.audit.append(AuditEntry(at=NOW, actor=EMAIL, action="ask.accepted",
                                          subject=f"ask:{ask.id}", detail={"by": NAME}))
        await uow.commit()
    async with uow_factory() as uow:
        claimed = {m.message.key: m.id for m in await uow.outbox.claim_due(NOW)}
        await uow.outbox.mark_sent(claimed["thanks:1"], platform_ref="a:1", now=NOW)
        await uow.outbox.mark_dead(claimed["reminder:1"], error=f"no Teams user {EMAIL}",
                                   now=NOW)
        await uow.commit()
    return {"zoe": zoe.id, "standby": standby.id, "pending": pending.id or 0}


async def every_value(engine: AsyncEngine) -> str:
    """Every cell of every table, as one lower-case string."""
    cells: list[str] = []
    async with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in await connection.execute(select(table)):
                cells.extend(f"{table.name}: {value!r}" for value in row)
    return "\n".join(cells).lower()


async def numbers(uow_factory: SqlUnitOfWorkFactory, advocate_id: int) -> tuple[Any, ...]:
    async with uow_factory() as uow:
        flow = await uow.reports.flow(*WINDOW)
        mine = (await uow.reports.advocate_numbers(*WINDOW))[advocate_id]
        top = await uow.reports.top_advocates(*WINDOW, limit=5)
        completed = await uow.reports.completed_engagements(*WINDOW)
        dead, _ = await uow.reports.dead_letters(*WINDOW)
    return (flow.fulfilled, flow.influenced, flow.opened, mine.completed, mine.points,
            [(s.advocate_id, s.points, s.engagements) for s in top],
            [(c.engagement_id, c.points) for c in completed], dead)


async def test_after_forgetting_the_email_and_name_are_in_no_table(
        engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory) -> None:
    ids = await seed(uow_factory)
    before = await numbers(uow_factory, ids["zoe"])
    assert EMAIL in await every_value(engine)  # the scan can see it

    report = await forget_advocate(uow_factory, EMAIL.upper(), now=NOW, actor="cli:ops")

    assert (report.withdrawn_asks, report.comments_blanked, report.chat_identities_deleted,
            report.messages_dropped, report.audit_entries_scrubbed) == (1, 1, 1, 1, 1)
    assert report.messages_scrubbed == 3  # sent thanks, dead reminder, the rep's message
    everything = await every_value(engine)
    for secret in (EMAIL, NAME.lower(), "zo\\u00eb laurent", "verdier sas", "001verd",
                   "prefers mornings", "29:zoe-aad", "merci"):
        assert secret not in everything, secret
    assert forgotten_email(ids["zoe"]) in everything
    assert await numbers(uow_factory, ids["zoe"]) == before

    async with uow_factory() as uow:
        zoe = await uow.advocates.get(ids["zoe"])
        assert zoe is not None
        assert (zoe.name, zoe.status, zoe.points, zoe.industry) == (
            forgotten_name(ids["zoe"]), AdvocateStatus.RETIRED, 30, "Retail")
        assert await uow.people.find_by_email(EMAIL) == []
        assert await uow.people.conversation_reference(IDENTITY) is None
        assert await uow.people.get_by_identity(REP.identity) is not None  # others stay
        assert (await uow.asks.get(ids["pending"])).state is AskState.WITHDRAWN  # type: ignore[union-attr]
        open_asks = [a for r in await uow.requests.list_open_needed_by(date.max)
                     for a in await uow.asks.list_for_request(r.id or 0) if a.state.is_open]
        assert [a.advocate_id for a in open_asks] == [ids["standby"]]
        [last] = await uow.audit.list(limit=1)
        assert (last.action, last.subject, last.actor) == (
            "advocate.forgotten", f"advocate:{ids['zoe']}", "cli:ops")
        assert "@" not in repr(last.detail)
        standby = await uow.advocates.get(ids["standby"])
        assert standby is not None and standby.company == "Standby Ltd"

    with pytest.raises(NotFound):
        await forget_advocate(uow_factory, EMAIL, now=NOW)


def test_the_cli_asks_first_then_forgets_and_a_second_run_is_one_red_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ADVOCATE_BOT_CONFIG", raising=False)
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'roster.db'}", "COLUMNS": "250"}
    runner = CliRunner()
    roster = "Email,Name,Company\r\nana@harbor.example,Ana López,Harbor\r\n"
    assert runner.invoke(app, ["advocates", "import", "-"], env=env,
                         input=roster.encode()).exit_code == 0

    declined = runner.invoke(app, ["advocates", "forget", "ana@harbor.example"], env=env,
                             input="n\n")
    assert declined.exit_code == 1
    assert "Ana López" in runner.invoke(app, ["advocates", "list"], env=env).stdout

    confirmed = runner.invoke(app, ["advocates", "forget", "ANA@harbor.example"], env=env,
                              input="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert "Forgot ANA@harbor.example: now advocate #1 (forgotten-1@invalid)" in confirmed.stdout
    assert "0 open asks" in confirmed.stdout and "0 chat identities" in confirmed.stdout
    listed = runner.invoke(app, ["advocates", "list"], env=env).stdout
    assert "Forgotten advocate #1" in listed and "Ana" not in listed

    again = runner.invoke(app, ["advocates", "forget", "ana@harbor.example", "--yes"], env=env)
    assert again.exit_code == 1
    assert "no advocate with email 'ana@harbor.example'" in " ".join(again.stderr.split())
    assert "Traceback" not in again.output
