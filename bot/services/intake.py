"""The intake form's content: the draft a rep sends, its validation, and the words typed
after ``/reference`` that pre-fill it.

Intake is where bad data would otherwise sneak in, so ``validate_draft`` checks the whole
form at once and names every bad field (docs/product.md, "The reference request": invalid
input is shown on the field that is wrong, never as a crash or a silent drop). Field
names in ``InvalidInput`` are ``RequestDraft``'s field names; the Slack and Teams forms map
them to their inputs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.errors import InvalidInput, Problem
from bot.domain.hours import WorkingHours, day_openings
from bot.domain.inputs import amount as parse_amount
from bot.domain.inputs import date_in_range, refuse_control_characters, whole_number
from bot.domain.model import (
    CompanySize,
    Person,
    ReferenceRequest,
    ReferenceType,
)
from bot.ports import UnitOfWork

T = TypeVar("T")

# --- limits on what a form may send ----------------------------------------------------

MAX_PROPOSED_TIMES = 3
MIN_CALL_MINUTES = 15
MAX_CALL_MINUTES = 240
DEFAULT_CALL_MINUTES = 30
MAX_PARALLEL_ASKS = 3
MAX_LIST_ITEMS = 20
#: How far ahead a reference may be needed; a later date is a typo (or a probe).
MAX_NEEDED_BY_DAYS = 2 * 366

TEXT_LIMITS: dict[str, int] = {
    "prospect_company": 200,
    "opportunity_name": 200,
    "crm_opportunity_id": 100,
    "opportunity_stage": 100,
    "industry": 100,
    "region": 100,
    "language": 60,
    "meeting_link": 500,
    "notes": 3000,
    "products": 100,  # per item
    "use_cases": 100,  # per item
}

# Words people type for each reference type, beyond its value and label.
REFERENCE_TYPE_WORDS: dict[str, ReferenceType] = {
    "call": ReferenceType.CALL,
    "phone": ReferenceType.CALL,
    "phone call": ReferenceType.CALL,
    "reference call": ReferenceType.CALL,
    "video": ReferenceType.VIDEO_CALL,
    "video call": ReferenceType.VIDEO_CALL,
    "email": ReferenceType.EMAIL,
    "e-mail": ReferenceType.EMAIL,
    "written": ReferenceType.EMAIL,
    "email/written": ReferenceType.EMAIL,
    "site visit": ReferenceType.SITE_VISIT,
    "visit": ReferenceType.SITE_VISIT,
    "onsite": ReferenceType.SITE_VISIT,
    "on-site": ReferenceType.SITE_VISIT,
    "speaking": ReferenceType.SPEAKING,
    "speaker": ReferenceType.SPEAKING,
    "case study": ReferenceType.CASE_STUDY,
    "case-study": ReferenceType.CASE_STUDY,
}


def _reference_type_lookup() -> dict[str, ReferenceType]:
    table = {t.value: t for t in ReferenceType}
    table.update({t.label.casefold(): t for t in ReferenceType})
    table.update(REFERENCE_TYPE_WORDS)
    return table


_REFERENCE_TYPES = _reference_type_lookup()
_COMPANY_SIZES = {
    **{s.value: s for s in CompanySize},
    **{s.name.casefold(): s for s in CompanySize},
}


# --- the draft and its validation --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestDraft:
    """The request form as it arrives: raw strings and lists, nothing trusted yet.

    ``needed_by`` is a date (or ``YYYY-MM-DD``); ``proposed_times`` are aware datetimes,
    ISO strings or Unix timestamps (Slack's datetime picker) — naive ones are read in
    ``timezone``, the rep's IANA zone.
    """

    prospect_company: str | None = None
    reference_type: str | None = None
    needed_by: date | str | None = None
    opportunity_name: str | None = None
    crm_opportunity_id: str | None = None
    opportunity_amount: Decimal | int | float | str | None = None
    opportunity_stage: str | None = None
    industry: str | None = None
    region: str | None = None
    company_size: str | None = None
    products: Sequence[str] | str = ()
    use_cases: Sequence[str] | str = ()
    language: str | None = None
    proposed_times: Sequence[datetime | str | int | float] = ()
    timezone: str | None = None
    call_length_minutes: int | str | None = None
    meeting_link: str | None = None
    notes: str | None = None
    parallel_asks: int | str | None = None


def with_suggested_times(draft: RequestDraft | None, hours: WorkingHours,
                         now: datetime) -> RequestDraft:
    """The form a rep opens: ``draft`` (the words typed after ``/reference``), its proposed
    times pre-filled with the start of each of the rep's next three working days in their
    ``hours``, unless they typed times of their own. The rep may change or clear them."""
    draft = draft or RequestDraft()
    if any(t not in (None, "") for t in draft.proposed_times):
        return draft
    return replace(draft, proposed_times=tuple(day_openings(hours, now, MAX_PROPOSED_TIMES)))


@dataclass(frozen=True, slots=True)
class ValidRequest:
    """A draft that passed every check: exactly the fields a ``ReferenceRequest`` needs
    from the form (``to_request`` adds the rep and the time)."""

    prospect_company: str
    reference_type: ReferenceType
    needed_by: date
    timezone: str
    opportunity_name: str = ""
    crm_opportunity_id: str = ""
    opportunity_amount: Decimal | None = None
    opportunity_stage: str = ""
    industry: str = ""
    region: str = ""
    company_size: CompanySize | None = None
    products: tuple[str, ...] = ()
    use_cases: tuple[str, ...] = ()
    language: str = ""
    proposed_times: tuple[datetime, ...] = ()
    call_length_minutes: int = DEFAULT_CALL_MINUTES
    meeting_link: str = ""
    notes: str = ""
    parallel_asks: int = 1

    def to_request(self, rep: Person, now: datetime) -> ReferenceRequest:
        return ReferenceRequest(
            rep=rep, created_at=now, updated_at=now,
            prospect_company=self.prospect_company, reference_type=self.reference_type,
            needed_by=self.needed_by, timezone=self.timezone,
            opportunity_name=self.opportunity_name,
            crm_opportunity_id=self.crm_opportunity_id,
            opportunity_amount=self.opportunity_amount,
            opportunity_stage=self.opportunity_stage, industry=self.industry,
            region=self.region, company_size=self.company_size, products=self.products,
            use_cases=self.use_cases, language=self.language,
            proposed_times=self.proposed_times, call_length_minutes=self.call_length_minutes,
            meeting_link=self.meeting_link, notes=self.notes, parallel_asks=self.parallel_asks,
        )


def _str(raw: object) -> str:
    """A form value as trimmed text; forms and chat payloads are not always typed."""
    return "" if raw is None else str(raw).strip()


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _text(draft: RequestDraft, name: str, errors: dict[str, Problem], *,
          required: Problem | None = None) -> str:
    """A trimmed text field, within its length limit; ``required`` is the problem to show
    when it is empty."""
    value = _str(getattr(draft, name))
    if not value and required:
        errors[name] = required
    elif len(value) > TEXT_LIMITS[name]:
        errors[name] = Problem("keep_under", most=TEXT_LIMITS[name])
    else:
        _collect(errors, refuse_control_characters, value, name)
    return value


def _collect(errors: dict[str, Problem], check: Callable[..., T], *args: Any, **kw: Any
             ) -> T | None:
    """Run one ``bot.domain.inputs`` check, adding its message to ``errors`` instead of
    stopping, so the form shows every bad field at once."""
    try:
        return check(*args, **kw)
    except InvalidInput as invalid:
        errors.update(invalid.errors)
        return None


def _list(draft: RequestDraft, name: str, errors: dict[str, Problem]) -> tuple[str, ...]:
    """A multi-select (or a comma-separated text box): trimmed, blanks and repeats gone."""
    raw = getattr(draft, name)
    if raw is None:
        items: list[object] = []
    elif isinstance(raw, str):
        items = list(raw.split(","))
    elif isinstance(raw, Iterable):
        items = list(raw)
    else:
        items = [raw]
    seen: set[str] = set()
    values: list[str] = []
    for item in items:
        value = str(item).strip()
        if value and value.casefold() not in seen:
            seen.add(value.casefold())
            values.append(value)
    if len(values) > MAX_LIST_ITEMS:
        errors[name] = Problem("choose_at_most", most=MAX_LIST_ITEMS)
    elif any(len(v) > TEXT_LIMITS[name] for v in values):
        errors[name] = Problem("entries_under", most=TEXT_LIMITS[name])
    else:
        for value in values:
            _collect(errors, refuse_control_characters, value, name)
    return tuple(values)


def _whole_number(raw: object, name: str, default: int, low: int, high: int,
                  problem: Problem, errors: dict[str, Problem]) -> int:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    value = _collect(errors, whole_number, raw, name, low=low, high=high, problem=problem)
    return default if value is None else value


def _parse_moment(raw: datetime | str | int | float, zone: ZoneInfo) -> datetime:
    """One proposed time as an aware UTC datetime; naive input is wall time in ``zone``."""
    if isinstance(raw, bool):
        raise ValueError(raw)
    if isinstance(raw, int | float):
        return datetime.fromtimestamp(raw, tz=UTC)
    moment = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw).strip())
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def validate_draft(draft: RequestDraft, *, now: datetime) -> ValidRequest:
    """Check the whole form and return clean values, or raise ``InvalidInput`` with one
    message per bad field (all of them at once, so the rep fixes the form in one go).

    Dates are judged on the rep's calendar: "needed by today" is fine until the rep's
    midnight, and every proposed time must fall before ``needed_by`` ends where they are.
    """
    errors: dict[str, Problem] = {}
    zone_name = _str(draft.timezone) or "UTC"
    zone = _zone(zone_name)
    if zone is None:
        errors["timezone"] = Problem("unknown_time_zone", zone=zone_name)
        zone = ZoneInfo("UTC")
    prospect = _text(draft, "prospect_company", errors,
                     required=Problem("prospect_missing"))
    reference_type = _reference_type(draft, errors)
    needed_by = _needed_by(draft, zone, now.astimezone(zone).date(), errors)
    times = _proposed_times(draft, zone, now, needed_by, reference_type, errors)
    call_length = _whole_number(
        draft.call_length_minutes, "call_length_minutes", DEFAULT_CALL_MINUTES,
        MIN_CALL_MINUTES, MAX_CALL_MINUTES,
        Problem("call_length", low=MIN_CALL_MINUTES, high=MAX_CALL_MINUTES), errors)
    parallel = _whole_number(
        draft.parallel_asks, "parallel_asks", 1, 1, MAX_PARALLEL_ASKS,
        Problem("parallel_asks", most=MAX_PARALLEL_ASKS), errors)
    link = _meeting_link(draft, errors)
    amount: Decimal | None = None
    raw_amount = draft.opportunity_amount
    if raw_amount is not None and (not isinstance(raw_amount, str) or raw_amount.strip()):
        amount = _collect(errors, parse_amount, raw_amount, "opportunity_amount")
    size = _company_size(draft, errors)
    fields = {name: _text(draft, name, errors) for name in (
        "opportunity_name", "crm_opportunity_id", "opportunity_stage", "industry", "region",
        "language", "notes")}
    products = _list(draft, "products", errors)
    use_cases = _list(draft, "use_cases", errors)
    if errors:
        raise InvalidInput(errors)
    assert reference_type is not None and needed_by is not None
    return ValidRequest(
        prospect_company=prospect, reference_type=reference_type, needed_by=needed_by,
        timezone=zone_name, opportunity_amount=amount, company_size=size, products=products,
        use_cases=use_cases, proposed_times=tuple(sorted(times)),
        call_length_minutes=call_length, meeting_link=link, parallel_asks=parallel, **fields,
    )


def _reference_type(draft: RequestDraft, errors: dict[str, Problem]) -> ReferenceType | None:
    raw_type = _str(draft.reference_type)
    if not raw_type:
        errors["reference_type"] = Problem("reference_type_missing")
        return None
    reference_type = _REFERENCE_TYPES.get(raw_type.casefold())
    if reference_type is None:
        errors["reference_type"] = Problem("choose_one_of",
                                           choices=[t.label for t in ReferenceType])
    return reference_type


def _needed_by(draft: RequestDraft, zone: ZoneInfo, today: date,
               errors: dict[str, Problem]) -> date | None:
    if draft.needed_by is None or draft.needed_by == "":
        errors["needed_by"] = Problem("needed_by_missing")
        return None
    try:
        if isinstance(draft.needed_by, datetime):
            needed_by = _parse_moment(draft.needed_by, zone).astimezone(zone).date()
        elif isinstance(draft.needed_by, date):
            needed_by = draft.needed_by
        else:
            needed_by = date.fromisoformat(str(draft.needed_by).strip())
    except (ValueError, OverflowError):
        errors["needed_by"] = Problem("not_a_date")
        return None
    if needed_by < today:
        errors["needed_by"] = Problem("date_passed")
        return needed_by
    latest = today + timedelta(days=MAX_NEEDED_BY_DAYS)
    return _collect(errors, date_in_range, needed_by, "needed_by", earliest=today,
                    latest=latest, problem=Problem("date_within_two_years"))


def _proposed_times(draft: RequestDraft, zone: ZoneInfo, now: datetime,
                    needed_by: date | None, reference_type: ReferenceType | None,
                    errors: dict[str, Problem]) -> list[datetime]:
    times: list[datetime] = []
    time_errors: list[Problem] = []
    raw_times = [t for t in draft.proposed_times if t is not None and t != ""]
    if len(raw_times) > MAX_PROPOSED_TIMES:
        time_errors.append(Problem("times_at_most", most=MAX_PROPOSED_TIMES))
    for raw in raw_times:
        try:
            times.append(_parse_moment(raw, zone))
        except (TypeError, ValueError, OverflowError, OSError):
            time_errors.append(Problem("not_a_date_time", typed=str(raw)[:40]))
    if any(t <= now for t in times):
        time_errors.append(Problem("times_in_past"))
    if needed_by is not None and times:
        end = datetime.combine(needed_by + timedelta(days=1), time(0), tzinfo=zone)
        if any(t >= end for t in times):
            time_errors.append(Problem("times_after_needed_by"))
    if len(set(times)) != len(times):
        time_errors.append(Problem("times_repeated"))
    if not raw_times and reference_type is not None and reference_type.needs_call_time:
        time_errors.append(Problem("times_missing"))
    if time_errors:
        errors["proposed_times"] = Problem("several", problems=time_errors)
    return times


def _meeting_link(draft: RequestDraft, errors: dict[str, Problem]) -> str:
    link = _text(draft, "meeting_link", errors)
    if link and "meeting_link" not in errors:
        parts = urlsplit(link)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname or any(
                c.isspace() for c in link):
            errors["meeting_link"] = Problem("meeting_link")
    return link


def _company_size(draft: RequestDraft, errors: dict[str, Problem]) -> CompanySize | None:
    raw_size = _str(draft.company_size)
    if not raw_size:
        return None
    size = _COMPANY_SIZES.get(raw_size.casefold())
    if size is None:
        errors["company_size"] = Problem("company_size", bands=[s.value for s in CompanySize])
    return size


# --- /reference keywords ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KnownValues:
    """The vocabulary of the roster, for reading ``/reference fintech payments EMEA``."""

    industries: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    use_cases: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()


def _distinct(values: Iterable[str]) -> tuple[str, ...]:
    """Unique by case, first spelling kept, sorted for stable menus."""
    found: dict[str, str] = {}
    for value in values:
        value = value.strip()
        if value:
            found.setdefault(value.casefold(), value)
    return tuple(sorted(found.values(), key=str.casefold))


async def known_values(uow: UnitOfWork) -> KnownValues:
    """What the active roster offers; also what the intake form's menus can list. Read
    from matching's copy of the roster (``active_roster``), never by loading the roster:
    the intake opens and is filed within Slack's 3 seconds at 100,000 advocates."""
    advocates = await uow.advocates.active_roster()
    if advocates is not _last_roster.advocates:  # the copy hands out one list until it changes
        _last_roster.advocates, _last_roster.known = advocates, KnownValues(
            industries=_distinct(a.industry for a in advocates),
            products=_distinct(p for a in advocates for p in a.products),
            use_cases=_distinct(u for a in advocates for u in a.use_cases),
            regions=_distinct(a.region for a in advocates),
            languages=_distinct(lang for a in advocates for lang in a.languages),
        )
    return _last_roster.known


class _LastRoster:
    """``known_values`` of the last roster list seen: matching's copy of the roster
    (``storage.roster_cache``) returns the same list until the roster changes, so opening
    and filing the intake do not walk 100,000 advocates again (57 ms) for menus that did
    not change. Holding the list keeps its identity from being reused."""

    advocates: object = None
    known = KnownValues()


_last_roster = _LastRoster()


_WORD = re.compile(r"[^\s,;]+")
_PUNCT = "\"'()[]{}.!?:"
_SINGLE = ("industry", "region", "language", "reference_type", "company_size")


def _words(text: str) -> tuple[str, ...]:
    return tuple(w.strip(_PUNCT).casefold() for w in _WORD.findall(text) if w.strip(_PUNCT))


def parse_keywords(text: str, known: KnownValues) -> RequestDraft:
    """Pre-fill the form from free words: known industries, products, use cases, regions,
    languages, reference types and company sizes are recognised (longest phrase first,
    any case); everything else is kept, in order, as notes. A single word also finds a
    product, use case or industry it uniquely belongs to ("payments" → "Payments API").
    """
    vocabulary = _vocabulary(known)
    longest = max((len(k) for k in vocabulary), default=1)
    tokens = _WORD.findall(text)
    folded = [w.strip(_PUNCT).casefold() for w in tokens]
    found = _Found()
    leftovers: list[str] = []
    i = 0
    while i < len(tokens):
        for size in range(min(longest, len(tokens) - i), 0, -1):
            hit = vocabulary.get(tuple(folded[i:i + size]))
            if hit and found.take(*hit):
                i += size
                break
        else:
            hit = _partial(folded[i], known)
            if not (hit and found.take(*hit)):
                leftovers.append(tokens[i])
            i += 1
    single = found.single
    return RequestDraft(
        industry=single.get("industry"), region=single.get("region"),
        language=single.get("language"), reference_type=single.get("reference_type"),
        company_size=single.get("company_size"), products=tuple(found.products),
        use_cases=tuple(found.use_cases), notes=" ".join(leftovers) or None,
    )


def _vocabulary(known: KnownValues) -> dict[tuple[str, ...], tuple[str, Any]]:
    """Every phrase the keywords may name, as folded words → (kind, value). Earlier kinds
    win when one phrase means two things."""
    vocabulary: dict[tuple[str, ...], tuple[str, Any]] = {}

    def learn(kind: str, phrase: str, value: Any) -> None:
        key = _words(phrase)
        if key:
            vocabulary.setdefault(key, (kind, value))

    for phrase, reference_type in _REFERENCE_TYPES.items():
        learn("reference_type", phrase, reference_type.value)
    for kind, values in (("industry", known.industries), ("product", known.products),
                         ("use_case", known.use_cases), ("region", known.regions),
                         ("language", known.languages)):
        for value in values:
            learn(kind, value, value)
    for size in CompanySize:
        learn("company_size", size.value, size.value)
    return vocabulary


@dataclass
class _Found:
    """What the keywords named so far: many products and use cases, one of the rest."""

    single: dict[str, Any] = field(default_factory=dict)
    products: list[str] = field(default_factory=list)
    use_cases: list[str] = field(default_factory=list)

    def take(self, kind: str, value: Any) -> bool:
        if kind in ("product", "use_case"):
            listed = self.products if kind == "product" else self.use_cases
            if value not in listed:
                listed.append(value)
            return True
        if kind in self.single:
            return self.single[kind] == value  # a second industry etc. stays in the notes
        self.single[kind] = value
        return True


_STOP_WORDS = frozenset({"and", "for", "the", "with", "from", "who", "our", "api", "app"})


def _partial(word: str, known: KnownValues) -> tuple[str, str] | None:
    """A word that belongs to exactly one known product, use case or industry."""
    if len(word) < 3 or word in _STOP_WORDS:
        return None
    stem = word.removesuffix("s")
    for kind, values in (("product", known.products), ("use_case", known.use_cases),
                         ("industry", known.industries)):
        owners = [v for v in values
                  if any(w.removesuffix("s") == stem for w in _words(v))]
        if len(owners) == 1:
            return kind, owners[0]
    return None
