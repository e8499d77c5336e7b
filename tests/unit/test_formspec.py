"""Forms as specs: every form's fields are declared once, have their words in the
templates, and are checked (required, kind, length, bounds, choices) before any service."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.conversation.formspec import (
    FORMS,
    Kind,
    Sources,
    check,
    field_errors,
    problem,
)
from bot.domain.errors import InvalidInput, Problem
from bot.domain.policy import LimitPolicy
from bot.rendering import Renderer
from bot.services.intake import KnownValues

RENDERER = Renderer()
WORDS = RENDERER.env.get_template("text/forms/words.j2").module


@pytest.mark.parametrize("form", sorted(FORMS))
def test_every_field_has_its_words_in_the_templates(form: str) -> None:
    for field in FORMS[form].fields():
        label = str(WORDS.label(form, field.name))  # type: ignore[attr-defined]
        assert label and label != field.name, (form, field.name)
        for choice in field.choices:
            assert str(WORDS.choice(form, field.name, choice))  # type: ignore[attr-defined]


def problems(form: str, values: dict[str, object], sources: Sources | None = None
             ) -> dict[str, str]:
    try:
        check(FORMS[form].fields(sources), values)
    except InvalidInput as error:
        return {name: value.code.removeprefix("field_")  # the spec's own codes
                for name, value in error.errors.items()}
    return {}


def test_required_fields_without_a_default_must_be_filled() -> None:
    assert problems("intake", {}) == {"prospect_company": "required",
                                      "reference_type": "required", "needed_by": "required"}
    assert problems("comment", {"comment": "   "}) == {"comment": "required"}
    assert problems("decline_reason", {}) == {}  # optional


def test_kinds_lengths_bounds_and_choices_are_checked() -> None:
    program = Sources(program=LimitPolicy(max_per_90_days=3, cooldown_days=14))
    assert problems("own_limits", {"max_per_90_days": "4", "cooldown_days": "7",
                                   "max_open_asks": "1.5", "max_per_365_days": "1e1000000"},
                    program) == {"max_per_90_days": "out_of_range",
                                 "cooldown_days": "out_of_range",
                                 "max_open_asks": "not_whole",
                                 "max_per_365_days": "not_a_number"}
    assert problems("own_limits", {"max_per_90_days": "3", "cooldown_days": ""}, program) == {}
    assert problems("comment", {"comment": "x" * 501}) == {"comment": "too_long"}
    assert problems("outcome", {"outcome": "maybe", "helpfulness": "9",
                                "influenced_amount": "-1"}) == {
        "outcome": "not_a_choice", "helpfulness": "not_a_choice",
        "influenced_amount": "out_of_range"}
    assert problems("intake", {"prospect_company": "Globex", "reference_type": "call",
                               "needed_by": "20/03/2026", "proposed_time_1": "soon"}) == {
        "needed_by": "not_a_date", "proposed_time_1": "not_a_time"}


def test_roster_menus_take_any_typed_value_and_check_only_its_length() -> None:
    base = {"prospect_company": "Globex", "reference_type": "call", "needed_by": "2030-01-01"}
    known = Sources(known=KnownValues(industries=("Fintech",)))
    assert problems("intake", {**base, "industry": "fintech", "language": "en"}, known) == {}
    assert problems("intake", {**base, "products": ["x" * 101]}) == {"products": "too_long"}
    industry = next(f for f in FORMS["intake"].fields(known) if f.name == "industry")
    assert industry.shown_kind is Kind.SELECT
    assert next(f for f in FORMS["intake"].fields() if f.name == "industry"
                ).shown_kind is Kind.TEXT  # an empty roster: a text box


def test_a_field_with_a_default_may_be_left_alone() -> None:
    parallel = next(f for f in FORMS["intake"].fields() if f.name == "parallel_asks")
    assert parallel.required and problem(parallel, None) is None
    assert problem(parallel, "7") == Problem("field_not_a_choice")


def test_a_problem_becomes_words_in_one_place() -> None:
    words = RENDERER.problem_text(Problem("field_out_of_range", low=0, high=3))
    assert words == "Please enter a number from 0 to 3."
    for code in ("required", "too_long", "not_a_number", "not_whole", "not_a_date",
                 "not_a_time", "not_a_choice", "out_of_range"):
        words = RENDERER.problem_text(Problem(f"field_{code}", most=5, low=1, high=None))
        assert words.endswith(".") and "{" not in words


@settings(max_examples=30, deadline=None)
@given(form=st.sampled_from(sorted(FORMS)),
       names=st.lists(st.text(max_size=20), min_size=1, max_size=6, unique=True))
def test_no_error_is_ever_dropped_and_each_lands_on_a_field(form: str,
                                                            names: list[str]) -> None:
    spec = FORMS[form]
    mapped = field_errors(RENDERER, spec, InvalidInput({
        n: Problem("keep_under", most=1000 + i) for i, n in enumerate(names)}))
    assert set(mapped) <= set(spec.names)
    shown = " ".join(mapped.values())
    assert all(f"under {1000 + i} characters" in shown for i in range(len(names)))
