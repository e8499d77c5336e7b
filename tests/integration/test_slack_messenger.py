"""The Slack messenger over real HTTP against a local fake of Slack's Web API."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.model import Identity, Person, Platform
from bot.ports import DeliveryError, OutboxMessage, OutgoingMessage
from bot.rendering import Renderer, templates_dir
from handlers.slack.messenger import SECTION_TEXT_LIMIT, SlackMessenger
from tests.slack_fake import FakeSlack

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ALEX = Person(
    email="alex@customer.example",
    display_name="Alex",
    identity=Identity(Platform.SLACK, "T0001", "U0ALEX"),
    timezone="Europe/Berlin",
)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake
    await fake.stop()


@pytest.fixture
def templates(tmp_path):  # a tiny template folder so these tests don't depend on the flows
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "note.txt.j2").write_text("{{ body }}\n", encoding="utf-8")
    shutil.copytree(templates_dir() / "text" / "files", tmp_path / "text" / "files")
    return tmp_path


async def messenger_for(slack: FakeSlack, templates) -> SlackMessenger:
    return SlackMessenger(
        AsyncWebClient(token="xoxb-test", base_url=slack.api_url), Renderer(templates)
    )


def outbox_message(
    body: str, *, replaces_ref: str | None = None, **context: object
) -> OutboxMessage:
    return OutboxMessage(
        id=1,
        created_at=NOW,
        replaces_ref=replaces_ref,
        message=OutgoingMessage(
            recipient=ALEX, template="note", context={"body": body, **context}, key="k1"
        ),
    )


async def test_a_dm_is_posted_to_the_user_id_and_escapes_slack_control_characters(
    slack: FakeSlack, templates
) -> None:
    messenger = await messenger_for(slack, templates)
    ref = await messenger.deliver(outbox_message('Thanks, "Alex" <3 & welcome 🎉 ありがとう'))
    [call] = slack.calls_to("chat.postMessage")
    assert call.args["channel"] == "U0ALEX"
    assert not slack.calls_to("conversations.open")
    [block] = call.args["blocks"]
    assert block["text"]["text"] == 'Thanks, "Alex" &lt;3 &amp; welcome 🎉 ありがとう'
    Block.parse(block).validate_json()
    assert ref is not None and ref.startswith("D0ALEX:")


async def test_typed_text_cannot_ping_a_channel_or_hide_a_link_in_the_notification(
    slack: FakeSlack, templates
) -> None:
    """The top-level ``text`` (notification and fallback) is mrkdwn to Slack too."""
    messenger = await messenger_for(slack, templates)
    await messenger.deliver(outbox_message(
        "Evil <!channel> <https://evil.example|Click to verify>"))
    [call] = slack.calls_to("chat.postMessage")
    assert "<!channel>" not in call.args["text"] and "<https" not in call.args["text"]
    assert call.args["text"] == ("Evil &lt;!channel&gt; &lt;https://evil.example|Click to "
                                 "verify&gt;")


async def test_long_text_is_truncated_to_what_a_section_block_accepts(
    slack: FakeSlack, templates
) -> None:
    messenger = await messenger_for(slack, templates)
    await messenger.deliver(outbox_message("x" * 5000))
    [block] = slack.calls_to("chat.postMessage")[0].args["blocks"]
    assert len(block["text"]["text"]) == SECTION_TEXT_LIMIT
    assert block["text"]["text"].endswith("…")
    Block.parse(block).validate_json()


async def test_a_replacing_message_updates_the_earlier_one_in_place(
    slack: FakeSlack, templates
) -> None:
    messenger = await messenger_for(slack, templates)
    ref = await messenger.deliver(
        outbox_message("Answered", replaces_ref="D0ALEX:1700000000.000001")
    )
    [call] = slack.calls_to("chat.update")
    assert (call.args["channel"], call.args["ts"]) == ("D0ALEX", "1700000000.000001")
    assert ref == "D0ALEX:1700000000.000001"
    assert not slack.calls_to("chat.postMessage")


async def test_an_ics_invite_is_uploaded_into_the_same_conversation(
    slack: FakeSlack, templates
) -> None:
    messenger = await messenger_for(slack, templates)
    invite = {"engagement_id": 7, "request_id": 3, "role": "rep",
              "start": "2026-03-10T14:00:00+00:00", "end": "2026-03-10T14:30:00+00:00",
              "sequence": 0, "now": "2026-03-02T09:00:00+00:00", "cancelled": False,
              "reference_type_label": "Reference call", "prospect": "Globex",
              "meeting_link": "", "rep": {"name": "Riley Rep", "email": "r@vendor.example"},
              "advocate": {"name": "Alex", "title": "", "company": "Harbor",
                           "email": "alex@harbor.example"}}
    message = outbox_message("Booked", invite=invite, ics_filename="reference-call.ics")
    await messenger.deliver(message)
    [complete] = slack.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"] == "D0ALEX"
    [uploaded] = slack.uploads
    assert uploaded.decode() == messenger.renderer.invite_ics(message.message.context)
    assert b"SUMMARY:Reference call with Alex (Harbor)" in uploaded


async def test_a_rate_limit_becomes_a_retry_with_slacks_delay(slack: FakeSlack, templates) -> None:
    messenger = await messenger_for(slack, templates)
    slack.fail_next("chat.postMessage", 429, "ratelimited", retry_after=7)
    with pytest.raises(DeliveryError) as caught:
        await messenger.deliver(outbox_message("hi"))
    assert caught.value.retry_after == 7.0 and not caught.value.permanent


async def test_a_server_error_is_retryable_and_a_deleted_user_is_permanent(
    slack: FakeSlack, templates
) -> None:
    messenger = await messenger_for(slack, templates)
    slack.fail_next("chat.postMessage", 503, "service_unavailable")
    with pytest.raises(DeliveryError) as server_error:
        await messenger.deliver(outbox_message("hi"))
    assert not server_error.value.permanent and server_error.value.retry_after is None

    slack.fail_next("chat.postMessage", 200, "user_not_found")
    with pytest.raises(DeliveryError) as gone:
        await messenger.deliver(outbox_message("hi"))
    assert gone.value.permanent
