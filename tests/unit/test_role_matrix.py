"""Who may do what, through the one dispatcher every surface uses, with real roles.

Each actor's roles come from ``resolve_actor`` (settings and the roster), as on Slack and
Teams. Every cell starts from the same program: Riley's open request, an ask to Ada for
it, Olive as Ada's account owner. A refusal is the ``refused`` reply and leaves every
table as it was.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.conversation import commands as c
from bot.conversation.dispatcher import dispatch
from bot.domain.errors import Problem
from bot.domain.model import Actor, AdvocateStatus, Person
from bot.services.asks import ask_advocate
from bot.services.context import ServiceContext
from bot.services.requests import submit_request
from bot.services.roles import resolve_actor
from tests.fakes import FakeDatabase, said
from tests.unit.conftest import OWNER_EMAIL, PM_EMAIL, REP_EMAIL, AddAdvocate, person, sample_draft

ADA_EMAIL = "ada@customer.example"
PEOPLE: dict[str, Person] = {
    "rep": person(REP_EMAIL, "Riley Rep"),
    "another rep": person("sam.seller@vendor.example", "Sam Seller"),
    "advocate": person(ADA_EMAIL, "Ada Advocate"),
    "account owner": person(OWNER_EMAIL, "Olive Owner"),
    "program manager": person(PM_EMAIL, "Pat Manager"),
    "guest": replace(person("gus.guest@vendor.example", "Gus Guest"), internal=False),
}
# Who gets through; everyone else is refused.
ALLOWED: dict[str, set[str]] = {
    "start a request": {"rep", "another rep", "account owner", "program manager"},
    "cancel Riley's request": {"rep", "program manager"},
    "answer Ada's ask": {"advocate"},
    "see Ada's profile": {"advocate", "program manager"},
}


def command(action: str, who: Actor, request_id: int, ask_id: int, ada_id: int) -> c.Command:
    if action == "start a request":
        return c.StartRequest(who, "fintech")
    if action == "cancel Riley's request":
        return c.CancelRequest(who, request_id)
    if action == "answer Ada's ask":
        return c.AnswerAsk(who, ask_id, "decline")
    return c.ShowProfile(who, ada_id)


@pytest.mark.parametrize("role", list(PEOPLE))
@pytest.mark.parametrize("action", list(ALLOWED))
async def test_each_role_may_do_only_its_own_part(
        ctx: ServiceContext, db: FakeDatabase, add_advocate: AddAdvocate,
        role: str, action: str) -> None:
    ada = await add_advocate(email=ADA_EMAIL, name="Ada Advocate",
                             account_owner_email=OWNER_EMAIL)
    assert ada.id is not None
    async with db.uow() as uow:
        riley = await resolve_actor(ctx, uow, PEOPLE["rep"])
        who = await resolve_actor(ctx, uow, PEOPLE[role])
    submitted = await submit_request(ctx, riley, sample_draft())
    assert submitted.request.id is not None
    ask = await ask_advocate(ctx, riley, submitted.request.id, ada.id)
    assert ask is not None and ask.id is not None
    before = copy.deepcopy(db.state)

    reply = await dispatch(ctx, command(action, who, submitted.request.id, ask.id, ada.id))

    if role in ALLOWED[action]:
        assert reply.template != "refused", reply.context
    else:
        assert reply.template == "refused"
        assert db.state == before
        if action != "start a request":
            assert reply.context["problem"] == Problem("not_yours")
            assert "Ada" not in said(reply.context["problem"])


async def test_a_missing_id_is_refused_in_the_same_words_as_someone_elses(
        ctx: ServiceContext, db: FakeDatabase) -> None:
    async with db.uow() as uow:
        sam = await resolve_actor(ctx, uow, PEOPLE["another rep"])
    for missing in (c.CancelRequest(sam, 404), c.AnswerAsk(sam, 404, "accept"),
                    c.ShowProfile(sam, 404), c.PauseProfile(sam, 404)):
        reply = await dispatch(ctx, missing)
        assert (reply.template, reply.context["problem"]) == ("refused", Problem("not_yours"))


async def test_a_rep_asking_by_an_id_the_matches_never_showed_hears_only_the_neutral_words(
        ctx: ServiceContext, db: FakeDatabase, add_advocate: AddAdvocate) -> None:
    """Riley's request showed Ada. Asking for Bea (resting since before the request), Cal
    (left the program) or an id nobody has is the same refusal, and names nobody."""
    ada = await add_advocate(email=ADA_EMAIL, name="Ada Advocate")
    async with db.uow() as uow:
        riley = await resolve_actor(ctx, uow, PEOPLE["rep"])
    bea = await add_advocate(name="Bea Resting", snoozed_until=ctx.now() + timedelta(days=9))
    submitted = await submit_request(ctx, riley, sample_draft())
    cal = await add_advocate(name="Cal Gone", status=AdvocateStatus.RETIRED)
    request_id = submitted.request.id
    assert request_id is not None and [m.advocate.id for m in submitted.matches] == [ada.id]
    before = copy.deepcopy(db.state)
    for advocate_id in (bea.id, cal.id, 404):
        reply = await dispatch(ctx, c.AskAdvocate(riley, request_id, advocate_id))
        assert (reply.template, reply.context["problem"]) == ("refused", Problem("not_yours"))
    assert db.state == before
    reply = await dispatch(ctx, c.AskAdvocate(riley, request_id, ada.id))
    assert reply.template != "refused"
