"""The words after ``/advocate`` and ``/advocates`` (Slack) or ``advocate``/``advocates``
(Teams), read by one shared, SDK-free parser."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.model import LimitOverrides
from handlers import commands
from handlers.commands import (
    error_text,
    parse_day,
    parse_limits,
    parse_pause,
    split_command,
    split_reason,
)
from handlers.slack.listeners import commands as slack_commands
from handlers.teams import commands as teams_commands
from tests.unit.test_architecture import ROOT, imported_modules


def test_the_shared_parser_imports_no_chat_sdk_or_outer_layer() -> None:
    source = Path(commands.__file__).read_text(encoding="utf-8")
    roots = {name.split(".", 1)[0] for _, name in imported_modules(source, "handlers.commands")}
    assert roots <= {"__future__", "re", "dataclasses", "datetime", "bot"}, roots
    assert Path(commands.__file__).parent == ROOT / "handlers"


def test_slack_and_teams_read_the_words_with_the_same_functions() -> None:
    assert slack_commands.parse_pause is parse_pause
    assert slack_commands.parse_limits is parse_limits
    assert slack_commands.split_command is split_command
    assert teams_commands.shared is commands


def test_a_pause_reads_who_until_when_and_why_each_part_optional() -> None:
    assert parse_pause("Ada Lovelace until 2026-04-01 because parental leave") == \
        commands.PauseArgs("Ada Lovelace", date(2026, 4, 1), "parental leave")
    assert parse_pause("until 2026-04-01") == commands.PauseArgs("", date(2026, 4, 1), "")
    assert parse_pause("") == commands.PauseArgs("", None, "")
    assert parse_pause("ada@x.example reason: conference season") == \
        commands.PauseArgs("ada@x.example", None, "conference season")


def test_a_day_that_is_not_a_date_is_named_on_its_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_pause("Ada until tomorrow")
    assert caught.value.errors == {
        "until": "The day 'tomorrow' is not a date; write YYYY-MM-DD, e.g. 2026-04-01."}
    with pytest.raises(InvalidInput):
        parse_day("2026-02-30")


def test_limits_read_assignments_in_any_spelling_clear_and_a_reason() -> None:
    args = parse_limits("Ada Lovelace quarter=4 year=10 rest=21 asks=1 because renewal push")
    assert args.who == "Ada Lovelace"
    assert args.limits == LimitOverrides(max_per_90_days=4, max_per_365_days=10,
                                         cooldown_days=21, max_open_asks=1)
    assert args.reason == "renewal push"
    assert parse_limits("90d=2").who == ""  # an advocate about themself
    assert parse_limits("Ada clear because back to normal").limits == LimitOverrides()
    assert parse_limits("Ada").limits is None


def test_every_bad_limit_is_reported_at_once() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_limits("Ada weekly=2 open=x 90d=-1")
    assert set(caught.value.errors) == {"weekly", "max_open_asks", "max_per_90_days"}


def test_the_reason_is_split_off_once() -> None:
    assert split_reason("x 90d=4 because busy because renewal") == ("x 90d=4",
                                                                    "busy because renewal")
    assert split_reason("x 90d=4") == ("x 90d=4", "")


def test_field_errors_read_as_sentences_in_a_chat_reply() -> None:
    error = InvalidInput({"max_per_90_days": "can be at most 3 (the program's limit)",
                          "reason": "Say why you are overriding this advocate's limits "
                                    "(it is audited).",
                          "weekly": "is not a limit; use 90d, 365d, cooldown or open",
                          "max_open_asks": "'x' is not a whole number"})
    assert error_text(error) == (
        "The 90-day limit can be at most 3 (the program's limit). Say why you are overriding "
        "this advocate's limits (it is audited). Weekly is not a limit; use 90d, 365d, "
        "cooldown or open. The open-asks limit: 'x' is not a whole number.")


@pytest.mark.parametrize(("text", "kind", "word", "rest"), [
    ("advocate me", "advocate", "me", ""),
    ("/advocate pause until 2026-04-01", "advocate", "pause", "until 2026-04-01"),
    ("<at>Advocate Bot</at> advocates LIMITS Ada 90d=4 because x", "advocates", "limits",
     "Ada 90d=4 because x"),
    ("advocates", "advocates", "", ""),
    ("advocates digest now", "advocates", "digest", "now"),
])
def test_teams_messages_carry_the_same_words(text: str, kind: str, word: str,
                                             rest: str) -> None:
    command = teams_commands.parse_text(text)
    assert (command.kind, command.word, command.rest) == (kind, word, rest)
