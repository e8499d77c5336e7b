"""The request as matching compares it, prepared once, and the filters that decide who fits.

``rank_advocates`` (``bot.domain.matching``) scans the whole roster while a rep waits, and
the reasons (``bot.domain.match_reasons``) must say exactly what the scan decided. Both use
the helpers here, so the scan and its explanations cannot drift apart: the request is
normalised once into a ``Criteria``, and the labels advocates share (industries, regions,
languages, products, company initials) are folded once per call through memos keyed by the
roster's own strings, so every later advocate with the same spelling costs one dictionary
hit.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from bot.domain.errors import Problem
from bot.domain.limits import MAX_COOLDOWN_DAYS, check_can_ask, days_span, effective_limits
from bot.domain.model import (
    Advocate,
    AdvocateStatus,
    CompanySize,
    ReferenceRequest,
    ReferenceType,
    Usage,
)
from bot.domain.policy import LimitPolicy, MatchPolicy, MatchWeights

FAIRNESS_HORIZON_DAYS = 365  # unused this long (or ever) earns the whole fairness weight
CAUTION_PENALTY_SHARE = 0.25  # each caution costs this share of the best possible score
HEALTHY_REASON_MIN = 80  # health at or above this is worth telling the rep
RECENT_USE_REASON_DAYS = 90  # unused at least this long is worth telling the rep

QUARTER = timedelta(days=90)
YEAR = timedelta(days=365)
FAIRNESS_HORIZON = timedelta(days=FAIRNESS_HORIZON_DAYS)
EMPTY_USAGE = Usage()
_SIZE_RANK: dict[CompanySize, int] = {size: rank for rank, size in enumerate(CompanySize)}
_NON_WORD = re.compile(r"[\W_]+")
_LEGAL_SUFFIXES = frozenset({
    "ab", "ag", "as", "asa", "bv", "bhd", "co", "company", "corp", "corporation", "gmbh",
    "inc", "incorporated", "kg", "kk", "limited", "llc", "llp", "lp", "ltd", "ltda", "nv",
    "oy", "oyj", "plc", "pte", "pty", "sa", "sab", "sarl", "sas", "se", "spa", "srl",
})


# --- normalisation ----------------------------------------------------------------------


@lru_cache(maxsize=131072)
def company_key(name: str) -> str:
    """A company name reduced to what identifies it: "ACME, Inc." and "Acme" are one.

    Case and punctuation go, "&" reads as "and", and legal-form words at the end go
    (several: "Müller GmbH & Co. KG"), keeping at least one word so "Company" stays
    itself. Memoised because the same names come back on every match.
    """
    words = _NON_WORD.sub(" ", name.replace("&", " and ").casefold()).split()
    popped = False
    while len(words) > 1 and (words[-1] in _LEGAL_SUFFIXES or (popped and words[-1] == "and")):
        words.pop()
        popped = True
    return "".join(words)


def fold(value: str) -> str:
    """Labels typed by people compare without case or surrounding spaces."""
    return value.strip().casefold()


# --- the request, prepared once ----------------------------------------------------------


@dataclass(slots=True)
class Criteria:
    """The request, the policy and the clock, reduced once to what the scan compares.

    The memos map the roster's own strings to an answer for this request ("is this the
    wanted industry?"), so each distinct spelling is folded once per call and every later
    advocate costs one dictionary hit.
    """

    now: datetime
    today: date
    reference_type: ReferenceType
    type_reason: Problem
    language_reason: Problem
    prospect: str
    industry: str
    region: str
    language: str
    products: frozenset[str]
    use_cases: frozenset[str]
    size_points: dict[CompanySize | None, float]
    asked: frozenset[int]
    quarter_start: datetime
    year_start: datetime
    cooldown_start: datetime  # engagements strictly between these two block an ask now
    cooldown_end: datetime  # (both are ``now`` when the program has no cooldown)
    fairness_floor: datetime  # last used before this earns the whole fairness weight
    leave_floor: date  # leave that ended before this day is over in every time zone
    renewal_horizon: date
    low_health: int
    caution_penalty: float
    overlap_bonus: float  # the most products and use cases can add for this request
    industry_points: dict[str, float]
    region_points: dict[str, float]
    speaks: dict[str, bool]  # language label -> is it the wanted language?
    product_keys: dict[str, str]  # product label -> its folded form if wanted, else ""
    use_case_keys: dict[str, str]
    first_letter_ok: dict[str, bool]  # company initial -> could it start the prospect?


def prepare(request: ReferenceRequest, policy: MatchPolicy, limits: LimitPolicy,
             now: datetime, already_asked: Collection[int]) -> Criteria:
    today = now.date()
    reference_type = ReferenceType(request.reference_type)
    w = policy.weights
    products = frozenset(fold(x) for x in request.products if x.strip())
    use_cases = frozenset(fold(x) for x in request.use_cases if x.strip())
    overlap = max(w.max_overlap, 0)
    cooldown = days_span(min(limits.cooldown_days, MAX_COOLDOWN_DAYS)) if (
        limits.cooldown_days > 0) else None
    return Criteria(
        now=now,
        today=today,
        reference_type=reference_type,
        type_reason=Problem("no_reference_type", label=reference_type.label),
        language_reason=Problem("does_not_speak", language=request.language.strip()),
        prospect=company_key(request.prospect_company),
        industry=fold(request.industry),
        region=fold(request.region),
        language=fold(request.language),
        products=products,
        use_cases=use_cases,
        size_points=_size_points(request.company_size, w),
        asked=frozenset(already_asked),
        quarter_start=now - QUARTER,
        year_start=now - YEAR,
        cooldown_start=now - cooldown if cooldown else now,
        cooldown_end=now + cooldown if cooldown else now,
        fairness_floor=now - FAIRNESS_HORIZON,
        leave_floor=today - timedelta(days=1),
        renewal_horizon=today + timedelta(days=max(policy.renewal_caution_days, 0)),
        low_health=policy.low_health_threshold,
        caution_penalty=CAUTION_PENALTY_SHARE * _best_possible_score(w),
        overlap_bonus=(max(w.products, 0.0) * min(overlap, len(products))
                       + max(w.use_cases, 0.0) * min(overlap, len(use_cases))),
        industry_points={},
        region_points={},
        speaks={},
        product_keys={},
        use_case_keys={},
        first_letter_ok={},
    )


def _size_points(size: CompanySize | None, w: MatchWeights) -> dict[CompanySize | None, float]:
    """Points per advocate company size: full for the same band, half for a neighbour."""
    if size is None or not w.company_size:
        return {}
    rank = _SIZE_RANK[CompanySize(size)]
    points: dict[CompanySize | None, float] = {}
    for other, other_rank in _SIZE_RANK.items():
        gap = abs(other_rank - rank)
        if gap <= 1:
            points[other] = w.company_size if gap == 0 else w.company_size / 2
    return points


def _best_possible_score(w: MatchWeights) -> float:
    overlap = max(w.max_overlap, 0)
    return (w.industry + w.products * overlap + w.use_cases * overlap + w.region
            + w.company_size + w.language + w.fairness + w.health)


def speaks(a: Advocate, p: Criteria) -> bool:
    """Does the advocate speak the wanted language (any spelling's case)?"""
    memo = p.speaks
    for label in a.languages:
        ok = memo.get(label)
        if ok is None:
            ok = memo[label] = fold(label) == p.language
        if ok:
            return True
    return False


def barred(a: Advocate, p: Criteria) -> bool:
    """Is the prospect one of the companies this advocate must not be used with?"""
    return any(company_key(c) == p.prospect for c in a.do_not_use_with)


def same_company(a: Advocate, p: Criteria) -> bool:
    """Normalising every company name on the roster would dominate the scan, so a name is
    only normalised when its first character could start the prospect's key."""
    company = a.company
    initial = company[:1]
    possible = p.first_letter_ok.get(initial)
    if possible is None:
        start = company_key(initial) if initial else ""
        possible = p.first_letter_ok[initial] = p.prospect.startswith(start)
    return possible and company_key(company) == p.prospect


def limits_load(a: Advocate, use: Usage, p: Criteria, limits: LimitPolicy) -> int:
    """``check_can_ask`` for an advocate, answered without building a ``LimitCheck`` in the
    common cases; anything unusual goes to ``check_can_ask`` itself, so they never disagree.

    Returns -1 when a limit blocks, else the engagements this quarter (the load, which
    breaks ties and is shown to the rep).
    """
    if a.status != AdvocateStatus.ACTIVE:
        return -1
    snoozed, leave = a.snoozed_until, a.unavailable_until
    if (snoozed is not None and snoozed > p.now) or (leave is not None and leave > p.today):
        return -1  # leave after today (UTC) covers today in every time zone
    mine = effective_limits(limits, a)
    if use.open_asks >= mine.max_open_asks:
        return -1
    if (leave is not None and leave >= p.leave_floor) or (
            mine.cooldown_days != limits.cooldown_days) or any(
            t > p.now for t in use.engagement_times):
        return _load_after_full_check(a, use, p, limits)
    in_quarter = in_year = 0
    for t in use.engagement_times:
        if t > p.cooldown_start:
            return -1
        if t > p.year_start:
            in_year += 1
            in_quarter += t > p.quarter_start
    if (in_quarter + use.open_asks >= mine.max_per_90_days
            or in_year + use.open_asks >= mine.max_per_365_days):
        return -1
    return in_quarter


def _load_after_full_check(a: Advocate, use: Usage, p: Criteria, limits: LimitPolicy) -> int:
    if not check_can_ask(a, use, limits, p.now).allowed:
        return -1
    return count_since(use.engagement_times, p.quarter_start)


def cautions(a: Advocate, p: Criteria) -> tuple[Problem, ...]:
    """Reasons to be careful with this account: a renewal is close (by UTC date) or the
    account is unhappy. Renewal dates already past are ignored as stale."""
    found: list[Problem] = []
    renews, health = a.renewal_date, a.health_score
    if renews is not None and p.today <= renews <= p.renewal_horizon:
        found.append(Problem("renews_soon", days=(renews - p.today).days))
    if health is not None and health < p.low_health:
        found.append(Problem("low_health", score=health))
    return tuple(found)


def hits(offered: tuple[str, ...], wanted: frozenset[str], keys: dict[str, str],
          cap: int) -> int:
    """How many distinct wanted labels the advocate offers, at most ``cap``."""
    first = ""
    for label in offered:
        key = keys.get(label)
        if key is None:
            folded = fold(label)
            key = keys[label] = folded if folded in wanted else ""
        if key:
            if not first:
                first = key
            elif key != first:  # a second hit: rare enough to pay for a set
                return min(len(wanted.intersection(fold(x) for x in offered)), max(cap, 0))
    return min(1, max(cap, 0)) if first else 0


def count_since(times: Iterable[datetime], start: datetime) -> int:
    """Engagements after ``start``, including ones already scheduled ahead."""
    return sum(1 for t in times if t > start)


__all__ = [
    "CAUTION_PENALTY_SHARE",
    "EMPTY_USAGE",
    "FAIRNESS_HORIZON",
    "FAIRNESS_HORIZON_DAYS",
    "HEALTHY_REASON_MIN",
    "QUARTER",
    "RECENT_USE_REASON_DAYS",
    "YEAR",
    "Criteria",
    "barred",
    "cautions",
    "company_key",
    "count_since",
    "fold",
    "hits",
    "limits_load",
    "prepare",
    "same_company",
    "speaks",
]
