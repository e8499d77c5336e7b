"""Every repository on SQLite and PostgreSQL: domain objects in, the same objects out.

"The same" is strict: tuples stay tuples in order, frozensets and enums come back as such,
Decimals keep their cents, and every datetime — stored from Berlin or Tokyo time — comes
back as the same instant, in UTC.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

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
    LimitOverrides,
    Outcome,
    Person,
    Platform,
    ReferenceRequest,
    ReferenceType,
    RequestState,
    Usage,
)
from bot.ports import DEFAULT_LEASE, OutboxStatus, OutgoingMessage
from storage.uow import SqlUnitOfWorkFactory

BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SLACK_REP = Identity(Platform.SLACK, "T0001", "U0REP")


# --- builders -------------------------------------------------------------------------


def full_advocate(email: str = "Ada.Lovelace@Example.com") -> Advocate:
    """An advocate with every field away from its default."""
    return Advocate(
        email=email,
        name="Ada Lovelace",
        company="Analytical Engines Ltd",
        title="CTO",
        account_id="001ABC",
        industry="Fintech",
        region="EMEA",
        country="GB",
        company_size=CompanySize.L,
        products=("Payments API", "Ledger"),
        use_cases=("payouts", "reconciliation"),
        languages=("English", "日本語"),
        timezone="Europe/London",
        call_hours="Mon-Thu 08:30-16:00",
        reference_types=frozenset({ReferenceType.CALL, ReferenceType.CASE_STUDY}),
        public_recognition=True,
        account_owner_email="csm@vendor.example",
        health_score=87,
        nps=9,
        renewal_date=date(2026, 9, 30),
        status=AdvocateStatus.PAUSED,
        unavailable_until=date(2026, 4, 1),
        snoozed_until=datetime(2026, 3, 10, 18, 30, tzinfo=BERLIN),
        do_not_use_with=("Rival Corp", "Other & <Co>"),
        own_limits=LimitOverrides(max_per_90_days=2, cooldown_days=21, max_open_asks=1),
        manager_limits=LimitOverrides(max_per_365_days=10, max_open_asks=3),
        points=42,
        joined_on=date(2025, 1, 15),
        consent_source="crm-import",
        consented_at=datetime(2025, 1, 15, 12, 0, 0, 123456, tzinfo=TOKYO),
        notes='Said "yes" to <everything> & more\nsecond line 🎉',
    )


def advocate(email: str, **changes: Any) -> Advocate:
    return replace(Advocate(email=email, name=email.split("@")[0], company="Acme"), **changes)


def full_request(**changes: Any) -> ReferenceRequest:
    request = ReferenceRequest(
        rep=Person("Rita.Rep@Vendor.example", "Rita Rep", SLACK_REP, "America/New_York"),
        prospect_company="Prospect GmbH",
        reference_type=ReferenceType.VIDEO_CALL,
        needed_by=date(2026, 3, 20),
        created_at=datetime(2026, 3, 2, 10, 15, tzinfo=BERLIN),
        opportunity_name="Prospect: Payments rollout",
        crm_opportunity_id="006XYZ",
        opportunity_amount=Decimal("999999999999.99"),
        opportunity_stage="Negotiation",
        industry="Fintech",
        region="EMEA",
        company_size=CompanySize.M,
        products=("Payments API",),
        use_cases=("payouts", "fraud"),
        language="German",
        proposed_times=(
            datetime(2026, 3, 10, 15, 0, tzinfo=BERLIN),
            datetime(2026, 3, 11, 9, 30, tzinfo=TOKYO),
        ),
        timezone="America/New_York",
        call_length_minutes=45,
        meeting_link="https://meet.example/abc?x=1&y=2",
        notes="Wants a CFO",
        parallel_asks=2,
        state=RequestState.ASKING,
        updated_at=datetime(2026, 3, 2, 11, 0, tzinfo=TOKYO),
        closed_reason="",
    )
    return replace(request, **changes)


def simple_request(**changes: Any) -> ReferenceRequest:
    request = ReferenceRequest(
        rep=Person("rep@vendor.example"),
        prospect_company="Prospect",
        reference_type=ReferenceType.CALL,
        needed_by=date(2026, 3, 20),
        created_at=NOW,
    )
    return replace(request, **changes)


def assert_all_datetimes_utc(obj: Any) -> None:
    """Every datetime inside ``obj`` (dataclasses, tuples) is aware and in UTC."""
    if isinstance(obj, datetime):
        assert obj.tzinfo is UTC, f"{obj!r} is not in UTC"
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            assert_all_datetimes_utc(getattr(obj, f.name))
    elif isinstance(obj, tuple | list | frozenset):
        for item in obj:
            assert_all_datetimes_utc(item)


async def seed(uow_factory: SqlUnitOfWorkFactory) -> tuple[int, int]:
    """An advocate and a request to hang asks and engagements on: (advocate id, request id)."""
    async with uow_factory() as uow:
        a = await uow.advocates.add(advocate("seed@customer.example"))
        r = await uow.requests.add(simple_request())
        await uow.commit()
    assert a.id is not None and r.id is not None
    return a.id, r.id


# --- unit of work ---------------------------------------------------------------------


async def test_leaving_a_unit_of_work_without_commit_rolls_everything_back(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.advocates.add(advocate("gone@customer.example"))
        await uow.outbox.add(OutgoingMessage(Person("x@y.z"), "t", {}, key="k"), now=NOW)
        assert await uow.idempotency.claim("event-1", now=NOW)

    async with uow_factory() as uow:
        assert await uow.advocates.list() == []
        assert await uow.outbox.claim_due(NOW) == []
        assert await uow.idempotency.claim("event-1", now=NOW)


async def test_an_exception_inside_a_unit_of_work_rolls_it_back(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with uow_factory() as uow:
            await uow.advocates.add(advocate("gone@customer.example"))
            raise RuntimeError("boom")

    async with uow_factory() as uow:
        assert await uow.advocates.get_by_email("gone@customer.example") is None


async def test_commit_keeps_the_work_and_later_uncommitted_work_is_dropped(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.advocates.add(advocate("kept@customer.example"))
        await uow.commit()
        await uow.advocates.add(advocate("dropped@customer.example"))

    async with uow_factory() as uow:
        assert [a.email for a in await uow.advocates.list()] == ["kept@customer.example"]


async def test_rollback_discards_the_work_so_far_and_the_unit_of_work_goes_on(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.advocates.add(advocate("dropped@customer.example"))
        await uow.rollback()
        await uow.advocates.add(advocate("kept@customer.example"))
        await uow.commit()

    async with uow_factory() as uow:
        assert [a.email for a in await uow.advocates.list()] == ["kept@customer.example"]


async def test_a_unit_of_work_cannot_be_used_after_its_block(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    uow = uow_factory()
    async with uow:
        pass
    with pytest.raises(RuntimeError):
        await uow.commit()
    with pytest.raises(RuntimeError):
        async with uow:
            pass


async def test_foreign_keys_are_enforced(uow_factory: SqlUnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        with pytest.raises(IntegrityError):
            await uow.asks.add(Ask(request_id=999, advocate_id=999, rank=1, created_at=NOW,
                                   expires_at=None))


async def test_naive_datetimes_are_refused(uow_factory: SqlUnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        with pytest.raises(ValueError, match="naive"):
            await uow.requests.add(simple_request(created_at=datetime(2026, 3, 2, 9, 0)))


# --- advocates ------------------------------------------------------------------------


async def test_an_advocate_with_every_field_set_comes_back_equal(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    original = full_advocate()
    async with uow_factory() as uow:
        added = await uow.advocates.add(original)
        await uow.commit()
    assert added.id is not None
    assert added == replace(original, id=added.id)

    async with uow_factory() as uow:
        loaded = await uow.advocates.get(added.id)
    assert loaded == replace(original, id=added.id)
    assert loaded is not None
    assert isinstance(loaded.products, tuple) and isinstance(loaded.reference_types, frozenset)
    assert loaded.snoozed_until == datetime(2026, 3, 10, 17, 30, tzinfo=UTC)
    assert loaded.consented_at == datetime(2025, 1, 15, 3, 0, 0, 123456, tzinfo=UTC)
    assert_all_datetimes_utc(loaded)
    assert_all_datetimes_utc(added)


async def test_an_advocate_with_only_defaults_comes_back_equal(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    original = Advocate(email="plain@customer.example", name="Plain", company="Acme")
    async with uow_factory() as uow:
        added = await uow.advocates.add(original)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.advocates.get(added.id or 0) == replace(original, id=added.id)


async def test_advocate_emails_are_unique_and_found_ignoring_case(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        added = await uow.advocates.add(full_advocate("Ada.Lovelace@Example.com"))
        with pytest.raises(ValueError, match="duplicate advocate email"):
            await uow.advocates.add(advocate("ada.lovelace@example.COM"))
        # The failed insert leaves the transaction usable.
        await uow.advocates.add(advocate("grace@customer.example"))
        await uow.commit()

    async with uow_factory() as uow:
        found = await uow.advocates.get_by_email("ADA.LOVELACE@example.com")
        assert found == added
        assert found is not None and found.email == "Ada.Lovelace@Example.com"
        assert await uow.advocates.get_by_email("nobody@example.com") is None
        assert len(await uow.advocates.list()) == 2


async def test_updating_an_advocate_stores_every_change(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        added = await uow.advocates.add(full_advocate())
        await uow.commit()

    changed = replace(
        added,
        email="ada@new.example",
        products=("Ledger",),
        reference_types=frozenset({ReferenceType.SPEAKING}),
        company_size=None,
        status=AdvocateStatus.ACTIVE,
        snoozed_until=None,
        own_limits=LimitOverrides(),
        manager_limits=LimitOverrides(max_per_90_days=5),
        points=43,
        health_score=None,
    )
    async with uow_factory() as uow:
        await uow.advocates.update(changed)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.advocates.get(changed.id or 0) == changed
        assert await uow.advocates.get_by_email("ADA@new.example") == changed


async def test_an_advocate_cannot_take_another_advocates_email(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        ada = await uow.advocates.add(advocate("ada@customer.example"))
        await uow.advocates.add(advocate("bob@customer.example"))
        await uow.commit()
    async with uow_factory() as uow:
        with pytest.raises(ValueError, match="duplicate advocate email"):
            await uow.advocates.update(replace(ada, email="BOB@customer.example", points=1))
        await uow.advocates.update(replace(ada, points=2))  # the transaction goes on
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.advocates.get(ada.id or 0) == replace(ada, points=2)


async def test_getting_or_updating_a_missing_advocate(uow_factory: SqlUnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.advocates.get(12345) is None
        assert await uow.advocates.get_for_update(12345) is None
        with pytest.raises(LookupError):
            await uow.advocates.update(advocate("x@y.z", id=12345))


async def test_advocates_are_listed_by_email_and_filtered_by_status(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        for email, status in [("b_z@x.example", AdvocateStatus.ACTIVE),
                              ("B.a@x.example", AdvocateStatus.PAUSED),
                              ("a@x.example", AdvocateStatus.ACTIVE),
                              ("c@x.example", AdvocateStatus.RETIRED)]:
            await uow.advocates.add(advocate(email, status=status))
        await uow.commit()

    async with uow_factory() as uow:
        emails = [a.email for a in await uow.advocates.list()]
        active = [a.email for a in await uow.advocates.list(status=AdvocateStatus.ACTIVE)]
    assert emails == sorted(emails, key=str.lower)
    assert emails == ["a@x.example", "B.a@x.example", "b_z@x.example", "c@x.example"]
    assert active == ["a@x.example", "b_z@x.example"]


async def test_get_for_update_sees_the_latest_committed_row(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        added = await uow.advocates.add(advocate("lock@customer.example"))
        await uow.commit()
    async with uow_factory() as uow:
        locked = await uow.advocates.get_for_update(added.id or 0)
        assert locked == added


async def test_concurrent_read_modify_write_under_get_for_update_loses_no_update(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    """The limits check on accept depends on this: FOR UPDATE on PostgreSQL, BEGIN
    IMMEDIATE on SQLite. Without either, concurrent increments overwrite each other."""
    async with uow_factory() as uow:
        added = await uow.advocates.add(advocate("busy@customer.example"))
        await uow.commit()
    advocate_id = added.id or 0

    async def increment() -> None:
        async with uow_factory() as uow:
            current = await uow.advocates.get_for_update(advocate_id)
            assert current is not None
            await asyncio.sleep(0.01)  # let the others run into the lock
            current.points += 1
            await uow.advocates.update(current)
            await uow.commit()

    await asyncio.gather(*(increment() for _ in range(8)))
    async with uow_factory() as uow:
        final = await uow.advocates.get(advocate_id)
    assert final is not None and final.points == 8


# --- usage ----------------------------------------------------------------------------


async def _engagement(uow: Any, advocate_id: int, request_id: int, *, state: EngagementState,
                      accepted_at: datetime, scheduled_at: datetime | None = None) -> None:
    ask = await uow.asks.add(Ask(request_id, advocate_id, 1, accepted_at, None,
                                 state=AskState.WITHDRAWN))
    await uow.engagements.add(Engagement(request_id, advocate_id, ask.id, ReferenceType.CALL,
                                         accepted_at, state=state, scheduled_at=scheduled_at))


async def test_usage_counts_only_engagements_that_count_and_fall_in_the_window(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    advocate_id, request_id = await seed(uow_factory)
    since = NOW - timedelta(days=90)
    async with uow_factory() as uow:
        # in the window, by call time although accepted before it
        await _engagement(uow, advocate_id, request_id, state=EngagementState.SCHEDULED,
                          accepted_at=since - timedelta(days=5),
                          scheduled_at=since + timedelta(days=1))
        # in the window, by acceptance (no call time yet); stored from Tokyo time
        await _engagement(uow, advocate_id, request_id, state=EngagementState.ACCEPTED,
                          accepted_at=(NOW - timedelta(days=2)).astimezone(TOKYO))
        # exactly at the window's start counts
        await _engagement(uow, advocate_id, request_id, state=EngagementState.COMPLETED,
                          accepted_at=since)
        await _engagement(uow, advocate_id, request_id, state=EngagementState.PROPOSED,
                          accepted_at=NOW - timedelta(days=1))
        # do not count: cancelled, no-show, before the window
        await _engagement(uow, advocate_id, request_id, state=EngagementState.CANCELLED,
                          accepted_at=NOW + timedelta(days=3))
        await _engagement(uow, advocate_id, request_id, state=EngagementState.NO_SHOW,
                          accepted_at=NOW - timedelta(days=3))
        await _engagement(uow, advocate_id, request_id, state=EngagementState.COMPLETED,
                          accepted_at=since - timedelta(seconds=1))
        await uow.commit()

    async with uow_factory() as uow:
        usage = (await uow.advocates.usage([advocate_id], since=since))[advocate_id]
    assert usage.engagement_times == (
        since,
        since + timedelta(days=1),
        NOW - timedelta(days=2),
        NOW - timedelta(days=1),
    )
    # the latest counting engagement, window or not; cancelled ones are ignored
    assert usage.last_engaged_at == NOW - timedelta(days=1)
    assert usage.open_asks == 0
    assert_all_datetimes_utc(usage)


async def test_usage_last_engaged_at_looks_beyond_the_window(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    advocate_id, request_id = await seed(uow_factory)
    old = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    async with uow_factory() as uow:
        await _engagement(uow, advocate_id, request_id, state=EngagementState.COMPLETED,
                          accepted_at=old)
        await uow.commit()
    async with uow_factory() as uow:
        usage = (await uow.advocates.usage([advocate_id], since=NOW - timedelta(days=90)))
    assert usage[advocate_id] == Usage(last_engaged_at=old)


async def test_usage_counts_asks_pending_or_awaiting_approval_as_open(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    advocate_id, request_id = await seed(uow_factory)
    async with uow_factory() as uow:
        for state in AskState:
            await uow.asks.add(Ask(request_id, advocate_id, 1, NOW, None, state=state))
        await uow.commit()
    async with uow_factory() as uow:
        usage = await uow.advocates.usage([advocate_id], since=NOW)
    assert usage[advocate_id].open_asks == 2


async def test_the_decline_streak_counts_declines_since_the_last_accepted_ask(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    advocate_id, request_id = await seed(uow_factory)
    t = NOW - timedelta(days=30)

    async def answered(uow: Any, state: AskState, days: int) -> None:
        await uow.asks.add(Ask(request_id, advocate_id, 1, t, None, state=state,
                               answered_at=t + timedelta(days=days)))

    async with uow_factory() as uow:
        # inserted out of order: the streak follows answered_at, not insertion order
        await answered(uow, AskState.DECLINED, 10)
        await answered(uow, AskState.ACCEPTED, 5)
        await answered(uow, AskState.DECLINED, 1)  # before the acceptance: not counted
        await answered(uow, AskState.DECLINED, 12)
        await answered(uow, AskState.EXPIRED, 13)  # neither breaks nor extends the streak
        await answered(uow, AskState.SNOOZED, 14)
        await uow.commit()

    async with uow_factory() as uow:
        usage = (await uow.advocates.usage([advocate_id], since=NOW))[advocate_id]
    assert usage.consecutive_declines == 2
    assert usage.last_declined_at == t + timedelta(days=12)

    async with uow_factory() as uow:
        await answered(uow, AskState.ACCEPTED, 20)
        await uow.commit()
    async with uow_factory() as uow:
        usage = (await uow.advocates.usage([advocate_id], since=NOW))[advocate_id]
    assert (usage.consecutive_declines, usage.last_declined_at) == (0, None)


async def test_declines_with_no_acceptance_ever_all_count(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    advocate_id, request_id = await seed(uow_factory)
    async with uow_factory() as uow:
        for days in (1, 2, 3):
            await uow.asks.add(Ask(request_id, advocate_id, 1, NOW, None,
                                   state=AskState.DECLINED,
                                   answered_at=(NOW + timedelta(days=days)).astimezone(BERLIN)))
        await uow.commit()
    async with uow_factory() as uow:
        usage = (await uow.advocates.usage([advocate_id], since=NOW))[advocate_id]
    assert usage.consecutive_declines == 3
    assert usage.last_declined_at == NOW + timedelta(days=3)
    assert_all_datetimes_utc(usage)


async def test_usage_answers_for_every_id_asked_for_and_only_those(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    advocate_id, request_id = await seed(uow_factory)
    async with uow_factory() as uow:
        other = await uow.advocates.add(advocate("other@customer.example"))
        await uow.asks.add(Ask(request_id, advocate_id, 1, NOW, None))
        await uow.asks.add(Ask(request_id, other.id or 0, 1, NOW, None))
        await uow.commit()
        assert await uow.advocates.usage([], since=NOW) == {}
        usage = await uow.advocates.usage([advocate_id, 4242], since=NOW)
    assert usage == {advocate_id: Usage(open_asks=1), 4242: Usage()}


async def test_usage_for_thousands_of_advocates_takes_a_handful_of_queries(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory
) -> None:
    """Matching asks for everyone's usage at once; one query per advocate would not scale."""
    many = 3000
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO advocates (email, email_key, name, company, title, account_id, "
                 "industry, region, country, products, use_cases, languages, timezone, "
                 "reference_types, public_recognition, status, do_not_use_with, points, "
                 "consent_source, notes) VALUES (:e, :e, 'n', 'c', '', '', '', '', '', '[]', "
                 "'[]', '[]', 'UTC', '[]', false, 'active', '[]', 0, '', '')"),
            [{"e": f"a{i}@x.example"} for i in range(many)],
        )
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with uow_factory() as uow:
            # 33k ids: past both databases' bound-parameter limits if sent one per id
            ids = list(range(1, many + 1)) * 11
            usage = await uow.advocates.usage(ids, since=NOW)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert len(usage) == many
    assert all(u == Usage() for u in usage.values())
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 4


# --- reference requests ---------------------------------------------------------------


async def test_a_request_with_every_field_set_comes_back_equal(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    original = full_request()
    async with uow_factory() as uow:
        added = await uow.requests.add(original)
        await uow.commit()
    assert added == replace(original, id=added.id)
    async with uow_factory() as uow:
        loaded = await uow.requests.get(added.id or 0)
        locked = await uow.requests.get_for_update(added.id or 0)
    assert loaded == locked == replace(original, id=added.id)
    assert loaded is not None
    assert loaded.opportunity_amount == Decimal("999999999999.99")
    assert isinstance(loaded.opportunity_amount, Decimal)
    assert loaded.proposed_times == (datetime(2026, 3, 10, 14, 0, tzinfo=UTC),
                                     datetime(2026, 3, 11, 0, 30, tzinfo=UTC))
    assert_all_datetimes_utc(loaded)
    assert_all_datetimes_utc(added)


async def test_a_request_from_a_rep_without_chat_identity_comes_back_equal(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    original = simple_request(opportunity_amount=Decimal("0.10"))
    async with uow_factory() as uow:
        added = await uow.requests.add(original)
        await uow.commit()
    async with uow_factory() as uow:
        loaded = await uow.requests.get(added.id or 0)
    assert loaded == replace(original, id=added.id)
    assert loaded is not None and loaded.rep.identity is None


async def test_updating_a_request_stores_every_change(uow_factory: SqlUnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        added = await uow.requests.add(full_request())
        await uow.commit()
    changed = replace(added, state=RequestState.CANCELLED, closed_reason="rep cancelled",
                      proposed_times=(), opportunity_amount=None,
                      updated_at=NOW + timedelta(hours=1),
                      rep=Person("other@vendor.example", "Other", None, None))
    async with uow_factory() as uow:
        await uow.requests.update(changed)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.requests.get(added.id or 0) == changed
        assert await uow.requests.get(99999) is None
        with pytest.raises(LookupError):
            await uow.requests.update(replace(changed, id=99999))


async def test_a_reps_requests_are_found_by_identity_or_email_newest_first(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    by_identity = Person(None, "Rita", SLACK_REP)
    by_email = Person("RITA@vendor.example")
    async with uow_factory() as uow:
        old = await uow.requests.add(simple_request(rep=by_identity, created_at=NOW))
        new = await uow.requests.add(simple_request(rep=by_email,
                                                    created_at=NOW + timedelta(hours=1)))
        closed = await uow.requests.add(simple_request(rep=by_email, state=RequestState.COMPLETED,
                                                       created_at=NOW + timedelta(hours=2)))
        await uow.requests.add(simple_request(rep=Person("someone@vendor.example")))
        await uow.requests.add(simple_request(
            rep=Person(None, "", Identity(Platform.TEAMS, "T0001", "U0REP"))))
        await uow.commit()

    rita = Person("rita@VENDOR.example", "Rita", SLACK_REP)
    async with uow_factory() as uow:
        assert await uow.requests.list_for_rep(rita) == [new, old]
        assert await uow.requests.list_for_rep(rita, include_closed=True) == [closed, new, old]
        assert await uow.requests.list_for_rep(Person(None, "", SLACK_REP)) == [old]
        assert await uow.requests.list_for_rep(Person("rita@vendor.example")) == [new]
        assert await uow.requests.list_for_rep(Person(None)) == []


async def test_open_requests_needed_by_a_day_leave_out_later_and_closed_ones(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        due = await uow.requests.add(simple_request(needed_by=date(2026, 3, 5)))
        on_the_day = await uow.requests.add(simple_request(needed_by=date(2026, 3, 6),
                                                           state=RequestState.ACCEPTED))
        await uow.requests.add(simple_request(needed_by=date(2026, 3, 7)))
        await uow.requests.add(simple_request(needed_by=date(2026, 3, 1),
                                              state=RequestState.EXPIRED))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.requests.list_open_needed_by(date(2026, 3, 6)) == [due, on_the_day]


# --- asks -----------------------------------------------------------------------------


async def test_an_ask_with_every_field_set_comes_back_equal(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    advocate_id, request_id = await seed(uow_factory)
    original = Ask(
        request_id=request_id, advocate_id=advocate_id, rank=2,
        created_at=datetime(2026, 3, 2, 10, 0, tzinfo=BERLIN),
        expires_at=datetime(2026, 3, 4, 10, 0, tzinfo=BERLIN),
        state=AskState.DECLINED, answered_at=datetime(2026, 3, 3, 8, 0, tzinfo=TOKYO),
        decline_reason="Busy quarter", approver_email="owner@vendor.example",
        approved_by="owner@vendor.example", approved_at=datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
        override_reason="PM override: strategic deal",
    )
    async with uow_factory() as uow:
        added = await uow.asks.add(original)
        await uow.commit()
    assert added == replace(original, id=added.id)
    async with uow_factory() as uow:
        loaded = await uow.asks.get(added.id or 0)
        assert loaded == await uow.asks.get_for_update(added.id or 0)
    assert loaded == replace(original, id=added.id)
    assert_all_datetimes_utc(loaded)

    changed = replace(added, state=AskState.ACCEPTED, decline_reason="", expires_at=None)
    async with uow_factory() as uow:
        await uow.asks.update(changed)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.asks.get(added.id or 0) == changed
        assert await uow.asks.get(99999) is None


async def test_a_requests_asks_are_listed_in_creation_order(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    advocate_id, request_id = await seed(uow_factory)
    async with uow_factory() as uow:
        other_request = await uow.requests.add(simple_request())
        first = await uow.asks.add(Ask(request_id, advocate_id, 2, NOW, None))
        await uow.asks.add(Ask(other_request.id or 0, advocate_id, 1, NOW, None))
        second = await uow.asks.add(Ask(request_id, advocate_id, 1, NOW - timedelta(days=1),
                                        None))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.asks.list_for_request(request_id) == [first, second]


async def test_expired_asks_are_open_ones_past_their_expiry_soonest_first(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    advocate_id, request_id = await seed(uow_factory)

    def ask(expires_in: timedelta | None, state: AskState = AskState.PENDING) -> Ask:
        expires_at = None if expires_in is None else NOW + expires_in
        return Ask(request_id, advocate_id, 1, NOW - timedelta(days=3), expires_at, state=state)

    async with uow_factory() as uow:
        late = await uow.asks.add(ask(-timedelta(hours=1)))
        earliest = await uow.asks.add(ask(-timedelta(hours=5), AskState.AWAITING_APPROVAL))
        exactly_now = await uow.asks.add(ask(timedelta(0)))
        await uow.asks.add(ask(timedelta(seconds=1)))  # not yet
        await uow.asks.add(ask(None))  # never expires
        await uow.asks.add(ask(-timedelta(hours=9), AskState.DECLINED))  # answered
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.asks.list_expired(NOW) == [earliest, late, exactly_now]
        assert await uow.asks.list_expired(NOW.astimezone(TOKYO), limit=2) == [earliest, late]


# --- engagements ----------------------------------------------------------------------


async def test_an_engagement_with_every_field_set_comes_back_equal(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    advocate_id, request_id = await seed(uow_factory)
    async with uow_factory() as uow:
        ask = await uow.asks.add(Ask(request_id, advocate_id, 1, NOW, None,
                                     state=AskState.ACCEPTED))
        await uow.commit()
    original = Engagement(
        request_id=request_id, advocate_id=advocate_id, ask_id=ask.id or 0,
        reference_type=ReferenceType.SITE_VISIT,
        accepted_at=datetime(2026, 3, 2, 10, 0, tzinfo=BERLIN),
        state=EngagementState.COMPLETED,
        scheduled_at=datetime(2026, 3, 9, 16, 0, tzinfo=TOKYO),
        duration_minutes=90,
        proposed_at=datetime(2026, 3, 8, 16, 0, tzinfo=TOKYO),
        outcome=Outcome.COMPLETED,
        helpfulness=5,
        influenced_amount=Decimal("250000.05"),
        advocate_comment="Happy to help — again!",
        points_awarded=30,
        completed_at=datetime(2026, 3, 9, 9, 30, tzinfo=UTC),
    )
    async with uow_factory() as uow:
        added = await uow.engagements.add(original)
        await uow.commit()
    assert added == replace(original, id=added.id)
    async with uow_factory() as uow:
        loaded = await uow.engagements.get(added.id or 0)
    assert loaded == replace(original, id=added.id)
    assert loaded is not None and isinstance(loaded.influenced_amount, Decimal)
    assert_all_datetimes_utc(loaded)

    changed = replace(added, state=EngagementState.NO_SHOW, outcome=Outcome.NO_SHOW,
                      influenced_amount=None, helpfulness=None)
    async with uow_factory() as uow:
        await uow.engagements.update(changed)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.engagements.get(added.id or 0) == changed
        assert await uow.engagements.get(99999) is None


async def test_a_requests_live_engagement_skips_cancelled_ones(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    advocate_id, request_id = await seed(uow_factory)
    async with uow_factory() as uow:
        ask = await uow.asks.add(Ask(request_id, advocate_id, 1, NOW, None))
        cancelled = Engagement(request_id, advocate_id, ask.id or 0, ReferenceType.CALL, NOW,
                               state=EngagementState.CANCELLED)
        await uow.engagements.add(cancelled)
        assert await uow.engagements.get_for_request(request_id) is None
        live = await uow.engagements.add(replace(cancelled, state=EngagementState.SCHEDULED))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.engagements.get_for_request(request_id) == live


async def test_an_advocates_engagements_are_listed_newest_first(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    advocate_id, request_id = await seed(uow_factory)
    async with uow_factory() as uow:
        ask = await uow.asks.add(Ask(request_id, advocate_id, 1, NOW, None))
        made = [
            await uow.engagements.add(Engagement(request_id, advocate_id, ask.id or 0,
                                                 ReferenceType.CALL, NOW + timedelta(days=d)))
            for d in (3, 1, 2)
        ]
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.engagements.list_for_advocate(advocate_id) == [made[0], made[2], made[1]]
        assert await uow.engagements.list_for_advocate(99999) == []


# --- people ---------------------------------------------------------------------------


async def test_people_are_upserted_by_identity_and_found_by_email(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    slack = Person("Sam@Customer.example", "Sam", Identity(Platform.SLACK, "T1", "U1"),
                   "Europe/Berlin")
    teams = Person("sam@customer.example", "Sam S.", Identity(Platform.TEAMS, "tenant", "29:1"))
    async with uow_factory() as uow:
        await uow.people.upsert(slack)
        await uow.people.upsert(teams)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.people.get_by_identity(slack.identity) == slack  # type: ignore[arg-type]
        assert await uow.people.find_by_email("SAM@customer.EXAMPLE") == [teams, slack]
        assert await uow.people.get_by_identity(Identity(Platform.SLACK, "T2", "U1")) is None

    renamed = replace(slack, display_name="Samantha", timezone=None)
    async with uow_factory() as uow:
        assert await uow.people.get_by_identity(slack.identity) == slack  # type: ignore[arg-type]
        await uow.people.upsert(renamed)  # refreshes the row loaded just above
        assert await uow.people.get_by_identity(slack.identity) == renamed  # type: ignore[arg-type]
        await uow.commit()
    async with uow_factory() as uow:
        # refreshed last, so newest
        assert await uow.people.find_by_email("sam@customer.example") == [renamed, teams]
        assert await uow.people.find_by_email("nobody@customer.example") == []


async def test_upserting_a_person_keeps_their_teams_conversation_reference(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory
) -> None:
    person = Person("t@customer.example", "T", Identity(Platform.TEAMS, "tenant", "29:1"))
    async with uow_factory() as uow:
        await uow.people.upsert(person)
        await uow.commit()
    async with engine.begin() as connection:
        await connection.execute(text(
            """UPDATE people SET conversation_reference = '{"conversation": {"id": "a:1"}}'"""
        ))
    async with uow_factory() as uow:
        await uow.people.upsert(replace(person, display_name="Tee"))
        await uow.commit()
    async with engine.connect() as connection:
        stored = (await connection.execute(
            text("SELECT conversation_reference FROM people"))).scalar_one()
    assert "a:1" in str(stored)


async def test_a_person_without_chat_identity_is_not_stored(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        with pytest.raises(ValueError, match="identity"):
            await uow.people.upsert(Person("x@y.z"))


# --- audit log ------------------------------------------------------------------------


async def test_audit_entries_are_listed_newest_first_by_subject_with_a_limit(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    detail: dict[str, object] = {
        "reason": "strategic deal — “quoted”", "limits": [3, 8], "nested": {"ok": True},
    }
    async with uow_factory() as uow:
        await uow.audit.append(AuditEntry(NOW.astimezone(TOKYO), "pm@vendor.example",
                                          "limit.override", "advocate:7", detail))
        await uow.audit.append(AuditEntry(NOW, "system", "ask.expired", "ask:3"))
        await uow.audit.append(AuditEntry(NOW + timedelta(minutes=1), "pm@vendor.example",
                                          "advocate.paused", "advocate:7"))
        await uow.commit()
    async with uow_factory() as uow:
        everything = await uow.audit.list()
        about_7 = await uow.audit.list(subject="advocate:7")
        latest = await uow.audit.list(limit=1)
    assert [e.action for e in everything] == ["advocate.paused", "ask.expired", "limit.override"]
    assert [e.action for e in about_7] == ["advocate.paused", "limit.override"]
    assert latest == everything[:1]
    override = about_7[1]
    assert override == AuditEntry(NOW, "pm@vendor.example", "limit.override", "advocate:7",
                                  detail, id=override.id)
    assert override.id is not None
    assert_all_datetimes_utc(override)


# --- outbox ---------------------------------------------------------------------------


def message(key: str, **changes: Any) -> OutgoingMessage:
    original = OutgoingMessage(
        recipient=Person("Ada@Customer.example", "Ada", Identity(Platform.TEAMS, "tn", "29:a"),
                         "Asia/Tokyo"),
        template="ask",
        context={"request_id": 7, "text": "Hi <Ada> & co — 日本語", "times": ["2026-03-10"]},
        key=key,
    )
    return replace(original, **changes)


async def test_an_outbox_message_comes_back_as_it_was_queued(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    queued = message("ask:1", replaces="ask:0")
    bare = message("digest:1", recipient=Person("pm@vendor.example"), context={})
    async with uow_factory() as uow:
        assert await uow.outbox.add(queued, now=NOW.astimezone(BERLIN))
        assert await uow.outbox.add(bare, now=NOW)
        await uow.commit()
    async with uow_factory() as uow:
        due = await uow.outbox.claim_due(NOW, lease=timedelta(0))
    assert [m.message for m in due] == [queued, bare]
    first = due[0]
    assert (first.status, first.attempts, first.created_at, first.next_attempt_at,
            first.last_error, first.sent_at, first.platform_ref, first.replaces_ref) == (
        OutboxStatus.PENDING, 0, NOW, NOW, "", None, None, None)
    assert_all_datetimes_utc(first)


async def test_queuing_a_key_twice_keeps_the_first_message_only(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        assert await uow.outbox.add(message("k"), now=NOW) is True
        assert await uow.outbox.add(message("k", template="other"), now=NOW) is False
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.outbox.add(message("k", template="third"), now=NOW) is False
        await uow.outbox.add(message("k2"), now=NOW)  # the transaction is still fine
        await uow.commit()
    async with uow_factory() as uow:
        due = await uow.outbox.claim_due(NOW)
    assert [(m.message.key, m.message.template) for m in due] == [("k", "ask"), ("k2", "ask")]


async def test_due_messages_are_pending_ones_oldest_first_up_to_the_limit(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.outbox.add(message("later"), now=NOW + timedelta(minutes=2))
        await uow.outbox.add(message("oldest"), now=NOW - timedelta(minutes=5))
        await uow.outbox.add(message("middle"), now=NOW - timedelta(minutes=1))
        await uow.outbox.add(message("sent"), now=NOW - timedelta(minutes=9))
        await uow.commit()
    async with uow_factory() as uow:
        claimed = await uow.outbox.claim_due(NOW, lease=timedelta(0))
        sent = next(m for m in claimed if m.message.key == "sent")
        await uow.outbox.mark_sent(sent.id, platform_ref="C1:1.0", now=NOW)
        await uow.commit()
    # Each claim below is rolled back with its unit of work, so its lease is too.
    async with uow_factory() as uow:
        assert [m.message.key for m in await uow.outbox.claim_due(NOW)] == ["oldest", "middle"]
    async with uow_factory() as uow:
        assert [m.message.key for m in await uow.outbox.claim_due(NOW, limit=1)] == ["oldest"]
    async with uow_factory() as uow:
        assert len(await uow.outbox.claim_due(NOW + timedelta(minutes=2))) == 3


async def test_a_claimed_message_is_leased_to_its_claimer_until_the_lease_runs_out(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.outbox.add(message("k"), now=NOW)
        await uow.commit()
    async with uow_factory() as uow:
        [claimed] = await uow.outbox.claim_due(NOW, lease=timedelta(seconds=60))
        await uow.commit()
    async with uow_factory() as uow:  # another replica's dispatcher
        assert await uow.outbox.claim_due(NOW + timedelta(seconds=59)) == []
    async with uow_factory() as uow:  # the claimer died: the message is due again
        [again] = await uow.outbox.claim_due(NOW + timedelta(seconds=60))
    assert again.id == claimed.id and again.attempts == 0
    async with uow_factory() as uow:  # released untried: due at the given time
        await uow.outbox.release(claimed.id, next_attempt_at=NOW + timedelta(seconds=5))
        await uow.commit()
    async with uow_factory() as uow:
        [released] = await uow.outbox.claim_due(NOW + timedelta(seconds=5))
    assert released.attempts == 0


async def test_a_retry_waits_until_its_next_attempt_and_counts_the_attempt(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.outbox.add(message("k"), now=NOW)
        await uow.commit()
    retry_at = NOW + timedelta(seconds=30)
    async with uow_factory() as uow:
        [m] = await uow.outbox.claim_due(NOW)
        await uow.outbox.mark_retry(m.id, error="429 rate limited",
                                    next_attempt_at=retry_at.astimezone(BERLIN))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.outbox.claim_due(retry_at - timedelta(seconds=1)) == []
        [again] = await uow.outbox.claim_due(retry_at)
    assert (again.attempts, again.last_error, again.next_attempt_at, again.status) == (
        1, "429 rate limited", retry_at + DEFAULT_LEASE, OutboxStatus.PENDING)


async def test_a_dead_letter_is_never_due_again_and_is_reported(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.outbox.add(message("old-death"), now=NOW - timedelta(days=10))
        await uow.outbox.add(message("k"), now=NOW)
        await uow.outbox.add(message("fine"), now=NOW)
        await uow.commit()
    async with uow_factory() as uow:
        by_key = {m.message.key: m for m in await uow.outbox.claim_due(NOW)}
        await uow.outbox.mark_dead(by_key["old-death"].id, error="gone",
                                   now=NOW - timedelta(days=9))
        await uow.outbox.mark_retry(by_key["k"].id, error="500", next_attempt_at=NOW)
        await uow.outbox.mark_dead(by_key["k"].id, error="channel_not_found", now=NOW)
        await uow.commit()
    async with uow_factory() as uow:
        assert [m.message.key for m in await uow.outbox.claim_due(NOW + timedelta(days=1))] == [
            "fine"]
        [dead] = await uow.outbox.dead_letters(since=NOW - timedelta(days=7))
        assert len(await uow.outbox.dead_letters(since=NOW - timedelta(days=30))) == 2
    assert (dead.message.key, dead.status, dead.attempts, dead.last_error) == (
        "k", OutboxStatus.DEAD, 2, "channel_not_found")
    assert dead.message == message("k")


async def test_a_message_that_replaces_another_gets_the_sent_ones_platform_ref(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.outbox.add(message("ask:1"), now=NOW)
        await uow.outbox.add(message("never-sent"), now=NOW)
        await uow.commit()
    async with uow_factory() as uow:
        claimed = await uow.outbox.claim_due(NOW, lease=timedelta(0))
        original = next(m for m in claimed if m.message.key == "ask:1")
        assert await uow.outbox.platform_ref("ask:1") is None  # not sent yet
        await uow.outbox.mark_sent(original.id, platform_ref="D123:1700000000.1", now=NOW)
        await uow.outbox.add(message("ask:1:answered", replaces="ask:1"), now=NOW)
        await uow.outbox.add(message("orphan", replaces="never-sent"), now=NOW)
        await uow.outbox.add(message("ghost", replaces="no-such-key"), now=NOW)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.outbox.platform_ref("ask:1") == "D123:1700000000.1"
        assert await uow.outbox.platform_ref("nope") is None
        refs = {m.message.key: m.replaces_ref for m in await uow.outbox.claim_due(NOW)}
    # "orphan" waits while the message it replaces is still pending.
    assert refs == {"never-sent": None, "ask:1:answered": "D123:1700000000.1", "ghost": None}


async def test_a_replacing_message_waits_until_the_one_it_replaces_was_sent(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.outbox.add(message("ask:7"), now=NOW)
        await uow.outbox.add(message("ask:7:answered", replaces="ask:7"), now=NOW)
        await uow.outbox.add(message("ask:8:answered", replaces="ask:8"), now=NOW)  # never queued
        await uow.commit()
    async with uow_factory() as uow:
        first = await uow.outbox.claim_due(NOW, lease=timedelta(0))
        assert [m.message.key for m in first] == ["ask:7", "ask:8:answered"]
        await uow.outbox.mark_sent(first[0].id, platform_ref="D1:1.0", now=NOW)
        await uow.commit()
    async with uow_factory() as uow:
        second = {m.message.key: m.replaces_ref
                  for m in await uow.outbox.claim_due(NOW, lease=timedelta(0))}
    assert second == {"ask:7:answered": "D1:1.0", "ask:8:answered": None}


async def test_marking_a_missing_outbox_message_fails(uow_factory: SqlUnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        with pytest.raises(LookupError):
            await uow.outbox.mark_sent(4242, platform_ref=None, now=NOW)


# --- idempotency ----------------------------------------------------------------------


async def test_an_idempotency_key_is_claimed_once(uow_factory: SqlUnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.idempotency.claim("evt:Ev123", now=NOW) is True
        assert await uow.idempotency.claim("evt:Ev123", now=NOW) is False
        assert await uow.idempotency.claim("evt:Ev124", now=NOW) is True
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.idempotency.claim("evt:Ev123", now=NOW) is False


async def test_concurrent_claims_of_one_key_let_exactly_one_through(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async def claim() -> bool:
        async with uow_factory() as uow:
            won = await uow.idempotency.claim("digest:2026-W10:pm@vendor.example", now=NOW)
            await asyncio.sleep(0.01)
            await uow.commit()
            return won

    results = await asyncio.gather(*(claim() for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]


# --- PostgreSQL row locks -------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
async def test_on_postgres_a_second_dispatcher_skips_messages_the_first_holds(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    """SKIP LOCKED exists on PostgreSQL only; SQLite serialises whole transactions."""
    async with uow_factory() as uow:
        for key in ("a", "b", "c"):
            await uow.outbox.add(message(key), now=NOW)
        await uow.commit()
    advocate_id, request_id = await seed(uow_factory)
    async with uow_factory() as uow:
        for _ in range(2):
            await uow.asks.add(Ask(request_id, advocate_id, 1, NOW, NOW - timedelta(hours=1)))
        await uow.commit()

    async with uow_factory() as first, uow_factory() as second:
        assert [m.message.key for m in await first.outbox.claim_due(NOW, limit=2)] == ["a", "b"]
        assert [m.message.key for m in await second.outbox.claim_due(NOW)] == ["c"]
        held = await first.asks.list_expired(NOW, limit=1)
        rest = await second.asks.list_expired(NOW)
        assert len(held) == len(rest) == 1 and held[0].id != rest[0].id


async def test_migration_0005_moves_a_proposal_without_a_time_back_to_accepted(
        uow_factory: SqlUnitOfWorkFactory) -> None:
    """Rows written before ``proposed → accepted`` existed: "proposed" with no time."""
    from alembic import command

    from storage.migrate import alembic_config

    advocate_id, request_id = await seed(uow_factory)
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    async with uow_factory() as uow:
        await _engagement(uow, advocate_id, request_id, state=EngagementState.ACCEPTED,
                          accepted_at=now)
        await _engagement(uow, advocate_id, request_id, state=EngagementState.PROPOSED,
                          accepted_at=now)
        await uow.commit()
    engine = uow_factory.engine

    def migrate(connection: Any, target: str, down: bool = False) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, target)

    async with engine.begin() as connection:
        await connection.run_sync(migrate, "0004", True)
        await connection.execute(text(
            "UPDATE engagements SET state = 'proposed', proposed_at = NULL"))
        await connection.execute(text(
            "UPDATE engagements SET proposed_at = :at WHERE id = (SELECT max(id) FROM "
            "engagements)"), {"at": now})
        await connection.run_sync(migrate, "head")
    async with engine.connect() as connection:
        states = (await connection.execute(text(
            "SELECT state FROM engagements ORDER BY id"))).scalars().all()
    assert states == ["accepted", "proposed"]  # the one with a time stays proposed
