"""Only the organisation's own people are reps, and a refusal about an id says nothing.

Sent over HTTP, signed, to the running app against the fake Slack Web API: a customer
advocate, a guest, a Slack Connect user and (with ``REP_EMAIL_DOMAINS``) a contractor type
``/reference`` and get a polite refusal, no form and no match, and the database does not
change. Someone else's advocate id and an id nobody has get the same words.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.domain.model import AdvocateStatus
from handlers.slack import ids
from tests.fakes import NOT_YOURS
from tests.integration.slack.conftest import ADA, RILEY, SAM, Slack, all_text
from tests.integration.slack.test_doors import snapshot
from tests.integration.slack.test_flows import ADA_FIELDS, request_with

BEA = {"email": "bea@otherco.example", "name": "Bea Confidential", "company": "OtherCo",
       "industry": "Fintech", "health_score": 99}
GUS = ("U0GUS", "gus@vendor.example", "Gus Guest", "Europe/Berlin")
CARL = ("U0CARL", "carl@contractor.example", "Carl Contractor", "Europe/Berlin")
NO_REQUESTS = "Sorry, only a sales rep or a program manager can request a reference."


async def refused_everything(slack: Slack, user: tuple[str, ...]) -> None:
    """``user`` types ``/reference`` (with keywords that match Bea) and ``/reference list``,
    and opens their App Home: no form, no match, no rep section, nothing written."""
    await slack.add_advocate(**BEA)
    await slack.actor(user)  # the directory has met them: storing that is not the refusal
    before = await snapshot(slack)
    await slack.command(user, ids.COMMAND_REFERENCE, "fintech")
    await slack.command(user, ids.COMMAND_REFERENCE, "list")
    await slack.deliver()
    assert await snapshot(slack) == before
    await slack.open_home(user, "EvHome")
    await slack.deliver()
    assert slack.modals() == []
    assert slack.ephemeral_texts() == [NO_REQUESTS, NO_REQUESTS.replace(
        "request a reference", "list reference requests")]
    everything = str([c.args for c in slack.fake.calls + slack.fake.responses])
    assert "Bea" not in everything and "OtherCo" not in everything
    [home] = slack.homes(user)
    assert ids.ACTION_HOME_NEW_REQUEST not in str(home["blocks"])
    assert "reference request" not in all_text(home).lower()


async def test_an_advocate_typing_reference_is_refused_and_sees_no_match(
        slack: Slack) -> None:
    await slack.add_advocate(email=ADA[1], name=ADA[2])
    await refused_everything(slack, ADA)


@pytest.mark.parametrize("flags", [
    {"is_restricted": True},  # a multi-channel guest
    {"is_ultra_restricted": True, "is_restricted": True},  # a single-channel guest
    {"is_stranger": True},
    {"team_id": "T0OTHER"},  # Slack Connect: a member of another organisation
], ids=["guest", "single-channel guest", "stranger", "another workspace"])
async def test_a_guest_or_an_outsider_is_not_a_rep(slack: Slack, flags: dict[str, Any]
                                                    ) -> None:
    slack.fake.add_user(*GUS).update(flags)
    await refused_everything(slack, GUS)


@pytest.mark.parametrize("settings_overrides", [{"rep_email_domains": ["vendor.example"]}])
async def test_rep_email_domains_narrows_who_is_a_rep(
        slack: Slack, settings_overrides: dict[str, Any]) -> None:
    slack.fake.add_user(*CARL)
    await refused_everything(slack, CARL)
    await slack.command(RILEY, ids.COMMAND_REFERENCE, "fintech")
    await slack.settle()
    assert len(slack.modals()) == 1  # a vendor.example colleague still gets the form


async def test_a_full_member_of_the_workspace_is_a_rep(slack: Slack) -> None:
    await slack.command(RILEY, ids.COMMAND_REFERENCE, "")
    await slack.open_home(RILEY, "EvRiley")
    await slack.settle()
    assert len(slack.modals()) == 1
    [home] = slack.homes(RILEY)
    assert ids.ACTION_HOME_NEW_REQUEST in str(home["blocks"])


async def test_someone_elses_advocate_id_and_a_missing_one_get_the_same_words(
        slack: Slack) -> None:
    ada = await slack.add_advocate(email=ADA[1], name=ADA[2])
    await slack.actor(SAM)
    before = await snapshot(slack)
    for value in (str(ada.id), "6", "2147483647"):
        for action in (ids.ACTION_HOME_PAUSE, ids.ACTION_HOME_RESUME, ids.ACTION_ROSTER_SHOW):
            await slack.click(SAM, action, value, home=True)
    await slack.deliver()
    said = [c.args["text"] for c in slack.fake.calls_to("chat.postMessage")
            if c.args["channel"] == SAM[0]]
    assert said == [NOT_YOURS] * 9
    assert ADA[2] not in str(slack.fake.calls)
    assert await snapshot(slack) == before


async def test_someone_elses_ask_and_a_missing_one_get_the_same_words(slack: Slack) -> None:
    """``ask_accept`` on ask ids 1..3 by someone who is not the advocate asked: there is no
    ask yet, so each answer must be the one an existing ask would get."""
    await slack.actor(SAM)
    before = await snapshot(slack)
    for value in ("1", "2", "3"):
        await slack.click(SAM, ids.ACTION_ASK_ACCEPT, value)
        await slack.click(SAM, ids.ACTION_APPROVE, value)
    await slack.deliver()
    assert slack.ephemeral_texts() == [NOT_YOURS] * 6
    assert await snapshot(slack) == before


async def test_asking_an_advocate_the_matches_never_showed_says_nothing_about_them(
        slack: Slack) -> None:
    """Riley's matches showed Ada only. Clicking "ask" with Bea's id (resting), Cal's (left
    the program) or an id nobody has gets the one neutral refusal: no name, no reason,
    no ask. Ada, whom the matches showed, is asked as usual."""
    request_id, (ada_id,) = await request_with(slack, ADA_FIELDS, ask=False)
    bea = await slack.add_advocate(**BEA, snoozed_until=datetime(2099, 1, 1, tzinfo=UTC))
    cal = await slack.add_advocate(email="cal@thirdco.example", name="Cal Gone",
                                   status=AdvocateStatus.RETIRED)
    before, seen = await snapshot(slack), len(slack.fake.calls)
    for advocate_id in (bea.id, cal.id, 999):
        await slack.click(RILEY, ids.ACTION_ASK_ADVOCATE, f"{request_id}:{advocate_id}")
    await slack.deliver()
    told = [c.args for c in slack.fake.calls[seen:] + slack.fake.responses
            if c.args.get("channel") == RILEY[0] or "response_type" in c.args]
    assert [a["text"] for a in told] == [NOT_YOURS] * 3
    assert "Bea" not in str(told) and "Cal" not in str(told)
    assert await snapshot(slack) == before
    await slack.click(RILEY, ids.ACTION_ASK_ADVOCATE, f"{request_id}:{ada_id}")
    await slack.deliver()
    assert len(slack.dms_to(ADA)) == 1
