"""Nominate → approve → invite → onboard, through the conversation layer, on SQLite and
PostgreSQL: the readiness check, refusals and duplicates, "No thanks" remembered, the
roster row and the consent record, and the dead-letter hand-over of an invite."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.conversation import commands as c
from bot.conversation.dispatcher import dispatch
from bot.conversation.nominating import onboarding_answers
from bot.domain.errors import Problem
from bot.domain.model import (
    Actor,
    Advocate,
    AdvocateStatus,
    Identity,
    Person,
    Platform,
    ReferenceType,
    Role,
)
from bot.domain.nomination import NominationState
from bot.domain.policy import LimitPolicy
from bot.rendering import Renderer
from bot.services.consent import CURRENT_VERSION
from bot.services.context import ServiceContext
from bot.services.nominations import undeliverable
from handlers.slack import blockkit
from handlers.slack.home import advocate_home, profile_message
from handlers.teams.cards import TeamsCards
from storage.tables import OutboxRow
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes import FixedClock

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PM = "pat.manager@vendor.example"
OWNER = "olive.owner@vendor.example"
CONTACT = "ada@acme.example"


def who(email: str, *roles: Role) -> Actor:
    person = Person(email=email, display_name=email.split("@")[0].title(),
                    identity=Identity(Platform.SLACK, "T1", "U" + email.split("@")[0]))
    return Actor(person=person, roles=frozenset(roles))


def context(uow: SqlUnitOfWorkFactory) -> ServiceContext:
    return ServiceContext(uow=uow, clock=FixedClock(NOW), program_managers=(PM,))


async def seed_account(uow: SqlUnitOfWorkFactory, **crm: Any) -> None:
    async with uow() as u:
        await u.advocates.add(Advocate(
            email="bob@acme.example", name="Bob", company="Acme", account_id="001ACME",
            industry="Retail", account_owner_email=OWNER, **crm))
        await u.commit()


async def outbox(uow: SqlUnitOfWorkFactory) -> list[tuple[str, str, dict[str, Any]]]:
    async with uow() as u:
        rows = await u.session.scalars(select(OutboxRow).order_by(OutboxRow.id))
        return [(r.recipient_email or "", r.template, r.context) for r in rows]


async def test_a_nomination_walks_to_an_active_advocate_with_consent(
        uow_factory: SqlUnitOfWorkFactory) -> None:
    ctx = context(uow_factory)
    await seed_account(uow_factory, health_score=40, nps=9,
                       renewal_date=date(2026, 3, 20), customer_since=date(2026, 1, 15))
    owner = who(OWNER, Role.ACCOUNT_OWNER)

    filed = await dispatch(ctx, c.Nominate(owner, email=CONTACT, reason="Loves the API"))
    assert filed.template == "nomination_filed"
    assert [p.code for p in filed.context["findings"]] == [
        "low_health_score", "renewal_soon", "new_customer"]
    assert filed.context["findings"][2].params == {
        "day": date(2026, 1, 15), "days": 46, "threshold": 90}
    nomination_id = filed.context["nomination"]["id"]
    review = [m for m in await outbox(uow_factory) if m[1] == "nomination_review"]
    assert [m[0] for m in review] == [PM]
    assert review[0][2]["nomination"]["company"] == "Acme"

    # The same contact again: a duplicate, refused with its reason.
    again = await dispatch(ctx, c.Nominate(owner, email=CONTACT.upper()))
    assert again.template == "refused"
    assert [p.code for p in again.context["problem"].params["reasons"]] == ["already_nominated"]

    decided = await dispatch(ctx, c.DecideNomination(who(PM, Role.PROGRAM_MANAGER),
                                                     nomination_id, True))
    assert decided.context["nomination"]["state"] == "invited"
    sent = await outbox(uow_factory)
    assert (CONTACT, "nomination_invite") in [(m[0], m[1]) for m in sent]
    assert (OWNER, "nomination_decided") in [(m[0], m[1]) for m in sent]

    values = {"reference_types": ["call", "email"], "languages": "English, German",
              "timezone": "Europe/Berlin", "per_quarter": "2", "products": ["Ledger"],
              "use_cases": "", "public_thanks": "yes", "consent": "agree"}
    contact = who(CONTACT)
    joined = await dispatch(ctx, c.SubmitOnboarding(contact, nomination_id,
                                                    onboarding_answers(values)))
    assert joined.template == "onboarded", joined
    async with uow_factory() as u:
        advocate = await u.advocates.get_by_email(CONTACT)
        consent = await u.consents.latest(CONTACT)
        nomination = await u.nominations.get(nomination_id)
    assert advocate is not None and consent is not None and nomination is not None
    assert advocate.status is AdvocateStatus.ACTIVE and advocate.company == "Acme"
    assert advocate.reference_types == frozenset({ReferenceType.CALL, ReferenceType.EMAIL})
    assert advocate.languages == ("English", "German")
    assert advocate.own_limits.max_per_90_days == 2 and advocate.public_recognition
    assert advocate.account_owner_email == OWNER and advocate.joined_on == date(2026, 3, 2)
    assert advocate.customer_since == date(2026, 1, 15)  # the account's, like its renewal
    assert (consent.version, consent.platform, consent.source) == (CURRENT_VERSION, "slack",
                                                                   "self")
    assert consent.agreed_to == ("call", "email", "public_thanks")
    assert nomination.state is NominationState.JOINED and nomination.advocate_id == advocate.id
    templates = [(m[0], m[1]) for m in await outbox(uow_factory)]
    assert (CONTACT, "advocate_welcome") in templates
    assert (OWNER, "nomination_answered") in templates
    # `/advocate me` (and a manager's `advocates show`) show the consent, on both surfaces.
    shown = await dispatch(ctx, c.ShowMyProfile(who(CONTACT, Role.ADVOCATE)))
    profile = shown.context["profile"]
    slack = profile_message(blockkit.install(Renderer()), advocate=advocate_home(profile),
                            timezone="UTC")
    teams = TeamsCards(Renderer()).profile(profile, viewer="manager", timezone="UTC",
                                           program_limits=LimitPolicy())
    for text in (json.dumps(slack), json.dumps(teams)):
        assert "Consent: agreed on 02 Mar 2026 in Slack, wording v1." in text
    # And now they are an advocate: nominating them again says so.
    refused = await dispatch(ctx, c.Nominate(owner, email=CONTACT))
    assert [p.code for p in refused.context["problem"].params["reasons"]] == [
        "already_advocate"]


async def test_refusals_decline_and_no_thanks_remembered(
        uow_factory: SqlUnitOfWorkFactory) -> None:
    ctx = context(uow_factory)
    rep, owner, pm = who("riley@vendor.example", Role.REP), who(OWNER, Role.ACCOUNT_OWNER), \
        who(PM, Role.PROGRAM_MANAGER)
    assert (await dispatch(ctx, c.Nominate(rep, email=CONTACT))).context["problem"] == \
        Problem("only_nominators")
    bad = await dispatch(ctx, c.Nominate(owner, email="not-an-email"))
    assert bad.template == "invalid" and bad.context["errors"]["email"].code == "nominee_email"
    assert (await dispatch(ctx, c.Nominate(owner))).template == "nominate_which"

    first = await dispatch(ctx, c.Nominate(owner, email=CONTACT))
    # Nothing on the roster about the account: its tenure is unknown too, and said so.
    assert [p.code for p in first.context["findings"]] == ["no_account_data", "tenure_unknown"]
    first_id = first.context["nomination"]["id"]
    assert (await dispatch(ctx, c.DecideNomination(owner, first_id, True))).context[
        "problem"].code == "only_managers_decide"
    declined = await dispatch(ctx, c.DecideNomination(pm, first_id, False, "Churn risk"))
    assert declined.context["nomination"]["state"] == "declined"
    told = [m for m in await outbox(uow_factory) if m[1] == "nomination_decided"]
    assert told[0][0] == OWNER and told[0][2]["reason"] == "Churn risk"
    assert (await dispatch(ctx, c.DecideNomination(pm, first_id, True))).context[
        "problem"].code == "nomination_already_decided"

    # Declined is settled: they may be nominated again, then say "No thanks".
    second = await dispatch(ctx, c.Nominate(owner, email=CONTACT))
    second_id = second.context["nomination"]["id"]
    await dispatch(ctx, c.DecideNomination(pm, second_id, True))
    assert (await dispatch(ctx, c.AnswerInvite(who("eve@acme.example"), second_id,
                                               "no_thanks"))).context["problem"].code \
        == "not_yours"
    answered = await dispatch(ctx, c.AnswerInvite(who(CONTACT), second_id, "no_thanks"))
    assert answered.context["state"] == "no_thanks"
    assert (await dispatch(ctx, c.AnswerInvite(who(CONTACT), second_id, "not_now"))).context[
        "problem"].code == "nomination_closed"

    again = await dispatch(ctx, c.Nominate(owner, email=CONTACT))
    assert [p.code for p in again.context["problem"].params["reasons"]] == ["said_no_thanks"]
    assert (await dispatch(ctx, c.Nominate(owner, email=CONTACT, override=True))).context[
        "problem"].code == "only_managers_override"
    overridden = await dispatch(ctx, c.Nominate(pm, email=CONTACT, override=True))
    assert overridden.template == "nomination_filed"
    assert overridden.context["nomination"]["override"] is True


async def test_an_invite_the_bot_cannot_deliver_goes_to_the_nominator(
        uow_factory: SqlUnitOfWorkFactory) -> None:
    ctx = replace(context(uow_factory), policy=replace(
        context(uow_factory).policy, join_url="https://join.vendor.example/advocates"))
    filed = await dispatch(ctx, c.Nominate(who(PM, Role.PROGRAM_MANAGER), email=CONTACT))
    nomination_id = filed.context["nomination"]["id"]
    await dispatch(ctx, c.DecideNomination(who(PM, Role.PROGRAM_MANAGER), nomination_id, True))
    async with uow_factory() as u:
        invite = next(m for m in (await u.outbox.claim_due(NOW + timedelta(minutes=1),
                                                           limit=10))
                      if m.message.template == "nomination_invite")
        await undeliverable(ctx, u, NOW, invite.message)
        await undeliverable(ctx, u, NOW, invite.message)  # a second dead letter: told once
        await u.commit()
    passed = [m for m in await outbox(uow_factory) if m[1] == "nomination_pass_on"]
    assert len(passed) == 1 and passed[0][0] == PM
    assert passed[0][2]["join_url"] == "https://join.vendor.example/advocates"
    async with uow_factory() as u:
        nomination = await u.nominations.get(nomination_id)
    assert nomination is not None and nomination.state is NominationState.APPROVED
    # The contact can still join from the invite text's link (the bot, once they reach it).
    joined = await dispatch(ctx, c.SubmitOnboarding(who(CONTACT), nomination_id,
                                                    onboarding_answers({
        "reference_types": ["call"], "languages": ["English"], "timezone": "UTC",
        "public_thanks": "no", "consent": "agree"})))
    assert joined.template == "onboarded"
