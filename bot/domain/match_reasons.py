"""Why an advocate was matched, and why not: the reasons a rep and a program manager read.

The scan (``bot.domain.matching``) only decides; the reasons are written here, from the same
``Criteria`` and filters (``bot.domain.match_criteria``), so what a person reads is what
the scan did. A match's reasons are written for the few matches a ranking returns; an
excluded advocate's reasons only when someone asks "why not X?" (``Explainer.why_not``),
because a ranking may exclude tens of thousands of advocates and writing every reason
would cost more than the ranking. Each reason is a ``Problem`` (a code and its values), worded
by ``templates/text/reasons/<code>.txt.j2`` where it is shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.domain.errors import Problem
from bot.domain.limits import check_can_ask, effective_limits
from bot.domain.match_criteria import (
    EMPTY_USAGE,
    FAIRNESS_HORIZON_DAYS,
    HEALTHY_REASON_MIN,
    RECENT_USE_REASON_DAYS,
    Criteria,
    barred,
    cautions,
    count_since,
    fold,
    limits_load,
    same_company,
    speaks,
)
from bot.domain.model import Advocate, CompanySize, Usage
from bot.domain.policy import LimitPolicy, MatchWeights


def match_reasons(a: Advocate, use: Usage, p: Criteria, w: MatchWeights,
                   limits: LimitPolicy) -> tuple[Problem, ...]:
    """What made this advocate fit, as a sales rep would read it, then their load. Only
    factors that added to the score are named."""
    reasons: list[Problem] = []
    if w.industry and p.industry and fold(a.industry) == p.industry:
        reasons.append(Problem("same_industry", industry=a.industry.strip()))
    products = _common(p.products, a.products, w.max_overlap) if w.products else []
    if products:
        reasons.append(Problem("uses_products", products=products))
    use_cases = _common(p.use_cases, a.use_cases, w.max_overlap) if w.use_cases else []
    if use_cases:
        reasons.append(Problem("shared_use_cases", use_cases=use_cases))
    if w.region and p.region and fold(a.region) == p.region:
        reasons.append(Problem("same_region", region=a.region.strip()))
    size_points = p.size_points.get(a.company_size, 0.0)
    if size_points and a.company_size is not None:
        reasons.append(Problem("company_size_fits", same=size_points == w.company_size,
                               size=CompanySize(a.company_size).value))
    if w.language and p.language:
        spoken = next((lang for lang in a.languages if fold(lang) == p.language), p.language)
        reasons.append(Problem("speaks", language=spoken.strip()))
    if w.fairness:
        reasons.extend(_fairness_reason(use.last_engaged_at, p.now))
    if w.health and a.health_score is not None and a.health_score >= HEALTHY_REASON_MIN:
        reasons.append(Problem("healthy_account", score=a.health_score))
    cap = effective_limits(limits, a).max_per_90_days
    reasons.append(Problem("quarter_load", used=count_since(use.engagement_times,
                                                              p.quarter_start), cap=cap))
    return tuple(reasons)


def _common(wanted: frozenset[str], offered: Iterable[str], cap: int) -> list[str]:
    """The advocate's own spelling of what they share with the request, without repeats."""
    seen: set[str] = set()
    found: list[str] = []
    for item in offered:
        key = fold(item)
        if key in wanted and key not in seen:
            seen.add(key)
            found.append(item.strip())
    return found[:max(cap, 0)]


def _fairness_reason(last: datetime | None, now: datetime) -> list[Problem]:
    if last is None:
        return [Problem("never_referenced")]
    days = int((now - last).total_seconds() // 86400)
    if days >= FAIRNESS_HORIZON_DAYS:
        return [Problem("last_reference_over_a_year")]
    if days >= RECENT_USE_REASON_DAYS:
        return [Problem("last_reference_days", days=days)]
    return []


NOT_SAVED = Problem("not_saved")
ALREADY_ASKED = Problem("already_asked")
AT_PROSPECT = Problem("works_at_prospect")
BARRED = Problem("barred_from_prospect")


@dataclass(frozen=True, slots=True)
class Explainer:
    """Answers "why not X?" for the request one ranking was made for, with that ranking's
    criteria, limits and usage (so do not change an advocate or the usage mapping before
    asking about them)."""

    criteria: Criteria
    limits: LimitPolicy
    usage: Mapping[int, Usage]
    caution_excludes: bool

    def why_not(self, a: Advocate) -> tuple[Problem, ...]:
        """Every filter ``a`` fails, in a fixed order (who they are, then limits, then
        cautions); empty when nothing keeps them from being asked."""
        p, limits = self.criteria, self.limits
        use = self.usage.get(a.id, EMPTY_USAGE) if a.id is not None else EMPTY_USAGE
        reasons: list[Problem] = []
        if a.id is None:
            reasons.append(NOT_SAVED)
        elif a.id in p.asked:
            reasons.append(ALREADY_ASKED)
        if p.reference_type not in a.reference_types:
            reasons.append(p.type_reason)
        if p.language and not speaks(a, p):
            reasons.append(p.language_reason)
        if p.prospect and same_company(a, p):
            reasons.append(AT_PROSPECT)
        elif p.prospect and a.do_not_use_with and barred(a, p):
            reasons.append(BARRED)
        if limits_load(a, use, p, limits) < 0:
            reasons.extend(check_can_ask(a, use, limits, p.now).reasons)
        if self.caution_excludes:
            reasons.extend(Problem("caution", caution=c) for c in cautions(a, p))
        return tuple(reasons)


__all__ = ["ALREADY_ASKED", "Explainer", "match_reasons"]
