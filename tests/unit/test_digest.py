"""The weekly digest: numbers against a hand-computed fixture, sending once per manager."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.domain.errors import NotAllowed
from bot.domain.model import Role
from bot.domain.nomination import Nomination, NominationState
from bot.rendering import Renderer
from bot.services.context import ServiceContext
from bot.services.digest import digest_context, digest_for_week, send_digest_now, send_weekly_digest
from tests import digest_fixture
from tests.fakes import FakeDatabase, FixedClock
from tests.unit.conftest import PM_EMAIL, actor, messages_to, outbox, person

OTHER_PM = "quinn.manager@vendor.example"


@pytest.fixture
def digest_ctx(ctx: ServiceContext) -> ServiceContext:
    return replace(ctx, program_timezone=digest_fixture.ZONE,
                   program_managers=(PM_EMAIL, OTHER_PM))


async def test_digest_numbers_match_the_hand_computed_fixture(
        db: FakeDatabase, digest_ctx: ServiceContext) -> None:
    await digest_fixture.load(db.uow)
    digest = await digest_for_week(digest_ctx, digest_fixture.PERIOD_DAY)
    assert digest.period == "2026-W10"
    assert digest.start == datetime(2026, 2, 22, 23, tzinfo=UTC)
    assert digest.end == datetime(2026, 3, 1, 23, tzinfo=UTC)
    found = {m.key: (m.value, m.previous) for m in digest.metrics}
    assert found == digest_fixture.EXPECTED
    assert [(a.name, a.points) for a in digest.top_advocates] == [("Ada", 10)]
    assert [(x.name, x.used_90, x.limit_90, x.at_limit) for x in digest.loads] == [
        ("Ada", 3, 3, True), ("Ben", 2, 3, False)]
    assert [r.name for r in digest.renewals] == ["Ben"]
    assert [w.prospect_company for w in digest.waiting] == ["Globex"]
    assert [d.error for d in digest.dead_letters] == ["user_not_found"]
    series = dict((week, (o, f)) for week, o, f in digest.series)
    assert len(digest.series) == 12 and digest.series[-1][0] == "2026-W09"
    assert series["2026-W09"] == (4, 1)
    assert series["2026-W08"] == (2, 1)
    assert series["2026-W07"] == (1, 0)
    assert series["2026-W02"] == (2, 1)
    assert series["2026-W03"] == (0, 1)


async def test_digest_changes_read_as_up_down_or_same(
        db: FakeDatabase, digest_ctx: ServiceContext) -> None:
    await digest_fixture.load(db.uow)
    context = digest_context(await digest_for_week(digest_ctx, digest_fixture.PERIOD_DAY))
    labels: Any = Renderer().env.get_template("text/replies/labels.j2").module
    metric = {m["key"]: m for m in context["metrics"]}
    assert str(labels.metric_change(metric["opened"])) == "up 2"
    assert str(labels.metric_change(metric["median_time_to_accept"])) == "down 9.0 h"
    assert str(labels.metric_change(metric["fulfilment_rate"])) == "same as the week before"
    assert str(labels.metric_value(metric["influenced"])) == "10,000.00"
    assert str(labels.metric_value({**metric["opened"], "value": None})) == "n/a"
    assert str(labels.metric_change({**metric["opened"], "change": None})) == "no comparison"


async def test_digest_renders_with_a_png_chart(db: FakeDatabase,
                                               digest_ctx: ServiceContext) -> None:
    await digest_fixture.load(db.uow)
    context = digest_context(await digest_for_week(digest_ctx, digest_fixture.PERIOD_DAY))
    png = Renderer().chart_png(context)
    assert png is not None and png.startswith(b"\x89PNG\r\n\x1a\n")
    assert context["chart_filename"] == "digest-2026-W10.png"
    assert Renderer().chart_png({**context, "chart": False}) is None
    text = Renderer().text("digest", context)
    assert "Requests opened: *4* (up 2)" in text
    assert "Ada is at a limit: 3 of 3 in 90 days" in text
    assert "Ben renews on 2026-03-31" in text
    assert "could not be delivered: user_not_found" in text
    assert "Request #" in text and "Globex" in text


async def test_each_manager_gets_one_digest_per_week_however_often_it_runs(
        db: FakeDatabase, digest_ctx: ServiceContext, clock: FixedClock) -> None:
    await digest_fixture.load(db.uow)
    now = datetime(2026, 3, 2, 8, tzinfo=UTC)
    assert await send_weekly_digest(digest_ctx, now, "2026-W10", digest_fixture.PERIOD_DAY) == 2
    assert await send_weekly_digest(digest_ctx, now, "2026-W10", digest_fixture.PERIOD_DAY) == 0
    for email in (PM_EMAIL, OTHER_PM):
        assert [m.key for m in messages_to(db, email)] == [f"digest:2026-W10:{email}"]


async def test_a_run_cut_short_is_finished_by_the_next_without_resending(
        db: FakeDatabase, digest_ctx: ServiceContext) -> None:
    now = datetime(2026, 3, 2, 8, tzinfo=UTC)
    async with db.uow() as uow:  # the first manager's digest went out before a crash
        await uow.idempotency.claim(f"digest:2026-W10:{PM_EMAIL}", now=now)
        await uow.commit()
    assert await send_weekly_digest(digest_ctx, now, "2026-W10", digest_fixture.PERIOD_DAY) == 1
    assert [m.recipient.email for m in outbox(db)] == [OTHER_PM]


async def test_only_a_program_manager_can_ask_for_the_digest_now(
        db: FakeDatabase, digest_ctx: ServiceContext) -> None:
    with pytest.raises(NotAllowed):
        await send_digest_now(digest_ctx, actor(person("riley.rep@vendor.example")))
    assert outbox(db) == []
    pm = actor(person(PM_EMAIL, "Pat Manager"), Role.PROGRAM_MANAGER)
    digest = await send_digest_now(digest_ctx, pm)
    assert digest.metric("opened").value == 0
    (sent,) = outbox(db)
    assert sent.recipient.identity == pm.person.identity and sent.template == "digest"
    assert [e.action for e in db.state.audit] == ["digest.requested"]


async def test_nominations_waiting_over_a_week_need_attention(
        db: FakeDatabase, digest_ctx: ServiceContext) -> None:
    end = datetime(2026, 3, 1, 23, tzinfo=UTC)  # the digest's end (fixture week W10)
    async with db.uow() as uow:
        for email, days, state in (("old@acme.example", 8, NominationState.PENDING),
                                   ("new@acme.example", 3, NominationState.PENDING),
                                   ("done@acme.example", 9, NominationState.DECLINED)):
            await uow.nominations.add(Nomination(
                email=email, nominator_email="olive@vendor.example", nominator_name="Olive",
                created_at=end - timedelta(days=days), state=state))
        await uow.commit()
    digest = await digest_for_week(digest_ctx, digest_fixture.PERIOD_DAY)
    assert digest.needs_attention
    context = digest_context(digest)
    assert [n["email"] for n in context["attention"]["nominations"]] == ["old@acme.example"]
    text = Renderer().text("digest", context)
    assert "old (old@acme.example), nominated by Olive, has waited 8 days for a decision" \
        in text
    from handlers.teams.cards import TeamsCards

    card = TeamsCards(Renderer()).outgoing("digest", {**context, "chart": False}).card
    assert "has waited 8 days for a decision" in json.dumps(card)
