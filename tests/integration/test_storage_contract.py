"""The in-memory fake and the SQL storage must agree.

Service tests run on ``tests.fakes.FakeDatabase``; production runs on SQL. This plays one
scenario that touches every repository method through both and compares what each
returned. Ids differ by design (the fake numbers everything from one counter), so the
comparison replaces ids with the natural keys they point at.
"""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from bot.domain.model import (
    Advocate,
    AdvocateStatus,
    Ask,
    AskState,
    AuditEntry,
    Engagement,
    EngagementState,
    Identity,
    Person,
    Platform,
    ReferenceRequest,
    ReferenceType,
    RequestState,
    Usage,
)
from bot.ports import OutgoingMessage, UnitOfWorkFactory
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes import FakeDatabase

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RITA = Person("rita@vendor.example", "Rita", Identity(Platform.SLACK, "T1", "U1"), "UTC")


class Labels:
    """Turns ids into natural keys, so that results from both stores compare."""

    def __init__(self) -> None:
        self.names: dict[tuple[str, int], str] = {}

    def name(self, kind: str, entity_id: int | None, label: str) -> None:
        assert entity_id is not None
        self.names[(kind, entity_id)] = label

    def __call__(self, obj: Any) -> Any:
        if isinstance(obj, list | tuple):
            return type(obj)(self(item) for item in obj)
        if isinstance(obj, dict):
            return {self(k): self(v) for k, v in obj.items()}
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            changes: dict[str, Any] = {}
            for f in dataclasses.fields(obj):
                value = getattr(obj, f.name)
                if f.name == "id":
                    changes[f.name] = None
                elif f.name in ("advocate_id", "request_id", "ask_id"):
                    changes[f.name] = self.names[(f.name, value)]
                elif dataclasses.is_dataclass(value) or isinstance(value, list | tuple | dict):
                    changes[f.name] = self(value)
            return dataclasses.replace(obj, **changes) if changes else obj
        return obj


async def scenario(new_uow: UnitOfWorkFactory) -> dict[str, Any]:
    """Everything the repositories answered, labelled; ``new_uow`` opens a unit of work."""
    seen: dict[str, Any] = {}
    labels = Labels()

    async with new_uow() as uow:
        ada = await uow.advocates.add(Advocate("Ada@Customer.example", "Ada", "Acme",
                                               products=("Payments",),
                                               snoozed_until=NOW + timedelta(days=3)))
        bob = await uow.advocates.add(Advocate("bob@customer.example", "Bob", "Bobco",
                                               locale="ja_JP"))
        cy = await uow.advocates.add(Advocate("cy@customer.example", "Cy", "Cyco",
                                              status=AdvocateStatus.PAUSED))
        for a in (ada, bob, cy):
            labels.name("advocate_id", a.id, a.email)
        r1 = await uow.requests.add(ReferenceRequest(
            RITA, "Prospect One", ReferenceType.CALL, date(2026, 3, 5), NOW,
            opportunity_amount=Decimal("1200.50"), proposed_times=(NOW + timedelta(days=1),)))
        r2 = await uow.requests.add(ReferenceRequest(
            Person("RITA@vendor.example"), "Prospect Two", ReferenceType.EMAIL,
            date(2026, 3, 9), NOW + timedelta(minutes=5)))
        r3 = await uow.requests.add(ReferenceRequest(
            RITA, "Prospect Three", ReferenceType.CALL, date(2026, 3, 1),
            NOW + timedelta(minutes=10), state=RequestState.CANCELLED))
        for r in (r1, r2, r3):
            labels.name("request_id", r.id, r.prospect_company)
        await uow.commit()

    async with new_uow() as uow:
        asks = []
        for n, (who, request, state, answered_days, expires) in enumerate([
            (ada, r1, AskState.ACCEPTED, 1, None),
            (ada, r2, AskState.DECLINED, 2, None),
            (ada, r2, AskState.DECLINED, 3, None),
            (ada, r1, AskState.AWAITING_APPROVAL, None, NOW - timedelta(hours=1)),
            (bob, r1, AskState.DECLINED, 1, None),
            (bob, r2, AskState.ACCEPTED, 2, None),
            (bob, r2, AskState.PENDING, None, NOW - timedelta(hours=2)),
            (bob, r1, AskState.PENDING, None, NOW + timedelta(hours=2)),
        ]):
            answered = None if answered_days is None else NOW - timedelta(days=10 - answered_days)
            ask = await uow.asks.add(Ask(request.id or 0, who.id or 0, n, NOW - timedelta(days=20),
                                         expires, state=state, answered_at=answered))
            labels.name("ask_id", ask.id, f"ask{n}")
            asks.append(ask)
        for who, ask, engagement_state, days, scheduled in [
            (ada, asks[0], EngagementState.SCHEDULED, -5, NOW + timedelta(days=2)),
            (ada, asks[0], EngagementState.CANCELLED, -4, None),
            (ada, asks[0], EngagementState.COMPLETED, -400, None),
            (bob, asks[5], EngagementState.ACCEPTED, -1, None),
        ]:
            await uow.engagements.add(Engagement(
                ask.request_id, who.id or 0, ask.id or 0, ReferenceType.CALL,
                NOW + timedelta(days=days), state=engagement_state, scheduled_at=scheduled,
                influenced_amount=Decimal("99.99")))
        await uow.commit()

    async with new_uow() as uow:
        await uow.people.upsert(RITA)
        await uow.people.upsert(Person("rita@VENDOR.example", "Rita T",
                                       Identity(Platform.TEAMS, "tn", "29:1"), locale="ja_JP"))
        seen["choose_locale"] = [
            await uow.people.choose_locale(Identity(Platform.TEAMS, "tn", "29:1"), "en"),
            await uow.people.choose_locale(Identity(Platform.TEAMS, "tn", "29:nobody"), "en")]
        # Slack says nothing now: the stored platform locale and the choice stay.
        await uow.people.upsert(Person("rita@VENDOR.example", "Rita T.",
                                       Identity(Platform.TEAMS, "tn", "29:1")))
        await uow.audit.append(AuditEntry(NOW, "pm@vendor.example", "limit.override",
                                          "advocate:1", {"reason": "deal"}))
        await uow.audit.append(AuditEntry(NOW, "system", "ask.expired", "ask:1"))
        seen["outbox.add"] = [
            await uow.outbox.add(OutgoingMessage(RITA, "t", {"n": n}, key=key, replaces=repl),
                                 now=NOW + timedelta(seconds=n))
            for n, (key, repl) in enumerate([("m1", None), ("m2", None), ("m1", None),
                                             ("m3", "m1"), ("m4", None)])
        ]
        seen["idempotency"] = [await uow.idempotency.claim(k, now=NOW) for k in "aab"]
        await uow.commit()

    async with new_uow() as uow:
        due = await uow.outbox.claim_due(NOW + timedelta(seconds=10))
        by_key = {m.message.key: m.id for m in due}
        await uow.outbox.mark_sent(by_key["m1"], platform_ref="C1:1.0", now=NOW)
        await uow.outbox.mark_retry(by_key["m2"], error="429",
                                    next_attempt_at=NOW + timedelta(minutes=5))
        await uow.outbox.mark_dead(by_key["m4"], error="gone", now=NOW)
        await uow.commit()

    async with new_uow() as uow:  # never committed: must leave no trace
        await uow.advocates.add(Advocate("ghost@customer.example", "Ghost", "Nowhere"))
        await uow.idempotency.claim("c", now=NOW)

    async with new_uow() as uow:
        ada_id, bob_id, cy_id = ada.id or 0, bob.id or 0, cy.id or 0
        seen["advocates"] = await uow.advocates.list()
        seen["active"] = await uow.advocates.list(status=AdvocateStatus.ACTIVE)
        seen["by_email"] = await uow.advocates.get_by_email("ADA@customer.example")
        seen["get"] = [await uow.advocates.get(bob_id), await uow.advocates.get_for_update(cy_id)]
        usage = await uow.advocates.usage([ada_id, bob_id, cy_id],
                                          since=NOW - timedelta(days=90))
        seen["usage"] = {labels.names[("advocate_id", k)]: v for k, v in usage.items()}
        everyone = await uow.advocates.usage(None, since=NOW - timedelta(days=90))
        seen["usage_of_everyone"] = {labels.names[("advocate_id", k)]: v
                                     for k, v in everyone.items() if v != Usage()}
        seen["active_roster"] = await uow.advocates.active_roster()
        seen["counts"] = [await uow.advocates.count(status=s) for s in AdvocateStatus]
        seen["requests"] = [await uow.requests.get(r1.id or 0),
                            await uow.requests.get_for_update(r2.id or 0)]
        seen["for_rep"] = await uow.requests.list_for_rep(RITA)
        seen["for_rep_all"] = await uow.requests.list_for_rep(RITA, include_closed=True)
        seen["needed_by"] = await uow.requests.list_open_needed_by(date(2026, 3, 6))
        seen["asks"] = [await uow.asks.list_for_request(r.id or 0) for r in (r1, r2)]
        seen["ask"] = [await uow.asks.get(asks[0].id or 0),
                       await uow.asks.get_for_update(asks[1].id or 0)]
        seen["expired"] = await uow.asks.list_expired(NOW)
        seen["engagement"] = await uow.engagements.get_for_request(r1.id or 0)
        seen["engagements"] = await uow.engagements.list_for_advocate(ada_id)
        seen["person"] = await uow.people.get_by_identity(RITA.identity)  # type: ignore[arg-type]
        seen["people"] = await uow.people.find_by_email("Rita@vendor.example")
        seen["people_many"] = await uow.people.get_many(
            [Identity(Platform.TEAMS, "tn", "29:1"), Identity(Platform.SLACK, "T1", "U1"),
             Identity(Platform.SLACK, "T9", "U1")])
        seen["roster_locales"] = await uow.advocates.locales(
            ["BOB@customer.example", "Ada@Customer.example", "nobody@x.example"])
        seen["audit"] = await uow.audit.list()
        seen["audit_ask"] = await uow.audit.list(subject="ask:1", limit=1)
        seen["due"] = await uow.outbox.claim_due(NOW + timedelta(minutes=10))
        seen["ref"] = [await uow.outbox.platform_ref("m1"), await uow.outbox.platform_ref("m2")]
        seen["dead"] = await uow.outbox.dead_letters(since=NOW)
        seen["ghost"] = await uow.advocates.get_by_email("ghost@customer.example")
        seen["out_of_range_id"] = [await uow.advocates.get(2**63), await uow.asks.get(-1),
                                   await uow.requests.get_for_update(2**40)]
        await uow.advocates.upsert_many([
            (Advocate("BOB@customer.example", "Bob Bobson", "Bobco",
                      account_owner_email="Owner@Vendor.example"), "f1"),
            (Advocate("dee@customer.example", "Dee", "Deeco"), "f2"),
        ])
        seen["fingerprints"] = await uow.advocates.import_fingerprints()
        many = await uow.advocates.get_many_by_email(["Dee@Customer.example", "no@x.example"])
        seen["many"] = {key: a.name for key, a in many.items()}
        await uow.advocates.update(replace(many["dee@customer.example"], notes="edited"))
        seen["fingerprints_after_update"] = await uow.advocates.import_fingerprints()
        seen["after_upsert"] = [await uow.advocates.get_by_email(e) for e in (
            "bob@customer.example", "dee@customer.example")]
        seen["owners"] = [await uow.advocates.owns_accounts(e) for e in (
            "owner@vendor.example", "OWNER@VENDOR.EXAMPLE", "bob@customer.example")]
        seen["claim_again"] = [await uow.idempotency.claim(k, now=NOW) for k in "bc"]
    return labels(seen)


async def test_the_sql_storage_answers_like_the_in_memory_fake(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    # FakeUnitOfWork types its repositories as the fake classes, so it needs the cast.
    fake = await scenario(cast(UnitOfWorkFactory, FakeDatabase().uow))
    sql = await scenario(uow_factory)
    assert sql.keys() == fake.keys()
    for key in fake:
        assert sql[key] == fake[key], key
    # and the scenario is not vacuous
    assert fake["usage"]["Ada@Customer.example"].consecutive_declines == 2
    assert fake["usage"]["bob@customer.example"].open_asks == 2
    assert fake["usage_of_everyone"] == {k: v for k, v in fake["usage"].items() if v != Usage()}
    assert fake["active_roster"] == fake["active"]
    assert sum(fake["counts"]) == len(fake["advocates"]) and fake["counts"][0]
    assert [m.message.key for m in fake["due"]] == ["m2", "m3"]
    assert fake["due"][1].replaces_ref == "C1:1.0"
    assert fake["claim_again"] == [False, True]
    assert fake["out_of_range_id"] == [None, None, None]
    assert [a.name for a in fake["after_upsert"]] == ["Bob Bobson", "Dee"]
    assert {k: v for k, v in fake["fingerprints"].items() if v} == {
        "bob@customer.example": "f1", "dee@customer.example": "f2"}
    assert fake["many"] == {"dee@customer.example": "Dee"}
    assert {k: v for k, v in fake["fingerprints_after_update"].items() if v} == {
        "bob@customer.example": "f1"}
    assert fake["owners"] == [True, True, False]
    assert fake["choose_locale"] == [True, False]
    assert [(p.locale, p.chosen_locale) for p in fake["people_many"].values()] == [
        ("ja_JP", "en"), (None, None)]
    assert fake["roster_locales"] == {"bob@customer.example": "ja_JP"}
