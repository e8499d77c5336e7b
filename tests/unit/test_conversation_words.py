"""What people type, read once for every surface (``bot.conversation.words``): Slack's
``/advocate pause …`` and a Teams message ``advocate pause …`` are the same command."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.conversation import commands as c
from bot.conversation import words
from bot.domain.errors import Problem
from bot.domain.model import LimitOverrides, Role
from tests.unit.conftest import actor
from tests.unit.test_architecture import ROOT, imported_modules

REP = actor("riley@vendor.example")


def read_both(text: str) -> c.Command:
    """The command a Teams message reads as, checked to equal the Slack slash command."""
    typed = words.read(text, REP)
    head, _, rest = text.partition(" ")
    assert words.read(rest, REP, command="/" + head) == typed
    return typed


def test_the_parser_imports_no_chat_sdk_or_outer_layer() -> None:
    source = Path(words.__file__).read_text(encoding="utf-8")
    roots = {n.split(".", 1)[0] for _, n in imported_modules(source, "bot.conversation.words")}
    assert roots <= {"__future__", "re", "dataclasses", "datetime", "bot"}, roots
    assert Path(words.__file__).parent == ROOT / "bot" / "conversation"


@pytest.mark.parametrize(("text", "expected"), [
    ("reference", c.StartRequest(REP, "")),
    ("reference fintech payments EMEA", c.StartRequest(REP, "fintech payments EMEA")),
    ("reference list", c.ListRequests(REP)),
    ("reference list all", c.ListRequests(REP, include_closed=True)),
    ("reference cancel #12 lost the deal", c.CancelRequest(REP, 12, "lost the deal")),
    ("reference cancel twelve", c.CancelRequest(REP, None)),
    ("reference cancel 99999999999999999999", c.CancelRequest(REP, None)),
    ("reference help", c.Help(REP, "reference")),
    ("advocate me", c.ShowMyProfile(REP)),
    ("advocate pause until 2026-04-01 because parental leave",
     c.PauseMe(REP, date(2026, 4, 1), "parental leave")),
    ("advocate resume", c.ResumeMe(REP)),
    ("advocate limits", c.SetMyLimits(REP, None)),
    ("advocate limits 90d=2", c.SetMyLimits(REP, LimitOverrides(max_per_90_days=2))),
    ("advocate leave", c.LeaveProgram(REP)),
    ("advocate", c.Help(REP, "advocate")),
    ("advocates find fintech harbor", c.FindAdvocates(REP, "fintech harbor")),
    ("advocates show Ada Lovelace", c.ShowAdvocate(REP, "Ada Lovelace")),
    ("advocates pause Ada Lovelace until 2026-04-01 because on leave",
     c.PauseAdvocate(REP, "Ada Lovelace", date(2026, 4, 1), "on leave")),
    ("advocates resume ada@harbor.example", c.ResumeAdvocate(REP, "ada@harbor.example")),
    ("advocates limits Ada quarter=4 year=10 rest=21 asks=1 because renewal push",
     c.SetAdvocateLimits(REP, "Ada", LimitOverrides(4, 10, 21, 1), "renewal push")),
    ("advocates limits Ada clear because back to normal",
     c.SetAdvocateLimits(REP, "Ada", LimitOverrides(), "back to normal")),
    ("advocates limits Ada", c.SetAdvocateLimits(REP, "Ada", None, "")),
    ("advocates export", c.ExportRoster(REP)),
    ("advocates digest now", c.SendDigestNow(REP)),
    ("advocates import", c.ImportRoster(REP)),
    ("advocates report", c.SendReport(REP)),
    ("advocates report 2026-Q4", c.SendReport(REP, "2026-Q4")),
    ("advocates report 2026-10-01..2026-12-31", c.SendReport(REP, "2026-10-01..2026-12-31")),
    ("advocates", c.Help(REP, "advocates")),
])
def test_slack_and_teams_words_read_as_the_same_command(text: str, expected: c.Command) -> None:
    assert read_both(text) == expected


def test_a_teams_message_may_abbreviate_and_shout() -> None:
    assert words.read("REF   LIST", REP) == c.ListRequests(REP)
    assert words.read("/Advocate ME", REP) == c.ShowMyProfile(REP)


@pytest.mark.parametrize("text", ["", "help", "hi", "Hello"])
def test_greetings_and_help_show_everything(text: str) -> None:
    assert words.read(text, REP) == c.Help(REP, "all")


def test_words_the_bot_does_not_know_are_said_back_with_the_help() -> None:
    assert words.read("please book me a call", REP) == \
        c.Help(REP, "all", unknown="please book me a call")


def test_details_that_cannot_be_read_are_named_per_part_never_raised() -> None:
    assert words.read("advocate pause until tomorrow", REP) == \
        c.Unreadable(REP, {"until": Problem("typed_not_a_date", typed="tomorrow")})
    assert read_both("advocates limits Ada weekly=2 open=x 90d=-1 180d=1e1000000") == \
        c.Unreadable(REP, {"weekly": Problem("unknown_limit", typed="weekly"),
                           "max_open_asks": Problem("limit_not_whole", field="max_open_asks"),
                           "max_per_90_days": Problem("limit_not_whole",
                                                      field="max_per_90_days"),
                           "180d": Problem("unknown_limit", typed="180d")})
    assert words.read("advocates limits Ada open=9999999", REP) == \
        c.Unreadable(REP, {"max_open_asks": Problem("limit_not_whole", field="max_open_asks")})


def test_the_reason_is_split_off_once() -> None:
    assert words.split_reason("x 90d=4 because busy because renewal") == (
        "x 90d=4", "busy because renewal")
    assert words.split_reason("x 90d=4") == ("x 90d=4", "")


def test_a_pause_reads_who_until_when_and_why_each_part_optional() -> None:
    assert words.parse_pause("until 2026-04-01") == words.PauseArgs("", date(2026, 4, 1), "")
    assert words.parse_pause("") == words.PauseArgs("", None, "")
    assert words.parse_pause("ada@x.example reason: conference season") == \
        words.PauseArgs("ada@x.example", None, "conference season")


def test_the_actor_travels_with_the_command() -> None:
    manager = actor("pat@vendor.example", Role.PROGRAM_MANAGER)
    assert words.read("advocates export", manager).actor is manager


def test_a_huge_number_in_a_form_is_refused_without_arithmetic() -> None:
    """``1e1000000`` in a limits box once made ``int(Decimal(...))`` hold the event loop
    for 25 s; every surface now checks a number's length and shape first."""
    from bot.conversation import clicks as teams_commands
    from handlers.slack import forms as slack_forms

    view = {"state": {"values": {"max_per_90_days": {"max_per_90_days": {
        "type": "number_input", "value": "1e1000000"}}}}}
    assert slack_forms.parse_own_limits(view).max_per_90_days is None
    with pytest.raises(teams_commands.BadAction):
        teams_commands.whole("1e1000000")
    assert teams_commands.amount("1e10000000") == -1
    assert teams_commands.helpfulness("9" * 4000) == -1
    with pytest.raises(teams_commands.BadAction):
        teams_commands.CardAction("ask.accept", {"ask_id": "9" * 30}).integer("ask_id")
