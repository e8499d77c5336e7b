"""Reference requests: the intake form, keywords, matching, the rep's view, cancelling."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.errors import IllegalTransition, InvalidInput, NotAllowed
from bot.domain.model import (
    Actor,
    Advocate,
    AdvocateStatus,
    AskState,
    CompanySize,
    EngagementState,
    ReferenceType,
    RequestState,
)
from bot.rendering import Renderer
from bot.services.asks import answer_ask, ask_advocate
from bot.services.context import ServiceContext
from bot.services.intake import (
    KnownValues,
    RequestDraft,
    known_values,
    parse_keywords,
    validate_draft,
)
from bot.services.messages import ask_key
from bot.services.requests import cancel_request, list_requests, submit_request
from tests.fakes import FakeAdvocates, FakeDatabase, FixedClock, ics_of, phrases, words
from tests.unit.conftest import (
    PM_EMAIL,
    REP_EMAIL,
    START,
    AddAdvocate,
    advocate_actor,
    audit_actions,
    last_to,
    messages_to,
    outbox,
    sample_draft,
    templates_to,
    with_policy,
)


def errors_of(draft: RequestDraft, now: datetime = START) -> dict[str, str]:
    with pytest.raises(InvalidInput) as invalid:
        validate_draft(draft, now=now)
    return words(invalid.value)


# --- validation ------------------------------------------------------------------------


def test_a_valid_form_comes_back_clean() -> None:
    valid = validate_draft(sample_draft(
        prospect_company="  Globex Bank ", opportunity_amount="120,000.50",
        reference_type="Video call", products=["Payments API", "payments api", " "],
        parallel_asks="2", call_length_minutes="45"), now=START)
    assert valid.prospect_company == "Globex Bank"
    assert valid.reference_type == ReferenceType.VIDEO_CALL
    assert valid.opportunity_amount == Decimal("120000.50")
    assert valid.products == ("Payments API",)
    assert valid.company_size == CompanySize.M
    assert valid.parallel_asks == 2
    assert valid.call_length_minutes == 45
    assert valid.timezone == "America/New_York"


def test_an_empty_form_names_every_missing_field_at_once() -> None:
    errors = errors_of(RequestDraft())
    assert set(errors) == {"prospect_company", "reference_type", "needed_by"}


def test_every_bad_field_is_reported_with_its_own_message() -> None:
    errors = errors_of(sample_draft(
        reference_type="podcast",
        timezone="Mars/Olympus_Mons",
        call_length_minutes=10,
        meeting_link="javascript:alert(1)",
        opportunity_amount="-5",
        parallel_asks=4,
        company_size="huge",
        notes="x" * 3001,
    ))
    assert set(errors) == {"reference_type", "timezone", "call_length_minutes", "meeting_link",
                           "opportunity_amount", "parallel_asks", "company_size", "notes"}
    assert "Reference call" in errors["reference_type"]
    assert "Mars/Olympus_Mons" in errors["timezone"]
    assert "15 and 240" in errors["call_length_minutes"]
    assert "3000" in errors["notes"]


@pytest.mark.parametrize(("field", "value"), [
    ("call_length_minutes", 241),
    ("call_length_minutes", "thirty"),
    ("call_length_minutes", True),
    ("call_length_minutes", 30.5),
    ("parallel_asks", 0),
    ("opportunity_amount", "lots"),
    ("opportunity_amount", "NaN"),
    ("opportunity_amount", True),
    ("meeting_link", "ftp://files.example"),
    ("meeting_link", "https://"),
    ("meeting_link", "https://meet.example/a b"),
    ("prospect_company", "   "),
    ("prospect_company", "x" * 201),
    ("products", [f"product {i}" for i in range(21)]),
    ("needed_by", "next friday"),
])
def test_bad_values_are_refused_on_their_field(field: str, value: object) -> None:
    assert set(errors_of(sample_draft(**{field: value}))) == {field}


def test_a_call_needs_at_least_one_proposed_time_but_a_case_study_does_not() -> None:
    assert "at least one" in errors_of(sample_draft(proposed_times=()))["proposed_times"]
    valid = validate_draft(sample_draft(reference_type="case study", proposed_times=()),
                           now=START)
    assert valid.proposed_times == ()


def test_at_most_three_times_all_in_the_future_and_before_needed_by_ends() -> None:
    times = [datetime(2026, 3, 10 + i, 15, tzinfo=UTC) for i in range(4)]
    assert "at most 3" in errors_of(sample_draft(proposed_times=times))["proposed_times"]
    past = errors_of(sample_draft(proposed_times=[START - timedelta(minutes=1)]))
    assert "future" in past["proposed_times"]
    # needed_by 20 March in New York ends at 04:00 UTC on the 21st.
    late = errors_of(sample_draft(proposed_times=[datetime(2026, 3, 21, 4, 0, tzinfo=UTC)]))
    assert "needed-by" in late["proposed_times"]
    just_in_time = datetime(2026, 3, 21, 3, 59, tzinfo=UTC)
    assert validate_draft(sample_draft(proposed_times=[just_in_time]), now=START)


def test_a_time_proposed_twice_is_refused() -> None:
    twice = [datetime(2026, 3, 10, 15, tzinfo=UTC), "2026-03-10T16:00:00+01:00"]
    assert "twice" in errors_of(sample_draft(proposed_times=twice))["proposed_times"]


def test_times_without_a_zone_are_read_in_the_reps_zone_and_slack_timestamps_work() -> None:
    slack_epoch = int(datetime(2026, 3, 12, 14, 0, tzinfo=UTC).timestamp())
    valid = validate_draft(sample_draft(
        timezone="Europe/Berlin", proposed_times=["2026-03-10T09:00", slack_epoch]), now=START)
    assert valid.proposed_times == (datetime(2026, 3, 10, 8, 0, tzinfo=UTC),
                                    datetime(2026, 3, 12, 14, 0, tzinfo=UTC))
    assert all(t.tzinfo is UTC for t in valid.proposed_times)


def test_needed_by_is_judged_on_the_reps_own_calendar() -> None:
    # 03:00 UTC on 2 March is still the evening of 1 March in Los Angeles.
    now = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    la = sample_draft(needed_by="2026-03-01", timezone="America/Los_Angeles",
                      reference_type="email", proposed_times=())
    assert validate_draft(la, now=now).needed_by == date(2026, 3, 1)
    assert "passed" in errors_of(replace(la, timezone="Europe/Berlin"), now=now)["needed_by"]


form_values = st.one_of(st.none(), st.text(max_size=40), st.integers(-10, 10_000),
                        st.floats(allow_nan=True, allow_infinity=True))


@settings(max_examples=150, deadline=None)
@given(prospect=form_values, reference_type=form_values, needed_by=form_values,
       times=st.lists(form_values, max_size=4), zone=form_values, length=form_values,
       link=form_values, amount=form_values, parallel=form_values, size=form_values)
def test_whatever_a_form_sends_the_answer_is_a_request_or_field_errors(
        prospect: object, reference_type: object, needed_by: object, times: list[object],
        zone: object, length: object, link: object, amount: object, parallel: object,
        size: object) -> None:
    draft = RequestDraft(
        prospect_company=prospect, reference_type=reference_type,  # type: ignore[arg-type]
        needed_by=needed_by, proposed_times=times, timezone=zone,  # type: ignore[arg-type]
        call_length_minutes=length, meeting_link=link,  # type: ignore[arg-type]
        opportunity_amount=amount, parallel_asks=parallel,  # type: ignore[arg-type]
        company_size=size)  # type: ignore[arg-type]
    try:
        valid = validate_draft(draft, now=START)
    except InvalidInput as invalid:
        assert invalid.errors
        assert set(invalid.errors) <= {f for f in RequestDraft.__dataclass_fields__}
    else:
        assert valid.prospect_company.strip() == valid.prospect_company != ""
        assert all(t > START and t.tzinfo is not None for t in valid.proposed_times)


# --- /reference keywords ----------------------------------------------------------------

KNOWN = KnownValues(
    industries=("Fintech", "Healthcare", "Retail Banking"),
    products=("Payments API", "Fraud Shield"),
    use_cases=("Checkout", "Chargeback handling"),
    regions=("EMEA", "North America"),
    languages=("English", "German"),
)


def test_keywords_fill_the_form_fields_they_name() -> None:
    draft = parse_keywords("fintech payments EMEA", KNOWN)
    assert draft.industry == "Fintech"
    assert draft.products == ("Payments API",)
    assert draft.region == "EMEA"
    assert draft.notes is None


def test_phrases_win_over_single_words_and_the_rest_becomes_notes() -> None:
    draft = parse_keywords("Retail banking case study in north america, German speaker "
                           "for the Q3 rollout", KNOWN)
    assert draft.industry == "Retail Banking"
    assert draft.reference_type == ReferenceType.CASE_STUDY.value
    assert draft.region == "North America"
    assert draft.language == "German"
    assert draft.notes == "in speaker for the Q3 rollout"


def test_keywords_find_types_sizes_and_several_products_in_any_case() -> None:
    draft = parse_keywords("VIDEO call fraud shield Payments API chargebacks 1001-5000", KNOWN)
    assert draft.reference_type == ReferenceType.VIDEO_CALL.value
    assert draft.products == ("Fraud Shield", "Payments API")
    assert draft.use_cases == ("Chargeback handling",)
    assert draft.company_size == "1001-5000"


def test_a_second_industry_is_kept_in_the_notes_not_dropped() -> None:
    draft = parse_keywords("fintech healthcare", KNOWN)
    assert draft.industry == "Fintech"
    assert draft.notes == "healthcare"


def test_words_the_roster_does_not_know_all_go_to_notes() -> None:
    draft = parse_keywords("someone friendly 🙂 <&>", KNOWN)
    assert draft == RequestDraft(notes="someone friendly 🙂 <&>")
    assert parse_keywords("", KNOWN) == RequestDraft()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_keywords_never_lose_a_word(text: str) -> None:
    draft = parse_keywords(text, KNOWN)
    recognised = [draft.industry, draft.region, draft.language, draft.reference_type,
                  draft.company_size, *draft.products, *draft.use_cases]
    if not any(recognised):
        assert (draft.notes or "") == " ".join(text.replace(",", " ").replace(";", " ").split())


async def test_known_values_come_from_the_active_roster(db: FakeDatabase,
                                                        add_advocate: AddAdvocate) -> None:
    await add_advocate(industry="Fintech", products=("Payments API",), languages=("German",))
    await add_advocate(industry="fintech", products=("Fraud Shield",), region="APAC")
    await add_advocate(industry="Mining", status=AdvocateStatus.RETIRED)
    async with db.uow() as uow:
        known = await known_values(uow)
    assert known.industries == ("Fintech",)
    assert known.products == ("Fraud Shield", "Payments API")
    assert known.regions == ("APAC", "EMEA")
    assert "German" in known.languages


# --- submitting --------------------------------------------------------------------------


async def test_a_rep_sees_the_top_three_matches_with_reasons_and_no_contact_details(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate) -> None:
    advocates = [await add_advocate() for _ in range(5)]
    result = await submit_request(ctx, rep, sample_draft())

    assert result.request.state == RequestState.MATCHING
    assert len(result.matches) == 3
    assert templates_to(db, REP_EMAIL) == ["matches"]
    shown = last_to(db, REP_EMAIL, "matches").context
    assert [m["rank"] for m in shown["matches"]] == [1, 2, 3]
    assert "same industry: Fintech" in phrases(shown["matches"][0]["reasons"])
    as_text = json.dumps(shown)
    worded = Renderer().text("matches", json.loads(as_text))  # as the outbox keeps it
    assert "same industry: Fintech · " in worded and " of 3 this quarter" in worded
    for advocate in advocates:
        assert advocate.email not in as_text
        assert advocate.title not in as_text
    # Nobody is asked until the rep picks.
    assert all(m.recipient.email == REP_EMAIL for m in outbox(db))
    assert "request.submitted" in audit_actions(db)


async def test_an_invalid_request_is_refused_and_nothing_is_stored(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor) -> None:
    with pytest.raises(InvalidInput) as invalid:
        await submit_request(ctx, rep, sample_draft(prospect_company=""))
    assert set(words(invalid.value)) == {"prospect_company"}
    assert db.state.requests == {} and outbox(db) == []


async def test_the_reps_own_zone_is_used_when_the_form_gives_none(
        ctx: ServiceContext, rep: Actor, add_advocate: AddAdvocate) -> None:
    await add_advocate()
    result = await submit_request(ctx, rep, sample_draft(timezone=None))
    assert result.request.timezone == "America/New_York"


async def test_a_request_nobody_fits_is_unfulfilled_and_program_managers_hear_of_it(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate,
        clock: FixedClock) -> None:
    await add_advocate(snoozed_until=clock.now() + timedelta(days=3))
    await add_advocate(reference_types=frozenset({ReferenceType.EMAIL}))
    result = await submit_request(ctx, rep, sample_draft())

    assert result.matches == ()
    assert result.request.state == RequestState.UNFULFILLED
    assert db.state.requests[result.request.id].state == RequestState.UNFULFILLED
    assert templates_to(db, REP_EMAIL) == ["no_matches"]
    pm_note = last_to(db, PM_EMAIL, "request_unfulfilled").context
    assert pm_note["considered"] == 2
    assert set(phrases(e["reason"] for e in pm_note["exclusions"])) >= {
        "does not do reference call"}
    assert "request.unfulfilled" in audit_actions(db)


async def test_ask_the_best_available_asks_the_top_match_at_once(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate) -> None:
    await add_advocate(health_score=60)
    best = await add_advocate(health_score=100)
    result = await submit_request(ctx, rep, sample_draft(), choose="best")

    assert result.matches[0].advocate.id == best.id
    assert templates_to(db, best.email) == ["ask"]
    assert templates_to(db, REP_EMAIL) == ["matches", "ask_sent"]
    assert db.state.requests[result.request.id].state == RequestState.ASKING


async def test_ask_the_best_available_with_two_parallel_asks_asks_two(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate) -> None:
    advocates = [await add_advocate() for _ in range(3)]
    await submit_request(ctx, rep, sample_draft(parallel_asks=2), choose="best")
    asked = [a for a in advocates if templates_to(db, a.email) == ["ask"]]
    assert len(asked) == 2


# --- the rep's view ----------------------------------------------------------------------


async def test_a_rep_lists_only_their_own_requests(
        ctx: ServiceContext, rep: Actor, other_rep: Actor, add_advocate: AddAdvocate,
        clock: FixedClock) -> None:
    await add_advocate()
    first = (await submit_request(ctx, rep, sample_draft())).request
    clock.advance(minutes=5)
    second = (await submit_request(ctx, rep, sample_draft(prospect_company="Initech"))).request
    await submit_request(ctx, other_rep, sample_draft())
    assert [r.id for r in await list_requests(ctx, rep)] == [second.id, first.id]


async def test_closed_requests_are_listed_only_when_asked_for(
        ctx: ServiceContext, rep: Actor, add_advocate: AddAdvocate) -> None:
    await add_advocate()
    request = (await submit_request(ctx, rep, sample_draft())).request
    await cancel_request(ctx, rep, request.id)
    assert await list_requests(ctx, rep) == []
    assert [r.id for r in await list_requests(ctx, rep, include_closed=True)] == [request.id]


# --- cancelling --------------------------------------------------------------------------


async def test_cancelling_withdraws_open_asks_and_updates_their_messages_in_place(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate) -> None:
    advocates = [await add_advocate() for _ in range(2)]
    request = (await submit_request(ctx, rep, sample_draft(parallel_asks=2),
                                    choose="best")).request
    cancelled = await cancel_request(ctx, rep, request.id, reason="Deal lost")

    assert cancelled.state == RequestState.CANCELLED
    asks = list(db.state.asks.values())
    assert {a.state for a in asks} == {AskState.WITHDRAWN}
    for advocate, ask in zip(advocates, sorted(asks, key=lambda a: a.id), strict=True):
        update = last_to(db, advocate.email)
        assert update.template == "ask_withdrawn"
        assert update.replaces == ask_key(ask.id)
        assert update.context["why"] == "cancelled"
    assert last_to(db, REP_EMAIL).template == "request_cancelled"
    assert audit_actions(db).count("ask.withdrawn") == 2
    assert "request.cancelled" in audit_actions(db)


async def test_cancelling_after_a_yes_cancels_the_engagement_and_tells_the_advocate(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, pm: Actor,
        add_advocate: AddAdvocate) -> None:
    advocate = await add_advocate()
    request = (await submit_request(ctx, rep, sample_draft())).request
    ask = await ask_advocate(ctx, rep, request.id, advocate.id)
    await answer_ask(ctx, advocate_actor(advocate), ask.id, "accept")

    await cancel_request(ctx, pm, request.id, reason="Prospect went quiet")

    (engagement,) = db.state.engagements.values()
    assert engagement.state == EngagementState.CANCELLED
    note = last_to(db, advocate.email)
    assert note.template == "request_cancelled_advocate"
    assert note.context["engagement_id"] == engagement.id
    told = last_to(db, REP_EMAIL, "request_cancelled").context
    assert told["cancelled_by"] == "Pat Manager"
    assert told["reason"] == "Prospect went quiet"
    assert "engagement.cancelled" in audit_actions(db)


async def test_cancelling_a_booked_call_takes_it_out_of_both_calendars(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate) -> None:
    from icalendar import Calendar

    from bot.services.scheduling import pick_time

    advocate = await add_advocate()
    request = (await submit_request(ctx, rep, sample_draft())).request
    ask = await ask_advocate(ctx, rep, request.id, advocate.id)
    await answer_ask(ctx, advocate_actor(advocate), ask.id, "accept")
    (engagement,) = db.state.engagements.values()
    await pick_time(ctx, advocate_actor(advocate), engagement.id, slot=0)
    booked = Calendar.from_ical(ics_of(last_to(db, advocate.email, "call_confirmed")))

    await cancel_request(ctx, rep, request.id)

    for email, template in ((advocate.email, "request_cancelled_advocate"),
                            (REP_EMAIL, "request_cancelled")):
        cancel = Calendar.from_ical(ics_of(last_to(db, email, template)))
        assert str(cancel["method"]) == "CANCEL"
        [event] = cancel.walk("VEVENT")
        [original] = booked.walk("VEVENT")
        assert event["uid"] == original["uid"]
        assert int(event["sequence"]) > int(original["sequence"])


async def test_cancelling_before_a_call_is_booked_attaches_no_calendar_file(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate) -> None:
    advocate = await add_advocate()
    request = (await submit_request(ctx, rep, sample_draft())).request
    ask = await ask_advocate(ctx, rep, request.id, advocate.id)
    await answer_ask(ctx, advocate_actor(advocate), ask.id, "accept")

    await cancel_request(ctx, rep, request.id)

    assert last_to(db, advocate.email, "request_cancelled_advocate").context["invite"] is None
    assert last_to(db, REP_EMAIL, "request_cancelled").context["invite"] is None


async def test_only_the_owning_rep_or_a_program_manager_can_cancel(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, other_rep: Actor,
        add_advocate: AddAdvocate) -> None:
    await add_advocate()
    request = (await submit_request(ctx, rep, sample_draft())).request
    with pytest.raises(NotAllowed):
        await cancel_request(ctx, other_rep, request.id)
    assert db.state.requests[request.id].state == RequestState.MATCHING


async def test_cancelling_twice_changes_nothing_the_second_time(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate) -> None:
    await add_advocate()
    request = (await submit_request(ctx, rep, sample_draft(), choose="best")).request
    await cancel_request(ctx, rep, request.id)
    before = len(outbox(db))
    again = await cancel_request(ctx, rep, request.id)
    assert again.state == RequestState.CANCELLED
    assert len(outbox(db)) == before


async def test_a_finished_request_cannot_be_cancelled(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate) -> None:
    request = (await submit_request(ctx, rep, sample_draft())).request  # nobody: unfulfilled
    assert request.state == RequestState.UNFULFILLED
    with pytest.raises(IllegalTransition):
        await cancel_request(ctx, rep, request.id)


async def test_a_program_that_shows_prospect_names_still_hides_contact_details(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate) -> None:
    advocate = await add_advocate()
    await submit_request(with_policy(ctx, show_prospect_name=True), rep, sample_draft())
    assert advocate.email not in json.dumps([m.context for m in messages_to(db, REP_EMAIL)])


async def test_matches_from_a_stale_roster_copy_are_read_again_and_never_shown_stale(
        ctx: ServiceContext, db: FakeDatabase, rep: Actor, add_advocate: AddAdvocate,
        monkeypatch: pytest.MonkeyPatch) -> None:
    advocates = [await add_advocate() for _ in range(5)]
    copy = [replace(a) for a in advocates]  # the roster as a replica's copy last saw it
    for advocate in advocates[:2]:
        advocate.status = AdvocateStatus.PAUSED  # since then, committed elsewhere
        db.state.advocates[advocate.id or 0] = advocate

    async def stale_copy(self: object) -> list[Advocate]:
        return copy

    monkeypatch.setattr(FakeAdvocates, "active_roster", stale_copy)
    result = await submit_request(ctx, rep, sample_draft())
    shown = {m.advocate.id for m in result.matches}
    assert len(shown) == 3 and not shown & {a.id for a in advocates[:2]}
    assert all(m.advocate.status is AdvocateStatus.ACTIVE for m in result.matches)
