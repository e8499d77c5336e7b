"""Why an advocate was matched, and why not: the reasons a rep and a program manager read.

The scan (``bot.domain.matching``) only decides; the words are written here, from the same
``Criteria`` and filters (``bot.domain.match_criteria``), so what a person reads is what
the scan did. A match's reasons are written for the few matches a ranking returns; an
excluded advocate's reasons only when someone asks "why not X?" (``Explainer.why_not``),
because a ranking may exclude tens of thousands of advocates and writing every reason
would cost more than the ranking.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

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
                   limits: LimitPolicy) -> tuple[str, ...]:
    """What made this advocate fit, in the words a sales rep would use, then their load.
    Only factors that added to the score are named."""
    reasons: list[str] = []
    if w.industry and p.industry and fold(a.industry) == p.industry:
        reasons.append(f"same industry: {a.industry.strip()}")
    products = _common(p.products, a.products, w.max_overlap) if w.products else []
    if products:
        reasons.append(f"uses {', '.join(products)}")
    use_cases = _common(p.use_cases, a.use_cases, w.max_overlap) if w.use_cases else []
    if use_cases:
        label = "use case" if len(use_cases) == 1 else "use cases"
        reasons.append(f"{label}: {', '.join(use_cases)}")
    if w.region and p.region and fold(a.region) == p.region:
        reasons.append(a.region.strip())
    size_points = p.size_points.get(a.company_size, 0.0)
    if size_points and a.company_size is not None:
        kind = "same" if size_points == w.company_size else "similar"
        reasons.append(f"{kind} company size ({CompanySize(a.company_size).value} employees)")
    if w.language and p.language:
        spoken = next((lang for lang in a.languages if fold(lang) == p.language), p.language)
        reasons.append(f"speaks {spoken.strip()}")
    if w.fairness:
        reasons.extend(_fairness_reason(use.last_engaged_at, p.now))
    if w.health and a.health_score is not None and a.health_score >= HEALTHY_REASON_MIN:
        reasons.append(f"healthy account ({a.health_score}/100)")
    cap = effective_limits(limits, a).max_per_90_days
    reasons.append(f"{count_since(use.engagement_times, p.quarter_start)} of {cap} this quarter")
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


def _fairness_reason(last: datetime | None, now: datetime) -> list[str]:
    if last is None:
        return ["no reference given yet"]
    days = int((now - last).total_seconds() // 86400)
    if days >= FAIRNESS_HORIZON_DAYS:
        return ["last reference over a year ago"]
    if days >= RECENT_USE_REASON_DAYS:
        return [f"last reference {days} days ago"]
    return []


@dataclass(frozen=True, slots=True)
class Explainer:
    """Answers "why not X?" for the request one ranking was made for, with that ranking's
    criteria, limits and usage (so do not change an advocate or the usage mapping before
    asking about them)."""

    criteria: Criteria
    limits: LimitPolicy
    usage: Mapping[int, Usage]
    caution_excludes: bool

    def why_not(self, a: Advocate) -> tuple[str, ...]:
        """Every filter ``a`` fails, in a fixed order (who they are, then limits, then
        cautions); empty when nothing keeps them from being asked."""
        p, limits = self.criteria, self.limits
        use = self.usage.get(a.id, EMPTY_USAGE) if a.id is not None else EMPTY_USAGE
        reasons: list[str] = []
        if a.id is None:
            reasons.append("not saved yet (no id)")
        elif a.id in p.asked:
            reasons.append("already asked for this request")
        if p.reference_type not in a.reference_types:
            reasons.append(p.type_reason)
        if p.language and not speaks(a, p):
            reasons.append(p.language_reason)
        if p.prospect and same_company(a, p):
            reasons.append("works at the prospect's company")
        elif p.prospect and a.do_not_use_with and barred(a, p):
            reasons.append("must not be used with this prospect")
        if limits_load(a, use, p, limits) < 0:
            reasons.extend(check_can_ask(a, use, limits, p.now).reasons)
        if self.caution_excludes:
            reasons.extend(f"caution: {c}" for c in cautions(a, p))
        return tuple(reasons)


__all__ = ["Explainer", "match_reasons"]
