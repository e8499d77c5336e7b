"""Bounded parsing of typed values (``bot.domain.inputs``): refused on shape before any
arithmetic, so a hostile number costs microseconds (see bench for timings, not here)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.inputs import (
    MAX_AMOUNT,
    MAX_ID,
    amount,
    date_in_range,
    decimal_or_none,
    record_id,
    refuse_control_characters,
    whole_number,
)
from tests.fakes import words

HOSTILE_NUMBERS = ["1e1000000", "1e200000", Decimal("1e1000000"), Decimal("-1e1000000"),
                   "9" * 5000, float("inf"), float("nan"), 1e300, True, None, object(),
                   "1,5", "0x10", "1_000e99999"]


@pytest.mark.parametrize("raw", HOSTILE_NUMBERS, ids=lambda raw: repr(raw)[:20])
def test_values_that_are_not_numbers_a_person_typed_are_refused(raw: object) -> None:
    assert decimal_or_none(raw) is None
    with pytest.raises(InvalidInput) as error:
        whole_number(raw, "limit", low=0, high=100)
    assert words(error.value) == {"limit": "Enter a whole number from 0 to 100."}
    with pytest.raises(InvalidInput):
        amount(raw, "amount")


@pytest.mark.parametrize(("raw", "expected"), [
    ("45", 45), (" 45 ", 45), (45, 45), (45.0, 45), (Decimal("45.00"), 45), ("1,200", 1200),
    ("0", 0), ("1e2", 100),
])
def test_whole_numbers_in_the_usual_spellings_are_read(raw: object, expected: int) -> None:
    assert whole_number(raw, "n", low=0, high=10_000) == expected


@pytest.mark.parametrize("raw", ["45.5", 45.5, "101", "-1", 10**40])
def test_whole_numbers_outside_the_range_or_with_a_fraction_are_refused(raw: object) -> None:
    with pytest.raises(InvalidInput):
        whole_number(raw, "n", low=0, high=100)


def test_amounts_go_up_to_what_the_column_holds_and_are_rounded_to_cents() -> None:
    assert amount("$999,999,999,999.99", "a") == MAX_AMOUNT
    assert amount("12,00,000", "a") == Decimal("1200000.00")
    assert amount("0.004", "a") == Decimal("0.00")
    with pytest.raises(InvalidInput) as error:
        amount("1000000000000", "a")
    assert "too large" in words(error.value)["a"]
    with pytest.raises(InvalidInput) as error:
        amount("-3", "a")
    assert words(error.value) == {"a": "The amount cannot be negative."}


@pytest.mark.parametrize("text", ["a\x00b", "bell\x07", "esc\x1b[2J", "del\x7f", "c1\x85"])
def test_control_characters_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as error:
        refuse_control_characters(text, "notes")
    assert set(words(error.value)) == {"notes"}


def test_line_breaks_and_tabs_are_fine_where_text_may_span_lines() -> None:
    assert refuse_control_characters("one\ntwo\tthree 日本語 <&>", "notes") == (
        "one\ntwo\tthree 日本語 <&>")
    with pytest.raises(InvalidInput):
        refuse_control_characters("one\ntwo", "comment", multiline=False)


def test_dates_must_fall_in_the_range() -> None:
    today = date(2026, 3, 2)
    assert date_in_range(today, "d", earliest=today) == today
    for bad in (date(2026, 3, 1), date(9999, 12, 31)):
        with pytest.raises(InvalidInput) as error:
            date_in_range(bad, "d", earliest=today)
        assert words(error.value) == {"d": "Pick a date from 2026-03-02 to 2999-12-31."}


@pytest.mark.parametrize("raw", ["abc", "0", "-4", str(MAX_ID + 1), "9" * 30, "9" * 5000, 2**63])
def test_ids_no_row_can_have_get_one_refusal_that_says_nothing_more(raw: object) -> None:
    with pytest.raises(InvalidInput) as error:
        record_id(raw, "ask")
    assert words(error.value) == {"ask": "There is no such record."}
    assert record_id(str(MAX_ID), "ask") == MAX_ID
