"""Forgetting an advocate (``bot.services.privacy``): the person is erased everywhere, the
program's numbers stay what they were."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from bot.domain.errors import NotFound
from bot.domain.model import (
    Advocate,
    AdvocateStatus,
    AskState,
    AuditEntry,
    Engagement,
    EngagementState,
    Identity,
    Outcome,
    Person,
    Platform,
    ReferenceType,
    RequestState,
)
from bot.domain.redaction import redact_json, redact_text
from bot.ports import OutgoingMessage
from bot.rendering import Renderer
from bot.services.context import ServiceContext
from bot.services.messages import advocate_contact
from bot.services.privacy import forget_advocate, forgotten_email, forgotten_name
from tests.fakes import FakeDatabase, ics_of, raises_saying
from tests.unit.conftest import OWNER_EMAIL, REP_EMAIL, START, AddAdvocate, last_to, outbox
from tests.unit.test_advocate_admin import open_ask

EMAIL = "Avery.Advocate@Customer.example"
NAME = "Avery Quinn"
IDENTITY = Identity(Platform.SLACK, "T1", "U-AVERY")


@pytest.fixture
async def avery(add_advocate: AddAdvocate) -> Advocate:
    return await add_advocate(name=NAME, email=EMAIL, company="Quinn Payments GmbH",
                              title="CFO", account_id="001XYZ", notes="Met at Money20/20",
                              do_not_use_with=("Initech",), account_owner_email=OWNER_EMAIL,
                              points=20, public_recognition=True)


async def seed_history(db: FakeDatabase, avery: Advocate, rep: Person) -> Engagement:
    """A completed engagement with a comment, a chat identity, messages and audit lines
    that mention the advocate, the way the rest of the bot leaves them."""
    request, ask = await open_ask(db, avery, rep)
    async with db.uow() as uow:
        ask.state = AskState.ACCEPTED
        await uow.asks.update(ask)
        engagement = await uow.engagements.add(Engagement(
            request_id=request.id or 0, advocate_id=avery.id or 0, ask_id=ask.id or 0,
            reference_type=ReferenceType.CALL, accepted_at=START - timedelta(days=20),
            state=EngagementState.COMPLETED, outcome=Outcome.COMPLETED, helpfulness=5,
            influenced_amount=Decimal("50000.00"), points_awarded=20,
            advocate_comment="Happy to help — Avery Quinn",
            completed_at=START - timedelta(days=10)))
        await uow.people.upsert(Person(email=EMAIL.lower(), display_name=NAME,
                                       identity=IDENTITY, timezone="Europe/Berlin"))
        await uow.people.save_conversation_reference(IDENTITY, {"user": {"id": "U-AVERY"}})
        to_avery = Person(email=EMAIL.lower(), display_name=NAME)
        for key in ("thanks:sent", "checkin:queued"):
            await uow.outbox.add(OutgoingMessage(to_avery, "thanks", {"advocate_name": NAME},
                                                 key=key), now=START)
        await uow.outbox.add(OutgoingMessage(rep, "ask_accepted_rep", {
            "advocate": advocate_contact(avery), "note": f"write to {EMAIL}"},
            key="ask_accepted_rep:1"), now=START)
        await uow.audit.append(AuditEntry(at=START, actor=EMAIL.lower(), action="ask.accepted",
                                          subject=f"ask:{ask.id}", detail={"by": NAME}))
        await uow.commit()
    sent = next(m for m in db.state.outbox.values() if m.message.key == "thanks:sent")
    async with db.uow() as uow:
        await uow.outbox.mark_sent(sent.id, platform_ref="C1:1", now=START)
        await uow.commit()
    return engagement


async def test_forgetting_erases_the_person_everywhere_and_keeps_the_counts(
        ctx: ServiceContext, db: FakeDatabase, avery: Advocate, add_advocate: AddAdvocate,
        rep_person: Person) -> None:
    engagement = await seed_history(db, avery, rep_person)
    standby = await add_advocate(name="Sam Standby")
    request, pending = await open_ask(db, avery, rep_person)
    window = (START - timedelta(days=30), START + timedelta(days=1))
    async with db.uow() as uow:
        flow_before = await uow.reports.flow(*window)
        numbers_before = await uow.reports.advocate_numbers(*window)

    report = await forget_advocate(db.uow, EMAIL.upper(), now=START, actor="cli:ops", ctx=ctx)

    aid = avery.id or 0
    assert report.advocate_id == aid
    assert (report.withdrawn_asks, report.comments_blanked, report.chat_identities_deleted,
            report.messages_dropped) == (1, 1, 1, 1)
    assert report.messages_scrubbed == 2  # the sent thanks, and the rep's message quoting them
    assert report.audit_entries_scrubbed == 1
    assert (report.engagements, report.points) == (1, 20)

    forgotten = db.state.advocates[aid]
    assert forgotten.email == forgotten_email(aid) == f"forgotten-{aid}@invalid"
    assert forgotten.name == forgotten_name(aid) == f"Forgotten advocate #{aid}"
    assert (forgotten.company, forgotten.title, forgotten.account_id, forgotten.notes,
            forgotten.country, forgotten.do_not_use_with) == ("", "", "", "", "", ())
    assert forgotten.account_owner_email is None and forgotten.public_recognition is False
    assert forgotten.status is AdvocateStatus.RETIRED
    # What the counts need stays.
    assert (forgotten.industry, forgotten.region, forgotten.points) == ("Fintech", "EMEA", 20)
    assert forgotten.reference_types == avery.reference_types
    kept = db.state.engagements[engagement.id or 0]
    assert kept.advocate_comment == ""
    assert (kept.state, kept.points_awarded, kept.helpfulness) == (
        EngagementState.COMPLETED, 20, 5)
    async with db.uow() as uow:
        assert await uow.reports.flow(*window) == flow_before
        numbers_after = await uow.reports.advocate_numbers(*window)
    assert numbers_after[aid] == numbers_before[aid]  # the standby's new ask is the only change
    assert numbers_after[aid].completed == 1 and numbers_after[aid].points == 20

    # The open ask is withdrawn and the request moved on to the next advocate.
    assert db.state.asks[pending.id or 0].state is AskState.WITHDRAWN
    assert {a.advocate_id for a in db.state.asks.values()
            if a.request_id == request.id and a.state.is_open} == {standby.id}
    notice = last_to(db, REP_EMAIL, "left_program_rep")
    assert notice.context["advocate"]["name"] == forgotten_name(aid)
    assert Renderer().text(notice.template, notice.context)

    # No chat identity, no message to them left to send, nothing that names them.
    assert db.state.people == {} and db.state.conversation_references == {}
    assert all((m.recipient.email or "") != EMAIL.lower() for m in outbox(db))
    everything = repr(db.state).lower()
    for secret in (EMAIL.lower(), NAME.lower(), "quinn payments", "001xyz", "money20/20",
                   "u-avery"):
        assert secret not in everything, secret

    entry = db.state.audit[-1]
    assert (entry.action, entry.subject, entry.actor) == (
        "advocate.forgotten", f"advocate:{aid}", "cli:ops")
    assert "@" not in repr(entry.detail)
    assert any(e.actor == forgotten_email(aid) and e.action == "ask.accepted"
               for e in db.state.audit)


async def test_forgetting_twice_or_an_unknown_email_is_not_found_and_changes_nothing(
        ctx: ServiceContext, db: FakeDatabase, avery: Advocate) -> None:
    await forget_advocate(db.uow, EMAIL, now=START, ctx=ctx)
    commits = db.commits
    with raises_saying(NotFound, "no advocate with email"):
        await forget_advocate(db.uow, EMAIL, now=START, ctx=ctx)
    with raises_saying(NotFound, "already been forgotten"):
        await forget_advocate(db.uow, forgotten_email(avery.id or 0), now=START, ctx=ctx)
    with raises_saying(NotFound, re.escape("nobody@nowhere.example")):
        await forget_advocate(db.uow, "nobody@nowhere.example", now=START)
    assert db.commits == commits


async def test_forgetting_works_without_a_service_context(
        db: FakeDatabase, avery: Advocate, rep_person: Person) -> None:
    _, ask = await open_ask(db, avery, rep_person, state=AskState.AWAITING_APPROVAL)
    report = await forget_advocate(db.uow, EMAIL, now=START)
    assert report.withdrawn_asks == 1
    assert db.state.asks[ask.id or 0].state is AskState.WITHDRAWN
    closed = last_to(db, OWNER_EMAIL, "approval_closed")
    assert closed.context["advocate"]["name"] == forgotten_name(avery.id or 0)


async def test_other_advocates_are_left_alone(
        ctx: ServiceContext, db: FakeDatabase, avery: Advocate,
        add_advocate: AddAdvocate) -> None:
    other = await add_advocate(name="Alice Avery-Quinnson", email="alice@other.example")
    before = replace(db.state.advocates[other.id or 0])
    await forget_advocate(db.uow, EMAIL, now=START, ctx=ctx)
    assert db.state.advocates[other.id or 0] == before


def test_redaction_replaces_whole_words_ignoring_case() -> None:
    words = {"Al Stone": "Forgotten advocate #1", "al@x.example": "forgotten-1@invalid"}
    assert redact_text("AL STONE (al@X.example) met Al Stoner", words) == (
        "Forgotten advocate #1 (forgotten-1@invalid) met Al Stoner")
    assert redact_json({"a": ["Al Stone", 3, None, {"Al Stone": True}]}, words) == {
        "a": ["Forgotten advocate #1", 3, None, {"Forgotten advocate #1": True}]}
    assert redact_text("nothing here", {}) == "nothing here"
    card = {"id": 1, "name": "Al Stone", "company": "Stone Ltd", "title": "CFO"}
    assert redact_json({"advocate": card, "company": "Globex"}, words) == {
        "advocate": {"id": 1, "name": "Forgotten advocate #1", "company": "", "title": ""},
        "company": "Globex"}


async def test_forgetting_cancels_agreed_engagements_tells_the_rep_and_asks_the_next(
        ctx: ServiceContext, db: FakeDatabase, avery: Advocate, add_advocate: AddAdvocate,
        rep_person: Person) -> None:
    standby = await add_advocate(name="Sam Standby")
    request, ask = await open_ask(db, avery, rep_person)
    call = START + timedelta(days=3)
    async with db.uow() as uow:
        ask.state = AskState.ACCEPTED
        await uow.asks.update(ask)
        stored = await uow.requests.get(request.id or 0)
        assert stored is not None
        stored.state = RequestState.SCHEDULED
        await uow.requests.update(stored)
        engagement = await uow.engagements.add(Engagement(
            request_id=request.id or 0, advocate_id=avery.id or 0, ask_id=ask.id or 0,
            reference_type=ReferenceType.CALL, accepted_at=START - timedelta(days=1),
            state=EngagementState.SCHEDULED, scheduled_at=call))
        await uow.outbox.add(OutgoingMessage(Person(email=EMAIL), "call_reminder", {
            "advocate_name": NAME}, key="call_reminder:1"), now=START)
        await uow.commit()

    report = await forget_advocate(db.uow, EMAIL, now=START, ctx=ctx)

    assert report.cancelled_engagements == 1
    assert db.state.engagements[engagement.id or 0].state is EngagementState.CANCELLED
    told = last_to(db, REP_EMAIL, "advocate_forgotten_rep")
    ics = ics_of(told)
    assert "METHOD:CANCEL" in ics and "STATUS:CANCELLED" in ics
    assert EMAIL.lower() not in ics.lower() and NAME not in ics
    assert NAME not in Renderer().text("advocate_forgotten_rep", told.context)
    # Nothing queued is addressed to the erased person; the next advocate is asked.
    assert not [m for m in db.state.outbox.values()
                if (m.message.recipient.email or "").lower() == EMAIL.lower()]
    asked = [a for a in db.state.asks.values() if a.request_id == request.id
             and a.advocate_id == standby.id]
    assert asked and asked[0].state is AskState.PENDING
