"""The digest's trend chart reaches Slack as a PNG upload in the digest's thread."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.model import Identity, Person, Platform
from bot.ports import OutboxMessage, OutgoingMessage
from bot.rendering import Renderer, templates_dir
from handlers.slack.messenger import SlackMessenger
from tests.slack_fake import FakeSlack

PAT = Person(email="pat@vendor.example", display_name="Pat",
             identity=Identity(Platform.SLACK, "T0001", "U0PAT"), timezone="Europe/Berlin")


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake
    await fake.stop()


def message(context: dict[str, object], *, replaces_ref: str | None = None) -> OutboxMessage:
    return OutboxMessage(id=1, created_at=datetime(2026, 3, 2, 8, tzinfo=UTC),
                         replaces_ref=replaces_ref,
                         message=OutgoingMessage(recipient=PAT, template="note",
                                                 context={"body": "Digest", **context},
                                                 key="digest:2026-W10:pat@vendor.example"))


@pytest.fixture
def messenger(slack: FakeSlack, tmp_path) -> SlackMessenger:
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "note.txt.j2").write_text("{{ body }}\n", encoding="utf-8")
    shutil.copytree(templates_dir() / "text" / "files", tmp_path / "text" / "files")
    return SlackMessenger(AsyncWebClient(token="xoxb-test", base_url=slack.api_url),
                          Renderer(tmp_path))


async def test_the_chart_is_uploaded_as_png_bytes_in_the_digests_thread(
        slack: FakeSlack, messenger: SlackMessenger) -> None:
    context = {"chart": True, "chart_filename": "digest-2026-W10.png",
               "trend": [{"week": "2026-W08", "opened": 3, "fulfilled": 1},
                         {"week": "2026-W09", "opened": 4, "fulfilled": 2}]}
    png = messenger.renderer.chart_png(context)
    assert png is not None and png.startswith(b"\x89PNG")
    ref = await messenger.deliver(message(context))
    assert ref is not None
    [post] = slack.calls_to("chat.postMessage")
    [get_url] = slack.calls_to("files.getUploadURLExternal")
    assert get_url.args["filename"] == "digest-2026-W10.png"
    [complete] = slack.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"] == "D0PAT"
    assert f"{complete.args['channel_id']}:{complete.args['thread_ts']}" == ref
    assert slack.uploads == [png]
    assert post.args["channel"] == "U0PAT"


async def test_an_update_in_place_does_not_upload_the_chart_again(
        slack: FakeSlack, messenger: SlackMessenger) -> None:
    trend = [{"week": "2026-W09", "opened": 1, "fulfilled": 1}]
    await messenger.deliver(message({"chart": True, "trend": trend},
                                    replaces_ref="D0PAT:1.000001"))
    assert slack.calls_to("chat.update") and not slack.uploads


async def test_a_message_without_a_chart_uploads_nothing(
        slack: FakeSlack, messenger: SlackMessenger) -> None:
    await messenger.deliver(message({}))
    assert slack.uploads == [] and not slack.calls_to("files.getUploadURLExternal")
