"""Matching: who may be asked for a request, in what order, and why (or why not)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.errors import Problem
from bot.domain.limits import check_can_ask
from bot.domain.match_criteria import company_key
from bot.domain.matching import Exclusion, Match, MatchResult, rank_advocates
from bot.domain.model import (
    Advocate,
    AdvocateStatus,
    CompanySize,
    LimitOverrides,
    Person,
    ReferenceRequest,
    ReferenceType,
    Usage,
)
from bot.domain.policy import LimitPolicy, MatchPolicy, MatchWeights
from tests.fakes import phrases

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
LIMITS = LimitPolicy()
POLICY = MatchPolicy()
CALL = ReferenceType.CALL


def advocate(id: int | None, **fields: object) -> Advocate:
    """An advocate who fits nothing in particular, so each test adds only what it tests."""
    n = id if id is not None else 0
    defaults: dict[str, object] = {
        "id": id, "email": f"advocate{n}@customer{n}.example", "name": f"Advocate {n}",
        "company": f"Customer {n} Ltd", "industry": "Retail", "region": "AMER",
        "languages": ("English",), "reference_types": frozenset({CALL}),
    }
    return Advocate(**{**defaults, **fields})  # type: ignore[arg-type]


def request(**fields: object) -> ReferenceRequest:
    defaults: dict[str, object] = {
        "rep": Person(email="riley.rep@vendor.example"), "prospect_company": "Prospect Corp",
        "reference_type": CALL, "needed_by": date(2026, 4, 1), "created_at": NOW,
        "industry": "Fintech", "region": "EMEA", "company_size": CompanySize.M,
        "products": ("Payments API",), "use_cases": ("Checkout",),
    }
    return ReferenceRequest(**{**defaults, **fields})  # type: ignore[arg-type]


def rank(advocates: Iterable[Advocate], usage: Mapping[int, Usage] | None = None, *,
         req: ReferenceRequest | None = None, policy: MatchPolicy = POLICY,
         limits: LimitPolicy = LIMITS, now: datetime = NOW, **kwargs: object) -> MatchResult:
    return rank_advocates(req or request(), list(advocates), usage or {}, policy, limits, now,
                          **kwargs)  # type: ignore[arg-type]


def ids(matches: Iterable[Match]) -> list[int | None]:
    return [m.advocate.id for m in matches]


def reasons_for(result: MatchResult, advocate_id: int | None) -> tuple[Problem, ...]:
    [found] = [a for a in result.excluded if a.id == advocate_id]
    return result.why_not(found)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


# --- ranking and its reasons ------------------------------------------------------------


def test_a_good_fit_outranks_a_poor_one_and_the_rep_is_told_why() -> None:
    fit = advocate(1, industry="Fintech", products=("Payments API", "Billing"),
                   use_cases=("Checkout",), region="EMEA", company_size=CompanySize.M,
                   health_score=90)
    result = rank([advocate(2), fit])
    assert ids(result.matches) == [1, 2]
    assert phrases(result.matches[0].reasons) == (
        "same industry: Fintech",
        "uses Payments API",
        "use case: Checkout",
        "EMEA",
        "same company size (201-1000 employees)",
        "no reference given yet",
        "healthy account (90/100)",
        "0 of 3 this quarter",
    )
    assert phrases(result.matches[1].reasons) == ("no reference given yet", "0 of 3 this quarter")


def test_labels_match_whatever_their_case_and_spacing() -> None:
    shouty = advocate(1, industry=" FINTECH ", region="emea", products=("payments api",),
                      use_cases=("CHECKOUT",))
    [match] = rank([shouty]).matches
    assert phrases(match.reasons)[:4] == ("same industry: FINTECH", "uses payments api",
                                 "use case: CHECKOUT", "emea")


def test_the_score_is_the_weighted_sum_of_the_fit() -> None:
    weights = MatchWeights(industry=3, products=2, use_cases=1.5, region=1.5, company_size=1,
                           language=1, fairness=2, health=1, max_overlap=3)
    fit = advocate(1, industry="Fintech", products=("Payments API", "Billing", "Tax"),
                   use_cases=("Checkout",), region="EMEA", company_size=CompanySize.L,
                   languages=("German",), health_score=90)
    req = request(products=("Payments API", "Billing"), language="German")
    usage = {1: Usage(engagement_times=(ago(73),), last_engaged_at=ago(73))}
    [match] = rank([fit], usage, req=req, policy=MatchPolicy(weights=weights)).matches
    expected = 3 + 2 * 2 + 1.5 * 1 + 1.5 + 0.5 + 1 + 2 * (73 / 365) + 1 * 0.9
    assert match.score == pytest.approx(expected)
    assert "similar company size (1001-5000 employees)" in phrases(match.reasons)
    assert "speaks German" in phrases(match.reasons)


def test_products_in_common_count_only_up_to_max_overlap() -> None:
    many = ("A", "B", "C", "D", "E")
    req = request(products=many, use_cases=())
    weights = MatchWeights(industry=0, region=0, company_size=0, fairness=0, health=0,
                           max_overlap=3)
    [match] = rank([advocate(1, products=many)], req=req,
                   policy=MatchPolicy(weights=weights)).matches
    assert match.score == pytest.approx(2.0 * 3)
    assert phrases(match.reasons) == ("uses A, B, C", "0 of 3 this quarter")


def test_the_same_product_spelt_twice_counts_once() -> None:
    weights = MatchWeights(industry=0, region=0, company_size=0, fairness=0, health=0)
    twice = advocate(1, products=("Payments API", "payments api"))
    [match] = rank([twice], req=request(use_cases=()),
                   policy=MatchPolicy(weights=weights)).matches
    assert match.score == pytest.approx(2.0)
    assert phrases(match.reasons) == ("uses Payments API", "0 of 3 this quarter")


@pytest.mark.parametrize(("size", "points"), [
    (CompanySize.M, 1.0), (CompanySize.S, 0.5), (CompanySize.L, 0.5), (CompanySize.XS, 0.0),
    (CompanySize.XL, 0.0), (None, 0.0),
])
def test_company_size_scores_full_for_the_same_band_and_half_for_a_neighbour(
        size: CompanySize | None, points: float) -> None:
    weights = MatchWeights(industry=0, products=0, use_cases=0, region=0, fairness=0,
                           health=0, company_size=1)
    [match] = rank([advocate(1, company_size=size)], policy=MatchPolicy(weights=weights)).matches
    assert match.score == pytest.approx(points)


@pytest.mark.parametrize(("last_used_days_ago", "share"), [
    (None, 1.0), (400, 1.0), (365, 1.0), (73, 0.2), (0, 0.0), (-10, 0.0),
])
def test_fairness_favours_the_least_recently_used_linearly_up_to_a_year(
        last_used_days_ago: float | None, share: float) -> None:
    weights = MatchWeights(industry=0, products=0, use_cases=0, region=0, company_size=0,
                           health=0, fairness=2)
    last = None if last_used_days_ago is None else ago(last_used_days_ago)
    usage = {1: Usage(last_engaged_at=last)}
    limits = LimitPolicy(cooldown_days=0, max_open_asks=5)
    [match] = rank([advocate(1)], usage, policy=MatchPolicy(weights=weights),
                   limits=limits).matches
    assert match.score == pytest.approx(2 * share)


@pytest.mark.parametrize(("health", "share"), [(None, 0.5), (100, 1.0), (60, 0.6), (0, 0.0)])
def test_health_scales_its_weight_and_unknown_health_counts_as_half(
        health: int | None, share: float) -> None:
    weights = MatchWeights(industry=0, products=0, use_cases=0, region=0, company_size=0,
                           fairness=0, health=4)
    [match] = rank([advocate(1, health_score=health)],
                   policy=MatchPolicy(weights=weights, low_health_threshold=0)).matches
    assert match.score == pytest.approx(4 * share)


def test_a_factor_weighted_zero_neither_scores_nor_shows_up_in_the_reasons() -> None:
    weights = MatchWeights(industry=0)
    [match] = rank([advocate(1, industry="Fintech")], policy=MatchPolicy(weights=weights)).matches
    assert not any("industry" in reason for reason in phrases(match.reasons))


def test_the_load_is_shown_against_the_advocates_own_quarterly_limit() -> None:
    usage = {1: Usage(engagement_times=(ago(30),), last_engaged_at=ago(30)),
             2: Usage(engagement_times=(ago(30), ago(200)), last_engaged_at=ago(30))}
    shy = advocate(2, own_limits=LimitOverrides(max_per_90_days=2))
    result = rank([advocate(1), shy], usage)
    loads = {m.advocate.id: phrases(m.reasons)[-1] for m in result.matches}
    assert loads == {1: "1 of 3 this quarter", 2: "1 of 2 this quarter"}


def test_a_long_unused_advocate_is_introduced_as_such() -> None:
    usage = {1: Usage(last_engaged_at=ago(120)), 2: Usage(last_engaged_at=ago(500))}
    result = rank([advocate(1), advocate(2)], usage)
    reasons = {m.advocate.id: phrases(m.reasons) for m in result.matches}
    assert "last reference 120 days ago" in reasons[1]
    assert "last reference over a year ago" in reasons[2]


# --- ties and order ---------------------------------------------------------------------

NO_FAIRNESS = MatchPolicy(weights=MatchWeights(fairness=0), top_n=10)


def test_on_equal_scores_the_advocate_with_fewer_engagements_this_quarter_comes_first() -> None:
    usage = {1: Usage(engagement_times=(ago(30),), last_engaged_at=ago(30)),
             2: Usage(engagement_times=(ago(200),), last_engaged_at=ago(200))}
    result = rank([advocate(1), advocate(2)], usage, policy=NO_FAIRNESS)
    assert result.matches[0].score == result.matches[1].score
    assert ids(result.matches) == [2, 1]


def test_then_the_least_recently_used_comes_first() -> None:
    usage = {1: Usage(last_engaged_at=ago(100)), 2: Usage(last_engaged_at=ago(200)),
             3: Usage()}
    result = rank([advocate(1), advocate(2), advocate(3)], usage, policy=NO_FAIRNESS)
    assert ids(result.matches) == [3, 2, 1]


def test_then_the_lower_id_comes_first() -> None:
    result = rank([advocate(7), advocate(3), advocate(5)], policy=NO_FAIRNESS)
    assert ids(result.matches) == [3, 5, 7]


def test_the_program_default_of_three_matches_applies_unless_asked_otherwise() -> None:
    roster = [advocate(i) for i in range(1, 6)]
    assert len(rank(roster).matches) == 3
    assert ids(rank(roster, top_n=1).matches) == [1]
    assert len(rank(roster, top_n=10).matches) == 5


def test_asking_for_no_matches_still_explains_the_exclusions() -> None:
    result = rank([advocate(1), advocate(2, reference_types=frozenset())], top_n=0)
    assert result.matches == ()
    assert [a.id for a in result.excluded] == [2]
    assert result.considered == 2


def test_exclusions_are_listed_by_id_whatever_the_input_order() -> None:
    roster = [advocate(i, reference_types=frozenset()) for i in (5, 2, 9, 1)]
    result = rank(roster)
    assert [e.advocate.id for e in result.exclusions()] == [1, 2, 5, 9]
    assert result.considered == 4


def test_an_advocate_missing_from_the_usage_is_treated_as_unused() -> None:
    [match] = rank([advocate(1)], {}).matches
    assert phrases(match.reasons)[-1] == "0 of 3 this quarter"


# --- hard filters -----------------------------------------------------------------------


def test_an_advocate_the_limits_protect_is_excluded_with_the_limit_reasons() -> None:
    usage = {1: Usage(open_asks=2), 2: Usage(engagement_times=(ago(3),), last_engaged_at=ago(3))}
    result = rank([advocate(1), advocate(2)], usage)
    assert result.matches == ()
    assert phrases(reasons_for(result, 1)) == ("2 of 2 open asks",)
    assert phrases(reasons_for(result, 2)) == (
        "engagement on 2026-02-27 is within the 14-day cooldown (clear 2026-03-13)",)


@pytest.mark.parametrize("fields", [
    {"status": AdvocateStatus.PAUSED},
    {"snoozed_until": NOW + timedelta(hours=1)},
    {"unavailable_until": TODAY},
    {"own_limits": LimitOverrides(max_open_asks=0)},
])
def test_paused_snoozed_on_leave_or_self_limited_advocates_are_not_matched(
        fields: dict[str, object]) -> None:
    result = rank([advocate(1, **fields)])
    assert result.matches == ()
    assert reasons_for(result, 1) == check_can_ask(
        advocate(1, **fields), Usage(), LIMITS, NOW).reasons


def test_a_managers_looser_limit_lets_a_busy_advocate_be_matched() -> None:
    usage = {1: Usage(engagement_times=(ago(60), ago(40), ago(20)), last_engaged_at=ago(20))}
    keen = advocate(1, manager_limits=LimitOverrides(max_per_90_days=4))
    assert ids(rank([keen], usage).matches) == [1]
    assert ids(rank([advocate(1)], usage).matches) == []


def test_an_advocate_who_does_not_do_the_reference_type_is_excluded() -> None:
    result = rank([advocate(1, reference_types=frozenset({ReferenceType.EMAIL}))])
    assert phrases(reasons_for(result, 1)) == ("does not do reference call",)


def test_the_language_must_be_spoken_whatever_its_case() -> None:
    speaker = advocate(1, languages=("English", "German"))
    result = rank([speaker, advocate(2)], req=request(language="german"))
    assert ids(result.matches) == [1]
    assert "speaks German" in phrases(result.matches[0].reasons)
    assert phrases(reasons_for(result, 2)) == ("does not speak german",)


@pytest.mark.parametrize(("prospect", "company"), [
    ("ACME, Inc.", "Acme"),
    ("Acme", "ACME Pty Ltd"),
    ("A.C.M.E. GmbH", "acme llc"),
    ("Müller GmbH & Co. KG", "MÜLLER"),
    ("Johnson & Johnson", "Johnson and Johnson Inc"),
])
def test_nobody_is_asked_to_give_a_reference_to_their_own_company(prospect: str,
                                                                  company: str) -> None:
    result = rank([advocate(1, company=company)], req=request(prospect_company=prospect))
    assert phrases(reasons_for(result, 1)) == ("works at the prospect's company",)


def test_a_similar_but_different_company_is_not_the_prospect() -> None:
    roster = [advocate(1, company="Acme Logistics"), advocate(2, company="Acmeco")]
    assert ids(rank(roster, req=request(prospect_company="Acme")).matches) == [1, 2]


def test_a_prospect_the_advocate_must_not_meet_is_matched_the_same_way() -> None:
    barred = advocate(1, do_not_use_with=("Globex", "acme gmbh"))
    result = rank([barred], req=request(prospect_company="ACME"))
    assert phrases(reasons_for(result, 1)) == ("must not be used with this prospect",)


def test_an_advocate_already_asked_for_this_request_is_not_asked_again() -> None:
    result = rank([advocate(1), advocate(2)], already_asked={1})
    assert ids(result.matches) == [2]
    assert phrases(reasons_for(result, 1)) == ("already asked for this request",)


def test_an_advocate_without_an_id_cannot_be_asked() -> None:
    result = rank([advocate(None)])
    assert result.matches == ()
    assert phrases(result.why_not(result.excluded[0])) == ("not saved yet (no id)",)


def test_an_account_about_to_renew_is_left_alone_by_default() -> None:
    result = rank([advocate(1, renewal_date=TODAY + timedelta(days=21))])
    assert phrases(reasons_for(result, 1)) == ("caution: renews in 21 days",)


def test_an_unhappy_account_is_left_alone_by_default() -> None:
    result = rank([advocate(1, health_score=42)])
    assert phrases(reasons_for(result, 1)) == ("caution: health 42/100",)


@pytest.mark.parametrize(("days", "cautioned"), [(0, True), (60, True), (61, False), (-1, False)])
def test_the_renewal_caution_covers_today_through_the_caution_horizon(days: int,
                                                                      cautioned: bool) -> None:
    result = rank([advocate(1, renewal_date=TODAY + timedelta(days=days))])
    assert (result.matches == ()) is cautioned


def test_with_caution_allowed_a_cautioned_advocate_is_kept_lower_and_flagged() -> None:
    renewing = advocate(1, renewal_date=TODAY + timedelta(days=1), health_score=42)
    policy = MatchPolicy(include_caution=True, top_n=5)
    result = rank([renewing, advocate(2, health_score=42)], policy=policy)
    assert ids(result.matches) == [2, 1]
    assert phrases(result.matches[0].cautions) == ("health 42/100",)
    assert phrases(result.matches[1].cautions) == ("renews in 1 day",
                                          "health 42/100")
    assert result.matches[0].score > result.matches[1].score
    assert result.excluded == ()


def test_an_excluded_advocate_is_given_every_reason_not_just_the_first() -> None:
    hopeless = advocate(1, company="Prospect Corporation", languages=("French",),
                        reference_types=frozenset({ReferenceType.EMAIL}),
                        snoozed_until=NOW + timedelta(days=2), health_score=10)
    result = rank([hopeless], req=request(language="German"), already_asked={1})
    [excluded] = result.exclusions()
    assert excluded == Exclusion(hopeless, result.why_not(hopeless))
    assert phrases(excluded.reasons) == (
        "already asked for this request",
        "does not do reference call",
        "does not speak German",
        "works at the prospect's company",
        "snoozed until 2026-03-04 09:00 UTC",
        "caution: health 10/100",
    )


# --- the result ------------------------------------------------------------------------


def test_why_not_names_nothing_for_someone_who_may_be_asked() -> None:
    fits, out = advocate(1), advocate(2, reference_types=frozenset())
    result = rank([fits, out])
    assert phrases(result.why_not(fits)) == ()
    assert phrases(result.why_not(out)) == ("does not do reference call",)


def test_why_not_explains_an_advocate_the_ranking_never_saw() -> None:
    result = rank([advocate(1)])
    stranger = advocate(7, languages=("French",))
    assert phrases(result.why_not(stranger)) == ()
    assert phrases(rank([advocate(1)], req=request(language="German")).why_not(stranger)) == (
        "does not speak German",)


def test_exclusions_put_the_unsaved_first_then_go_by_id() -> None:
    roster = [advocate(3, status=AdvocateStatus.PAUSED), advocate(None, email="b@x.example"),
              advocate(1, status=AdvocateStatus.PAUSED), advocate(None, email="a@x.example")]
    result = rank(roster)
    assert [(e.advocate.id, e.advocate.email) for e in result.exclusions()] == [
        (None, "a@x.example"), (None, "b@x.example"), (1, roster[2].email),
        (3, roster[0].email)]
    assert [a.id for a in result.excluded] == [3, None, 1, None]  # the roster's order


def test_results_compare_by_what_they_say() -> None:
    roster = [advocate(1), advocate(2, reference_types=frozenset())]
    first, second = rank(roster), rank(roster)
    assert first == second
    assert first.matches[0] == Match(roster[0], first.matches[0].score,
                                     first.matches[0].reasons)


# --- normalising company names ----------------------------------------------------------


@pytest.mark.parametrize(("name", "key"), [
    ("ACME, Inc.", "acme"), ("Acme Pty Ltd", "acme"), ("A.C.M.E. GmbH", "acme"),
    ("Johnson & Johnson", "johnsonandjohnson"), ("Smith & Co", "smith"),
    ("Müller GmbH & Co. KG", "müller"), ("Company", "company"), ("", ""),
])
def test_company_names_are_compared_without_case_punctuation_or_legal_form(name: str,
                                                                          key: str) -> None:
    assert company_key(name) == key


# --- properties -------------------------------------------------------------------------

LABELS = ("Fintech", "fintech", "Retail", "SaaS")
PRODUCTS = ("Payments API", "payments api", "Billing", "Tax", "Checkout")
NO_LIMITS = LimitOverrides()


def mostly(common: object, *rare: object) -> st.SearchStrategy[object]:
    """``common`` four times in five, else one of ``rare``: rosters are mostly ordinary,
    and the fast paths that ordinary advocates take are what these properties guard."""
    return st.sampled_from([common] * 4 * max(len(rare), 1) + list(rare) * 1)


moments = st.one_of(
    st.integers(min_value=-400 * 24, max_value=0),
    st.integers(min_value=-400 * 24, max_value=0),
    st.integers(min_value=0, max_value=100 * 24),
    st.integers(min_value=0, max_value=400 * 24),
).map(lambda h: NOW + timedelta(hours=h))


@st.composite
def rosters(draw: st.DrawFn) -> tuple[list[Advocate], dict[int, Usage]]:
    count = draw(st.integers(min_value=0, max_value=14))
    advocate_ids = draw(st.lists(st.integers(1, 10_000), min_size=count, max_size=count,
                                 unique=True))
    roster, usage = [], {}
    for i in advocate_ids:
        roster.append(advocate(
            i,
            industry=draw(st.sampled_from(LABELS)),
            region=draw(st.sampled_from(("EMEA", "emea", "AMER"))),
            company=draw(mostly(f"Customer {i}", "Prospect Corp.", "Globex")),
            company_size=draw(st.none() | st.sampled_from(list(CompanySize))),
            products=tuple(draw(st.lists(st.sampled_from(PRODUCTS), max_size=3))),
            use_cases=tuple(draw(st.lists(st.sampled_from(("Checkout", "Payouts")),
                                          max_size=2))),
            languages=draw(mostly(("English",), ("english", "German"), ())),
            reference_types=draw(mostly(frozenset({CALL}), frozenset())),
            status=draw(mostly(AdvocateStatus.ACTIVE, AdvocateStatus.PAUSED)),
            health_score=draw(st.none() | st.integers(0, 100)),
            renewal_date=draw(mostly(None, *(TODAY + timedelta(days=d) for d in (-1, 0, 30, 61)))),
            snoozed_until=draw(mostly(None, NOW, NOW + timedelta(hours=1), NOW - timedelta(1))),
            unavailable_until=draw(mostly(None, *(TODAY + timedelta(days=d)
                                                  for d in (-2, -1, 0, 1, 3)))),
            timezone=draw(st.sampled_from(("UTC", "Asia/Tokyo", "America/Los_Angeles"))),
            own_limits=draw(mostly(NO_LIMITS, LimitOverrides(max_per_90_days=1),
                                   LimitOverrides(cooldown_days=30))),
            manager_limits=draw(mostly(NO_LIMITS, LimitOverrides(max_per_90_days=5,
                                                                 cooldown_days=3))),
        ))
        times = tuple(draw(st.lists(moments, max_size=4)))
        usage[i] = Usage(engagement_times=times, open_asks=draw(st.sampled_from((0,) * 8 + (1, 2))),
                         last_engaged_at=max(times) if times else draw(st.none() | moments))
    return roster, usage


def summary(result: MatchResult) -> tuple[object, ...]:
    return (tuple((m.advocate.id, m.score, m.reasons, m.cautions) for m in result.matches),
            tuple((e.advocate.id, e.reasons) for e in result.exclusions()), result.considered)


@settings(max_examples=50, deadline=None)
@given(roster=rosters(), data=st.data(), include_caution=st.booleans())
def test_the_result_does_not_depend_on_the_order_of_the_roster(
        roster: tuple[list[Advocate], dict[int, Usage]], data: st.DataObject,
        include_caution: bool) -> None:
    advocates, usage = roster
    shuffled = data.draw(st.permutations(advocates))
    req = request(prospect_company="Prospect Corp", language=data.draw(
        st.sampled_from(("", "English", "GERMAN"))))
    policy = MatchPolicy(include_caution=include_caution, top_n=data.draw(st.integers(0, 5)))
    assert summary(rank(shuffled, usage, req=req, policy=policy)) == summary(
        rank(advocates, usage, req=req, policy=policy))


@settings(max_examples=60, deadline=None)
@given(roster=rosters(), top_n=st.integers(1, 4))
def test_the_top_few_are_the_head_of_the_full_ranking(
        roster: tuple[list[Advocate], dict[int, Usage]], top_n: int) -> None:
    advocates, usage = roster
    policy = MatchPolicy(include_caution=True)
    everyone = rank(advocates, usage, policy=policy, top_n=len(advocates))
    assert [(m.advocate.id, m.score) for m in rank(advocates, usage, policy=policy,
                                                   top_n=top_n).matches] == [
        (m.advocate.id, m.score) for m in everyone.matches[:top_n]]
    scores = [m.score for m in everyone.matches]
    assert scores == sorted(scores, reverse=True)


@settings(max_examples=100, deadline=None)
@given(roster=rosters(), hours=st.integers(-15, 15),
       limits=st.sampled_from([LIMITS, LimitPolicy(max_per_90_days=2, max_per_365_days=3,
                                                   cooldown_days=30, max_open_asks=3)]))
def test_the_matcher_and_check_can_ask_always_agree_on_the_limits(
        roster: tuple[list[Advocate], dict[int, Usage]], hours: int,
        limits: LimitPolicy) -> None:
    advocates, usage = roster
    now = NOW + timedelta(hours=hours)
    fitting = [dataclasses.replace(a, reference_types=frozenset({CALL}), company="Someone",
                                   languages=("English",), renewal_date=None, health_score=None)
               for a in advocates]
    result = rank(fitting, usage, top_n=len(fitting), now=now, limits=limits)
    matched = {m.advocate.id for m in result.matches}
    for a in fitting:
        check = check_can_ask(a, usage[a.id], limits, now)  # type: ignore[index]
        assert (a.id in matched) == check.allowed
        if not check.allowed:
            assert reasons_for(result, a.id) == check.reasons
