"""Who should we ask? Ranks the roster for one reference request.

Two stages, as a program manager would explain them:

1. **Hard filters** decide who may be asked at all: the burnout limits, the reference type,
   the language, never someone at the prospect's own company or barred from meeting it,
   not someone already asked for this request, and — unless the program says otherwise —
   nobody whose account is about to renew or is unhappy. Everyone filtered out comes back
   as an ``Exclusion`` naming every filter they fail, to answer "why not X?".
2. **Scoring** adds up the weighted fit (``MatchWeights``) and returns the best few, each
   with reasons a sales rep can read at a glance.

Matching runs while a rep waits and rosters reach 100k advocates, so ``rank_advocates``
is built for speed (see ``bench/bench_matching.py``):

* the request is normalised once, and the labels advocates share (industries, regions,
  languages, products) are folded once per call through memos keyed by the roster's own
  strings;
* the scan is one flat loop with the checks cheapest first; only the best ``top_n`` are
  kept (a heap), and an advocate who cannot beat the current last place is not scored in
  full;
* reasons are written when somebody first reads them: a rep reads three matches, a
  program manager asks "why not X?" about one advocate, not about the 90k others. The
  ``Match``/``Exclusion``/``MatchResult`` handed back are private subclasses that compare
  equal to plainly built ones and are just as frozen; their reasons come from the same
  advocate objects and usage as the scan, so do not change an advocate before reading
  why it was (not) matched.
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from operator import attrgetter

from bot.domain.limits import MAX_COOLDOWN_DAYS, check_can_ask, days_span, effective_limits
from bot.domain.model import (
    Advocate,
    AdvocateStatus,
    CompanySize,
    ReferenceRequest,
    ReferenceType,
    Usage,
    ensure_utc,
)
from bot.domain.policy import LimitPolicy, MatchPolicy, MatchWeights

FAIRNESS_HORIZON_DAYS = 365  # unused this long (or ever) earns the whole fairness weight
CAUTION_PENALTY_SHARE = 0.25  # each caution costs this share of the best possible score
HEALTHY_REASON_MIN = 80  # health at or above this is worth telling the rep
RECENT_USE_REASON_DAYS = 90  # unused at least this long is worth telling the rep

_QUARTER = timedelta(days=90)
_YEAR = timedelta(days=365)
_FAIRNESS_HORIZON = timedelta(days=FAIRNESS_HORIZON_DAYS)
_PRUNE_SLACK = 1e-9  # float sums in a different order may differ in the last bit
_EMPTY_USAGE = Usage()
_BY_EMAIL = attrgetter("email")
_SIZE_RANK: dict[CompanySize, int] = {size: rank for rank, size in enumerate(CompanySize)}
_NON_WORD = re.compile(r"[\W_]+")
_LEGAL_SUFFIXES = frozenset({
    "ab", "ag", "as", "asa", "bv", "bhd", "co", "company", "corp", "corporation", "gmbh",
    "inc", "incorporated", "kg", "kk", "limited", "llc", "llp", "lp", "ltd", "ltda", "nv",
    "oy", "oyj", "plc", "pte", "pty", "sa", "sab", "sarl", "sas", "se", "spa", "srl",
})


@dataclass(frozen=True, slots=True)
class Match:
    advocate: Advocate
    score: float
    reasons: tuple[str, ...]
    cautions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Exclusion:
    advocate: Advocate
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MatchResult:
    matches: tuple[Match, ...]
    excluded: tuple[Exclusion, ...]
    considered: int


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


def _fold(value: str) -> str:
    return value.strip().casefold()


# --- the request, prepared once ----------------------------------------------------------


@dataclass(slots=True)
class _Prepared:
    """The request, the policy and the clock, reduced once to what the scan compares.

    The memos map the roster's own strings to an answer for this request ("is this the
    wanted industry?"), so each distinct spelling is folded once per call and every later
    advocate costs one dictionary hit.
    """

    now: datetime
    today: date
    reference_type: ReferenceType
    type_reason: str
    language_reason: str
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


def _prepare(request: ReferenceRequest, policy: MatchPolicy, limits: LimitPolicy,
             now: datetime, already_asked: Collection[int]) -> _Prepared:
    today = now.date()
    reference_type = ReferenceType(request.reference_type)
    w = policy.weights
    products = frozenset(_fold(x) for x in request.products if x.strip())
    use_cases = frozenset(_fold(x) for x in request.use_cases if x.strip())
    overlap = max(w.max_overlap, 0)
    cooldown = days_span(min(limits.cooldown_days, MAX_COOLDOWN_DAYS)) if (
        limits.cooldown_days > 0) else None
    return _Prepared(
        now=now,
        today=today,
        reference_type=reference_type,
        type_reason=f"does not do {reference_type.label.lower()}",
        language_reason=f"does not speak {request.language.strip()}",
        prospect=company_key(request.prospect_company),
        industry=_fold(request.industry),
        region=_fold(request.region),
        language=_fold(request.language),
        products=products,
        use_cases=use_cases,
        size_points=_size_points(request.company_size, w),
        asked=frozenset(already_asked),
        quarter_start=now - _QUARTER,
        year_start=now - _YEAR,
        cooldown_start=now - cooldown if cooldown else now,
        cooldown_end=now + cooldown if cooldown else now,
        fairness_floor=now - _FAIRNESS_HORIZON,
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


# --- ranking -----------------------------------------------------------------------------

_Key = tuple[float, int, float, int, int]  # score, -load, -last used, -id, entry index


def rank_advocates(request: ReferenceRequest, advocates: Iterable[Advocate],
                   usage: Mapping[int, Usage], policy: MatchPolicy, limits: LimitPolicy,
                   now: datetime, *, already_asked: Collection[int] = (),
                   top_n: int | None = None) -> MatchResult:
    """Rank the advocates who may be asked for ``request``, best first.

    The answer does not depend on the order of ``advocates``: ties go to fewer engagements
    this quarter, then the least recently used, then the lower id; exclusions are listed
    by id (then email). An advocate without an id (never saved) cannot be asked.
    """
    now = ensure_utc(now)
    p = _prepare(request, policy, limits, now, already_asked)
    n = max(policy.top_n if top_n is None else top_n, 0)
    scan = _scan(advocates, usage, p, policy, limits, n)
    describe = _Describer(p, policy.weights, limits)
    matches = tuple(_describe(scan.entries[key[-1]], key[0], p, describe)
                    for key in sorted(scan.heap, reverse=True))
    return _PendingMatchResult.pending(matches, scan, _Explainer(p, policy, limits))


@dataclass(slots=True)
class _Scan:
    """What one pass over the roster found: the best ``n`` and who was excluded.

    The excluded are kept as parallel lists (advocate, usage, id) rather than an object
    each: at 100k advocates, tens of thousands of small objects per call would wake the
    garbage collector's full sweeps over the caller's whole roster.
    """

    heap: list[_Key]
    entries: list[tuple[Advocate, Usage, bool]]  # advocate, usage, caution; by key index
    excluded: list[Advocate]
    excluded_usage: list[Usage]
    excluded_ids: list[int]
    unsaved: list[Advocate]  # excluded for having no id
    considered: int

    def excluded_in_order(self, explain: _Explainer) -> tuple[Exclusion, ...]:
        """By id, then email: never by position in the input."""
        ids, excluded, used = self.excluded_ids, self.excluded, self.excluded_usage
        if len(set(ids)) == len(ids):
            order = sorted(range(len(ids)), key=ids.__getitem__)
        else:  # the same id twice: a caller's mistake, but still no dependence on order
            order = sorted(range(len(ids)), key=lambda i: (ids[i], excluded[i].email))
        unsaved = sorted(self.unsaved, key=_BY_EMAIL)
        pending = _PendingExclusion.pending
        return (*(pending(a, _EMPTY_USAGE, explain) for a in unsaved),
                *(pending(excluded[i], used[i], explain) for i in order))


def _scan(advocates: Iterable[Advocate], usage: Mapping[int, Usage], p: _Prepared,
          policy: MatchPolicy, limits: LimitPolicy, n: int) -> _Scan:
    """One pass: filter, score and keep the best ``n`` in a heap.

    This is the hot loop, so it is one flat function: the request's values live in local
    variables, the checks run cheapest first, an advocate costs an allocation only when
    excluded or entering the heap, and the rare or costly cases (limits set per advocate,
    engagements scheduled ahead, leave ending around today, overlapping products) go to
    the helpers that also explain them, which keeps the scan and its reasons in step.
    """
    w = policy.weights
    get_usage = usage.get
    heap: list[_Key] = []
    entries: list[tuple[Advocate, Usage, bool]] = []
    excluded: list[Advocate] = []
    excluded_usage: list[Usage] = []
    excluded_ids: list[int] = []
    unsaved: list[Advocate] = []
    exclude, exclude_usage, exclude_id = (excluded.append, excluded_usage.append,
                                          excluded_ids.append)
    considered = 0
    asked, wanted_type, active = p.asked, p.reference_type, AdvocateStatus.ACTIVE
    language, prospect, first_letter_ok = p.language, p.prospect, p.first_letter_ok
    now, today, leave_floor = p.now, p.today, p.leave_floor
    quarter_start, year_start, cooldown_start = p.quarter_start, p.year_start, p.cooldown_start
    quarter_end, year_end, cooldown_end = now + _QUARTER, now + _YEAR, p.cooldown_end
    cap90, cap365, max_open = limits.max_per_90_days, limits.max_per_365_days, limits.max_open_asks
    horizon, low_health, include_caution = p.renewal_horizon, p.low_health, policy.include_caution
    industry, industry_points = p.industry, p.industry_points
    region, region_points = p.region, p.region_points
    products, use_cases, size_points = p.products, p.use_cases, p.size_points
    language_points = w.language if language else 0.0
    fairness_floor, fairness_weight, health_weight = p.fairness_floor, w.fairness, w.health
    overlap_bonus = p.overlap_bonus + _PRUNE_SLACK
    for a in advocates:
        considered += 1
        aid = a.id
        # --- who they are
        if aid is None:
            unsaved.append(a)
            continue
        use = get_usage(aid, _EMPTY_USAGE)
        if (aid in asked or wanted_type not in a.reference_types or a.status != active
                or (language and not _speaks(a, p))
                or (prospect and ((first_letter_ok.get(a.company[:1]) is not False
                                   and _same_company(a, p))
                                  or (a.do_not_use_with and _barred(a, p))))):
            exclude(a)
            exclude_usage(use)
            exclude_id(aid)
            continue
        # --- how busy they are: the common case of check_can_ask (see _limits_load)
        own, managed, leave = a.own_limits, a.manager_limits, a.unavailable_until
        if (own.max_per_90_days is not None or own.max_per_365_days is not None
                or own.cooldown_days is not None or own.max_open_asks is not None
                or managed.max_per_90_days is not None or managed.max_per_365_days is not None
                or managed.cooldown_days is not None or managed.max_open_asks is not None
                or (leave is not None and leave >= leave_floor)):
            load = _limits_load(a, use, p, limits)
        elif (a.snoozed_until is not None and a.snoozed_until > now) or use.open_asks >= max_open:
            load = -1
        else:
            # Counting everything less than a window away, before or after, over-counts
            # only when calls are scheduled ahead; if even that fits, every window fits.
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
                    load = _limits_load(a, use, p, limits)
        if load < 0:
            exclude(a)
            exclude_usage(use)
            exclude_id(aid)
            continue
        # --- the account
        renews, health = a.renewal_date, a.health_score
        caution = (renews is not None and today <= renews <= horizon) or (
            health is not None and health < low_health)
        if caution and not include_caution:
            exclude(a)
            exclude_usage(use)
            exclude_id(aid)
            continue
        if not n:
            continue
        # --- fit: the cheap factors first, the overlaps only if they could still win
        score = language_points
        if industry:
            points = industry_points.get(a.industry)
            if points is None:
                points = industry_points[a.industry] = (
                    w.industry if _fold(a.industry) == industry else 0.0)
            score += points
        if region:
            points = region_points.get(a.region)
            if points is None:
                points = region_points[a.region] = (
                    w.region if _fold(a.region) == region else 0.0)
            score += points
        if size_points:
            score += size_points.get(a.company_size, 0.0)
        last = use.last_engaged_at
        if last is None or last <= fairness_floor:
            score += fairness_weight
        elif last < now:
            score += fairness_weight * ((now - last) / _FAIRNESS_HORIZON)
        if health is None:
            score += health_weight * 0.5
        else:
            score += health_weight * (0 if health < 0 else 100 if health > 100 else health) / 100
        if len(heap) == n and score + overlap_bonus < heap[0][0]:
            continue
        if products and a.products:
            score += w.products * _hits(a.products, products, p.product_keys, w.max_overlap)
        if use_cases and a.use_cases:
            score += w.use_cases * _hits(a.use_cases, use_cases, p.use_case_keys, w.max_overlap)
        if caution:
            score -= p.caution_penalty * len(_cautions(a, p))
        # --- keep the best n
        if len(heap) < n or score >= heap[0][0]:
            _offer(heap, entries, n, score, load, a, use, caution)
    return _Scan(heap, entries, excluded, excluded_usage, excluded_ids, unsaved, considered)


def _offer(heap: list[_Key], entries: list[tuple[Advocate, Usage, bool]], n: int,
           score: float, load: int, advocate: Advocate, use: Usage, caution: bool) -> None:
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


def _speaks(a: Advocate, p: _Prepared) -> bool:
    memo = p.speaks
    for label in a.languages:
        ok = memo.get(label)
        if ok is None:
            ok = memo[label] = _fold(label) == p.language
        if ok:
            return True
    return False


def _barred(a: Advocate, p: _Prepared) -> bool:
    return any(company_key(c) == p.prospect for c in a.do_not_use_with)


def _same_company(a: Advocate, p: _Prepared) -> bool:
    """Normalising every company name on the roster would dominate the scan, so a name is
    only normalised when its first character could start the prospect's key."""
    company = a.company
    initial = company[:1]
    possible = p.first_letter_ok.get(initial)
    if possible is None:
        start = company_key(initial) if initial else ""
        possible = p.first_letter_ok[initial] = p.prospect.startswith(start)
    return possible and company_key(company) == p.prospect


def _limits_load(a: Advocate, use: Usage, p: _Prepared, limits: LimitPolicy) -> int:
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


def _load_after_full_check(a: Advocate, use: Usage, p: _Prepared, limits: LimitPolicy) -> int:
    if not check_can_ask(a, use, limits, p.now).allowed:
        return -1
    return _count_since(use.engagement_times, p.quarter_start)


def _cautions(a: Advocate, p: _Prepared) -> tuple[str, ...]:
    """Reasons to be careful with this account: a renewal is close (by UTC date) or the
    account is unhappy. Renewal dates already past are ignored as stale."""
    found: list[str] = []
    renews, health = a.renewal_date, a.health_score
    if renews is not None and p.today <= renews <= p.renewal_horizon:
        days = (renews - p.today).days
        found.append("renews today" if days == 0 else
                     f"renews in {days} day{'s' if days != 1 else ''}")
    if health is not None and health < p.low_health:
        found.append(f"health {health}/100")
    return tuple(found)


def _hits(offered: tuple[str, ...], wanted: frozenset[str], keys: dict[str, str],
          cap: int) -> int:
    """How many distinct wanted labels the advocate offers, at most ``cap``."""
    first = ""
    for label in offered:
        key = keys.get(label)
        if key is None:
            folded = _fold(label)
            key = keys[label] = folded if folded in wanted else ""
        if key:
            if not first:
                first = key
            elif key != first:  # a second hit: rare enough to pay for a set
                return min(len(wanted.intersection(_fold(x) for x in offered)), max(cap, 0))
    return min(1, max(cap, 0)) if first else 0


def _count_since(times: Iterable[datetime], start: datetime) -> int:
    """Engagements after ``start``, including ones already scheduled ahead."""
    return sum(1 for t in times if t > start)


# --- explaining --------------------------------------------------------------------------


def _describe(entry: tuple[Advocate, Usage, bool], score: float, p: _Prepared,
              describe: _Describer) -> Match:
    advocate, use, caution = entry
    return _PendingMatch.pending(advocate, score, _cautions(advocate, p) if caution else (),
                                 use, describe)


class _Describer:
    """Writes a match's reasons (``_match_reasons``) for the request it was ranked for."""

    def __init__(self, p: _Prepared, weights: MatchWeights, limits: LimitPolicy) -> None:
        self._p, self._weights, self._limits = p, weights, limits

    def __call__(self, advocate: Advocate, use: Usage) -> tuple[str, ...]:
        return _match_reasons(advocate, use, self._p, self._weights, self._limits)


def _match_reasons(a: Advocate, use: Usage, p: _Prepared, w: MatchWeights,
                   limits: LimitPolicy) -> tuple[str, ...]:
    """What made this advocate fit, in the words a sales rep would use, then their load.
    Only factors that added to the score are named."""
    reasons: list[str] = []
    if w.industry and p.industry and _fold(a.industry) == p.industry:
        reasons.append(f"same industry: {a.industry.strip()}")
    products = _common(p.products, a.products, w.max_overlap) if w.products else []
    if products:
        reasons.append(f"uses {', '.join(products)}")
    use_cases = _common(p.use_cases, a.use_cases, w.max_overlap) if w.use_cases else []
    if use_cases:
        label = "use case" if len(use_cases) == 1 else "use cases"
        reasons.append(f"{label}: {', '.join(use_cases)}")
    if w.region and p.region and _fold(a.region) == p.region:
        reasons.append(a.region.strip())
    size_points = p.size_points.get(a.company_size, 0.0)
    if size_points and a.company_size is not None:
        kind = "same" if size_points == w.company_size else "similar"
        reasons.append(f"{kind} company size ({CompanySize(a.company_size).value} employees)")
    if w.language and p.language:
        spoken = next((lang for lang in a.languages if _fold(lang) == p.language), p.language)
        reasons.append(f"speaks {spoken.strip()}")
    if w.fairness:
        reasons.extend(_fairness_reason(use.last_engaged_at, p.now))
    if w.health and a.health_score is not None and a.health_score >= HEALTHY_REASON_MIN:
        reasons.append(f"healthy account ({a.health_score}/100)")
    cap = effective_limits(limits, a).max_per_90_days
    reasons.append(f"{_count_since(use.engagement_times, p.quarter_start)} of {cap} this quarter")
    return tuple(reasons)


def _common(wanted: frozenset[str], offered: Iterable[str], cap: int) -> list[str]:
    """The advocate's own spelling of what they share with the request, without repeats."""
    seen: set[str] = set()
    found: list[str] = []
    for item in offered:
        key = _fold(item)
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


class _Explainer:
    """Writes the reasons an advocate was excluded: every filter they fail, in a fixed
    order (who they are, then limits, then cautions)."""

    def __init__(self, p: _Prepared, policy: MatchPolicy, limits: LimitPolicy) -> None:
        self._p, self._limits = p, limits
        self._caution_excludes = not policy.include_caution

    def __call__(self, a: Advocate, use: Usage) -> tuple[str, ...]:
        p = self._p
        reasons: list[str] = []
        if a.id is None:
            reasons.append("not saved yet (no id)")
        elif a.id in p.asked:
            reasons.append("already asked for this request")
        if p.reference_type not in a.reference_types:
            reasons.append(p.type_reason)
        if p.language and not _speaks(a, p):
            reasons.append(p.language_reason)
        if p.prospect and _same_company(a, p):
            reasons.append("works at the prospect's company")
        elif p.prospect and a.do_not_use_with and _barred(a, p):
            reasons.append("must not be used with this prospect")
        if _limits_load(a, use, p, self._limits) < 0:
            reasons.extend(check_can_ask(a, use, self._limits, p.now).reasons)
        if self._caution_excludes:
            reasons.extend(f"caution: {c}" for c in _cautions(a, p))
        return tuple(reasons)


class _PendingMatch(Match):
    """A ``Match`` whose reasons are written when first read.

    A service may rank every eligible advocate (to ask in rank order, or to find where one
    stands) but shows reasons for a few; writing them for all would cost more than the
    ranking. Equal to a ``Match`` with the same values, and frozen like one.
    """

    __slots__ = ("_describe", "_use")

    @classmethod
    def pending(cls, advocate: Advocate, score: float, cautions: tuple[str, ...], use: Usage,
                describe: _Describer) -> _PendingMatch:
        """A match whose reasons ``describe`` writes on first read. (The inherited
        constructor still builds one with its reasons given, for ``dataclasses.replace``.)"""
        match = cls.__new__(cls)
        _MATCH_ADVOCATE_SLOT.__set__(match, advocate)
        _MATCH_SCORE_SLOT.__set__(match, score)
        _MATCH_CAUTIONS_SLOT.__set__(match, cautions)
        _PENDING_MATCH_USE_SLOT.__set__(match, use)
        _PENDING_MATCH_DESCRIBE_SLOT.__set__(match, describe)
        return match

    @property
    def reasons(self) -> tuple[str, ...]:
        try:
            return _MATCH_REASONS_SLOT.__get__(self)
        except AttributeError:
            found = _PENDING_MATCH_DESCRIBE_SLOT.__get__(self)(
                self.advocate, _PENDING_MATCH_USE_SLOT.__get__(self))
            _MATCH_REASONS_SLOT.__set__(self, found)
            return found

    @reasons.setter
    def reasons(self, value: tuple[str, ...]) -> None:
        """Only for ``copy`` and ``pickle``, which restore fields past the frozen guard."""
        _MATCH_REASONS_SLOT.__set__(self, value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Match):
            return NotImplemented
        return ((self.advocate, self.score, self.reasons, self.cautions)
                == (other.advocate, other.score, other.reasons, other.cautions))

    __hash__ = None  # type: ignore[assignment]  # like Match: an Advocate is unhashable

    def __repr__(self) -> str:
        return (f"Match(advocate={self.advocate!r}, score={self.score!r}, "
                f"reasons={self.reasons!r}, cautions={self.cautions!r})")


_MATCH_ADVOCATE_SLOT = Match.__dict__["advocate"]
_MATCH_SCORE_SLOT = Match.__dict__["score"]
_MATCH_REASONS_SLOT = Match.__dict__["reasons"]
_MATCH_CAUTIONS_SLOT = Match.__dict__["cautions"]
_PENDING_MATCH_USE_SLOT = _PendingMatch.__dict__["_use"]
_PENDING_MATCH_DESCRIBE_SLOT = _PendingMatch.__dict__["_describe"]


class _PendingExclusion(Exclusion):
    """An ``Exclusion`` whose reasons are written when first read.

    The scan may exclude tens of thousands of advocates and writing every reason (dates
    included) would cost more than the scan itself, while only the few a program manager
    asks about are ever read. It is an ``Exclusion`` in every way that matters: same
    fields, equal to an ``Exclusion`` with the same advocate and reasons, frozen.
    """

    __slots__ = ("_explain", "_use")

    @classmethod
    def pending(cls, advocate: Advocate, use: Usage, explain: _Explainer) -> _PendingExclusion:
        """An exclusion whose reasons ``explain`` writes on first read."""
        exclusion = cls.__new__(cls)
        _ADVOCATE_SLOT.__set__(exclusion, advocate)
        _PENDING_USE_SLOT.__set__(exclusion, use)
        _PENDING_EXPLAIN_SLOT.__set__(exclusion, explain)
        return exclusion

    @property
    def reasons(self) -> tuple[str, ...]:
        try:
            return _REASONS_SLOT.__get__(self)
        except AttributeError:
            found = _PENDING_EXPLAIN_SLOT.__get__(self)(self.advocate,
                                                        _PENDING_USE_SLOT.__get__(self))
            _REASONS_SLOT.__set__(self, found)
            return found

    @reasons.setter
    def reasons(self, value: tuple[str, ...]) -> None:
        """Only for ``copy`` and ``pickle``, which restore fields past the frozen guard."""
        _REASONS_SLOT.__set__(self, value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Exclusion):
            return NotImplemented
        return (self.advocate, self.reasons) == (other.advocate, other.reasons)

    __hash__ = None  # type: ignore[assignment]  # like Exclusion: an Advocate is unhashable

    def __repr__(self) -> str:
        return f"Exclusion(advocate={self.advocate!r}, reasons={self.reasons!r})"


_ADVOCATE_SLOT = Exclusion.__dict__["advocate"]
_REASONS_SLOT = Exclusion.__dict__["reasons"]
_PENDING_USE_SLOT = _PendingExclusion.__dict__["_use"]
_PENDING_EXPLAIN_SLOT = _PendingExclusion.__dict__["_explain"]


class _PendingMatchResult(MatchResult):
    """A ``MatchResult`` whose ``excluded`` tuple is built when first read.

    Services show the matches and read the exclusions only to answer "why not X?", so the
    scan does not pay for 100k ``Exclusion`` objects up front. Equal to a ``MatchResult``
    with the same values, and frozen like one.
    """

    __slots__ = ("_explain", "_scan")

    @classmethod
    def pending(cls, matches: tuple[Match, ...], scan: _Scan,
                explain: _Explainer) -> _PendingMatchResult:
        """A result whose exclusions are listed, in order, on first read."""
        result = cls.__new__(cls)
        _MATCHES_SLOT.__set__(result, matches)
        _CONSIDERED_SLOT.__set__(result, scan.considered)
        _PENDING_SCAN_SLOT.__set__(result, scan)
        _PENDING_RESULT_EXPLAIN_SLOT.__set__(result, explain)
        return result

    @property
    def excluded(self) -> tuple[Exclusion, ...]:
        try:
            return _EXCLUDED_SLOT.__get__(self)
        except AttributeError:
            scan: _Scan = _PENDING_SCAN_SLOT.__get__(self)
            found = scan.excluded_in_order(_PENDING_RESULT_EXPLAIN_SLOT.__get__(self))
            _EXCLUDED_SLOT.__set__(self, found)
            return found

    @excluded.setter
    def excluded(self, value: tuple[Exclusion, ...]) -> None:
        """Only for ``copy`` and ``pickle``, which restore fields past the frozen guard."""
        _EXCLUDED_SLOT.__set__(self, value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MatchResult):
            return NotImplemented
        return ((self.matches, self.excluded, self.considered)
                == (other.matches, other.excluded, other.considered))

    __hash__ = None  # type: ignore[assignment]  # like MatchResult: advocates are unhashable

    def __repr__(self) -> str:
        return (f"MatchResult(matches={self.matches!r}, excluded={self.excluded!r}, "
                f"considered={self.considered!r})")


_MATCHES_SLOT = MatchResult.__dict__["matches"]
_EXCLUDED_SLOT = MatchResult.__dict__["excluded"]
_CONSIDERED_SLOT = MatchResult.__dict__["considered"]
_PENDING_SCAN_SLOT = _PendingMatchResult.__dict__["_scan"]
_PENDING_RESULT_EXPLAIN_SLOT = _PendingMatchResult.__dict__["_explain"]
