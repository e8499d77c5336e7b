"""Who is this Slack user: asked of Slack rarely, remembered in memory and the database."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.model import Identity, Platform
from bot.ports import DeliveryError
from handlers.slack.directory import SlackDirectory, SlackLookupFailed
from storage.db import create_engine
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes import raises_saying
from tests.slack_fake import FakeSlack


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = await FakeSlack().start()
    slack.add_user("U0ADA", "Ada@Harbor.example", "Ada Advocate", "Europe/Berlin")
    yield slack
    await slack.stop()


@pytest.fixture
async def uow(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[SqlUnitOfWorkFactory]:
    path = tmp_path / "people.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_engine(f"sqlite:///{path}")
    yield SqlUnitOfWorkFactory(engine)
    await engine.dispose()


def directory_for(fake: FakeSlack, uow: SqlUnitOfWorkFactory, ticks: Ticks | None = None
                  ) -> SlackDirectory:
    client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
    return SlackDirectory(client, uow, refresh_after=3600, monotonic=ticks or Ticks())


async def test_a_user_is_looked_up_once_and_then_remembered(fake: FakeSlack,
                                                            uow: SqlUnitOfWorkFactory) -> None:
    directory = directory_for(fake, uow)
    people = await asyncio.gather(*(directory.person("U0ADA", "T0001") for _ in range(10)))
    assert len(fake.calls_to("users.info")) == 1  # ten at once share one lookup
    ada = people[0]
    assert ada.email == "ada@harbor.example" and ada.timezone == "Europe/Berlin"
    assert ada.identity == Identity(Platform.SLACK, "T0001", "U0ADA")
    await directory.person("U0ADA", "T0001")
    assert len(fake.calls_to("users.info")) == 1
    async with uow() as tx:
        assert await tx.people.find_by_email("ada@harbor.example") == [ada]


async def test_a_restart_reads_the_database_and_a_stale_entry_is_refreshed(
        fake: FakeSlack, uow: SqlUnitOfWorkFactory) -> None:
    await directory_for(fake, uow).person("U0ADA", "T0001")
    ticks = Ticks()
    restarted = directory_for(fake, uow, ticks)
    await restarted.person("U0ADA", "T0001")
    assert len(fake.calls_to("users.info")) == 1  # known from the people table
    fake.users["U0ADA"]["tz"] = "Asia/Tokyo"  # Ada moved
    ticks.now += 3601
    moved = await restarted.person("U0ADA", "T0001")
    assert len(fake.calls_to("users.info")) == 2 and moved.timezone == "Asia/Tokyo"


async def test_slack_trouble_falls_back_to_what_we_knew_or_refuses_politely(
        fake: FakeSlack, uow: SqlUnitOfWorkFactory) -> None:
    ticks = Ticks()
    directory = directory_for(fake, uow, ticks)
    fake.fail_next("users.info", 503, "service_unavailable")
    with raises_saying(SlackLookupFailed, "try again in a minute"):
        await directory.person("U0ADA", "T0001")
    known = await directory.person("U0ADA", "T0001")
    ticks.now += 3601
    fake.fail_next("users.info", 503, "service_unavailable")
    assert await directory.person("U0ADA", "T0001") == known


async def test_an_email_finds_the_slack_user_and_links_them(fake: FakeSlack,
                                                             uow: SqlUnitOfWorkFactory) -> None:
    directory = directory_for(fake, uow)
    found = await directory.find_by_email("ada@harbor.example")
    assert found is not None and found.identity is not None
    assert found.identity.user_id == "U0ADA"
    assert await directory.find_by_email("nobody@nowhere.example") is None
    async with uow() as tx:
        [linked] = await tx.people.find_by_email("ADA@harbor.example")
    assert linked.identity == found.identity
    assert found.internal is None  # a look-up by email knows no workspace to compare with
    ada = await directory.person("U0ADA", "T0001")
    assert len(fake.calls_to("users.info")) == 1  # so her first request asks who she is
    assert ada.internal is True and ada.identity == found.identity
    await directory.person("U0ADA", "T0001")
    assert len(fake.calls_to("users.info")) == 1


@pytest.mark.parametrize(("flags", "internal"), [
    ({}, True),
    ({"is_restricted": True}, False),
    ({"is_ultra_restricted": True}, False),
    ({"is_stranger": True}, False),
    ({"team_id": "T0OTHER"}, False),
    ({"team_id": "T0OTHER", "enterprise_user": {"enterprise_id": "E0ORG"}}, True),
], ids=["member", "guest", "single-channel guest", "stranger", "slack connect",
        "another workspace of our grid org"])
async def test_only_a_full_member_of_our_workspace_or_org_is_internal(
        fake: FakeSlack, uow: SqlUnitOfWorkFactory, flags: dict[str, object],
        internal: bool) -> None:
    fake.users["U0ADA"].update(flags)
    client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
    directory = SlackDirectory(client, uow, home_teams=["T0001", "E0ORG"])
    assert (await directory.person("U0ADA", "T0001")).internal is internal
    restarted = SlackDirectory(client, uow, home_teams=["T0001", "E0ORG"])
    assert (await restarted.person("U0ADA", "T0001")).internal is internal
    assert fake.calls_to("auth.test") == []  # SLACK_TEAM_ID named the workspaces


async def test_without_slack_team_id_the_bot_tokens_workspace_is_home(
        fake: FakeSlack, uow: SqlUnitOfWorkFactory) -> None:
    directory = directory_for(fake, uow)
    assert (await directory.person("U0ADA", "T0001")).internal is True
    fake.add_user("U0EXT", "ext@partner.example", "Ext Ernal", team_id="T0OTHER")
    assert (await directory.person("U0EXT", "T0001")).internal is False
    assert len(fake.calls_to("auth.test")) == 1


async def test_an_older_row_that_never_said_is_asked_again_and_trouble_means_no(
        fake: FakeSlack, uow: SqlUnitOfWorkFactory) -> None:
    """A row stored before ``internal`` existed is not trusted to make a rep."""
    ada = await directory_for(fake, uow).person("U0ADA", "T0001")
    async with uow() as tx:
        await tx.people.upsert(replace(ada, internal=None))
        await tx.commit()
    fake.fail_next("users.info", 503, "service_unavailable")
    assert (await directory_for(fake, uow).person("U0ADA", "T0001")).internal is False
    assert (await directory_for(fake, uow).person("U0ADA", "T0001")).internal is True


async def test_slack_trouble_looking_up_an_email_is_retryable(fake: FakeSlack,
                                                               uow: SqlUnitOfWorkFactory) -> None:
    directory = directory_for(fake, uow)
    fake.fail_next("users.lookupByEmail", 429, "ratelimited", retry_after=30)
    with pytest.raises(DeliveryError) as limited:
        await directory.find_by_email("ada@harbor.example")
    assert limited.value.retry_after == 30 and not limited.value.permanent
    fake.fail_next("users.lookupByEmail", 500, "internal_error")
    with pytest.raises(DeliveryError) as broken:
        await directory.find_by_email("ada@harbor.example")
    assert not broken.value.permanent and broken.value.retry_after is None
    fake.fail_next("users.lookupByEmail", 200, "missing_scope")
    with pytest.raises(DeliveryError) as misconfigured:
        await directory.find_by_email("ada@harbor.example")
    assert misconfigured.value.permanent


async def test_the_slack_locale_is_asked_for_and_kept_and_a_refresh_keeps_the_own_choice(
        fake: FakeSlack, uow: SqlUnitOfWorkFactory) -> None:
    fake.add_user("U0KEN", "ken@harbor.example", "Ken", "Asia/Tokyo", locale="ja-JP")
    ticks = Ticks()
    directory = directory_for(fake, uow, ticks)
    ken = await directory.person("U0KEN", "T0001")
    assert [c.args.get("include_locale") for c in fake.calls_to("users.info")] == ["1"]
    assert (ken.locale, ken.chosen_locale) == ("ja_JP", None)
    async with uow() as tx:
        assert await tx.people.choose_locale(ken.identity, "en")  # type: ignore[arg-type]
        await tx.commit()
    fake.locales["U0KEN"] = "ja-JP"
    ticks.now += 3601  # Slack is asked again: what it says is kept, and so is Ken's choice
    refreshed = await directory.person("U0KEN", "T0001")
    assert len(fake.calls_to("users.info")) == 2
    assert (refreshed.locale, refreshed.chosen_locale) == ("ja_JP", "en")
    async with uow() as tx:
        stored = await tx.people.get_by_identity(ken.identity)  # type: ignore[arg-type]
    assert stored is not None and (stored.locale, stored.chosen_locale) == ("ja_JP", "en")


async def test_someone_found_by_email_comes_with_their_slack_locale(
        fake: FakeSlack, uow: SqlUnitOfWorkFactory) -> None:
    fake.add_user("U0AKI", "aki@harbor.example", "Aki", "Asia/Tokyo", locale="ja-JP")
    found = await directory_for(fake, uow).find_by_email("aki@harbor.example")
    assert fake.calls_to("users.lookupByEmail")[0].args.get("include_locale") in ("1", True)
    assert found is not None and found.locale == "ja_JP"
