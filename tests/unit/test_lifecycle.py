"""The request, ask and engagement state machines.

The legal moves are written out again here, from docs/product.md, rather than read from
``bot.domain.lifecycle``: the matrix tests then fail if either drifts from the other.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.errors import IllegalTransition
from bot.domain.lifecycle import (
    ASK_TRANSITIONS,
    ENGAGEMENT_TRANSITIONS,
    REQUEST_TRANSITIONS,
    transition_ask,
    transition_engagement,
    transition_request,
)
from bot.domain.model import (
    Ask,
    AskState,
    Engagement,
    EngagementState,
    Person,
    ReferenceRequest,
    ReferenceType,
    RequestState,
)
from tests.fakes import raises_saying, said

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(days=1)

R, A, E = RequestState, AskState, EngagementState

_BEFORE_ACCEPTANCE = {R.OPEN, R.MATCHING, R.AWAITING_APPROVAL, R.ASKING}
_NON_TERMINAL = _BEFORE_ACCEPTANCE | {R.ACCEPTED, R.SCHEDULED}
LEGAL_REQUEST_MOVES = {
    (R.OPEN, R.MATCHING),
    (R.MATCHING, R.ASKING), (R.MATCHING, R.AWAITING_APPROVAL),
    (R.AWAITING_APPROVAL, R.ASKING), (R.AWAITING_APPROVAL, R.MATCHING),
    (R.ASKING, R.ACCEPTED), (R.ASKING, R.AWAITING_APPROVAL), (R.ASKING, R.MATCHING),
    (R.ACCEPTED, R.SCHEDULED), (R.ACCEPTED, R.COMPLETED),
    (R.SCHEDULED, R.COMPLETED), (R.SCHEDULED, R.ACCEPTED),
    # the advocate withdrew or did not show up: find someone else, or give up
    *((s, t) for s in (R.ACCEPTED, R.SCHEDULED)
      for t in (R.ASKING, R.AWAITING_APPROVAL, R.MATCHING)),
    # nobody accepted in time, or nobody is left to ask
    *((s, R.UNFULFILLED) for s in _NON_TERMINAL),
    # the rep or a program manager cancels, or the clean-up job closes it
    *((s, t) for s in _NON_TERMINAL for t in (R.CANCELLED, R.EXPIRED)),
}
LEGAL_ASK_MOVES = {
    (A.AWAITING_APPROVAL, A.PENDING), (A.AWAITING_APPROVAL, A.DENIED),
    (A.AWAITING_APPROVAL, A.EXPIRED), (A.AWAITING_APPROVAL, A.WITHDRAWN),
    (A.PENDING, A.ACCEPTED), (A.PENDING, A.DECLINED), (A.PENDING, A.SNOOZED),
    (A.PENDING, A.EXPIRED), (A.PENDING, A.WITHDRAWN),
}
LEGAL_ENGAGEMENT_MOVES = {
    (E.ACCEPTED, E.PROPOSED), (E.ACCEPTED, E.SCHEDULED), (E.ACCEPTED, E.CANCELLED),
    (E.ACCEPTED, E.COMPLETED),  # only for reference types without a call, see below
    (E.PROPOSED, E.SCHEDULED), (E.PROPOSED, E.PROPOSED), (E.PROPOSED, E.CANCELLED),
    (E.PROPOSED, E.ACCEPTED),  # the rep declined the proposed time: the advocate picks again
    (E.SCHEDULED, E.COMPLETED), (E.SCHEDULED, E.NO_SHOW), (E.SCHEDULED, E.PROPOSED),
    (E.SCHEDULED, E.ACCEPTED), (E.SCHEDULED, E.CANCELLED),
}


def a_request(state: RequestState = R.OPEN) -> ReferenceRequest:
    return ReferenceRequest(rep=Person(email="riley.rep@vendor.example"),
                            prospect_company="Prospect Corp", reference_type=ReferenceType.CALL,
                            needed_by=date(2026, 4, 1), created_at=EARLIER, id=7, state=state,
                            updated_at=EARLIER)


def an_ask(state: AskState = A.PENDING) -> Ask:
    return Ask(request_id=7, advocate_id=3, rank=1, created_at=EARLIER,
               expires_at=EARLIER + timedelta(hours=48), id=11, state=state)


def an_engagement(state: EngagementState = E.ACCEPTED,
                  reference_type: ReferenceType = ReferenceType.CALL) -> Engagement:
    return Engagement(request_id=7, advocate_id=3, ask_id=11, reference_type=reference_type,
                      accepted_at=EARLIER, id=5, state=state)


# --- requests ---------------------------------------------------------------------------


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL_REQUEST_MOVES))
def test_a_request_makes_every_legal_move_and_records_when(current: RequestState,
                                                           target: RequestState) -> None:
    req = a_request(current)
    transition_request(req, target, NOW)
    assert (req.state, req.updated_at) == (target, NOW)


@pytest.mark.parametrize(("current", "target"), sorted(
    set(itertools.product(R, R)) - LEGAL_REQUEST_MOVES))
def test_a_request_refuses_every_other_move_and_stays_as_it_was(current: RequestState,
                                                                target: RequestState) -> None:
    req = a_request(current)
    with pytest.raises(IllegalTransition) as raised:
        transition_request(req, target, NOW)
    assert said(raised.value) == f"Request cannot go from {current.value} to {target.value}."
    assert (raised.value.current, raised.value.target) == (current.value, target.value)
    assert (req.state, req.updated_at, req.closed_reason) == (current, EARLIER, "")


def test_the_published_request_table_is_the_one_enforced() -> None:
    declared = {(s, t) for s, targets in REQUEST_TRANSITIONS.items() for t in targets}
    assert declared == LEGAL_REQUEST_MOVES
    assert set(REQUEST_TRANSITIONS) == set(R)


def test_terminal_request_states_are_final() -> None:
    assert all(not REQUEST_TRANSITIONS[s] for s in R if s.is_terminal)


def test_closing_a_request_records_why() -> None:
    req = a_request(R.ASKING)
    transition_request(req, R.CANCELLED, NOW, reason="  The deal was lost  ")
    assert req.closed_reason == "The deal was lost"


def test_closing_a_request_without_a_reason_records_the_state() -> None:
    req = a_request(R.SCHEDULED)
    transition_request(req, R.EXPIRED, NOW)
    assert req.closed_reason == "expired"


def test_a_reason_given_for_a_move_that_does_not_close_is_not_recorded() -> None:
    req = a_request(R.MATCHING)
    transition_request(req, R.ASKING, NOW, reason="asking the best available")
    assert req.closed_reason == ""


def test_a_request_is_stamped_in_utc_whatever_zone_now_came_in() -> None:
    req = a_request(R.OPEN)
    transition_request(req, R.MATCHING, NOW.astimezone(ZoneInfo("America/New_York")))
    assert req.updated_at == NOW
    assert req.updated_at is not None and req.updated_at.tzinfo is UTC


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        transition_request(a_request(R.OPEN), R.MATCHING, NOW.replace(tzinfo=None))


def test_a_state_given_as_its_plain_value_is_understood() -> None:
    req = a_request(R.OPEN)
    transition_request(req, "matching", NOW)  # type: ignore[arg-type]
    assert req.state is R.MATCHING


# --- asks -------------------------------------------------------------------------------


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL_ASK_MOVES))
def test_an_ask_makes_every_legal_move(current: AskState, target: AskState) -> None:
    ask = an_ask(current)
    transition_ask(ask, target, NOW)
    assert ask.state == target


@pytest.mark.parametrize(("current", "target"), sorted(
    set(itertools.product(A, A)) - LEGAL_ASK_MOVES))
def test_an_ask_refuses_every_other_move(current: AskState, target: AskState) -> None:
    ask = an_ask(current)
    with raises_saying(IllegalTransition, f"Ask cannot go from {current.value}"):
        transition_ask(ask, target, NOW)
    assert (ask.state, ask.answered_at, ask.approved_at) == (current, None, None)


def test_the_published_ask_table_is_the_one_enforced() -> None:
    assert {(s, t) for s, ts in ASK_TRANSITIONS.items() for t in ts} == LEGAL_ASK_MOVES


@pytest.mark.parametrize("target", [A.ACCEPTED, A.DECLINED, A.SNOOZED, A.EXPIRED, A.WITHDRAWN])
def test_an_ask_records_when_it_stopped_waiting(target: AskState) -> None:
    ask = an_ask(A.PENDING)
    transition_ask(ask, target, NOW)
    assert ask.answered_at == NOW


def test_approval_makes_the_ask_pending_and_records_when() -> None:
    ask = an_ask(A.AWAITING_APPROVAL)
    transition_ask(ask, A.PENDING, NOW)
    assert (ask.state, ask.approved_at, ask.answered_at) == (A.PENDING, NOW, None)


def test_an_approval_time_the_service_already_recorded_is_kept() -> None:
    ask = an_ask(A.AWAITING_APPROVAL)
    ask.approved_at = EARLIER
    transition_ask(ask, A.PENDING, NOW)
    assert ask.approved_at == EARLIER


def test_a_denied_ask_is_answered_but_not_approved() -> None:
    ask = an_ask(A.AWAITING_APPROVAL)
    transition_ask(ask, A.DENIED, NOW)
    assert (ask.answered_at, ask.approved_at) == (NOW, None)


# --- engagements ------------------------------------------------------------------------


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL_ENGAGEMENT_MOVES))
def test_an_engagement_makes_every_legal_move(current: EngagementState,
                                             target: EngagementState) -> None:
    engagement = an_engagement(current, ReferenceType.EMAIL)
    transition_engagement(engagement, target, NOW)
    assert engagement.state == target


@pytest.mark.parametrize(("current", "target"), sorted(
    set(itertools.product(E, E)) - LEGAL_ENGAGEMENT_MOVES))
def test_an_engagement_refuses_every_other_move(current: EngagementState,
                                               target: EngagementState) -> None:
    engagement = an_engagement(current, ReferenceType.EMAIL)
    with raises_saying(IllegalTransition, f"Engagement cannot go from {current.value}"):
        transition_engagement(engagement, target, NOW)
    assert (engagement.state, engagement.completed_at) == (current, None)


def test_the_published_engagement_table_is_the_one_enforced() -> None:
    declared = {(s, t) for s, ts in ENGAGEMENT_TRANSITIONS.items() for t in ts}
    assert declared == LEGAL_ENGAGEMENT_MOVES


@pytest.mark.parametrize("call", [ReferenceType.CALL, ReferenceType.VIDEO_CALL])
def test_a_call_cannot_be_completed_without_ever_being_scheduled(call: ReferenceType) -> None:
    engagement = an_engagement(E.ACCEPTED, call)
    with raises_saying(IllegalTransition, "Engagement cannot go from accepted to completed"):
        transition_engagement(engagement, E.COMPLETED, NOW)
    assert engagement.state == E.ACCEPTED


@pytest.mark.parametrize("written", [ReferenceType.EMAIL, ReferenceType.CASE_STUDY])
def test_a_reference_without_a_call_completes_straight_from_accepted(
        written: ReferenceType) -> None:
    engagement = an_engagement(E.ACCEPTED, written)
    transition_engagement(engagement, E.COMPLETED, NOW)
    assert (engagement.state, engagement.completed_at) == (E.COMPLETED, NOW)


def test_a_completed_call_records_when_it_was_completed() -> None:
    engagement = an_engagement(E.SCHEDULED)
    transition_engagement(engagement, E.COMPLETED, NOW)
    assert engagement.completed_at == NOW


def test_a_no_show_is_not_a_completion() -> None:
    engagement = an_engagement(E.SCHEDULED)
    transition_engagement(engagement, E.NO_SHOW, NOW)
    assert (engagement.state, engagement.completed_at) == (E.NO_SHOW, None)


def test_a_new_proposal_may_replace_the_last_one() -> None:
    engagement = an_engagement(E.PROPOSED)
    transition_engagement(engagement, E.PROPOSED, NOW)
    assert engagement.state == E.PROPOSED
