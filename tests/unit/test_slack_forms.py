"""Slack modals: what a view_submission carries comes back as the service's input, and
what a service refuses lands inline on the field that is wrong.

The payloads under ``tests/fixtures/slack/`` follow Slack's documented view_submission
shape (``view.state.values[block_id][action_id]``, ``null`` for an empty input).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.conversation.forms import COMMON_TIMEZONES, MAX_CHOICES, intake_choices
from bot.domain.errors import InvalidInput, Problem
from bot.domain.limits import validate_own_limits
from bot.domain.model import LimitOverrides, Outcome
from bot.domain.policy import LimitPolicy
from bot.rendering import Renderer
from bot.services.intake import KnownValues, RequestDraft, parse_keywords, validate_draft
from bot.services.outcomes import COMMENT_MAX_CHARS
from handlers.slack import forms, ids, intake
from handlers.slack.blockkit import ELLIPSIS, slack_renderer
from tests.unit.conftest import START

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "slack"
KNOWN = KnownValues(industries=("Fintech", "Retail"), products=("Payments API", "Fraud Shield"),
                    use_cases=("Checkout", "Reporting"), regions=("EMEA", "North America"),
                    languages=("English", "日本語"))
TUE_15 = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
WED_1630 = datetime(2026, 3, 11, 16, 30, tzinfo=UTC)
THU_10_TOKYO = datetime(2026, 3, 12, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


def payload(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def small(name: str) -> dict[str, Any]:
    return payload("view_submission_small_modals.json")[name]


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return slack_renderer()


def submitted(view: dict[str, Any]) -> dict[str, Any]:
    """The view as Slack would send it back if the person submitted it unchanged: each
    input's initial value becomes its state, in the shape of its element type."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        kind = element["type"]
        state: dict[str, Any] = {"type": kind}
        if kind in ("static_select", "radio_buttons"):
            state["selected_option"] = element.get("initial_option")
        elif kind == "multi_static_select":
            state["selected_options"] = element.get("initial_options", [])
        elif kind == "datepicker":
            state["selected_date"] = element.get("initial_date")
        elif kind == "datetimepicker":
            state["selected_date_time"] = element.get("initial_date_time")
        else:
            state["value"] = element.get("initial_value")
        values[block["block_id"]] = {element["action_id"]: state}
    return {**view, "state": {"values": values}}


FULL_DRAFT = RequestDraft(
    prospect_company="Globex 株式会社 🚀", reference_type="video_call",
    needed_by=date(2026, 3, 20), opportunity_name='Deal "A" & <B>',
    crm_opportunity_id="006Dn000004Abc", opportunity_amount=Decimal("120000.50"),
    opportunity_stage="Evaluation", industry="Fintech", region="EMEA",
    company_size="201-1000", products=("Payments API", "Fraud Shield"),
    use_cases=("Checkout",), language="日本語",
    proposed_times=(TUE_15, WED_1630, THU_10_TOKYO.astimezone(UTC)), timezone="Asia/Tokyo",
    call_length_minutes=45, meeting_link="https://meet.example/x?a=1&b=2",
    notes="line one\nline two <&>", parallel_asks=2,
)


# --- reading submissions ---------------------------------------------------------------


def test_a_filled_intake_form_becomes_the_draft_the_rep_meant() -> None:
    draft = intake.parse_intake(payload("view_submission_intake.json")["view"])

    assert draft == RequestDraft(
        prospect_company="Globex Bank", reference_type="video_call",
        needed_by=date(2026, 3, 20), opportunity_name="Globex \N{EN DASH} Payments 2026",
        crm_opportunity_id="006Dn000004Abc", opportunity_amount=Decimal("120000.50"),
        opportunity_stage="Evaluation", industry="Fintech", region="EMEA",
        company_size="201-1000", products=("Payments API", "Fraud Shield 🛡️"),
        use_cases=("Checkout",), language="日本語", proposed_times=(TUE_15, WED_1630),
        timezone="America/New_York", call_length_minutes=45,
        meeting_link="https://meet.example/ref?id=1&pw=2",
        notes='They asked about "the migration" & <rollback>.\nSecond line 🚀',
        parallel_asks=2,
    )
    valid = validate_draft(draft, now=START)
    assert valid.proposed_times == (TUE_15, WED_1630)
    assert valid.notes.endswith("🚀")  # nothing escaped on the way in


def test_an_empty_or_partial_form_never_raises_and_leaves_validation_to_the_service(
        renderer: Renderer) -> None:
    draft = intake.parse_intake(payload("view_submission_intake_empty.json")["view"])

    assert draft == RequestDraft(use_cases=("Checkout", "Reporting", "checkout"))
    with pytest.raises(InvalidInput) as refused:
        validate_draft(draft, now=START)
    errors = forms.form_errors(slack_renderer(), "intake", refused.value)
    assert set(errors) == {"prospect_company", "reference_type", "needed_by"}
    view = intake.intake_view(renderer, known=KNOWN, draft=None, user_timezone="UTC")
    assert set(errors) <= {b["block_id"] for b in view["blocks"] if b["type"] == "input"}


@pytest.mark.parametrize("view", [{}, {"state": None}, {"state": {"values": None}},
                                  {"state": {"values": {"needed_by": "x", "products": {}}}},
                                  {"state": {"values": {"proposed_time_1": {"a": {
                                      "type": "datetimepicker",
                                      "selected_date_time": "soon"}}}}}])
def test_malformed_views_read_as_empty_forms(view: dict[str, Any]) -> None:
    assert intake.parse_intake(view) == RequestDraft()
    assert forms.parse_outcome(view) == (None, None, None)
    assert forms.parse_own_limits(view) == LimitOverrides()
    assert forms.parse_comment(view) == "" == forms.parse_reason(view)
    assert forms.parse_propose_time(view) is None
    assert forms.metadata(view) == "" and forms.metadata_id(view) is None


def test_a_date_slack_never_sends_is_passed_on_for_the_service_to_name() -> None:
    view = {"state": {"values": {"needed_by": {"needed_by": {
        "type": "datepicker", "selected_date": "20/03/2026"}}}}}
    draft = intake.parse_intake(view)
    assert draft.needed_by == "20/03/2026"
    with pytest.raises(InvalidInput) as refused:
        validate_draft(draft, now=START)
    assert "YYYY-MM-DD" in forms.form_errors(slack_renderer(), "intake",
                                             refused.value)["needed_by"]


def test_the_small_modals_read_back_their_one_answer() -> None:
    assert forms.parse_reason(small("decline_reason")) == (
        "Busy until April & travelling 🌍")
    assert forms.parse_reason(small("decline_reason_empty")) == ""
    assert forms.parse_propose_time(small("propose_time")) == datetime(2026, 3, 7, 9, 0,
                                                                        tzinfo=UTC)
    assert forms.parse_outcome(small("outcome_completed")) == (
        Outcome.COMPLETED, 4, Decimal("250000.75"))
    assert forms.parse_outcome(small("outcome_no_show")) == (Outcome.NO_SHOW, None, None)
    assert forms.parse_comment(small("comment")) == (
        'Great prospect, "sharp" questions <3 ありがとう')
    assert forms.parse_own_limits(small("own_limits")) == LimitOverrides(
        max_per_90_days=2, cooldown_days=30)


def test_private_metadata_carries_the_id_each_modal_is_about() -> None:
    assert forms.metadata_id(small("decline_reason")) == 41
    assert forms.metadata_id(small("own_limits")) == 7
    assert forms.metadata_id({"private_metadata": "12; drop"}) is None


def test_an_unknown_outcome_or_a_fractional_limit_is_not_guessed() -> None:
    view = {"state": {"values": {
        "outcome": {"outcome": {"type": "radio_buttons",
                                "selected_option": {"value": "cancelled"}}},
        "max_open_asks": {"max_open_asks": {"type": "number_input", "value": "1.5"}},
        "cooldown_days": {"cooldown_days": {"type": "number_input", "value": "21.0"}}}}}
    assert forms.parse_outcome(view)[0] is None
    assert forms.parse_own_limits(view) == LimitOverrides(cooldown_days=21)


# --- the intake modal ---------------------------------------------------------------------


def test_a_draft_shown_in_the_modal_and_submitted_unchanged_comes_back_the_same(
        renderer: Renderer) -> None:
    view = intake.intake_view(renderer, known=KNOWN, draft=FULL_DRAFT, user_timezone="UTC")

    assert intake.parse_intake(submitted(view)) == FULL_DRAFT
    assert validate_draft(intake.parse_intake(submitted(view)), now=START) == validate_draft(
        FULL_DRAFT, now=START)


def test_keywords_pre_fill_the_modal_and_the_rest_takes_its_defaults(
        renderer: Renderer) -> None:
    draft = parse_keywords("fintech payments EMEA video call 日本語 needs SOC2 <asap>", KNOWN)
    view = intake.intake_view(renderer, known=KNOWN, draft=draft,
                             user_timezone="Europe/Berlin")

    back = intake.parse_intake(submitted(view))
    assert back == replace(draft, timezone="Europe/Berlin", call_length_minutes=30,
                           parallel_asks=1)
    assert back.notes == "needs SOC2 <asap>"


def test_a_pre_filled_value_the_roster_does_not_know_is_still_offered_and_chosen(
        renderer: Renderer) -> None:
    known = replace(KNOWN, industries=tuple(f"Industry {n:03}" for n in range(300)))
    draft = RequestDraft(industry="Space mining", products=("Orbital API",))
    view = intake.intake_view(renderer, known=known, draft=draft, user_timezone="UTC")
    blocks = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}

    industry = blocks["industry"]["element"]
    assert len(industry["options"]) == MAX_CHOICES  # Teams' menus too: 60, not Slack's 100
    assert industry["initial_option"] in industry["options"]
    assert industry["initial_option"]["value"] == "Space mining"
    assert blocks["products"]["element"]["initial_options"][0]["value"] == "Orbital API"
    assert intake.parse_intake(submitted(view)).industry == "Space mining"


def test_words_and_cases_people_type_select_the_rosters_own_entries(
        renderer: Renderer) -> None:
    draft = RequestDraft(reference_type="phone", industry="FINTECH",
                         products=("payments api", "Payments API"), company_size="m")
    view = intake.intake_view(renderer, known=KNOWN, draft=draft, user_timezone="UTC")
    blocks = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert blocks["reference_type"]["initial_option"]["value"] == "call"
    assert blocks["company_size"]["initial_option"]["value"] == "201-1000"
    assert blocks["industry"]["initial_option"]["value"] == "Fintech"
    assert [o["value"] for o in blocks["industry"]["options"]] == ["Fintech", "Retail"]
    assert [o["value"] for o in blocks["products"]["initial_options"]] == ["Payments API"]


def test_an_empty_roster_gives_text_boxes_that_still_parse(renderer: Renderer) -> None:
    view = intake.intake_view(renderer, known=KnownValues(), draft=None, user_timezone="UTC")
    blocks = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert blocks["industry"]["element"]["type"] == "plain_text_input"
    assert blocks["products"]["element"]["type"] == "plain_text_input"
    state = submitted(view)
    state["state"]["values"]["products"]["products"]["value"] = "Payments API, Checkout"
    assert intake.parse_intake(state).products == ("Payments API", "Checkout")


def test_every_draft_field_has_its_own_block(renderer: Renderer) -> None:
    view = intake.intake_view(renderer, known=KNOWN, draft=None, user_timezone="UTC")
    inputs = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    fields = {f.name for f in dataclasses.fields(RequestDraft)} - {"proposed_times"}
    assert fields <= set(inputs)
    assert [b for b in inputs if b.startswith("proposed_time_")] == [
        "proposed_time_1", "proposed_time_2", "proposed_time_3"]
    for block in view["blocks"]:
        if block["type"] == "input":
            assert block["element"]["action_id"] == block["block_id"]
    required = {b["block_id"] for b in view["blocks"]
                if b["type"] == "input" and not b["optional"]}
    assert {"prospect_company", "reference_type", "needed_by"} <= required


def test_the_time_zone_defaults_to_the_reps_own_even_an_uncommon_one(
        renderer: Renderer) -> None:
    for zone, expected in (("America/Indiana/Indianapolis", "America/Indiana/Indianapolis"),
                           ("Europe/Berlin", "Europe/Berlin"), ("Mars/Olympus", "UTC"),
                           ("", "UTC")):
        view = intake.intake_view(renderer, known=KNOWN, draft=None, user_timezone=zone)
        (block,) = [b for b in view["blocks"] if b.get("block_id") == "timezone"]
        element = block["element"]
        assert element["initial_option"]["value"] == expected
        values = [o["value"] for o in element["options"]]
        assert len(values) == len(set(values)) <= 100
        assert all(forms.is_zone(v) for v in values)
        assert "Mars/Olympus" not in values


def test_every_curated_time_zone_exists() -> None:
    assert len(COMMON_TIMEZONES) == len(set(COMMON_TIMEZONES)) < 100
    assert all(forms.is_zone(z) for z in COMMON_TIMEZONES)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(known=st.lists(st.text(min_size=1, max_size=200), max_size=250),
       selected=st.lists(st.text(min_size=1, max_size=80), max_size=20))
def test_menus_hold_at_most_60_unique_options_and_always_the_chosen_ones(
        known: list[str], selected: list[str]) -> None:
    menus = intake_choices(KnownValues(industries=tuple(known)), timezone="UTC",
                           keep={"industry": selected})
    values = [c.value for c in menus["industry"]]
    assert len(values) == len(set(values)) <= MAX_CHOICES
    assert all(0 < len(v) <= 150 for v in values)
    assert {s.strip() for s in selected if s.strip()} <= set(values)


text_value = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")),
                     min_size=1, max_size=60).map(str.strip).filter(bool)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(company=text_value, notes=text_value, industry=text_value,
       # a product with a comma is not offered (Teams sends a multi-select comma-separated)
       products=st.lists(text_value.filter(lambda v: "," not in v), min_size=1, max_size=4,
                         unique=True))
def test_any_typed_text_survives_the_round_trip(company: str, notes: str, industry: str,
                                               products: list[str]) -> None:
    renderer = slack_renderer()
    draft = replace(FULL_DRAFT, prospect_company=company, notes=notes, industry=industry,
                    products=tuple(products))
    view = intake.intake_view(renderer, known=KNOWN, draft=draft, user_timezone="UTC")
    assert intake.parse_intake(submitted(view)) == draft


# --- errors inline --------------------------------------------------------------------------


def test_intake_errors_land_on_the_field_they_are_about(renderer: Renderer) -> None:
    errors = forms.form_errors(renderer, "intake", InvalidInput({
        "proposed_times": Problem("several", problems=[Problem("times_in_past")]),
        "opportunity_amount": Problem("amount_negative"),
        "mystery": Problem("keep_under", most=80),
    }))
    assert errors == {
        "proposed_time_1": "Every proposed time must be in the future.",
        "opportunity_amount": "The amount cannot be negative.",
        "prospect_company": "Please keep this under 80 characters.",
    }


def test_an_error_about_no_field_in_particular_shows_on_the_first_field(
        renderer: Renderer) -> None:
    errors = forms.form_errors(renderer, "outcome", InvalidInput(
        {"": Problem("request_cancelled_no_call", request_id=4)}))
    assert errors == {"outcome": "Request #4 was cancelled, so there is no call to book."}


def test_two_errors_for_one_block_are_both_shown_and_each_is_short(renderer: Renderer) -> None:
    errors = forms.form_errors(renderer, "intake", InvalidInput({
        "prospect_company": Problem("prospect_missing"),
        "prospect": Problem("not_a_date_time", typed="x" * 400)}))
    (message,) = errors.values()
    assert message.startswith("Which company is the reference for? ") and len(message) <= 150
    assert message.endswith(ELLIPSIS)


def test_real_validation_errors_map_onto_the_modal(renderer: Renderer) -> None:
    bad = replace(FULL_DRAFT, proposed_times=(datetime(2026, 4, 1, 9, 0, tzinfo=UTC),),
                  meeting_link="ftp://x", opportunity_amount="-5", call_length_minutes=600,
                  timezone="Nowhere/Land")
    with pytest.raises(InvalidInput) as refused:
        validate_draft(bad, now=START)
    errors = forms.form_errors(renderer, "intake", refused.value)
    assert set(errors) == {"proposed_time_1", "meeting_link", "opportunity_amount",
                           "call_length_minutes", "timezone"}
    assert all(len(m) <= 150 for m in errors.values())


def test_outcome_limits_comment_and_proposal_errors_map_to_their_modals(
        renderer: Renderer) -> None:
    assert forms.form_errors(renderer, "outcome", InvalidInput({
        "helpfulness": Problem("helpfulness_missing"),
        "influenced_amount": Problem("influenced_amount")})) == {
        "helpfulness": "Please rate how helpful the call was, from 1 to 5.",
        "influenced_amount": "Enter the amount the call influenced: 0 or more."}
    with pytest.raises(InvalidInput) as refused:
        validate_own_limits(LimitOverrides(max_per_90_days=5, cooldown_days=3), LimitPolicy())
    assert forms.form_errors(renderer, "own_limits", refused.value) == {
        "max_per_90_days": "The 90-day limit can be at most 3 (the program's limit).",
        "cooldown_days": "The rest between references must be at least 14 days "
                         "(the program's minimum)."}
    assert forms.form_errors(renderer, "comment", InvalidInput({
        "comment": Problem("comment_empty")})) == {"comment": "Write a line first."}
    assert forms.form_errors(renderer, "propose_time", InvalidInput({
        "proposed": Problem("time_in_past")})) == {
        "proposed_time": "Please propose a time in the future."}


# --- the other modals ----------------------------------------------------------------------


def test_the_limits_modal_shows_the_current_limits_and_gives_them_back(
        renderer: Renderer) -> None:
    current = LimitPolicy(max_per_90_days=2, max_per_365_days=6, cooldown_days=21,
                          max_open_asks=1)
    view = forms.own_limits_view(renderer, advocate_id=7, current=current,
                                 program=LimitPolicy())
    assert view["callback_id"] == ids.VIEW_OWN_LIMITS and forms.metadata_id(view) == 7
    assert forms.parse_own_limits(submitted(view)) == LimitOverrides(2, 6, 21, 1)


def test_the_small_modals_carry_their_ids_and_read_their_own_inputs(
        renderer: Renderer) -> None:
    decline = forms.decline_reason_view(renderer, ask_id=41)
    assert (decline["callback_id"], forms.metadata_id(decline)) == (ids.VIEW_DECLINE_REASON,
                                                                     41)
    propose = forms.propose_time_view(renderer, engagement_id=17, timezone="Asia/Tokyo",
                                      latest=date(2026, 3, 20))
    assert (propose["callback_id"], forms.metadata(propose)) == (ids.VIEW_PROPOSE_TIME, "17")
    assert "2026-03-20" in json.dumps(propose) and "Asia/Tokyo" in json.dumps(propose)
    outcome = forms.outcome_view(renderer, engagement_id=17, advocate_name="Ada <&>",
                                 currency="EUR")
    assert outcome["callback_id"] == ids.VIEW_OUTCOME
    assert "Ada &lt;&amp;&gt;" in json.dumps(outcome) and "EUR" in json.dumps(outcome)
    comment = forms.comment_view(renderer, engagement_id=17)
    (box,) = [b for b in comment["blocks"] if b["type"] == "input"]
    assert box["element"]["max_length"] == COMMENT_MAX_CHARS
    state = submitted(comment)
    state["state"]["values"]["comment"]["comment"]["value"] = " Lovely call "
    assert forms.parse_comment(state) == "Lovely call"


def test_a_proposed_time_travels_in_the_block_id_of_its_buttons() -> None:
    moment = datetime(2026, 3, 7, 9, 0, tzinfo=UTC)
    assert forms.parse_proposed_block_id(forms.proposed_block_id(moment)) == moment
    assert forms.parse_proposed_block_id("call") is None
    assert forms.parse_proposed_block_id(None) is None
    assert forms.parse_proposed_block_id("proposed:soon") is None


def test_too_much_private_metadata_is_refused_before_slack_does() -> None:
    with pytest.raises(ValueError, match="private_metadata"):
        intake.intake_view(slack_renderer(), known=KNOWN, draft=None, user_timezone="UTC",
                          private_metadata="x" * 3001)
