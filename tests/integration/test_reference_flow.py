"""A reference request from intake to a recorded outcome, on real storage.

Every service runs against the SQL unit of work (SQLite and PostgreSQL), the outbox
dispatcher delivers through a fake messenger, and the test reads what each person saw —
the same path a chat front end drives.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.model import AdvocateStatus, EngagementState, Outcome, RequestState, Role
from bot.domain.policy import ProgramPolicy
from bot.rendering import Renderer
from bot.services.asks import answer_ask, ask_advocate
from bot.services.context import ServiceContext
from bot.services.dispatch import OutboxDispatcher
from bot.services.outcomes import record_outcome
from bot.services.reminders import due_outcome_prompts, due_reminders
from bot.services.requests import submit_request
from bot.services.scheduling import pick_time
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes import FakeMessenger, FixedClock, ics_of
from tests.unit.conftest import PM_EMAIL, actor, build_advocate, person, sample_draft

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_a_request_goes_from_intake_to_a_recorded_outcome_and_everyone_sees_their_part(
    engine: AsyncEngine,
) -> None:
    clock = FixedClock(START)
    uow = SqlUnitOfWorkFactory(engine)
    ctx = ServiceContext(uow=uow, clock=clock, policy=ProgramPolicy(),
                         program_managers=(PM_EMAIL,), program_timezone="Europe/Berlin")
    slack = FakeMessenger()
    dispatcher = OutboxDispatcher(uow, {slack.platform: slack}, clock)
    renderer = Renderer()

    riley = person("riley.rep@vendor.example", "Riley Rep", timezone="America/New_York")
    ada_person = person("ada@harbor.example", "Ada Advocate", timezone="Europe/Berlin")
    async with uow() as tx:
        ada = await tx.advocates.add(build_advocate(
            email="ada@harbor.example", name="Ada Advocate", company="Harbor Bank",
            timezone="Europe/Berlin", status=AdvocateStatus.ACTIVE))
        # A weaker fit, so the ranking has a choice to make.
        await tx.advocates.add(build_advocate(email="bo@retail.example", industry="Retail",
                                              region="NA", products=("Billing",)))
        await tx.people.upsert(riley)
        await tx.people.upsert(ada_person)  # Ada has used the bot: her chat id is known
        await tx.commit()
    rep = actor(riley)
    advocate = actor(ada_person, Role.ADVOCATE)

    # 1. Intake: the rep sees the matches, best first, without contact details.
    submitted = await submit_request(ctx, rep, sample_draft())
    assert submitted.matches[0].advocate.id == ada.id
    await dispatcher.run_once()
    [matches] = slack.sent_to(riley.email)
    assert matches.template == "matches"
    shown = renderer.text("matches", matches.context)
    assert "Ada Advocate" in shown and "same industry: Fintech" in shown
    assert "ada@harbor.example" not in shown

    # 2. The rep asks Ada; she gets the ask, without the prospect's name.
    ask = await ask_advocate(ctx, rep, submitted.request.id, ada.id)
    assert ask is not None
    await dispatcher.run_once()
    [ask_message] = [d for d in slack.sent_to(ada.email) if d.template == "ask"]
    assert "Globex" not in renderer.text("ask", ask_message.context)

    # 3. She accepts: the ask updates in place, the rep now gets her contact details.
    clock.advance(hours=3)
    await answer_ask(ctx, advocate, ask.id, "accept")
    await answer_ask(ctx, advocate, ask.id, "accept")  # a double click changes nothing
    await dispatcher.run_once()
    answered = [d for d in slack.sent_to(ada.email) if d.template == "ask_answered"]
    assert len(answered) == 1 and answered[0].replaces_ref is not None
    accepted = [d for d in slack.sent_to(riley.email) if d.template == "ask_accepted"]
    assert len(accepted) == 1
    assert "ada@harbor.example" in renderer.text("ask_accepted", accepted[0].context)
    [pick] = [d for d in slack.sent_to(ada.email) if d.template == "pick_time"]

    # 4. She picks the first proposed time: both get it in their own zone, with an invite.
    await pick_time(ctx, advocate, pick.context["engagement_id"], slot=0)
    await dispatcher.run_once()
    # 15:00 UTC: New York is already on summer time (EDT), Berlin not yet (CET).
    for who, local in ((riley.email, "11:00 EDT"), (ada.email, "16:00 CET")):
        [confirmed] = [d for d in slack.sent_to(who) if d.template == "call_confirmed"]
        assert local in renderer.text("call_confirmed", confirmed.context)
        assert "BEGIN:VCALENDAR" in ics_of(confirmed)

    # 5. Reminders a day before, once each, however often the sweep runs.
    clock.set(datetime(2026, 3, 9, 16, 0, tzinfo=UTC))
    for _ in range(3):
        await due_reminders(ctx)
    await dispatcher.run_once()
    assert [d.template for d in slack.transcript].count("call_reminder") == 2

    # 6. After the call the rep records the outcome; Ada is thanked and earns points.
    clock.set(datetime(2026, 3, 10, 16, 0, tzinfo=UTC))
    await due_outcome_prompts(ctx)
    await dispatcher.run_once()
    assert [d.template for d in slack.sent_to(riley.email)][-1] == "outcome_prompt"
    engagement_id = pick.context["engagement_id"]
    await record_outcome(ctx, rep, engagement_id, Outcome.COMPLETED, helpfulness=5,
                         influenced_amount=Decimal("120000"))
    await dispatcher.run_once()
    assert [d.template for d in slack.sent_to(ada.email)][-1] == "thank_you"

    async with uow() as tx:
        request = await tx.requests.get(submitted.request.id)
        engagement = await tx.engagements.get(engagement_id)
        stored_ada = await tx.advocates.get(ada.id)
        dead = await tx.outbox.dead_letters(since=START - timedelta(days=1))
    assert request is not None and request.state == RequestState.COMPLETED
    assert engagement is not None and engagement.state == EngagementState.COMPLETED
    assert engagement.influenced_amount == Decimal("120000")
    assert stored_ada is not None and stored_ada.points == ctx.policy.points_for("call")
    assert dead == []
