"""The state machines of a reference request, an ask and an engagement
(docs/product.md, "The reference request"; docs/design.md, "State machines").

Services never assign ``state`` themselves: they call ``transition_*``, which refuses a
move the program does not allow (``IllegalTransition``, safe to show) and stamps the
bookkeeping that goes with it. Staying in a state is not a transition: a service that
asks the next advocate while the request is already ``asking`` leaves it alone, and
calling ``transition_request`` with the current state is refused like any other
undeclared move, so a double-processed event shows up instead of passing silently.

Request
=======
::

    open -> matching -> (awaiting_approval) -> asking -> accepted -> scheduled -> completed

* ``awaiting_approval`` and ``asking`` alternate while the next advocate in rank order
  needs (or does not need) their account owner's approval; both may go back to
  ``matching`` to re-rank when the ranked list runs dry.
* ``accepted`` and ``scheduled`` may go back to ``asking`` / ``awaiting_approval`` /
  ``matching`` when the advocate withdraws or does not show up, and ``scheduled`` goes back
  to ``accepted`` when the call is rescheduled (no time agreed any more).
* ``accepted`` goes straight to ``completed`` for reference types without a call
  (email / written, case study ...): there is nothing to schedule.

Two ways for a request to run out of time, kept apart because the digest counts them
apart:

* **unfulfilled** — nobody accepted before ``needed_by``, or no eligible advocate is left
  to ask. Reachable from every state before ``accepted`` and, when an advocate withdrew
  and nobody else is left, from ``accepted`` / ``scheduled``.
* **expired** — an advocate did accept, but the engagement never happened by
  ``needed_by`` plus a grace period. It is meant for ``accepted`` / ``scheduled``; like
  ``cancelled`` it is allowed from every non-terminal state so that a clean-up job can
  always close a request, but services should prefer ``unfulfilled`` before acceptance.

``completed``, ``unfulfilled``, ``cancelled`` and ``expired`` are final.

Ask
===
``awaiting_approval -> pending`` on approval (``denied`` / ``expired`` / ``withdrawn``
otherwise); ``pending -> accepted | declined | snoozed | expired | withdrawn``. Every state
but the two open ones is final.

Engagement
==========
``accepted -> proposed | scheduled | cancelled`` (``completed`` for types without a call);
``proposed -> scheduled | proposed | accepted | cancelled`` (a new proposal replaces the
last; ``accepted`` when the rep declines the proposed time or someone withdraws it, so the
advocate picks again);
``scheduled -> completed | no_show | proposed | accepted | cancelled`` (``proposed`` and
``accepted`` are the two ways to reschedule). ``completed``, ``no_show`` and ``cancelled``
are final.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

from bot.domain.errors import IllegalTransition
from bot.domain.model import (
    Ask,
    AskState,
    Engagement,
    EngagementState,
    ReferenceRequest,
    ReferenceType,
    RequestState,
    ensure_utc,
)

_R = RequestState
_CLOSE_ANY_TIME = frozenset({_R.CANCELLED, _R.EXPIRED})
_AFTER_WITHDRAWAL = frozenset({_R.ASKING, _R.AWAITING_APPROVAL, _R.MATCHING, _R.UNFULFILLED})

REQUEST_TRANSITIONS: Mapping[RequestState, frozenset[RequestState]] = MappingProxyType({
    _R.OPEN: frozenset({_R.MATCHING, _R.UNFULFILLED}) | _CLOSE_ANY_TIME,
    _R.MATCHING: frozenset({_R.ASKING, _R.AWAITING_APPROVAL, _R.UNFULFILLED}) | _CLOSE_ANY_TIME,
    _R.AWAITING_APPROVAL: frozenset({_R.ASKING, _R.MATCHING, _R.UNFULFILLED}) | _CLOSE_ANY_TIME,
    _R.ASKING: frozenset({_R.ACCEPTED, _R.AWAITING_APPROVAL, _R.MATCHING, _R.UNFULFILLED})
    | _CLOSE_ANY_TIME,
    _R.ACCEPTED: frozenset({_R.SCHEDULED, _R.COMPLETED}) | _AFTER_WITHDRAWAL | _CLOSE_ANY_TIME,
    _R.SCHEDULED: frozenset({_R.COMPLETED, _R.ACCEPTED}) | _AFTER_WITHDRAWAL | _CLOSE_ANY_TIME,
    _R.COMPLETED: frozenset(),
    _R.UNFULFILLED: frozenset(),
    _R.CANCELLED: frozenset(),
    _R.EXPIRED: frozenset(),
})

_A = AskState
_ASK_ENDINGS = frozenset({_A.EXPIRED, _A.WITHDRAWN})

ASK_TRANSITIONS: Mapping[AskState, frozenset[AskState]] = MappingProxyType({
    _A.AWAITING_APPROVAL: frozenset({_A.PENDING, _A.DENIED}) | _ASK_ENDINGS,
    _A.PENDING: frozenset({_A.ACCEPTED, _A.DECLINED, _A.SNOOZED}) | _ASK_ENDINGS,
    _A.ACCEPTED: frozenset(),
    _A.DECLINED: frozenset(),
    _A.SNOOZED: frozenset(),
    _A.EXPIRED: frozenset(),
    _A.WITHDRAWN: frozenset(),
    _A.DENIED: frozenset(),
})

_E = EngagementState

ENGAGEMENT_TRANSITIONS: Mapping[EngagementState, frozenset[EngagementState]] = MappingProxyType({
    _E.ACCEPTED: frozenset({_E.PROPOSED, _E.SCHEDULED, _E.COMPLETED, _E.CANCELLED}),
    _E.PROPOSED: frozenset({_E.SCHEDULED, _E.PROPOSED, _E.ACCEPTED, _E.CANCELLED}),
    _E.SCHEDULED: frozenset({_E.COMPLETED, _E.NO_SHOW, _E.PROPOSED, _E.ACCEPTED,
                             _E.CANCELLED}),
    _E.COMPLETED: frozenset(),
    _E.NO_SHOW: frozenset(),
    _E.CANCELLED: frozenset(),
})


def can_transition_request(current: RequestState, target: RequestState) -> bool:
    return RequestState(target) in REQUEST_TRANSITIONS[RequestState(current)]


def can_transition_ask(current: AskState, target: AskState) -> bool:
    return AskState(target) in ASK_TRANSITIONS[AskState(current)]


def can_transition_engagement(current: EngagementState, target: EngagementState) -> bool:
    return EngagementState(target) in ENGAGEMENT_TRANSITIONS[EngagementState(current)]


def transition_request(request: ReferenceRequest, target: RequestState, now: datetime, *,
                       reason: str = "") -> None:
    """Move ``request`` to ``target`` and stamp ``updated_at``.

    Entering a terminal state records ``closed_reason`` (``reason``, or the state's name
    when none is given) so every closed request says why; other moves leave it alone.
    """
    target = RequestState(target)
    now = ensure_utc(now)
    _require(can_transition_request(request.state, target), "request", request.state, target)
    request.state = target
    request.updated_at = now
    if target.is_terminal:
        request.closed_reason = reason.strip() or target.value


def transition_ask(ask: Ask, target: AskState, now: datetime) -> None:
    """Move ``ask`` to ``target``.

    Leaving the open states stamps ``answered_at`` (the moment the ask stopped waiting,
    whoever ended it); approval (``awaiting_approval -> pending``) stamps ``approved_at``
    unless the service already recorded it along with ``approved_by``.
    """
    target = AskState(target)
    now = ensure_utc(now)
    _require(can_transition_ask(ask.state, target), "ask", ask.state, target)
    was_awaiting_approval = ask.state == AskState.AWAITING_APPROVAL
    ask.state = target
    if target == AskState.PENDING and was_awaiting_approval and ask.approved_at is None:
        ask.approved_at = now
    if not target.is_open:
        ask.answered_at = now


def transition_engagement(engagement: Engagement, target: EngagementState,
                          now: datetime) -> None:
    """Move ``engagement`` to ``target``; ``completed`` stamps ``completed_at``.

    The times themselves (``scheduled_at``, ``proposed_at``) and the outcome belong to the
    service, which knows them. A call cannot complete without ever being scheduled; other
    reference types (a written reference, a case study) complete straight from accepted.
    """
    target = EngagementState(target)
    now = ensure_utc(now)
    allowed = can_transition_engagement(engagement.state, target)
    if (allowed and engagement.state == EngagementState.ACCEPTED
            and target == EngagementState.COMPLETED
            and ReferenceType(engagement.reference_type).needs_call_time):
        allowed = False
    _require(allowed, "engagement", engagement.state, target)
    engagement.state = target
    if target == EngagementState.COMPLETED and engagement.completed_at is None:
        engagement.completed_at = now


def _require(allowed: bool, what: str, current: str, target: str) -> None:
    if not allowed:
        raise IllegalTransition(what, str(current), str(target))
