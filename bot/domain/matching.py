"""Who should we ask? Ranks the roster for one reference request.

Two stages, as a program manager would explain them:

1. **Hard filters** decide who may be asked at all: the burnout limits, the reference type,
   the language, never someone at the prospect's own company or barred from meeting it,
   not someone already asked for this request, and — unless the program says otherwise —
   nobody whose account is about to renew or is unhappy. Everyone filtered out is listed
   in ``MatchResult.excluded``; ``MatchResult.why_not(advocate)`` names every filter one of
   them fails ("why not X?"), and ``MatchResult.exclusions()`` does so for all of them.
2. **Scoring** adds up the weighted fit (``MatchWeights``) and returns the best few, each
   with reasons a sales rep can read at a glance.

Matching runs while a rep waits and rosters reach 100k advocates, so ``rank_advocates``
is built for speed (see ``bench/bench_matching.py``):

* the request is normalised once into a ``Criteria`` (``bot.domain.match_criteria``), whose
  memos fold each label the roster uses once per call;
* the scan is two flat loops with the checks cheapest first (``_eligible``, then
  ``_best``); only the best ``top_n`` are kept (a heap), and an advocate who cannot beat the
  current last place is not scored in full;
* reasons (``bot.domain.match_reasons``) are written for the few matches returned, and for
  an excluded advocate only when someone asks about them.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.errors import Problem
from bot.domain.match_criteria import (
    EMPTY_USAGE,
    FAIRNESS_HORIZON,
    QUARTER,
    YEAR,
    Criteria,
    barred,
    cautions,
    fold,
    hits,
    limits_load,
    prepare,
    same_company,
    speaks,
)
from bot.domain.match_reasons import Explainer, match_reasons
from bot.domain.model import Advocate, AdvocateStatus, ReferenceRequest, Usage, ensure_utc
from bot.domain.policy import LimitPolicy, MatchPolicy, MatchWeights

_PRUNE_SLACK = 1e-9  # float sums in a different order may differ in the last bit
_ACTIVE = AdvocateStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class Match:
    advocate: Advocate
    score: float
    reasons: tuple[Problem, ...]  # worded by templates/text/reasons/<code>.txt.j2
    cautions: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class Exclusion:
    advocate: Advocate
    reasons: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The best matches, best first, and everyone the filters kept out.

    ``excluded`` is in the roster's order and carries no reasons: a ranking may exclude
    tens of thousands, and their reasons are read for one advocate (``why_not``) or, for a
    "why did nobody fit?" summary, for all (``exclusions``, ordered by id).
    """

    matches: tuple[Match, ...]
    excluded: tuple[Advocate, ...]
    considered: int
    explainer: Explainer = field(repr=False, compare=False)

    def why_not(self, advocate: Advocate) -> tuple[str, ...]:
        """Every filter ``advocate`` fails for this ranking's request; empty if none."""
        return self.explainer.why_not(advocate)

    def exclusions(self) -> tuple[Exclusion, ...]:
        """Every excluded advocate with every reason: those never saved first (by email),
        then by id (then email), never by position in the roster."""
        ordered = sorted(self.excluded, key=_exclusion_order)
        why_not = self.explainer.why_not
        return tuple(Exclusion(a, why_not(a)) for a in ordered)


def _exclusion_order(a: Advocate) -> tuple[bool, int, str]:
    return (a.id is not None, a.id or 0, a.email)


# --- ranking -----------------------------------------------------------------------------

_Key = tuple[float, int, float, int, int]  # score, -load, -last used, -id, entry index
_Entry = tuple[Advocate, Usage, bool]  # advocate, usage, caution; by key index


@dataclass(slots=True)
class _Eligible:
    """Who passed the hard filters, as parallel lists rather than an object each: at 100k
    advocates, tens of thousands of small objects per call would wake the garbage
    collector's full sweeps over the caller's whole roster."""

    advocates: list[Advocate] = field(default_factory=list)
    loads: list[int] = field(default_factory=list)
    cautions: list[bool] = field(default_factory=list)


def rank_advocates(request: ReferenceRequest, advocates: Iterable[Advocate],
                   usage: Mapping[int, Usage], policy: MatchPolicy, limits: LimitPolicy,
                   now: datetime, *, already_asked: Collection[int] = (),
                   top_n: int | None = None) -> MatchResult:
    """Rank the advocates who may be asked for ``request``, best first.

    The answer does not depend on the order of ``advocates``: ties go to fewer engagements
    this quarter, then the least recently used, then the lower id. An advocate without an
    id (never saved) cannot be asked.
    """
    now = ensure_utc(now)
    p = prepare(request, policy, limits, now, already_asked)
    n = max(policy.top_n if top_n is None else top_n, 0)
    eligible, excluded = _eligible(advocates, usage, p, limits, policy.include_caution)
    heap, entries = _best(eligible, usage, p, policy.weights, n) if n else ([], [])
    matches = []
    for key in sorted(heap, reverse=True):
        advocate, use, caution = entries[key[-1]]
        matches.append(Match(advocate, key[0],
                             match_reasons(advocate, use, p, policy.weights, limits),
                             cautions(advocate, p) if caution else ()))
    return MatchResult(tuple(matches), tuple(excluded),
                       len(eligible.advocates) + len(excluded),
                       Explainer(p, limits, usage, not policy.include_caution))


def _eligible(advocates: Iterable[Advocate], usage: Mapping[int, Usage], p: Criteria,
              limits: LimitPolicy, include_caution: bool
              ) -> tuple[_Eligible, list[Advocate]]:
    """The hard filters in one flat pass: locals, cheapest checks first, no object per
    advocate. Own limits, calls ahead, leave ending now: ``limits_load`` (reasons use it)."""
    eligible, excluded = _Eligible(), []
    keep, keep_load, keep_caution, exclude = (eligible.advocates.append, eligible.loads.append,
                                              eligible.cautions.append, excluded.append)
    get_usage, asked, wanted_type, horizon = usage.get, p.asked, p.reference_type, p.renewal_horizon
    language, prospect, first_letter_ok = p.language, p.prospect, p.first_letter_ok
    now, today, leave_floor, low_health = p.now, p.today, p.leave_floor, p.low_health
    quarter_start, year_start, cooldown_start = p.quarter_start, p.year_start, p.cooldown_start
    quarter_end, year_end, cooldown_end = now + QUARTER, now + YEAR, p.cooldown_end
    cap90, cap365, max_open = limits.max_per_90_days, limits.max_per_365_days, limits.max_open_asks
    for a in advocates:
        aid = a.id
        use = get_usage(aid, EMPTY_USAGE) if aid is not None else EMPTY_USAGE
        own, managed, leave = a.own_limits, a.manager_limits, a.unavailable_until
        if (aid is None or aid in asked or wanted_type not in a.reference_types
                or a.status != _ACTIVE or (language and not speaks(a, p))
                or (prospect and ((first_letter_ok.get(a.company[:1]) is not False
                                   and same_company(a, p))
                                  or (a.do_not_use_with and barred(a, p))))):
            load = -1
        elif (own.max_per_90_days is not None or own.max_per_365_days is not None
              or own.cooldown_days is not None or own.max_open_asks is not None
              or managed.max_per_90_days is not None or managed.max_per_365_days is not None
              or managed.cooldown_days is not None or managed.max_open_asks is not None
              or (leave is not None and leave >= leave_floor)):
            load = limits_load(a, use, p, limits)
        elif (a.snoozed_until is not None and a.snoozed_until > now) or use.open_asks >= max_open:
            load = -1
        else:
            # Windows counted both ways over-count only calls ahead; if that fits, all fit.
            load = in_quarter = in_year = 0
            for t in use.engagement_times:
                if cooldown_start < t < cooldown_end:
                    load = -1
                    break
                if t > quarter_start:
                    load += 1
                    in_quarter += t < quarter_end
                    in_year += t < year_end
                elif t > year_start:
                    in_year += 1
            else:
                if in_quarter + use.open_asks >= cap90 or in_year + use.open_asks >= cap365:
                    load = limits_load(a, use, p, limits)
        if load >= 0:
            renews, health = a.renewal_date, a.health_score
            caution = (renews is not None and today <= renews <= horizon) or (
                health is not None and health < low_health)
            if include_caution or not caution:
                keep(a)
                keep_load(load)
                keep_caution(caution)
                continue
        exclude(a)
    return eligible, excluded


def _best(eligible: _Eligible, usage: Mapping[int, Usage], p: Criteria, w: MatchWeights,
          n: int) -> tuple[list[_Key], list[_Entry]]:
    """Score the eligible and keep the best ``n`` in a heap: the cheap factors first, the
    product and use-case overlaps only for those who could still make the list."""
    heap: list[_Key] = []
    entries: list[_Entry] = []
    now, fairness_floor = p.now, p.fairness_floor
    industry, industry_points = p.industry, p.industry_points
    region, region_points = p.region, p.region_points
    products, use_cases, size_points = p.products, p.use_cases, p.size_points
    language_points = w.language if p.language else 0.0
    fairness_weight, health_weight = w.fairness, w.health
    overlap_bonus = p.overlap_bonus + _PRUNE_SLACK
    get_usage = usage.get
    for a, load, caution in zip(eligible.advocates, eligible.loads, eligible.cautions,
                                strict=True):
        use = get_usage(a.id, EMPTY_USAGE)  # type: ignore[arg-type]  # eligible: saved
        score = language_points
        if industry:
            points = industry_points.get(a.industry)
            if points is None:
                points = industry_points[a.industry] = (
                    w.industry if fold(a.industry) == industry else 0.0)
            score += points
        if region:
            points = region_points.get(a.region)
            if points is None:
                points = region_points[a.region] = w.region if fold(a.region) == region else 0.0
            score += points
        if size_points:
            score += size_points.get(a.company_size, 0.0)
        last, health = use.last_engaged_at, a.health_score
        if last is None or last <= fairness_floor:
            score += fairness_weight
        elif last < now:
            score += fairness_weight * ((now - last) / FAIRNESS_HORIZON)
        if health is None:
            score += health_weight * 0.5
        else:
            score += health_weight * (0 if health < 0 else 100 if health > 100 else health) / 100
        if len(heap) == n and score + overlap_bonus < heap[0][0]:
            continue
        if products and a.products:
            score += w.products * hits(a.products, products, p.product_keys, w.max_overlap)
        if use_cases and a.use_cases:
            score += w.use_cases * hits(a.use_cases, use_cases, p.use_case_keys, w.max_overlap)
        if caution:
            score -= p.caution_penalty * len(cautions(a, p))
        if len(heap) < n or score >= heap[0][0]:
            _offer(heap, entries, n, score, load, a, use, caution)
    return heap, entries


def _offer(heap: list[_Key], entries: list[_Entry], n: int, score: float, load: int,
           advocate: Advocate, use: Usage, caution: bool) -> None:
    """Keep ``advocate`` if they rank among the best ``n`` seen so far."""
    last = use.last_engaged_at
    key = (score, -load, -last.timestamp() if last is not None else math.inf,
           -advocate.id, len(entries))  # type: ignore[operator]
    if len(heap) < n:
        heapq.heappush(heap, key)
    elif key > heap[0]:
        heapq.heapreplace(heap, key)
    else:
        return
    entries.append((advocate, use, caution))


__all__ = ["Exclusion", "Match", "MatchResult", "rank_advocates"]
