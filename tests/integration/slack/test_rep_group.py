"""``REP_SLACK_USERGROUP``: only members of that Slack user group are reps.

Over HTTP against the running app and the fake Slack Web API: a full member of the
workspace outside the group is refused like any non-rep (no form, no match, nothing
written); a member gets the form. The group's members are read with
``usergroups.users.list`` and trusted for ``GROUP_REFRESH_AFTER``; when Slack cannot
answer, the last answer stands, and with none nobody is a rep.
"""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import SettingsError, load_settings
from handlers.slack import ids
from handlers.slack.directory import GROUP_REFRESH_AFTER, SlackDirectory
from tests.integration.slack.conftest import RILEY, SAM, Slack
from tests.integration.slack.test_reps import refused_everything

GROUP = "S0REPS"
IN_GROUP = [{"rep_slack_usergroup": GROUP}]


@pytest.mark.parametrize("settings_overrides", IN_GROUP)
async def test_a_member_of_the_workspace_outside_the_group_is_not_a_rep(
        slack: Slack, settings_overrides: dict[str, Any]) -> None:
    slack.fake.usergroups[GROUP] = [RILEY[0]]
    await refused_everything(slack, SAM)
    await slack.command(RILEY, ids.COMMAND_REFERENCE, "fintech")
    await slack.settle()
    assert len(slack.modals()) == 1  # a member of the group still gets the form
    assert {c.args["usergroup"] for c in slack.fake.calls_to("usergroups.users.list")} == {
        GROUP}


@pytest.mark.parametrize("settings_overrides", IN_GROUP)
async def test_a_group_slack_does_not_know_makes_nobody_a_rep(
        slack: Slack, settings_overrides: dict[str, Any], caplog: pytest.LogCaptureFixture
        ) -> None:
    await refused_everything(slack, RILEY)
    assert any("no_such_subteam" in r.getMessage() and "nobody is a rep" in r.getMessage()
               for r in caplog.records)


async def test_the_group_is_read_once_per_refresh_and_kept_when_slack_fails(
        slack: Slack) -> None:
    now = [0.0]
    client = AsyncWebClient(token="xoxb-test-token", base_url=slack.fake.api_url)
    directory = SlackDirectory(client, slack.bot.uow, rep_group=GROUP,
                               monotonic=lambda: now[0])
    slack.fake.usergroups[GROUP] = [RILEY[0]]

    async def internal(user: tuple[str, ...]) -> bool | None:
        return (await directory.person(user[0], "T0001")).internal

    assert (await internal(RILEY), await internal(SAM)) == (True, False)
    assert len(slack.fake.calls_to("usergroups.users.list")) == 1
    slack.fake.usergroups[GROUP] = [SAM[0]]
    now[0] = GROUP_REFRESH_AFTER - 1
    assert await internal(SAM) is False  # still the answer read at 0
    now[0] = GROUP_REFRESH_AFTER + 1
    assert (await internal(RILEY), await internal(SAM)) == (False, True)
    slack.fake.fail_next("usergroups.users.list", 500, error="internal_error")
    now[0] = 2 * GROUP_REFRESH_AFTER + 2
    assert await internal(SAM) is True  # Slack failed: the last answer stands
    assert len(slack.fake.calls_to("usergroups.users.list")) == 3


def test_rep_slack_usergroup_must_be_a_group_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ADVOCATE_BOT_CONFIG", raising=False)
    monkeypatch.setenv("REP_SLACK_USERGROUP", "@sales-team")
    with pytest.raises(SettingsError, match="REP_SLACK_USERGROUP: '@sales-team' is not a "
                                            "Slack user group id"):
        load_settings()
    monkeypatch.setenv("REP_SLACK_USERGROUP", " S0123ABCD ")
    assert load_settings().rep_slack_usergroup == "S0123ABCD"
