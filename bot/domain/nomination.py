"""Nominations: a customer contact put forward to join the program, and the readiness check.

Plain data and pure rules, no I/O. A nomination moves through ``NominationState``:

    pending ──approve──► invited ──Join + onboarding──► joined
       │                   │  ╰── Not now ──► not_now ──(Join later)──► joined
       │                   ╰──── No thanks ──► no_thanks   (remembered: see below)
       ╰──decline──► declined
    invited ──the bot cannot reach them──► approved  (the nominator passes the invite on)

``approved`` is an approved nomination whose invite the bot could not deliver: the
nominator was handed the invite text and the join link instead. "No thanks" is kept: the
same email is never nominated again unless a program manager overrides it.

The readiness check reads what the roster already holds about the contact's account (the
other contacts with the same email domain: CRM health score, NPS, renewal date, customer
since, how many engagements the account gave in the last 90 days) and the duplicates; each
finding is a
``Problem`` with a reason code worded by ``templates/text/reasons/<code>.txt.j2``.
Findings never drop a nomination: they are shown to the nominator and the program
managers, who decide.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from bot.domain.errors import IllegalTransition, Problem
from bot.domain.model import Advocate, AdvocateStatus


class NominationState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"  # approved; the invite was handed to the nominator
    DECLINED = "declined"
    INVITED = "invited"
    JOINED = "joined"
    NOT_NOW = "not_now"
    NO_THANKS = "no_thanks"

    @property
    def is_open(self) -> bool:
        """Still on its way (a second nomination of the same contact is a duplicate)."""
        return self in (NominationState.PENDING, NominationState.APPROVED,
                        NominationState.INVITED, NominationState.NOT_NOW)


_MOVES: dict[NominationState, frozenset[NominationState]] = {
    NominationState.PENDING: frozenset({NominationState.INVITED, NominationState.DECLINED}),
    NominationState.INVITED: frozenset({NominationState.APPROVED, NominationState.JOINED,
                                        NominationState.NOT_NOW, NominationState.NO_THANKS}),
    NominationState.APPROVED: frozenset({NominationState.JOINED, NominationState.NOT_NOW,
                                         NominationState.NO_THANKS}),
    NominationState.NOT_NOW: frozenset({NominationState.JOINED, NominationState.NO_THANKS}),
}


@dataclass(frozen=True, slots=True)
class ReadinessPolicy:
    """The readiness check's thresholds (settings ``NOMINATE_*``)."""

    min_health_score: int = 50  # CRM health score (0-100) below this → a finding
    min_nps: int = 7  # NPS (0-10) below this → a finding
    renewal_caution_days: int = 60  # a renewal this close → a finding
    account_max_per_90_days: int = 6  # the account's engagements in 90 days at or above
    min_tenure_days: int = 90  # a customer for fewer days than this → a finding; 0: off


@dataclass(slots=True)
class Nomination:
    email: str
    nominator_email: str
    created_at: datetime
    id: int | None = None
    name: str = ""
    company: str = ""
    reason: str = ""
    nominator_name: str = ""
    state: NominationState = NominationState.PENDING
    readiness: tuple[Problem, ...] = ()
    override: bool = False  # a manager nominated over an earlier "No thanks"
    decided_by: str = ""
    decided_at: datetime | None = None
    decline_reason: str = ""
    answered_at: datetime | None = None
    advocate_id: int | None = None  # the roster row they became
    updated_at: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def move(self, target: NominationState, now: datetime) -> None:
        if target not in _MOVES.get(self.state, frozenset()):
            raise IllegalTransition("nomination", self.state.value, target.value)
        self.state = target
        self.updated_at = now


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """What a person agreed to, when, where and to which wording (``version``: the
    template ``templates/text/consent/<version>.txt.j2`` they were shown; a change of
    wording is a new version). ``source``: "self" (they agreed in chat) or
    "program_manager" (a roster import without a ``Consent`` column: the manager vouched)."""

    email: str
    version: str
    agreed_at: datetime
    platform: str  # "slack", "teams", or "import"
    agreed_to: tuple[str, ...] = ()  # reference types, "public_thanks"
    source: str = "self"
    recorded_by: str = ""
    advocate_id: int | None = None
    id: int | None = None


def email_domain(email: str) -> str:
    return email.strip().lower().rpartition("@")[2]


def duplicates(existing: Advocate | None, open_nomination: Nomination | None,
               said_no_thanks: Nomination | None, *, override: bool) -> tuple[Problem, ...]:
    """Why this contact cannot be nominated now: already an active or paused advocate,
    already nominated (and not decided yet), or said "No thanks" before (a manager's
    ``override`` lets that one through)."""
    found: list[Problem] = []
    if existing is not None and existing.status is not AdvocateStatus.RETIRED:
        found.append(Problem("already_advocate", name=existing.name))
    if open_nomination is not None:
        found.append(Problem("already_nominated", by=open_nomination.nominator_name
                             or open_nomination.nominator_email,
                             on=open_nomination.created_at.date()))
    if said_no_thanks is not None and not override:
        on = (said_no_thanks.answered_at or said_no_thanks.created_at).date()
        found.append(Problem("said_no_thanks", on=on))
    return tuple(found)


def tenure(known: Sequence[Advocate], *, policy: ReadinessPolicy,
           today: date) -> tuple[Problem, ...]:
    """How long the account has been a customer, from the earliest ``customer_since`` of its
    roster rows (the account became a customer when its first contact did): a finding when
    that is fewer than ``policy.min_tenure_days`` days ago (a day still to come counts as
    0), ``tenure_unknown`` when no row says. Nothing when the check is off (0)."""
    if policy.min_tenure_days <= 0:
        return ()
    days = [a.customer_since for a in known if a.customer_since is not None]
    if not days:
        return (Problem("tenure_unknown"),)
    since = min(days)
    if (today - since).days < policy.min_tenure_days:
        return (Problem("new_customer", day=since, days=max((today - since).days, 0),
                        threshold=policy.min_tenure_days),)
    return ()


def readiness(account: Sequence[Advocate], account_engagements_90d: int, *,
              policy: ReadinessPolicy, today: date,
              nominee: Advocate | None = None) -> tuple[Problem, ...]:
    """Findings about the contact's account, from its contacts already on the roster: the
    lowest health score and NPS, the nearest renewal, the account's tenure (``nominee``:
    the contact's own roster row, a former advocate, counts for it too), the account's
    recent engagements. An account the roster knows nothing about is a finding too
    (``no_account_data``)."""
    known = [*account, *([nominee] if nominee is not None else [])]
    if not account:
        return (Problem("no_account_data"), *tenure(known, policy=policy, today=today))
    found: list[Problem] = []
    health = [a.health_score for a in account if a.health_score is not None]
    if health and min(health) < policy.min_health_score:
        found.append(Problem("low_health_score", score=min(health),
                             threshold=policy.min_health_score))
    nps = [a.nps for a in account if a.nps is not None]
    if nps and min(nps) < policy.min_nps:
        found.append(Problem("low_nps", nps=min(nps), threshold=policy.min_nps))
    renewals = [a.renewal_date for a in account
                if a.renewal_date is not None and a.renewal_date >= today]
    if renewals and (min(renewals) - today).days <= policy.renewal_caution_days:
        found.append(Problem("renewal_soon", day=min(renewals),
                             days=(min(renewals) - today).days))
    found.extend(tenure(known, policy=policy, today=today))
    if account_engagements_90d >= policy.account_max_per_90_days:
        found.append(Problem("account_over_used", count=account_engagements_90d,
                             most=policy.account_max_per_90_days))
    return tuple(found)


__all__ = ["ConsentRecord", "Nomination", "NominationState", "ReadinessPolicy", "duplicates",
           "email_domain", "readiness", "tenure"]
