"""Cell parsers: one roster cell (already trimmed) → a field value, or ``BadCell`` with the
reason a person can act on ("nps '11' is outside 0-10").

Numbers go through ``bot.domain.inputs`` first, so a cell like ``1e1000000`` is refused
on its shape before any arithmetic.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from babel import Locale
from email_validator import EmailNotValidError, validate_email

from bot.domain.errors import InvalidInput
from bot.domain.hours import WorkingHours
from bot.domain.inputs import (
    LATEST_DATE,
    MAX_LIMIT_COUNT,
    MAX_POINTS,
    decimal_or_none,
    refuse_control_characters,
)
from bot.domain.limits import MAX_COOLDOWN_DAYS
from bot.domain.model import Advocate, AdvocateStatus, CompanySize, ReferenceType
from bot.i18n import normalize
from bot.roster_csv.columns import normalize_header
from bot.services.locales import language_code


def _model_default(name: str) -> Any:
    """The Advocate field's default, so a blank cell means what a new Advocate() means."""
    return Advocate.__dataclass_fields__[name].default


class BadCell(Exception):
    """A cell that cannot be used; the message is the whole reason, ready for the user."""


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _needs_guard(cell: str) -> bool:
    # A value that already starts with "'" before a formula character is guarded too, so
    # that un-guarding on import gives back exactly the value that was exported.
    return cell.startswith(_FORMULA_START) or (cell[:1] == "'" and _needs_guard(cell[1:]))


def guard_formula(cell: str) -> str:
    """Keep spreadsheets from running a cell as a formula (=, +, -, @ at the start) by
    prefixing an apostrophe (OWASP's advice for CSV injection)."""
    return "'" + cell if _needs_guard(cell) else cell


def unguard_formula(cell: str) -> str:
    """Undo ``guard_formula``: the import reads back exactly what was exported."""
    return cell[1:] if cell[:1] == "'" and _needs_guard(cell[1:]) else cell


def split_multi(value: str) -> tuple[str, ...]:
    """Split a multi-value cell: on ``;`` when there is one (so "Acme, Inc.; Globex" works),
    else on ``,``; line breaks always separate. Blanks and repeats (ignoring case) go."""
    separator = ";" if ";" in value else ","
    parts = (p.strip() for chunk in value.splitlines() for p in chunk.split(separator))
    seen: set[str] = set()
    result = []
    for part in parts:
        if part and part.lower() not in seen:
            seen.add(part.lower())
            result.append(part)
    return tuple(result)


def join_multi(values: Iterable[str]) -> str:
    """The inverse of ``split_multi``: "; "-joined; a lone value holding a comma gets a
    trailing ";" so that it is not split on the comma when read back."""
    values = list(values)
    text = "; ".join(values)
    if len(values) == 1 and ("," in text or "\n" in text):
        text += ";"
    return text


# An everyday address: ASCII, dot-atom local part, a domain of LDH labels ending in an
# alphabetic top-level domain, no punycode. ``email_validator`` accepts every one of these unchanged
# (tests/unit/test_roster_parsing.py checks that); it is only asked about the rest, since
# its full check costs ~0.5 ms an address and a roster has 100,000 of them.
_PLAIN_EMAIL = re.compile(
    r"(?=.{1,254}$)(?=[^@]{1,64}@)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
    r"(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
# Top-level domains email_validator refuses as special-use (RFC 6761 and friends).
_SPECIAL_TLDS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})


def parse_email(value: str, label: str = "email") -> str:
    """A syntactically valid address, lower-cased (addresses are matched ignoring case)."""
    if not value:
        raise BadCell(f"{label} is empty")
    lowered = value.lower()
    if (_PLAIN_EMAIL.fullmatch(value) and lowered.rsplit(".", 1)[1] not in _SPECIAL_TLDS
            and "xn--" not in lowered):  # the validator spells punycode domains in Unicode
        return lowered
    return _validated_email(value, label)


@lru_cache(maxsize=4096)
def _validated_email(value: str, label: str) -> str:
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        reason = str(error).rstrip(".")
        reason = reason[:1].lower() + reason[1:]
        raise BadCell(f"{label} {value!r} is not a valid email address: {reason}") from None
    return result.normalized.lower()


@lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    return {zone.lower(): zone for zone in available_timezones()}


_GMT_PREFIX = re.compile(r"^\(?\s*(?:gmt|utc)\s*(?:[+\-\u2212]\s*\d{1,2}(?::?\d{2})?)?\s*\)\s*",
                         re.IGNORECASE)
_TRAILING_ZONE = re.compile(r"\(([^()]+/[^()]+)\)\s*$")


def parse_call_hours(value: str, label: str = "call hours") -> str:
    """When an advocate takes calls, in the canonical spelling (``Mon-Fri 09:00-18:00``);
    people write it many ways ("9-17", "weekdays 8:30am-5pm", "Mon, Wed 10-16"). Blank →
    "" (the program's default)."""
    if not value:
        return ""
    try:
        return WorkingHours.parse(value).text()
    except InvalidInput:
        raise BadCell(f"{label} {value[:60]!r} are not hours like 'Mon-Fri 09:00-18:00' "
                      "or '9-17'") from None


def parse_timezone(value: str, label: str = "time zone") -> str:
    """An IANA zone name, in its canonical spelling. Also understood: any case, Salesforce's
    "(GMT+01:00) Central European Standard Time (Europe/Paris)" and HubSpot's
    "(GMT+01:00) Europe/Paris" or "europe_slash_paris". Blank → UTC."""
    if not value:
        return "UTC"
    candidates = [value]
    trailing = _TRAILING_ZONE.search(value)
    if trailing:
        candidates.append(trailing.group(1))
    rest = _GMT_PREFIX.sub("", value)
    candidates.append(rest.replace(" ", "_"))
    candidates.append(value.replace("_slash_", "/"))
    for candidate in candidates:
        zone = _zones().get(candidate.strip().lower())
        if zone:
            return zone
    raise BadCell(f"{label} {value!r} is not an IANA time zone (expected e.g. Europe/Paris or "
               "America/New_York)")


_REFERENCE_TYPE_WORDS: dict[str, ReferenceType] = {}
for _type, _words in {
    ReferenceType.CALL: ("call", "calls", "reference call", "reference calls", "phone",
                         "phone call", "telephone", "peer call", "customer call"),
    ReferenceType.VIDEO_CALL: ("video call", "video calls", "video", "videocall", "zoom",
                               "zoom call", "teams call", "video conference"),
    ReferenceType.EMAIL: ("email", "e mail", "written", "email written", "email or written",
                          "email reference", "written reference", "email references",
                          "written references", "email only"),
    ReferenceType.SITE_VISIT: ("site visit", "site visits", "on site visit", "onsite visit",
                               "onsite", "on site", "site tour", "host site visit"),
    ReferenceType.SPEAKING: ("speaking", "speaker", "speaking engagement",
                             "speaking engagements", "event", "events", "event speaker",
                             "conference", "webinar", "panel", "panelist"),
    ReferenceType.CASE_STUDY: ("case study", "case studies", "casestudy", "success story",
                               "customer story"),
}.items():
    _REFERENCE_TYPE_WORDS[normalize_header(_type.value)] = _type
    _REFERENCE_TYPE_WORDS[normalize_header(_type.label)] = _type
    for _word in _words:
        _REFERENCE_TYPE_WORDS[_word] = _type

_REFERENCE_TYPES_EXPECTED = "call, video call, email, site visit, speaking or case study"


def parse_reference_types(value: str, label: str = "reference types") -> frozenset[ReferenceType]:
    """Reference types by value ("video_call"), label ("Video call") or a common synonym
    ("Zoom", "webinar", "written"). Blank → the model's default (a call)."""
    if not value:
        return _model_default("reference_types")
    found: set[ReferenceType] = set()
    unknown = []
    for part in split_multi(value):
        kind = _REFERENCE_TYPE_WORDS.get(normalize_header(part))
        if kind is None:
            unknown.append(repr(part))
        else:
            found.add(kind)
    if unknown:
        noun = "reference type" if len(unknown) == 1 else "reference types"
        raise BadCell(f"{label}: unknown {noun} {', '.join(unknown)} "
                   f"(expected {_REFERENCE_TYPES_EXPECTED})")
    return frozenset(found)


def parse_languages(value: str) -> tuple[str, ...]:
    """Language names, one spelling per language: a code or a name in one of the
    languages people here write in (``ja``, ``pt-BR``, ``Japanese``, ``日本語``,
    ``Japanisch``) becomes Babel's English name (``Japanese``, ``Portuguese``), so the
    intake's choice matches it however either was written. Anything else is kept (a
    lower-case word gets a capital). Blank → the model's default (English)."""
    if not value:
        return _model_default("languages")
    result: list[str] = []
    for part in split_multi(value):
        code = language_code(part)
        name = _ENGLISH.languages.get(code) if code else None
        if name is None:
            name = part[:1].upper() + part[1:] if part.islower() else part
        if name not in result:
            result.append(name)
    return tuple(result)


_ENGLISH = Locale.parse("en")


def parse_locale(value: str, label: str = "locale") -> str:
    """The language someone reads the bot in, as Babel names the locale (``ja_JP``,
    ``ja``): a code in any case or separator (``ja``, ``ja-JP``, ``ja_JP``) or a
    language's name (``Japanese``, ``日本語``). Blank → "" (not said)."""
    if not value:
        return ""
    found = normalize(value)
    if found is None:
        raise BadCell(f"{label} {value[:40]!r} is not a language or locale like 'ja', "
                      "'ja-JP' or 'Japanese'")
    return found


_REGION_WORDS = {
    "emea": "EMEA", "europe": "EMEA", "eu": "EMEA", "europe middle east africa": "EMEA",
    "europe middle east and africa": "EMEA",
    "na": "NA", "north america": "NA", "noram": "NA",
    "apac": "APAC", "apj": "APAC", "asia pacific": "APAC", "asia pacific japan": "APAC",
    "latam": "LATAM", "latin america": "LATAM", "south america": "LATAM",
    "lac": "LATAM", "latam caribbean": "LATAM", "latin america caribbean": "LATAM",
}


def parse_region(value: str) -> str:
    """The program's region codes (EMEA, NA, APAC, LATAM) from common spellings; anything
    else is kept as written (regions are the program's own vocabulary)."""
    return _REGION_WORDS.get(normalize_header(value), value)


_COUNTRY_REGIONS: dict[str, str] = {}
for _region, _countries in {
    "NA": "United States, United States of America, USA, US, U.S., U.S.A., America, Canada, "
          "CA",
    "LATAM": "Mexico, MX, Brazil, Brasil, BR, Argentina, AR, Chile, CL, Colombia, CO, Peru, "
             "PE, Uruguay, UY, Paraguay, PY, Bolivia, BO, Ecuador, EC, Venezuela, VE, "
             "Costa Rica, CR, Panama, PA, Guatemala, GT, Dominican Republic, DO",
    "APAC": "Australia, AU, New Zealand, NZ, Japan, JP, China, CN, Hong Kong, HK, Taiwan, TW, "
            "Singapore, SG, India, IN, South Korea, Korea, Republic of Korea, KR, Indonesia, "
            "ID, Malaysia, MY, Philippines, PH, Thailand, TH, Vietnam, Viet Nam, VN",
    "EMEA": "United Kingdom, UK, GB, Great Britain, England, Scotland, Wales, Ireland, IE, "
            "Germany, Deutschland, DE, France, FR, Spain, ES, Portugal, PT, Italy, IT, "
            "Netherlands, The Netherlands, NL, Belgium, BE, Luxembourg, LU, Switzerland, CH, "
            "Austria, AT, Sweden, SE, Norway, NO, Denmark, DK, Finland, FI, Iceland, IS, "
            "Poland, PL, Czechia, Czech Republic, CZ, Slovakia, SK, Hungary, HU, Romania, RO, "
            "Bulgaria, BG, Greece, GR, Croatia, HR, Slovenia, SI, Serbia, RS, Estonia, EE, "
            "Latvia, LV, Lithuania, LT, Ukraine, UA, Turkey, Türkiye, TR, Israel, IL, "
            "United Arab Emirates, UAE, AE, Saudi Arabia, SA, Qatar, QA, Kuwait, KW, "
            "Bahrain, BH, Oman, OM, Egypt, EG, Morocco, MA, Nigeria, NG, Kenya, KE, "
            "South Africa, ZA, Ghana, GH, Malta, MT, Cyprus, CY",
}.items():
    for _country in _countries.split(","):
        _COUNTRY_REGIONS[normalize_header(_country)] = _region


def region_for_country(country: str) -> str:
    """The region of a common country name or ISO code, or "" when we do not know it."""
    return _COUNTRY_REGIONS.get(normalize_header(country), "")


def _number(value: str) -> Decimal:
    """A finite number from a cell ("87.5", "1,200", "90%"), checked on its length and
    shape before any arithmetic (``bot.domain.inputs``): ``1e1000000`` costs nothing."""
    number = decimal_or_none(value.strip().removesuffix("%"))
    if number is None:
        raise ValueError(value)
    return number


def parse_score(value: str, label: str, low: int, high: int) -> int | None:
    """A score in ``low..high``; decimals round half up (CS tools export 87.5). Blank → None."""
    if not value:
        return None
    try:
        number = _number(value)
    except ValueError:
        raise BadCell(f"{label} {value!r} is not a number") from None
    if not low - 1 < number < high + 1:
        raise BadCell(f"{label} {value!r} is outside {low}-{high}")
    score = int(number.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if not low <= score <= high:
        raise BadCell(f"{label} {value!r} is outside {low}-{high}")
    return score


def parse_count(value: str, label: str, high: int = MAX_POINTS) -> int | None:
    """A whole number from 0 to ``high`` (limits, points). Blank → None."""
    if not value:
        return None
    try:
        number = _number(value)
    except ValueError:
        raise BadCell(f"{label} {value!r} is not a whole number") from None
    if number != number.to_integral_value():
        raise BadCell(f"{label} {value!r} is not a whole number")
    if number < 0:
        raise BadCell(f"{label} {value!r} is negative")
    if number > high:
        raise BadCell(f"{label} {value!r} is more than {high:,}")
    return int(number)


_SIZE_BANDS = ((50, CompanySize.XS), (200, CompanySize.S), (1000, CompanySize.M),
               (5000, CompanySize.L))


def size_for_employees(employees: int) -> CompanySize:
    """The company-size band of an employee count."""
    for upper, band in _SIZE_BANDS:
        if employees <= upper:
            return band
    return CompanySize.XL


_SIZE_CODES = {band.name.lower(): band for band in CompanySize}
_SIZE_EXPECTED = "a number of employees or a band: 1-50, 51-200, 201-1000, 1001-5000, 5001+"


def parse_company_size(value: str, label: str = "company size") -> CompanySize | None:
    """A band from an employee count ("1,200" → 1001-5000), a range ("11-50", by its upper
    end), "N+" or a band code (XS…XL). Blank → None."""
    if not value:
        return None
    text = value.replace("\u2013", "-").replace("\u2014", "-").replace(" ", "").lower()
    if text in _SIZE_CODES:
        return _SIZE_CODES[text]
    match = re.fullmatch(r"([\d,.]+)(?:-([\d,.]+)|\+)?(?:employees)?", text)
    try:
        if match is None:
            raise ValueError(value)
        number = _number(match.group(2) or match.group(1))
    except ValueError:
        raise BadCell(f"{label} {value!r} is not {_SIZE_EXPECTED}") from None
    if number < 0 or number != number.to_integral_value():
        raise BadCell(f"{label} {value!r} is not {_SIZE_EXPECTED}")
    return size_for_employees(int(min(number, 10**9)))


_TRUE = {"yes", "y", "true", "t", "1", "x", "✓", "✔", "checked", "on", "opted in", "opt in",
         "granted", "given", "consented", "ok"}
_FALSE = {"no", "n", "false", "f", "0", "unchecked", "off", "opted out", "opt out", "declined",
          "refused", "revoked", "withdrawn", "not given", "none"}


def parse_bool(value: str, label: str) -> bool | None:
    """yes/no in the usual spellings (true/false, 1/0, x, opted in/out). Blank → None."""
    if not value:
        return None
    word = " ".join(re.findall(r"[^\W_]+|[✓✔]", value.lower()))
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise BadCell(f"{label} {value!r} is not yes or no")


_STATUS_WORDS = {
    "active": AdvocateStatus.ACTIVE, "available": AdvocateStatus.ACTIVE,
    "paused": AdvocateStatus.PAUSED, "pause": AdvocateStatus.PAUSED,
    "inactive": AdvocateStatus.PAUSED, "on hold": AdvocateStatus.PAUSED,
    "retired": AdvocateStatus.RETIRED, "former": AdvocateStatus.RETIRED,
    "left": AdvocateStatus.RETIRED, "alumni": AdvocateStatus.RETIRED,
}


def parse_status(value: str, label: str = "status") -> AdvocateStatus | None:
    """active / paused / retired (and a few synonyms). Blank → None (keep)."""
    if not value:
        return None
    status = _STATUS_WORDS.get(normalize_header(value))
    if status is None:
        raise BadCell(f"{label}: unknown status {value!r} (expected active, paused or retired)")
    return status


_ISO_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?")
_DOTTED_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})(?: .*)?")
_SLASHED_DATE = re.compile(r"(\d{1,2})[/-](\d{1,2})[/-](\d{2}|\d{4})(?: .*)?")
EARLIEST_DATE = date(1900, 1, 1)
_WORD_DATE_FORMATS = ("%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y")


def infer_day_first(values: Iterable[str]) -> bool | None:
    """Decide whether a file's slashed dates are day/month or month/day from the dates that
    can only be read one way (31/05 vs 05/31). None when nothing (or both) says."""
    day_first = month_first = False
    for value in values:
        match = _SLASHED_DATE.fullmatch(value.strip())
        if match:
            first, second = int(match.group(1)), int(match.group(2))
            day_first |= first > 12 >= second
            month_first |= second > 12 >= first
    if day_first == month_first:
        return None
    return day_first


def _year(text: str) -> int:
    year = int(text)
    return year + 2000 if len(text) == 2 else year


def parse_date(value: str, label: str, day_first: bool | None = None) -> date | None:
    """ISO dates (time part ignored), 31.05.2026, slashed dates (the order from ``day_first``
    unless the numbers decide it) and "31 May 2026", from 1900 to 2999. Blank → None."""
    if not value:
        return None
    day = _read_date(value, label, day_first)
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise BadCell(f"{label} {value!r} is out of range (expected a date from "
                      f"{EARLIEST_DATE.year} to {LATEST_DATE.year})")
    return day


def _read_date(value: str, label: str, day_first: bool | None) -> date:
    try:
        if match := _ISO_DATE.fullmatch(value):
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        if match := _DOTTED_DATE.fullmatch(value):
            return date(_year(match.group(3)), int(match.group(2)), int(match.group(1)))
        if match := _SLASHED_DATE.fullmatch(value):
            first, second, year = int(match.group(1)), int(match.group(2)), match.group(3)
            if first > 12:
                return date(_year(year), second, first)
            if second > 12:
                return date(_year(year), first, second)
            if first == second:
                return date(_year(year), first, second)
            if day_first is None:
                raise BadCell(
                    f"{label} {value!r} is ambiguous (day/month or month/day?): write it as "
                    "YYYY-MM-DD, or pass --day-first or --month-first"
                )
            if day_first:
                return date(_year(year), second, first)
            return date(_year(year), first, second)
        for fmt in _WORD_DATE_FORMATS:
            try:
                return datetime.strptime(value, fmt).date()
            except ValueError:
                continue
    except ValueError:
        pass
    raise BadCell(f"{label} {value!r} is not a date (expected YYYY-MM-DD)")


def parse_datetime(value: str, label: str, day_first: bool | None = None) -> datetime | None:
    """An ISO 8601 moment (no offset = UTC) or a date (midnight UTC). Blank → None."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
        parse_date(moment.date().isoformat(), label)  # the same years as a date
        if moment.tzinfo is None or moment.utcoffset() is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except BadCell:
        raise BadCell(f"{label} {value!r} is out of range (expected a date from "
                      f"{EARLIEST_DATE.year} to {LATEST_DATE.year})") from None
    except ValueError:
        try:
            day = parse_date(value, label, day_first)
        except BadCell:
            raise BadCell(f"{label} {value!r} is not a date and time (expected ISO 8601, e.g. "
                       "2026-03-02T09:00:00+00:00)") from None
        assert day is not None
        return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _text(value: str, label: str) -> str:
    return value


def refuse_control_characters_in(value: str, label: str) -> None:
    """NUL and other control characters cannot be stored (PostgreSQL refuses NUL in text)
    and never belong in a roster; line breaks and tabs are fine."""
    try:
        refuse_control_characters(value, label)
    except InvalidInput:
        raise BadCell(f"{label} has control characters (invisible, like NUL or ESC), "
                      "which cannot be stored") from None


def cell_parser(key: str, day_first: bool | None) -> Callable[[str, str], Any]:
    """The cell parser of a field: ``(stripped cell, column label) -> value``."""
    simple: dict[str, Callable[[str, str], Any]] = {
        "email": parse_email,
        "account_owner_email": lambda v, label: parse_email(v, label) if v else None,
        "region": lambda v, label: parse_region(v),
        "company_size": parse_company_size,
        "products": lambda v, label: split_multi(v),
        "use_cases": lambda v, label: split_multi(v),
        "do_not_use_with": lambda v, label: split_multi(v),
        "languages": lambda v, label: parse_languages(v),
        "timezone": parse_timezone,
        "call_hours": parse_call_hours,
        "locale": parse_locale,
        "reference_types": parse_reference_types,
        "public_recognition": lambda v, label: bool(parse_bool(v, label)),
        "consent": parse_bool,
        "health_score": lambda v, label: parse_score(v, label, 0, 100),
        "nps": lambda v, label: parse_score(v, label, 0, 10),
        "status": parse_status,
        "points": parse_count,
        "renewal_date": lambda v, label: parse_date(v, label, day_first),
        "customer_since": lambda v, label: parse_date(v, label, day_first),
        "unavailable_until": lambda v, label: parse_date(v, label, day_first),
        "joined_on": lambda v, label: parse_date(v, label, day_first),
        "snoozed_until": lambda v, label: parse_datetime(v, label, day_first),
        "consented_at": lambda v, label: parse_datetime(v, label, day_first),
    }
    if key in simple:
        return simple[key]
    if key.startswith(("own_", "manager_")):
        high = MAX_COOLDOWN_DAYS if key.endswith("cooldown_days") else MAX_LIMIT_COUNT
        return lambda v, label: parse_count(v, label, high)
    return _text


DATE_KEYS = ("renewal_date", "customer_since", "unavailable_until", "joined_on",
             "snoozed_until", "consented_at")

