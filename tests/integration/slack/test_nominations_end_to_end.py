"""A nomination walks to an active advocate with recorded consent, through Slack over HTTP:
signed payloads to ``/slack/events``, the services on SQLite, the outbox delivering to a
fake Web API. Each person sees their own messages: Olive (the account owner) nominates,
Pat (the program manager) approves, Cara (a customer in a Slack Connect channel, found
by email) joins. Then the refusals: a duplicate, a decline with its reason, "No thanks"
remembered, the message shortcut, and an invite the bot cannot deliver."""

from __future__ import annotations

import json
from datetime import date

from bot.domain.model import AdvocateStatus
from bot.domain.nomination import NominationState
from bot.services.dispatch import OutboxDispatcher
from bot.services.nominations import undeliverable
from handlers.slack import ids
from tests.integration.slack.conftest import PAT, Slack, all_text, buttons, multi, select, values
from tests.integration.slack.test_end_to_end import button, ts_of

OLIVE = ("U0OLIVE", "olive.owner@vendor.example", "Olive Owner", "Europe/London")
CARA = ("U0CARA", "cara@harbor.example", "Cara Customer", "Europe/Berlin")
DAN = ("U0DAN", "dan@harbor.example", "Dan Customer", "Europe/Berlin")


async def setup(slack: Slack) -> None:
    slack.fake.add_user(*OLIVE)
    for customer in (CARA, DAN):  # Slack Connect: members of the customer's workspace
        slack.fake.add_user(*customer, team_id="T0EXT")
    await slack.add_advocate(email="ben@harbor.example", name="Ben Harbor",
                             company="Harbor Bank", account_owner_email=OLIVE[1],
                             health_score=80, nps=9, customer_since=date(2021, 4, 1))


async def nominate(slack: Slack, text: str) -> str:
    before = len(slack.fake.responses)
    response = await slack.command(OLIVE, ids.COMMAND_ADVOCATES, f"nominate {text}")
    assert (response.status, response.text) == (200, "")
    await slack.settle()
    return "\n".join(str(c.args.get("text", "")) for c in slack.fake.responses[before:])


async def test_a_nomination_walks_to_an_active_advocate_with_consent(slack: Slack) -> None:
    await setup(slack)

    # 1. Olive nominates Cara: she is told it is filed, with the readiness check.
    said = await nominate(slack, "<mailto:cara@harbor.example|cara@harbor.example> "
                                 "Runs payments at Harbor, loves the API")
    assert "cara@harbor.example" in said and "nothing to worry about" in said
    await slack.deliver()
    [review] = slack.dms_to(PAT)
    shown = all_text(review.args)
    assert "Olive Owner nominated" in shown and "Harbor Bank" in shown
    assert "Runs payments at Harbor" in shown

    # 2. The same contact again is a duplicate, refused with its reason.
    again = await nominate(slack, "cara@harbor.example")
    assert "cannot be nominated" in again and "already nominated by Olive Owner" in again

    # 3. Pat approves: Cara is found by email and invited; Olive hears; the review closes.
    approve = button(review, ids.ACTION_NOMINATION_APPROVE)
    await slack.click(PAT, ids.ACTION_NOMINATION_APPROVE, approve["value"],
                      message_ts=ts_of(review))
    await slack.deliver()
    assert CARA[1] in [c.args["email"] for c in slack.fake.calls_to("users.lookupByEmail")]
    [invite] = slack.dms_to(CARA)
    assert "customer reference program" in all_text(invite.args)
    assert {b["action_id"] for b in buttons(invite.args)} == {
        ids.ACTION_INVITE_JOIN, ids.ACTION_INVITE_NOT_NOW, ids.ACTION_INVITE_NO_THANKS}
    assert "approved your nomination of" in all_text(slack.dms_to(OLIVE)[-1].args)
    assert buttons(slack.dms_to(PAT)[-1].args) == []  # the review message, closed in place

    # 4. Cara clicks Join: the onboarding form, with the consent wording to agree to.
    join = button(invite, ids.ACTION_INVITE_JOIN)
    await slack.click(CARA, ids.ACTION_INVITE_JOIN, join["value"], message_ts=ts_of(invite))
    await slack.settle()
    modal = slack.modals()[-1]
    assert modal["callback_id"] == ids.VIEW_ONBOARDING
    assert modal["private_metadata"] == join["value"]
    assert "By joining the customer reference program you agree" in all_text(
        {"blocks": modal["blocks"]})

    # 5. Without agreeing, the form says so on that field; then she joins.
    answers = dict(reference_types=multi("call", "email"), languages=multi("English"),
                   timezone=select("Europe/Berlin"), public_thanks=select("yes"))
    response = await slack.submit(CARA, ids.VIEW_ONBOARDING, values(**answers),
                                  private_metadata=join["value"], view_id="V0JOIN1")
    assert response.json()["response_action"] == "errors"
    assert set(response.json()["errors"]) == {"consent"}
    response = await slack.submit(CARA, ids.VIEW_ONBOARDING,
                                  values(**answers, consent=select("agree")),
                                  private_metadata=join["value"], view_id="V0JOIN2")
    assert (response.status, response.text) == (200, "")
    await slack.deliver()
    cara_saw = "\n".join(all_text(c.args) for c in slack.dms_to(CARA))
    assert "Welcome to the customer reference program, Cara Customer!" in cara_saw
    assert "Your first steps" in cara_saw
    assert "Cara Customer joined the advocate program" in all_text(slack.dms_to(OLIVE)[-1].args)

    async with slack.bot.uow() as uow:
        cara = await uow.advocates.get_by_email(CARA[1])
        consent = await uow.consents.latest(CARA[1])
    assert cara is not None and cara.status is AdvocateStatus.ACTIVE
    assert cara.company == "Harbor Bank" and cara.account_owner_email == OLIVE[1]
    assert consent is not None and (consent.version, consent.platform) == ("v1", "slack")

    # 6. `/advocate me` shows Cara her consent.
    await slack.command(CARA, ids.COMMAND_ADVOCATE, "me")
    await slack.settle()
    assert "Consent: agreed on 02 Mar 2026 in Slack, wording v1." in json.dumps(
        slack.fake.responses[-1].args)


async def test_declines_no_thanks_the_shortcut_and_an_unreachable_contact(
        slack: Slack) -> None:
    await setup(slack)

    # The message shortcut on Dan's message in a shared channel nominates him.
    payload = {
        "type": "message_action", "callback_id": ids.SHORTCUT_NOMINATE,
        "trigger_id": "1.2.shortcut", "action_ts": "1700000200.000100",
        "team": {"id": "T0001", "domain": "vendor"},
        "user": {"id": OLIVE[0], "username": "olive", "name": "olive", "team_id": "T0001"},
        "channel": {"id": "C0SHARED", "name": "harbor-vendor"},
        "message_ts": "1700000150.000100", "response_url": slack.fake.response_url("sc1"),
        "message": {"type": "message", "user": DAN[0], "user_team": "T0EXT",
                    "text": "We cut checkout time in half with your API!",
                    "ts": "1700000150.000100"},
    }
    response = await slack.post_payload(payload)
    assert response.status == 200
    await slack.deliver()
    assert "dan@harbor.example" in all_text(slack.dms_to(OLIVE)[-1].args)
    review = slack.dms_to(PAT)[-1]
    assert "We cut checkout time in half" in all_text(review.args)

    # Pat declines with a reason (a form): Olive reads the reason.
    decline = button(review, ids.ACTION_NOMINATION_DECLINE)
    await slack.click(PAT, ids.ACTION_NOMINATION_DECLINE, decline["value"],
                      message_ts=ts_of(review))
    await slack.settle()
    assert slack.modals()[-1]["callback_id"] == ids.VIEW_NOMINATION_DECLINE
    response = await slack.submit(PAT, ids.VIEW_NOMINATION_DECLINE,
                                  values(reason={"type": "plain_text_input",
                                                 "value": "Renewal talks first"}),
                                  private_metadata=decline["value"], view_id="V0NO")
    assert response.status == 200
    await slack.deliver()
    assert "declined your nomination of Dan Customer: Renewal talks first" in all_text(
        slack.dms_to(OLIVE)[-1].args)

    # Nominated again later, approved, and Dan says "No thanks": remembered.
    await nominate(slack, "dan@harbor.example")
    await slack.deliver()
    review = slack.dms_to(PAT)[-1]
    await slack.click(PAT, ids.ACTION_NOMINATION_APPROVE,
                      button(review, ids.ACTION_NOMINATION_APPROVE)["value"],
                      message_ts=ts_of(review))
    await slack.deliver()
    invite = slack.dms_to(DAN)[-1]
    await slack.click(DAN, ids.ACTION_INVITE_NO_THANKS,
                      button(invite, ids.ACTION_INVITE_NO_THANKS)["value"],
                      message_ts=ts_of(invite))
    await slack.deliver()
    assert "said no thanks" in all_text(slack.dms_to(OLIVE)[-1].args)
    refused = await nominate(slack, "dan@harbor.example")
    assert 'said "No thanks" to an invitation' in refused

    # A contact no Slack workspace knows: the invite dies, Olive gets a text to pass on.
    await nominate(slack, "zed@elsewhere.example Met at the user group")
    dispatcher = OutboxDispatcher(slack.bot.uow, slack.bot.messengers, slack.clock,
                                  directories=list(slack.bot.directories.values()),
                                  on_dead=lambda uow, now, message: undeliverable(
                                      slack.bot.ctx, uow, now, message))
    slack.dispatcher = dispatcher
    await slack.deliver()
    review = slack.dms_to(PAT)[-1]
    await slack.click(PAT, ids.ACTION_NOMINATION_APPROVE,
                      button(review, ids.ACTION_NOMINATION_APPROVE)["value"],
                      message_ts=ts_of(review))
    await slack.deliver()
    handed = all_text(slack.dms_to(OLIVE)[-1].args)
    assert "couldn't reach zed" in handed and "advocate join" in handed
    async with slack.bot.uow() as uow:
        (zed,) = await uow.nominations.for_email("zed@elsewhere.example")
    assert zed.state is NominationState.APPROVED

    # Later Zed reaches the bot (a Slack Connect channel now) and writes /advocate join:
    # the invitation, with its buttons; Join opens the onboarding form.
    zed_user = ("U0ZED", "zed@elsewhere.example", "Zed Else", "UTC")
    slack.fake.add_user(*zed_user, team_id="T0ZED")
    await slack.command(zed_user, ids.COMMAND_ADVOCATE, "join")
    await slack.settle()
    shown = slack.fake.responses[-1].args
    join = [b for b in buttons(shown) if b["action_id"] == ids.ACTION_INVITE_JOIN]
    assert join and join[0]["value"] == str(zed.id)
    await slack.click(zed_user, ids.ACTION_INVITE_JOIN, join[0]["value"])
    await slack.settle()
    assert slack.modals()[-1]["callback_id"] == ids.VIEW_ONBOARDING
    # Dan, who said No thanks, has no open invitation.
    await slack.command(DAN, ids.COMMAND_ADVOCATE, "join")
    await slack.settle()
    assert "no open invitation" in str(slack.fake.responses[-1].args.get("text"))


async def test_the_global_shortcut_opens_the_request_form_anywhere(slack: Slack) -> None:
    from tests.integration.slack.conftest import RILEY

    payload = {"type": "shortcut", "callback_id": ids.SHORTCUT_REQUEST,
               "trigger_id": "1.2.global", "action_ts": "1700000300.000100",
               "team": {"id": "T0001", "domain": "vendor"},
               "user": {"id": RILEY[0], "username": "riley", "team_id": "T0001"}}
    response = await slack.post_payload(payload)
    assert (response.status, response.text) == (200, "")
    await slack.settle()
    [modal] = slack.modals()
    assert modal["callback_id"] == ids.VIEW_INTAKE
    assert slack.fake.calls_to("views.open")[0].args["trigger_id"] == "1.2.global"

    # A customer using it is told politely that only reps may ask; no form opens.
    payload["user"] = {"id": CARA[0], "username": "cara", "team_id": "T0EXT"}
    payload["trigger_id"] = "1.3.global"
    slack.fake.add_user(*CARA, team_id="T0EXT")
    response = await slack.post_payload(payload)
    assert response.status == 200
    await slack.settle()
    assert len(slack.modals()) == 1
    assert "only" in all_text(slack.dms_to(CARA)[-1].args)
