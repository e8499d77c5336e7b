"""The forms' shared vocabulary, declared once for every surface.

A form's fields, their choices and their limits are the program's, not a surface's: the
intake's reference types, company sizes, call lengths, parallel asks and time zones, the
roster's own industries, regions, languages, products and use cases, the four burnout
limits with their bounds. The form specs (``formspec.py``) take their choices from
``intake_choices`` and their bounds from ``limit_fields``; Slack's modal and Teams'
Adaptive Card render those specs, and a parity test holds them to the same fields and
choices.

Where a person types instead of choosing (an old Teams client, a pre-filled keyword),
``forgive`` reads what they meant: a language by code or name in any language (``en``,
``English``, ``英語``), an industry or region whatever its case, each turned into the
roster's own spelling so matching finds it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final

from bot.domain.limits import MAX_COOLDOWN_DAYS
from bot.domain.model import CompanySize, ReferenceType
from bot.domain.policy import LimitPolicy
from bot.i18n import parse_locale
from bot.services.intake import MAX_PARALLEL_ASKS, KnownValues, RequestDraft
from bot.services.locales import language_code

CALL_LENGTHS: Final = (15, 30, 45, 60, 90)
DEFAULT_CALL_LENGTH: Final = 30
MAX_CHOICES: Final = 60  # a big roster's vocabulary per menu: under Slack's 100, and a
# Teams card with five such menus stays under its 28 KB

# Common IANA zones for the time-zone menu; the person's own zone is always added.
COMMON_TIMEZONES: Final = (
    "UTC",
    "Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Vancouver",
    "America/Phoenix", "America/Denver", "America/Chicago", "America/Mexico_City",
    "America/New_York", "America/Toronto", "America/Halifax", "America/St_Johns",
    "America/Bogota", "America/Lima", "America/Santiago", "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
    "Atlantic/Reykjavik", "Europe/London", "Europe/Dublin", "Europe/Lisbon",
    "Europe/Madrid", "Europe/Paris", "Europe/Brussels", "Europe/Amsterdam", "Europe/Berlin",
    "Europe/Zurich", "Europe/Rome", "Europe/Vienna", "Europe/Copenhagen", "Europe/Oslo",
    "Europe/Stockholm", "Europe/Warsaw", "Europe/Prague", "Europe/Budapest",
    "Europe/Helsinki", "Europe/Athens", "Europe/Bucharest", "Europe/Kyiv", "Europe/Istanbul",
    "Europe/Moscow",
    "Africa/Casablanca", "Africa/Lagos", "Africa/Cairo", "Africa/Johannesburg",
    "Africa/Nairobi",
    "Asia/Jerusalem", "Asia/Riyadh", "Asia/Dubai", "Asia/Tehran", "Asia/Karachi",
    "Asia/Kolkata", "Asia/Kathmandu", "Asia/Dhaka", "Asia/Bangkok", "Asia/Jakarta",
    "Asia/Ho_Chi_Minh", "Asia/Singapore", "Asia/Kuala_Lumpur", "Asia/Manila",
    "Asia/Hong_Kong", "Asia/Shanghai", "Asia/Taipei", "Asia/Seoul", "Asia/Tokyo",
    "Australia/Perth", "Australia/Adelaide", "Australia/Darwin", "Australia/Brisbane",
    "Australia/Sydney", "Australia/Melbourne", "Pacific/Auckland",
)


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    title: str


# --- forgiving reading of typed values -------------------------------------------------------


def language_title(value: str, locale: str) -> str:
    """A language as the reader names it (``Japanese`` → ``日本語`` for ``ja``), or as
    written when it names no language the reader's locale knows."""
    code = language_code(value)
    reader = parse_locale(locale)
    return (reader.languages.get(code) or value) if code and reader else value


def same_value(known: Iterable[str], typed: str | None) -> str | None:
    """The roster's spelling of ``typed`` ("fintech" typed, "Fintech" known), or None."""
    wanted = (typed or "").strip().casefold()
    return next((k for k in known if k.strip().casefold() == wanted), None) if wanted else None


def same_language(known: Iterable[str], typed: str | None) -> str | None:
    """The roster's spelling of the language ``typed`` names, by code or by name."""
    exact = same_value(known, typed)
    code = language_code(typed or "")
    if exact is not None or code is None:
        return exact
    return next((k for k in known if language_code(k) == code), None)


def forgive(draft: RequestDraft, known: KnownValues) -> RequestDraft:
    """What the person meant, in the roster's words: a value nothing in the roster spells
    that way is kept as typed (validation and matching then say so)."""
    return replace(
        draft,
        language=same_language(known.languages, draft.language) or draft.language,
        industry=same_value(known.industries, draft.industry) or draft.industry,
        region=same_value(known.regions, draft.region) or draft.region,
    )


# --- the intake form's choices -------------------------------------------------------------


def _choices(values: Iterable[str], keep: Sequence[str] = (), *,
             multi: bool = False) -> list[Choice]:
    """At most ``MAX_CHOICES`` distinct values, always holding ``keep`` (a pre-filled
    answer is never lost because the roster is large). A multiple choice comes back as
    comma-separated values on some surfaces, so a value with a comma is left out there."""
    seen: dict[str, None] = {}
    for value in (*keep, *values):
        text = str(value).strip()
        if text and len(text) <= 150 and not (multi and "," in text):
            seen.setdefault(text, None)
    return [Choice(v, v) for v in list(seen)[:MAX_CHOICES]]


def timezone_choices(*wanted: str | None) -> list[Choice]:
    """The common zones plus the person's own (first when it is not a common one)."""
    extra = [z for z in wanted if z and z not in COMMON_TIMEZONES]
    zones = list(dict.fromkeys([*extra, *COMMON_TIMEZONES]))[:100]  # Slack's cap
    return [Choice(z, z.replace("_", " ")) for z in zones]


def call_lengths(*wanted: object) -> list[int]:
    """The usual call lengths, plus a pre-filled one that is not among them."""
    extra = [n for w in wanted if (n := _minutes(w)) is not None]
    return sorted({*CALL_LENGTHS, *extra})


def _minutes(raw: object) -> int | None:
    text = str(raw).strip()
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) <= 600 else None


def intake_choices(known: KnownValues, *, timezone: str,
                   keep: Mapping[str, Sequence[str]] | None = None,
                   locale: str = "en") -> dict[str, list[Choice]]:
    """Every choice the intake form offers, by field name. ``keep``: values already
    chosen (a pre-fill, a form shown again) that must stay among the choices; the
    roster's languages are named in the reader's ``locale`` (``Japanese`` reads
    ``日本語`` to a Japanese reader), their values kept as the roster spells them."""
    keep = keep or {}
    return {
        "reference_type": [Choice(t.value, t.label) for t in ReferenceType],
        "company_size": [Choice(s.value, f"{s.value} employees") for s in CompanySize],
        "call_length_minutes": [Choice(str(n), f"{n} minutes")
                                for n in call_lengths(*keep.get("call_length_minutes", ()))],
        "parallel_asks": [Choice(str(n), "1 at a time" if n == 1 else f"{n} at once")
                          for n in range(1, MAX_PARALLEL_ASKS + 1)],
        "timezone": timezone_choices(timezone),
        "industry": _choices(known.industries, keep.get("industry", ())),
        "region": _choices(known.regions, keep.get("region", ())),
        "language": [Choice(c.value, language_title(c.value, locale))
                     for c in _choices(known.languages, keep.get("language", ()))],
        "products": _choices(known.products, keep.get("products", ()), multi=True),
        "use_cases": _choices(known.use_cases, keep.get("use_cases", ()), multi=True),
    }


# --- the burnout limits as form fields -----------------------------------------------------


# The limits an advocate may set, in the order forms show them (their labels are in
# templates/text/forms/words.j2).
LIMIT_NAMES: Final = ("max_per_90_days", "max_per_365_days", "cooldown_days", "max_open_asks")


@dataclass(frozen=True, slots=True)
class LimitField:
    name: str
    low: int
    high: int
    value: int


def limit_fields(current: LimitPolicy, program: LimitPolicy) -> list[LimitField]:
    """The four limits as an advocate may set them: never looser than the program (at
    most its counts, at least its rest, and no rest longer than the domain allows)."""
    fields = []
    for name in LIMIT_NAMES:
        limit, now = int(getattr(program, name)), int(getattr(current, name))
        if name == "cooldown_days":
            fields.append(LimitField(name, limit, MAX_COOLDOWN_DAYS,
                                     min(max(now, limit), MAX_COOLDOWN_DAYS)))
        else:
            fields.append(LimitField(name, 0, limit, min(now, limit)))
    return fields
