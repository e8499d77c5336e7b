"""The plain-text templates render what the services really send, for awkward input too.

Contexts are not hand-written here: every conversation the request and ask services can
have is played against the fakes, and whatever landed in the outbox is rendered with
``StrictUndefined``. A context key a template expects but a service forgot (or the other
way round) therefore fails here, not in a user's chat.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import jinja2
import pytest

from bot.domain.model import Advocate, Engagement, ReferenceType, Role
from bot.domain.policy import ProgramPolicy
from bot.ports import OutgoingMessage
from bot.rendering import Renderer, templates_dir
from bot.services.asks import answer_ask, ask_advocate, decide_approval, expire_asks
from bot.services.context import ServiceContext
from bot.services.requests import cancel_request, submit_request
from tests.fakes import FakeDatabase, FixedClock
from tests.unit.conftest import (
    OWNER_EMAIL,
    PM_EMAIL,
    START,
    actor,
    advocate_actor,
    build_advocate,
    outbox,
    person,
    sample_draft,
)

# Every template the request and ask services send (scheduling's live beside them).
SERVICE_TEMPLATES = frozenset({
    "matches", "no_matches", "request_unfulfilled", "request_unfulfilled_rep",
    "request_cancelled", "request_cancelled_advocate", "ask", "ask_sent", "ask_answered",
    "ask_withdrawn", "ask_closed", "ask_expired", "ask_accepted", "ask_declined",
    "ask_unanswered", "pick_time", "approval_request", "approval_closed", "approval_denied",
})
# What an advocate sees before (or without) consenting: never the prospect's name.
ADVOCATE_PRE_CONSENT = frozenset({"ask", "ask_answered", "ask_withdrawn", "ask_closed",
                                  "ask_expired", "pick_time", "request_cancelled_advocate"})

EDGE_CASES: dict[str, str] = {
    "plain": "Northwind",
    "quotes": "O'Brien \"The Bank\" & Sons",
    "newlines": "first line\nsecond line\n",
    "emoji": "Rocket 🚀 Ltd 👩🏽‍💼",
    "markup": "<b>bold</b> & <script>x</script> *not* _mrkdwn_ `code` <@U123>",
    "japanese": "株式会社テスト「日本語」",
}

REP = actor(person("riley.rep@vendor.example", "Riley Rep", timezone="America/New_York"))
PM = actor(person(PM_EMAIL, "Pat Manager", timezone="Europe/Berlin"), Role.PROGRAM_MANAGER)
OWNER = actor(person(OWNER_EMAIL, "Olive Owner"), Role.ACCOUNT_OWNER)


class World:
    """A fresh program (fake database, clock, context) for one conversation."""

    def __init__(self, **policy: Any) -> None:
        self.db = FakeDatabase()
        self.clock = FixedClock(START)
        self.ctx = ServiceContext(uow=self.db.uow, clock=self.clock,
                                  policy=replace(ProgramPolicy(), **policy),
                                  program_managers=(PM_EMAIL,),
                                  program_timezone="Europe/Berlin")

    async def advocate(self, label: str, text: str, **fields: Any) -> Advocate:
        async with self.db.uow() as uow:
            stored = await uow.advocates.add(build_advocate(
                name=f"{label} {text}", company=f"Customer {text}", title=f"Title {text}",
                **fields))
            await uow.commit()
        return stored

    async def engagements(self, advocate: Advocate, *days_ago: int) -> None:
        async with self.db.uow() as uow:
            for days in days_ago:
                await uow.engagements.add(Engagement(
                    request_id=0, advocate_id=advocate.id or 0, ask_id=0,
                    reference_type=ReferenceType.CALL,
                    accepted_at=START - timedelta(days=days)))
            await uow.commit()

    async def request(self, text: str, **draft: Any) -> int:
        fields = {"prospect_company": f"Prospect {text}", "notes": f"Notes {text}",
                  "opportunity_name": f"Deal {text}", **draft}
        result = await submit_request(self.ctx, REP, sample_draft(**fields))
        assert result.request.id is not None
        return result.request.id


async def every_conversation(text: str) -> list[OutgoingMessage]:
    """Play each path through requests and asks once, with ``text`` in every free field;
    return everything queued, in order."""
    sent: list[OutgoingMessage] = []

    # A yes with a parallel ask withdrawn, then the request cancelled by a manager.
    w = World()
    ada = await w.advocate("Ada", text, health_score=100)
    bob = await w.advocate("Bob", text, health_score=90)
    request_id = await w.request(text, parallel_asks=2)
    first = await ask_advocate(w.ctx, REP, request_id, ada.id)
    await ask_advocate(w.ctx, REP, request_id, bob.id)
    assert first is not None
    await answer_ask(w.ctx, advocate_actor(ada), first.id or 0, "accept")
    await cancel_request(w.ctx, PM, request_id, reason=f"Reason {text}")
    sent += outbox(w.db)

    # Two declines (the second snoozes), the first leaving nobody to ask.
    w = World()
    ada = await w.advocate("Ada", text)
    for n in range(2):
        request_id = await w.request(f"{text} {n}")
        ask = await ask_advocate(w.ctx, REP, request_id, ada.id)
        assert ask is not None
        await answer_ask(w.ctx, advocate_actor(ada), ask.id or 0, "decline",
                         reason=f"Because {text}")
        w.clock.advance(hours=1)
    sent += outbox(w.db)

    # Not now, then an ask left unanswered until it expires.
    w = World()
    ada = await w.advocate("Ada", text, health_score=100)
    bob = await w.advocate("Bob", text, health_score=90)
    cat = await w.advocate("Cat", text, health_score=80)
    request_id = await w.request(text)
    ask = await ask_advocate(w.ctx, REP, request_id, ada.id)
    assert ask is not None
    await answer_ask(w.ctx, advocate_actor(ada), ask.id or 0, "not_now")
    w.clock.advance(hours=49)
    assert await expire_asks(w.ctx) == 1
    assert cat.id is not None and bob.id is not None
    sent += outbox(w.db)

    # Nobody fits at all.
    w = World()
    await w.request(text)
    sent += outbox(w.db)

    # A yes that would break the advocate's limits.
    w = World()
    ada = await w.advocate("Ada", text)
    request_id = await w.request(text)
    ask = await ask_advocate(w.ctx, REP, request_id, ada.id)
    assert ask is not None
    await w.engagements(ada, 10, 30, 60)
    await answer_ask(w.ctx, advocate_actor(ada), ask.id or 0, "accept")
    sent += outbox(w.db)

    # Approvals: the owner denies, the program managers approve the next one, a third
    # approval expires.
    w = World(require_approval=True)
    ada = await w.advocate("Ada", text, account_owner_email=OWNER_EMAIL, health_score=100)
    await w.advocate("Bob", text, health_score=90)
    request_id = await w.request(text)
    ask = await ask_advocate(w.ctx, REP, request_id, ada.id)
    assert ask is not None
    await decide_approval(w.ctx, OWNER, ask.id or 0, approve=False, reason=f"No {text}")
    (next_ask,) = [a for a in w.db.state.asks.values() if a.id != ask.id]
    await decide_approval(w.ctx, PM, next_ask.id or 0, approve=True)
    await w.advocate("Cat", text, account_owner_email=OWNER_EMAIL, health_score=80)
    second = await w.request(f"{text} again")
    await ask_advocate(w.ctx, REP, second, None)
    w.clock.advance(hours=48)
    await expire_asks(w.ctx)
    sent += outbox(w.db)
    return sent


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


async def test_the_conversations_cover_every_template_the_services_send() -> None:
    assert {m.template for m in await every_conversation("plain")} == SERVICE_TEMPLATES


@pytest.mark.parametrize("name", sorted(SERVICE_TEMPLATES))
def test_every_template_the_services_send_has_a_text_version(name: str,
                                                             renderer: Renderer) -> None:
    assert renderer.has(f"text/{name}.txt.j2")


def test_every_text_template_in_the_folder_compiles(renderer: Renderer) -> None:
    names = sorted(p.name for p in (templates_dir() / "text").glob("*.j2"))
    assert names
    for name in names:
        try:
            renderer.env.get_template(f"text/{name}")
        except jinja2.TemplateSyntaxError as error:
            pytest.fail(f"text/{name}: {error}")


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
async def test_every_message_renders_for_awkward_input(case: str, renderer: Renderer) -> None:
    text = EDGE_CASES[case]
    for message in await every_conversation(text):
        rendered = renderer.text(message.template, message.context)
        where = f"{message.template} to {message.recipient.email}"
        assert rendered, where
        assert "None" not in rendered, f"{where} shows a missing value:\n{rendered}"
        assert "{{" not in rendered and "{%" not in rendered, where
        assert "&amp;" not in rendered and "&lt;" not in rendered, f"{where} is HTML-escaped"
        assert not re.search(r"\n{3,}", rendered), f"{where} has stray blank lines:\n{rendered}"


async def test_names_and_notes_come_through_exactly_as_typed(renderer: Renderer) -> None:
    text = EDGE_CASES["markup"]
    texts = {m.template: renderer.text(m.template, m.context)
             for m in await every_conversation(text)}
    assert f"Ada {text}" in texts["ask_accepted"]
    assert f"Notes {text}" in texts["ask"]


async def test_nothing_hidden_is_shown_to_the_wrong_person(renderer: Renderer) -> None:
    text = EDGE_CASES["japanese"]
    for message in await every_conversation(text):
        rendered = renderer.text(message.template, message.context)
        email = message.recipient.email or ""
        if message.template in ADVOCATE_PRE_CONSENT:
            assert f"Prospect {text}" not in rendered, message.template
            assert f"Deal {text}" not in rendered, message.template
        if email.startswith("riley.rep") and message.template != "ask_accepted":
            assert "@customer" not in rendered, f"{message.template} shows an advocate email"
            assert f"Title {text}" not in rendered, message.template
        if message.template in ("ask_declined", "approval_denied"):
            assert "Because" not in rendered and f"No {text}" not in rendered


async def test_a_program_that_allows_it_names_the_prospect_in_the_ask(
        renderer: Renderer) -> None:
    w = World(show_prospect_name=True)
    ada = await w.advocate("Ada", "x")
    request_id = await w.request("Globex")
    await ask_advocate(w.ctx, REP, request_id, ada.id)
    (ask,) = [m for m in outbox(w.db) if m.template == "ask"]
    assert "Prospect Globex" in renderer.text("ask", ask.context)


async def test_times_are_shown_in_each_readers_own_zone(renderer: Renderer) -> None:
    w = World()
    ada = await w.advocate("Ada", "x", timezone="Europe/Berlin")
    request_id = await w.request("y")
    await ask_advocate(w.ctx, REP, request_id, ada.id)
    by_template = {m.template: renderer.text(m.template, m.context) for m in outbox(w.db)}
    # 10 March 15:00 UTC is 16:00 in Berlin; the ask expires 4 March 09:00 UTC,
    # which is 04:00 in New York.
    assert "Tue 10 Mar 2026, 16:00 CET" in by_template["ask"]
    assert "Wed 04 Mar 2026, 04:00 EST" in by_template["ask_sent"]


async def test_a_services_context_with_a_key_missing_fails_loudly(renderer: Renderer) -> None:
    w = World()
    ada = await w.advocate("Ada", "x")
    request_id = await w.request("y")
    await ask_advocate(w.ctx, REP, request_id, ada.id)
    (ask,) = [m for m in outbox(w.db) if m.template == "ask"]
    broken = {k: v for k, v in ask.context.items() if k != "not_now_snooze_days"}
    with pytest.raises(jinja2.UndefinedError):
        renderer.text("ask", broken)
