"""The promises about timing and repeats (docs/product.md, "Promises"), over real HTTP.

* every command, click and submission is acknowledged well within Slack's 3 seconds,
  because slow work (Slack calls, matching) happens after the ack;
* a retried event and a double-clicked button do their thing once;
* Slack answering 429 (with ``Retry-After``) or 5xx delays a DM, never loses or doubles it;
* a failure reaches the person as a sentence, never as a stack trace.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.domain.model import AskState
from bot.ports import OutboxStatus
from bot.services.asks import ask_advocate
from bot.services.requests import submit_request
from handlers.slack import ids
from tests.fakes import NOT_YOURS
from tests.integration.slack.conftest import ADA, PAT, RILEY, Slack
from tests.unit.conftest import sample_draft

SLOW = 1.5  # seconds the fake Slack stalls: far beyond what an ack may wait for


async def asked_ada(slack: Slack) -> tuple[int, int]:
    """Riley's request with Ada asked; returns (request id, ask id)."""
    await slack.add_advocate(email=ADA[1], name=ADA[2], timezone=ADA[3])
    rep = await slack.actor(RILEY)
    submitted = await submit_request(slack.bot.ctx, rep, sample_draft())
    assert submitted.request.id is not None
    ask = await ask_advocate(slack.bot.ctx, rep, submitted.request.id,
                             submitted.matches[0].advocate.id)
    assert ask is not None and ask.id is not None
    return submitted.request.id, ask.id


async def test_acks_come_before_slow_slack_calls(slack: Slack) -> None:
    request_id, ask_id = await asked_ada(slack)
    slack.fake.delays.update({"users.info": SLOW, "views.open": SLOW, "users.lookupByEmail": SLOW})

    started = asyncio.get_running_loop().time()
    responses = await asyncio.gather(
        slack.command(RILEY, ids.COMMAND_REFERENCE, "fintech"),
        slack.command(PAT, ids.COMMAND_ADVOCATES, "digest now"),
        slack.click(ADA, ids.ACTION_ASK_ACCEPT, str(ask_id)),
    )
    acked = asyncio.get_running_loop().time() - started
    assert [r.status for r in responses] == [200, 200, 200]
    assert acked < SLOW  # none of them waited for Slack
    await slack.settle()
    assert len(slack.fake.calls_to("views.open")) == 1  # the work still happened, after
    async with slack.bot.uow() as uow:
        ask = await uow.asks.get(ask_id)
    assert ask is not None and ask.state is AskState.ACCEPTED
    assert request_id


async def test_a_double_clicked_button_does_its_thing_once(slack: Slack) -> None:
    request_id, ask_id = await asked_ada(slack)
    await slack.deliver()
    clicks = await asyncio.gather(*(
        slack.click(ADA, ids.ACTION_ASK_NOT_NOW, str(ask_id), message_ts="1700000000.000111")
        for _ in range(3)))
    assert {c.status for c in clicks} == {200}
    await slack.deliver()
    async with slack.bot.uow() as uow:
        audit = await uow.audit.list(subject=f"ask:{ask_id}")
        keys = [e for e in audit if e.action == "ask.snoozed"]
    assert len(keys) == 1
    # One in-place update of Ada's ask, and no "already answered" noise to anyone.
    assert len(slack.fake.calls_to("chat.update")) == 1
    assert slack.fake.responses == []
    assert request_id


async def test_a_retried_event_is_handled_once(slack: Slack) -> None:
    first = await slack.open_home(RILEY, "Ev0RETRY1")
    await slack.settle()
    retried = await slack.open_home(RILEY, "Ev0RETRY1", retry=1)
    again = await slack.open_home(RILEY, "Ev0RETRY1", retry=2)
    await slack.settle()
    assert first.status == retried.status == again.status == 200
    assert len(slack.homes(RILEY)) == 1
    await slack.open_home(RILEY, "Ev0OTHER2")  # a new opening is a new event
    await slack.settle()
    assert len(slack.homes(RILEY)) == 2


async def test_a_rate_limited_dm_waits_for_retry_after_and_arrives_once(slack: Slack) -> None:
    await asked_ada(slack)
    slack.fake.fail_next("chat.postMessage", 429, "ratelimited", retry_after=7)
    stats = await slack.deliver()
    assert stats.retried == 1
    async with slack.bot.uow() as uow:
        due = await uow.outbox.claim_due(slack.clock.now() + timedelta(seconds=6))
        await uow.rollback()
    assert due == []  # nothing is tried again before Slack's 7 seconds are up
    slack.clock.advance(seconds=7)
    await slack.deliver()
    posts = slack.fake.calls_to("chat.postMessage")
    delivered = [c for c in posts if c.answer and c.answer.get("ok")]
    failed = [c for c in posts if c.answer and not c.answer.get("ok")]
    assert len(failed) == 1
    # Every message arrived exactly once: no (channel, text) pair was posted twice.
    assert len({(c.args["channel"], c.args["text"]) for c in delivered}) == len(delivered)
    assert {(failed[0].args["channel"], failed[0].args["text"])} <= {
        (c.args["channel"], c.args["text"]) for c in delivered}


async def test_a_slack_server_error_is_retried_with_backoff_and_nothing_is_lost(
        slack: Slack) -> None:
    await asked_ada(slack)
    slack.fake.fail_next("chat.postMessage", 503, "service_unavailable")
    slack.fake.fail_next("chat.postMessage", 500, "internal_error")
    await slack.deliver()
    for _ in range(4):
        slack.clock.advance(minutes=1)
        await slack.deliver()
    async with slack.bot.uow() as uow:
        pending = await uow.outbox.claim_due(slack.clock.now() + timedelta(days=1))
        await uow.rollback()
        dead = await uow.outbox.dead_letters(since=slack.clock.now() - timedelta(days=1))
    assert pending == [] and dead == []
    texts = [(c.args["channel"], c.args["text"]) for c in slack.fake.calls_to("chat.postMessage")
             if c.answer and c.answer.get("ok")]
    assert len(texts) == len(set(texts))


async def test_an_advocate_slack_does_not_know_becomes_a_dead_letter_with_the_reason(
        slack: Slack) -> None:
    await slack.add_advocate(email="ghost@nowhere.example", name="Ghost")
    rep = await slack.actor(RILEY)
    submitted = await submit_request(slack.bot.ctx, rep, sample_draft())
    assert submitted.request.id is not None
    await ask_advocate(slack.bot.ctx, rep, submitted.request.id, submitted.matches[0].advocate.id)
    await slack.deliver()
    async with slack.bot.uow() as uow:
        dead = await uow.outbox.dead_letters(since=slack.clock.now() - timedelta(days=1))
    assert [d.message.recipient.email for d in dead] == ["ghost@nowhere.example"]
    assert dead[0].status is OutboxStatus.DEAD and "ghost@nowhere.example" in dead[0].last_error


async def test_a_refusal_after_the_ack_is_a_sentence_and_slack_still_gets_its_200(
        slack: Slack) -> None:
    _, ask_id = await asked_ada(slack)
    response = await slack.click(RILEY, ids.ACTION_ASK_ACCEPT, str(ask_id))  # not Riley's ask
    assert response.status == 200 and response.text == ""
    await slack.settle()
    [reply] = slack.fake.responses
    assert reply.args["text"] == NOT_YOURS
    assert reply.args["response_type"] == "ephemeral"
    assert max(slack.ack_times) < 1.0


async def test_an_unexpected_failure_is_an_apology_not_a_traceback(slack: Slack) -> None:
    slack.fake.fail_next("views.open", 200, "invalid_arguments")
    response = await slack.command(RILEY, ids.COMMAND_REFERENCE, "")
    assert response.status == 200
    await slack.settle()
    [reply] = slack.fake.responses
    assert reply.args["text"].startswith("Sorry, something went wrong on my side")


async def test_a_malformed_button_value_is_refused_without_touching_anything(
        slack: Slack) -> None:
    await slack.click(RILEY, ids.ACTION_ASK_ADVOCATE, "1:2:3; DROP TABLE")
    await slack.settle()
    [reply] = slack.fake.responses
    assert reply.args["text"].startswith("That button belongs to an old message")
