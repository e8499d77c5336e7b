"""One program on two platforms: a rep on Slack, an advocate on Teams. The request is made
on Slack, consented to and scheduled on Teams, completed, and each person sees only their
own platform's messages (services + messengers: a FakeMessenger for Slack, the real
TeamsMessenger over TestAdapter for Teams)."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.model import AskState, EngagementState, Outcome, Platform
from bot.services.asks import ask_advocate
from bot.services.dispatch import OutboxDispatcher
from bot.services.outcomes import record_outcome
from bot.services.reminders import due_outcome_prompts, due_reminders
from bot.services.requests import submit_request
from tests.fakes import FakeMessenger
from tests.integration.teams.conftest import (
    TeamsWorld,
    action,
    actions,
    assert_valid_card,
    cards_in,
    texts,
)
from tests.unit.conftest import REP_EMAIL, actor, build_advocate, person, sample_draft

ADA_EMAIL = "ada@customer.example"


async def test_made_on_slack_consented_on_teams_scheduled_and_completed(
        world: TeamsWorld) -> None:
    slack = FakeMessenger(Platform.SLACK)
    dispatcher = OutboxDispatcher(world.db.uow, {Platform.SLACK: slack,
                                                 Platform.TEAMS: world.messenger}, world.clock)

    async def deliver() -> list[dict]:
        world.outbound.activity_buffer.clear()
        await dispatcher.run_once()
        return cards_in(world.outbound.activity_buffer)

    async with world.db.uow() as uow:
        advocate = await uow.advocates.add(build_advocate(email=ADA_EMAIL, name="Ada Lovelace",
                                                          timezone="Asia/Tokyo"))
        rep_on_slack = person(REP_EMAIL, "Riley Rep", timezone="America/New_York")
        await uow.people.upsert(rep_on_slack)
        await uow.commit()
    ada = world.person("Ada Lovelace", ADA_EMAIL, timezone="Asia/Tokyo")
    await ada.install()

    # Slack: the rep files the request and asks Ada.
    rep = actor(rep_on_slack)
    request = (await submit_request(world.ctx, rep, sample_draft())).request
    await ask_advocate(world.ctx, rep, request.id or 0, advocate.id)
    (ask_card,) = await deliver()
    assert slack.templates() == ["matches", "ask_sent"]
    assert_valid_card(ask_card)
    assert not any("Globex" in t for t in texts(ask_card))  # no prospect name before consent

    # Teams: Ada consents on the card, then picks the first proposed time.
    body = await ada.click(action(ask_card, "ask.accept"))
    assert texts(body["value"])[0] == "You said yes. Thank you!"
    cards = await deliver()
    pick_card = next(c for c in cards if any(a.get("verb") == "schedule.pick"
                                             for a in actions(c)))
    assert world.outbound.updated_activities  # the ask card was replaced in place
    assert "ask_accepted" in slack.templates()
    assert slack.sent_to(REP_EMAIL)[-1].context["advocate"]["email"] == ADA_EMAIL
    body = await ada.click(action(pick_card, "schedule.pick", slot=0))
    assert texts(body["value"])[0].startswith("Booked: ")
    assert "JST" in texts(body["value"])[0]  # shown in Ada's own zone
    cards = await deliver()
    confirmations = [d for d in slack.transcript if d.template == "call_confirmed"]
    assert [d.to.email for d in confirmations] == [REP_EMAIL]
    assert confirmations[0].context["timezone"] == "America/New_York"
    assert any(a.content_type == "application/vnd.microsoft.teams.card.file.consent"
               for act in world.outbound.activity_buffer for a in act.attachments or [])

    # Reminders reach each person on their own platform.
    call = request.proposed_times[0]
    world.clock.set(call - timedelta(hours=20))
    assert await due_reminders(world.ctx) == 2
    reminder_cards = await deliver()
    assert len(reminder_cards) == 1
    assert [d.template for d in slack.transcript][-1] == "call_reminder"

    # After the call: the rep reports on Slack, Ada is thanked on Teams and comments there.
    world.clock.set(call + timedelta(hours=1))
    assert await due_outcome_prompts(world.ctx) == 1
    await deliver()
    assert slack.templates()[-1] == "outcome_prompt"
    (engagement,) = world.db.state.engagements.values()
    await record_outcome(world.ctx, rep, engagement.id or 0, Outcome.COMPLETED, helpfulness=5)
    (thanks,) = await deliver()
    assert_valid_card(thanks)
    body = await ada.click(action(thanks, "outcome.comment"), comment="Lovely chat 🙂")
    assert texts(body["value"])[0] == "Thank you for your comment!"

    stored = world.db.state.engagements[engagement.id or 0]
    assert stored.state == EngagementState.COMPLETED
    assert stored.advocate_comment == "Lovely chat 🙂"
    assert next(iter(world.db.state.asks.values())).state == AskState.ACCEPTED
    # Nobody got anything on the other platform, and nothing is stuck in the outbox.
    assert all(d.to.identity and d.to.identity.platform == Platform.SLACK
               for d in slack.transcript)
    assert {m.status.value for m in world.db.state.outbox.values()} == {"sent"}
