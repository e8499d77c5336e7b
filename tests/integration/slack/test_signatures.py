"""No request from outside is trusted unless Slack signed it (docs/product.md, "Promises").

Bolt checks ``X-Slack-Signature`` (HMAC-SHA256 of ``v0:timestamp:body`` with the signing
secret) and ``X-Slack-Request-Timestamp`` (at most 5 minutes old). A request that fails
gets 401 and runs nothing: no modal, no database change.
"""

from __future__ import annotations

import json
import time
import urllib.parse

import pytest
from slack_sdk.signature import SignatureVerifier

from tests.integration.slack.conftest import (
    RILEY,
    SECRET,
    Slack,
    load_fixture,
    signed_headers,
)


class FrozenClock:
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def test_slacks_own_worked_example_verifies_and_a_changed_byte_does_not() -> None:
    example = load_fixture("req_signature_example")
    verifier = SignatureVerifier(example["signing_secret"],
                                 clock=FrozenClock(int(example["timestamp"]) + 60))
    assert verifier.generate_signature(timestamp=example["timestamp"], body=example["body"]) \
        == example["signature"]
    assert verifier.is_valid(example["body"], example["timestamp"], example["signature"])
    tampered = example["body"].replace("roadrunner", "roadrunnet")
    assert not verifier.is_valid(tampered, example["timestamp"], example["signature"])
    # The same signature, replayed more than five minutes later, is refused.
    late = SignatureVerifier(example["signing_secret"],
                             clock=FrozenClock(int(example["timestamp"]) + 301))
    assert not late.is_valid(example["body"], example["timestamp"], example["signature"])


def command_body() -> str:
    body = load_fixture("req_slash_command")
    body.update(user_id=RILEY[0], command="/reference", text="")
    return urllib.parse.urlencode(body)


async def assert_refused_and_nothing_happened(slack: Slack, status: int) -> None:
    assert status == 401
    await slack.settle()
    assert slack.fake.calls_to("views.open") == []
    async with slack.bot.uow() as uow:
        assert await uow.people.find_by_email(RILEY[1]) == []  # nobody was even looked up


@pytest.mark.parametrize("tamper", ["missing", "wrong secret", "altered body", "stale"])
async def test_a_request_without_a_valid_fresh_signature_gets_401_and_changes_nothing(
        slack: Slack, tamper: str) -> None:
    body = command_body()
    if tamper == "missing":
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
    elif tamper == "wrong secret":
        headers = signed_headers(body, secret="not-the-" + SECRET)
    elif tamper == "altered body":
        headers = signed_headers(body)
        body = body.replace("text=", "text=list")
    else:
        headers = signed_headers(body, timestamp=int(time.time()) - 6 * 60)
    response = await slack.post(body, headers)
    await assert_refused_and_nothing_happened(slack, response.status)


async def test_a_signed_request_is_acknowledged(slack: Slack) -> None:
    response = await slack.command(RILEY, "/reference")
    assert response.status == 200
    await slack.settle()
    assert len(slack.fake.calls_to("views.open")) == 1


async def test_the_events_url_answers_slacks_challenge(slack: Slack) -> None:
    challenge = load_fixture("req_url_verification")
    response = await slack.event(challenge)
    assert response.status == 200
    assert challenge["challenge"] in response.text
    unsigned = await slack.post(json.dumps(challenge), {"Content-Type": "application/json"})
    assert unsigned.status == 401
