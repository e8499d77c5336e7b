"""The readiness check and duplicates (pure), reading ``advocates nominate`` words, the
settings behind the check, and a nomination's moves."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.config import SettingsError, load_settings
from bot.conversation import commands as c
from bot.conversation import words
from bot.domain.errors import IllegalTransition
from bot.domain.model import Advocate, AdvocateStatus
from bot.domain.nomination import (
    Nomination,
    NominationState,
    ReadinessPolicy,
    duplicates,
    readiness,
)
from tests.unit.conftest import actor

TODAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
POLICY = ReadinessPolicy(min_health_score=50, min_nps=7, renewal_caution_days=60,
                         account_max_per_90_days=6, min_tenure_days=90)
LONG_AGO = date(2020, 1, 1)  # a customer for years: no tenure finding


def contact(**fields: object) -> Advocate:
    return Advocate(email="ben@acme.example", name="Ben", company="Acme", **fields)  # type: ignore[arg-type]


def codes(found: tuple) -> list[str]:
    return [p.code for p in found]


def test_a_healthy_account_passes_and_each_threshold_is_a_finding_with_its_numbers() -> None:
    healthy = contact(health_score=80, nps=9, renewal_date=date(2026, 9, 1),
                      customer_since=LONG_AGO)
    assert readiness([healthy], 2, policy=POLICY, today=TODAY) == ()
    weak = contact(health_score=49, nps=6, renewal_date=date(2026, 4, 1))
    found = readiness([weak, healthy], 6, policy=POLICY, today=TODAY)
    assert codes(found) == ["low_health_score", "low_nps", "renewal_soon", "account_over_used"]
    assert found[0].params == {"score": 49, "threshold": 50}
    assert found[2].params == {"day": date(2026, 4, 1), "days": 30}
    assert found[3].params == {"count": 6, "most": 6}
    # A renewal already past is not "soon"; an account nobody knows is a finding too.
    assert readiness([contact(renewal_date=date(2026, 1, 1), customer_since=LONG_AGO)], 0,
                     policy=POLICY, today=TODAY) == ()
    assert codes(readiness([], 0, policy=POLICY, today=TODAY)) == [
        "no_account_data", "tenure_unknown"]


def test_tenure_is_the_accounts_earliest_customer_since_and_unknown_is_shown() -> None:
    def tenure_of(*days: date | None, nominee: date | None = None,
                  policy: ReadinessPolicy = POLICY) -> tuple:
        account = [contact(health_score=80, nps=9, customer_since=d) for d in days]
        own = contact(status=AdvocateStatus.RETIRED, customer_since=nominee)
        return readiness(account, 0, policy=policy, today=TODAY,
                         nominee=own if nominee else None)

    recent = tenure_of(date(2026, 1, 1))  # 60 days before TODAY, the check asks for 90
    assert codes(recent) == ["new_customer"]
    assert recent[0].params == {"day": date(2026, 1, 1), "days": 60, "threshold": 90}
    assert tenure_of(date(2025, 12, 2)) == ()  # exactly 90 days: enough
    assert codes(tenure_of(date(2025, 12, 3))) == ["new_customer"]  # 89 days
    # The account became a customer when its first contact did (a newer colleague's later
    # date does not make it new); a date still to come counts as 0 days.
    assert tenure_of(date(2026, 2, 1), LONG_AGO) == ()
    assert tenure_of(date(2026, 6, 1))[0].params["days"] == 0
    # No date on the roster: a neutral finding, never a silent pass.
    assert codes(tenure_of(None, None)) == ["tenure_unknown"]
    # The nominee's own (former advocate's) row counts, as do the colleagues'.
    assert tenure_of(None, nominee=LONG_AGO) == ()
    assert codes(tenure_of(None, nominee=date(2026, 2, 1))) == ["new_customer"]
    assert codes(readiness([], 0, policy=POLICY, today=TODAY, nominee=contact(
        customer_since=date(2026, 2, 1)))) == ["no_account_data", "new_customer"]
    # 0 turns the check off: neither a finding nor "unknown".
    off = ReadinessPolicy(min_tenure_days=0)
    assert tenure_of(None, policy=off) == tenure_of(date(2026, 3, 1), policy=off) == ()


def test_duplicates_and_no_thanks_unless_overridden() -> None:
    active = contact()
    retired = contact(status=AdvocateStatus.RETIRED)
    pending = Nomination(email="x@acme.example", nominator_email="o@v.example",
                         nominator_name="Olive", created_at=NOW)
    refused = Nomination(email="x@acme.example", nominator_email="o@v.example",
                         created_at=NOW, state=NominationState.NO_THANKS, answered_at=NOW)
    assert codes(duplicates(active, pending, refused, override=False)) == [
        "already_advocate", "already_nominated", "said_no_thanks"]
    assert duplicates(retired, None, refused, override=True) == ()  # a retired one may rejoin


def test_a_nomination_moves_only_along_its_lifecycle() -> None:
    n = Nomination(email="x@acme.example", nominator_email="o@v.example", created_at=NOW)
    with pytest.raises(IllegalTransition):
        n.move(NominationState.JOINED, NOW)
    n.move(NominationState.INVITED, NOW)
    n.move(NominationState.NOT_NOW, NOW)
    n.move(NominationState.JOINED, NOW)
    assert n.state is NominationState.JOINED and not n.state.is_open


@pytest.mark.parametrize(("typed", "email", "reason", "override"), [
    ("nominate ada@x.example", "ada@x.example", "", False),
    ("nominate <mailto:ada@x.example|ada@x.example> Great  API results", "ada@x.example",
     "Great API results", False),
    ("nominate ada@x.example --override asked again", "ada@x.example", "asked again", True),
    ("nominate", "", "", False),
])
def test_nominate_words(typed: str, email: str, reason: str, override: bool) -> None:
    who = actor("olive@vendor.example")
    command = words.read(typed, who, command="advocates")
    assert command == c.Nominate(who, email=email, reason=reason, override=override)


def test_the_readiness_thresholds_are_settings_checked_at_start() -> None:
    policy = load_settings(nominate_min_health_score=70, nominate_min_nps=8).program_policy()
    assert (policy.readiness.min_health_score, policy.readiness.min_nps) == (70, 8)
    assert load_settings().program_policy().readiness.min_tenure_days == 90
    assert load_settings(nominate_min_tenure_days=0).program_policy(
    ).readiness.min_tenure_days == 0
    with pytest.raises(SettingsError, match="NOMINATE_MIN_TENURE_DAYS"):
        load_settings(nominate_min_tenure_days=-1)
    with pytest.raises(SettingsError, match="NOMINATE_MIN_NPS"):
        load_settings(nominate_min_nps=11)
    with pytest.raises(SettingsError, match="JOIN_URL"):
        load_settings(join_url="http://join.example")
