"""The roster: CRM contact exports in, the canonical roster CSV out (docs/product.md, "Roster").

Program managers keep their advocates in Salesforce or HubSpot, so the importer reads those
exports as they come: headers are matched by name (case, punctuation and Salesforce API
suffixes ignored), cells are validated one by one, and *every* problem of *every* row is
collected before anything is written, because a program manager fixing a 2,000-row file
wants one list of everything that is wrong, not one error per attempt. The import itself
is one unit of work: all of it or none of it (unless the caller asks to skip bad rows).

The module has three layers, so that most of it can be tested without a database:

* reading (``decode_csv_bytes``, ``parse_csv``): bytes → physical-line-numbered rows;
* mapping and validation (``map_columns``, ``plan_import``): rows + the current roster →
  the advocates to create and update, or the problems per line. Pure;
* use cases (``import_roster``, ``export_roster``, ``list_advocates``, ``get_advocate``)
  working through a ``UnitOfWorkFactory``.

``docs/roster.md`` documents the header mapping and the rules below for users; keep them
in step.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email

from bot.domain.errors import DomainError, NotFound
from bot.domain.model import (
    Advocate,
    AdvocateStatus,
    CompanySize,
    ReferenceType,
)
from bot.ports import UnitOfWorkFactory
from bot.services.context import audit

CRM_IMPORT = "crm-import"
"""``consent_source`` of an advocate the program manager vouches for by importing them."""
NO_CONSENT = "crm-import: no consent"
"""``consent_source`` of an advocate imported with a consent column saying no."""

ProgressCallback = Callable[[str, int, int], None]
"""``progress(phase, done, total)``; phase is ``"check"`` or ``"write"``."""

_PROGRESS_EVERY = 250


class RosterFileError(DomainError):
    """The file as a whole cannot be read as a roster (not CSV, not UTF-8, no email column).

    A ``DomainError``, so the CLI prints it as one line and exits 1.
    """


# --- columns ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    """One roster field: its key, the header ``export`` writes, and the headers ``import``
    accepts (normalised with ``normalize_header``; earlier aliases win when a file has
    several columns for the same field)."""

    key: str
    header: str | None  # None: accepted on import only (first/last name)
    aliases: tuple[str, ...]


def _col(key: str, header: str | None, *aliases: str) -> Column:
    own = (normalize_header(header),) if header else ()
    return Column(key, header, own + tuple(normalize_header(a) for a in aliases))


def normalize_header(raw: str) -> str:
    """Reduce a header to lower-case words: ``"Country/Region"`` → ``"country region"``.

    Salesforce API names are understood too: a ``__c`` suffix is dropped and camelCase
    split (only in headers without spaces, so ``"HubSpot Owner"`` stays two words).
    """
    text = raw.replace("\ufeff", "").strip()
    text = re.sub(r"__c$", "", text, flags=re.IGNORECASE)
    if " " not in text:
        text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)
    return " ".join(re.findall(r"[^\W_]+", text.lower()))


COLUMNS: tuple[Column, ...] = (
    _col("email", "Email", "Email Address", "E-mail", "E-mail Address", "Work Email",
         "Business Email", "Contact Email", "Primary Email", "Advocate Email"),
    _col("name", "Name", "Full Name", "Contact Name", "Contact Full Name", "Advocate Name"),
    _col("first_name", None, "First Name", "FirstName", "Given Name", "First"),
    _col("last_name", None, "Last Name", "LastName", "Surname", "Family Name", "Last"),
    _col("title", "Title", "Job Title", "Position", "Job Position", "Role Title"),
    _col("company", "Company", "Company Name", "Account Name", "Account", "Associated Company",
         "Organization", "Organisation", "Organization Name", "Employer"),
    _col("account_id", "Account ID", "AccountId", "CRM Account ID", "Salesforce Account ID",
         "Account 18 Digit ID", "Company ID", "Associated Company ID", "Company Record ID"),
    _col("industry", "Industry", "Account Industry", "Company Industry", "Vertical",
         "Sector"),
    _col("region", "Region", "Sales Region", "Account Region", "Geo", "Geography", "Theater"),
    _col("country", "Country", "Mailing Country", "Country/Region", "Billing Country",
         "Account Billing Country", "Country Code", "Mailing Country Code",
         "Billing Country Code"),
    _col("company_size", "Company Size", "Number of Employees", "NumberOfEmployees",
         "Account Number of Employees", "# of Employees", "Employees", "Employee Count",
         "No. of Employees", "Company Employees", "Size"),
    _col("products", "Products", "Product", "Products Used", "Products Owned", "Product Line",
         "Product Lines", "Licensed Products", "Solutions"),
    _col("use_cases", "Use Cases", "Use Case", "UseCases", "Primary Use Case"),
    _col("languages", "Languages", "Language", "Preferred Language", "Spoken Languages",
         "Languages Spoken"),
    _col("timezone", "Time Zone", "Timezone", "TZ", "IANA Time Zone", "Time Zone Sid Key"),
    _col("reference_types", "Reference Types", "Reference Type", "Reference Activities",
         "Reference Activity", "Reference Availability", "Available For", "Willing To Do"),
    _col("public_recognition", "Public Recognition", "Public Thanks", "Thank Publicly",
         "Recognition Opt In", "Public Recognition Opt In"),
    _col("account_owner_email", "Account Owner Email", "CSM Email", "Owner Email",
         "Contact Owner Email", "Customer Success Manager Email", "Account Manager Email",
         "Account Owner", "Contact Owner", "HubSpot Owner", "Owner"),
    _col("health_score", "Health Score", "Health", "Customer Health", "Customer Health Score",
         "Account Health", "Account Health Score"),
    _col("nps", "NPS", "NPS Score", "Net Promoter Score", "Last NPS", "NPS Response"),
    _col("renewal_date", "Renewal Date", "Renewal", "Contract Renewal Date",
         "Next Renewal Date", "Contract End Date", "Subscription End Date"),
    _col("status", "Status", "Advocate Status", "Reference Status", "Program Status"),
    _col("unavailable_until", "Unavailable Until", "On Leave Until", "Out of Office Until",
         "Available From"),
    _col("snoozed_until", "Snoozed Until"),
    _col("do_not_use_with", "Do Not Use With", "Never Use With", "Excluded Prospects",
         "Excluded Companies"),
    _col("own_max_per_90_days", "Own Max per 90 Days"),
    _col("own_max_per_365_days", "Own Max per 365 Days"),
    _col("own_cooldown_days", "Own Cooldown Days"),
    _col("own_max_open_asks", "Own Max Open Asks"),
    _col("manager_max_per_90_days", "Manager Max per 90 Days", "Max per 90 Days",
         "Max per Quarter"),
    _col("manager_max_per_365_days", "Manager Max per 365 Days", "Max per 365 Days",
         "Max per Year"),
    _col("manager_cooldown_days", "Manager Cooldown Days", "Cooldown Days"),
    _col("manager_max_open_asks", "Manager Max Open Asks", "Max Open Asks"),
    _col("points", "Points", "Advocate Points", "Reference Points"),
    _col("joined_on", "Joined On", "Joined", "Join Date", "Date Joined", "Member Since",
         "Advocate Since"),
    _col("consent", "Consent", "Reference Consent", "Advocate Consent", "Consent Given",
         "Consented", "Reference Opt In"),
    _col("consent_source", "Consent Source"),
    _col("consented_at", "Consented At", "Consent Date", "Consented On", "Date of Consent"),
    _col("notes", "Notes", "Note", "Comments", "Description"),
)

CANONICAL_HEADERS: tuple[str, ...] = tuple(c.header for c in COLUMNS if c.header)
"""The headers ``export_roster`` writes, in order."""

_ALIASES: dict[str, tuple[str, int]] = {}
for _column in COLUMNS:
    for _rank, _alias in enumerate(_column.aliases):
        _ALIASES.setdefault(_alias, (_column.key, _rank))

_LIMIT_FIELDS = ("max_per_90_days", "max_per_365_days", "cooldown_days", "max_open_asks")
_NAME_KEYS = ("name", "first_name", "last_name")
# Plain attributes: a present column sets them; a blank cell sets the field's empty value.
_SIMPLE_KEYS = ("name", "title", "company", "account_id", "industry", "region", "country",
                "company_size", "products", "use_cases", "languages", "timezone",
                "reference_types", "public_recognition", "account_owner_email", "health_score",
                "nps", "renewal_date", "unavailable_until", "do_not_use_with", "notes")
# Program-managed attributes: a blank cell leaves the stored value alone (see docs).
# Status and the consent columns follow the same rule in ``_apply_consent``.
_KEEP_WHEN_BLANK_KEYS = ("snoozed_until", "points", "joined_on")


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Which file columns feed which field, in priority order (first non-empty cell wins)."""

    labels: tuple[str, ...]  # the file's headers, stripped, by column index
    sources: dict[str, tuple[int, ...]]
    unknown: tuple[str, ...]


def map_columns(header: Sequence[str]) -> ColumnMap:
    """Map a header row to roster fields; no email column is an error for the whole file."""
    labels = tuple(h.replace("\ufeff", "").strip() for h in header)
    ranked: dict[str, list[tuple[int, int]]] = {}
    unknown: list[str] = []
    for index, label in enumerate(labels):
        if not label:
            continue  # an unnamed column (trailing delimiter): nothing to map
        found = _ALIASES.get(normalize_header(label))
        if found is None:
            unknown.append(label)
            continue
        key, rank = found
        ranked.setdefault(key, []).append((rank, index))
    if "email" not in ranked:
        expected = ", ".join(f"'{a}'" for a in ("Email", "Email Address", "E-mail",
                                               "Work Email"))
        got = ", ".join(f"'{label}'" for label in labels if label) or "nothing"
        raise RosterFileError(
            f"the file has no email column: expected a header named {expected} "
            f"(found {got})"
        )
    sources = {key: tuple(i for _, i in sorted(found)) for key, found in ranked.items()}
    return ColumnMap(labels=labels, sources=sources, unknown=tuple(unknown))


def _shared_field_warnings(columns: ColumnMap) -> list[str]:
    warnings = []
    for indexes in columns.sources.values():
        if len(indexes) > 1:
            main = columns.labels[indexes[0]]
            others = ", ".join(f"'{columns.labels[i]}'" for i in indexes[1:])
            warnings.append(f"columns '{main}' and {others} hold the same field: '{main}' is "
                            "used, the others only where it is empty")
    return warnings


# --- reading bytes and CSV ---------------------------------------------------------------


def decode_csv_bytes(data: bytes, encoding: str | None = None) -> str:
    """Decode a roster file: UTF-8 (with or without BOM), or UTF-16 with a BOM.

    We do not guess legacy encodings: a Windows-1252 file decoded as anything else (or a
    UTF-8 file decoded as Windows-1252) silently mangles exactly the names that matter —
    the non-ASCII ones — and those names end up in messages to customers. Instead the error
    says what to do; ``encoding`` (the CLI's ``--encoding``) opts into a legacy codec.
    """
    if not data.strip():
        raise RosterFileError("the file is empty: expected a header row with an Email column")
    if data.startswith(b"PK\x03\x04"):
        raise RosterFileError(
            "this is an Excel workbook (.xlsx) or another zip file, not a CSV: in Excel use "
            "File > Save As > 'CSV UTF-8 (Comma delimited)'"
        )
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise RosterFileError(
            "this is an old Excel workbook (.xls), not a CSV: in Excel use File > Save As > "
            "'CSV UTF-8 (Comma delimited)'"
        )
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise RosterFileError(f"unknown encoding {encoding!r}") from None
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as error:
            raise RosterFileError(
                f"the file is not {encoding}: {_where(data, error.start)} cannot be decoded"
            ) from None
        text = text.removeprefix("\ufeff")
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")  # Excel's "Unicode text"; the BOM makes it unambiguous
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise RosterFileError(
                f"the file is not UTF-8: {_where(data, error.start)} is not valid UTF-8 — it "
                "was probably saved as Windows-1252/Latin-1 (Excel's plain 'CSV' format). "
                "Save it as 'CSV UTF-8', or import it with --encoding cp1252"
            ) from None
    if "\x00" in text:
        raise RosterFileError(
            "the file contains NUL characters, so it is not a text CSV (is it UTF-16 without "
            "a byte-order mark, or a spreadsheet?)"
        )
    return text


def _where(data: bytes, offset: int) -> str:
    line = data.count(b"\n", 0, offset) + 1
    return f"line {line} has the byte 0x{data[offset]:02X}, which"


@dataclass(frozen=True, slots=True)
class CsvTable:
    """A CSV file as header + rows, each row with the physical line it starts on."""

    header: tuple[str, ...]
    header_line: int
    rows: tuple[tuple[int, tuple[str, ...]], ...]
    warnings: tuple[str, ...] = ()


def sniff_delimiter(text: str) -> str:
    """``,`` unless the header line has more ``;`` (European Excel) or tabs (UTF-16 text)."""
    first = next((line for line in io.StringIO(text, newline="") if line.strip()), "")
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def parse_csv(text: str) -> CsvTable:
    """Split CSV text into a header and rows, numbering rows by the physical line they start
    on (header = line 1, quoted multi-line cells counted), dropping blank rows.

    Blank rows (nothing but delimiters and spaces) are skipped silently: spreadsheets are
    full of them. A Salesforce report footer ("Copyright (c) ... salesforce.com") is
    dropped with a warning. Broken quoting is an error for the whole file, because once a
    quote is unbalanced every later line boundary is a guess.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text),
                        strict=True)
    header: tuple[str, ...] | None = None
    header_line = 0
    rows: list[tuple[int, tuple[str, ...]]] = []
    previous_end = 0
    try:
        for cells in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header, header_line = tuple(cells), start
            else:
                rows.append((start, tuple(cells)))
    except csv.Error as error:
        raise RosterFileError(_csv_error(error, previous_end + 1, reader.line_num)) from None
    if header is None:
        raise RosterFileError("the file is empty: expected a header row with an Email column")
    rows, warnings = _drop_salesforce_footer(rows)
    return CsvTable(header=header, header_line=header_line, rows=tuple(rows),
                    warnings=tuple(warnings))


def _csv_error(error: csv.Error, start: int, end: int) -> str:
    message = str(error)
    if "unexpected end of data" in message or "field larger than field limit" in message:
        return (f"line {start}: a quoted cell that starts on this line is never closed "
                "(a missing \")")
    if "expected after" in message:
        return (f"line {end}: a quote in the middle of a quoted cell must be doubled (\"\"), "
                f"as Excel writes it ({message})")
    return f"line {end}: not valid CSV ({message})"


_SALESFORCE_COPYRIGHT = re.compile(r"^copyright \(c\).*salesforce", re.IGNORECASE)


def _drop_salesforce_footer(
    rows: list[tuple[int, tuple[str, ...]]],
) -> tuple[list[tuple[int, tuple[str, ...]]], list[str]]:
    """Salesforce report exports end with one-cell rows: report name, copyright, "Generated
    By"... They are not advocates; drop them (and the one-cell rows just before them)."""
    for index, (_, cells) in enumerate(rows):
        if len(cells) == 1 and _SALESFORCE_COPYRIGHT.match(cells[0].strip()):
            start = index
            while start > 0 and len(rows[start - 1][1]) == 1:
                start -= 1
            lines = f"lines {rows[start][0]}-{rows[-1][0]}"
            return rows[:start], [f"ignored the Salesforce report footer ({lines})"]
    return rows, []


# --- cell parsers ------------------------------------------------------------------------


def _model_default(name: str) -> Any:
    """The Advocate field's default, so a blank cell means what a new Advocate() means."""
    return Advocate.__dataclass_fields__[name].default


class _Bad(Exception):
    """A cell that cannot be used; the message is the whole reason, ready for the user."""


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _needs_guard(cell: str) -> bool:
    # A value that already starts with "'" before a formula character is guarded too, so
    # that un-guarding on import gives back exactly the value that was exported.
    return cell.startswith(_FORMULA_START) or (cell[:1] == "'" and _needs_guard(cell[1:]))


def _guard(cell: str) -> str:
    """Keep spreadsheets from running a cell as a formula (=, +, -, @ at the start) by
    prefixing an apostrophe (OWASP's advice for CSV injection)."""
    return "'" + cell if _needs_guard(cell) else cell


def _unguard(cell: str) -> str:
    """Undo ``_guard``: the import reads back exactly what was exported."""
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


def parse_email(value: str, label: str = "email") -> str:
    """A syntactically valid address, lower-cased (addresses are matched ignoring case)."""
    if not value:
        raise _Bad(f"{label} is empty")
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        reason = str(error).rstrip(".")
        reason = reason[:1].lower() + reason[1:]
        raise _Bad(f"{label} {value!r} is not a valid email address: {reason}") from None
    return result.normalized.lower()


@lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    return {zone.lower(): zone for zone in available_timezones()}


_GMT_PREFIX = re.compile(r"^\(?\s*(?:gmt|utc)\s*(?:[+\-\u2212]\s*\d{1,2}(?::?\d{2})?)?\s*\)\s*",
                         re.IGNORECASE)
_TRAILING_ZONE = re.compile(r"\(([^()]+/[^()]+)\)\s*$")


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
    raise _Bad(f"{label} {value!r} is not an IANA time zone (expected e.g. Europe/Paris or "
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
        raise _Bad(f"{label}: unknown {noun} {', '.join(unknown)} "
                   f"(expected {_REFERENCE_TYPES_EXPECTED})")
    return frozenset(found)


_LANGUAGE_CODES = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "pt": "Portuguese",
    "it": "Italian", "nl": "Dutch", "ja": "Japanese", "zh": "Chinese", "ko": "Korean",
    "sv": "Swedish", "da": "Danish", "nb": "Norwegian", "fi": "Finnish", "pl": "Polish",
    "cs": "Czech", "tr": "Turkish", "ar": "Arabic", "he": "Hebrew", "hi": "Hindi",
    "ru": "Russian", "uk": "Ukrainian", "el": "Greek", "hu": "Hungarian", "ro": "Romanian",
    "id": "Indonesian", "th": "Thai", "vi": "Vietnamese", "ms": "Malay",
}


def parse_languages(value: str) -> tuple[str, ...]:
    """Language names; ISO codes ("de", "pt-BR") become names, lower-case names get a
    capital. Blank → the model's default (English)."""
    if not value:
        return _model_default("languages")
    result: list[str] = []
    for part in split_multi(value):
        code = re.split(r"[-_]", part, maxsplit=1)[0].lower()
        name = _LANGUAGE_CODES.get(code) if len(code) == 2 and len(part) <= 5 else None
        if name is None:
            name = part[:1].upper() + part[1:] if part.islower() else part
        if name not in result:
            result.append(name)
    return tuple(result)


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
    cleaned = re.sub(r"[\s_]", "", value).rstrip("%")
    if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", cleaned):
        cleaned = cleaned.replace(",", "")  # thousands separators: "1,200"
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(value) from None
    if not number.is_finite():
        raise ValueError(value)
    return number


def parse_score(value: str, label: str, low: int, high: int) -> int | None:
    """A score in ``low..high``; decimals round half up (CS tools export 87.5). Blank → None."""
    if not value:
        return None
    try:
        number = _number(value)
    except ValueError:
        raise _Bad(f"{label} {value!r} is not a number") from None
    score = int(number.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if not low <= score <= high:
        raise _Bad(f"{label} {value!r} is outside {low}-{high}")
    return score


def parse_count(value: str, label: str) -> int | None:
    """A whole number ≥ 0 (limits, points). Blank → None."""
    if not value:
        return None
    try:
        number = _number(value)
    except ValueError:
        raise _Bad(f"{label} {value!r} is not a whole number") from None
    if number != number.to_integral_value():
        raise _Bad(f"{label} {value!r} is not a whole number")
    if number < 0:
        raise _Bad(f"{label} {value!r} is negative")
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
        raise _Bad(f"{label} {value!r} is not {_SIZE_EXPECTED}") from None
    if number < 0 or number != number.to_integral_value():
        raise _Bad(f"{label} {value!r} is not {_SIZE_EXPECTED}")
    return size_for_employees(int(number))


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
    raise _Bad(f"{label} {value!r} is not yes or no")


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
        raise _Bad(f"{label}: unknown status {value!r} (expected active, paused or retired)")
    return status


_ISO_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?")
_DOTTED_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})(?: .*)?")
_SLASHED_DATE = re.compile(r"(\d{1,2})[/-](\d{1,2})[/-](\d{2}|\d{4})(?: .*)?")
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
    unless the numbers decide it) and "31 May 2026". Blank → None."""
    if not value:
        return None
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
                raise _Bad(
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
    raise _Bad(f"{label} {value!r} is not a date (expected YYYY-MM-DD)")


def parse_datetime(value: str, label: str, day_first: bool | None = None) -> datetime | None:
    """An ISO 8601 moment (no offset = UTC) or a date (midnight UTC). Blank → None."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        try:
            day = parse_date(value, label, day_first)
        except _Bad:
            raise _Bad(f"{label} {value!r} is not a date and time (expected ISO 8601, e.g. "
                       "2026-03-02T09:00:00+00:00)") from None
        assert day is not None
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _text(value: str, label: str) -> str:
    return value


def _parser(key: str, day_first: bool | None) -> Callable[[str, str], Any]:
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
        "reference_types": parse_reference_types,
        "public_recognition": lambda v, label: bool(parse_bool(v, label)),
        "consent": parse_bool,
        "health_score": lambda v, label: parse_score(v, label, 0, 100),
        "nps": lambda v, label: parse_score(v, label, 0, 10),
        "status": parse_status,
        "points": parse_count,
        "renewal_date": lambda v, label: parse_date(v, label, day_first),
        "unavailable_until": lambda v, label: parse_date(v, label, day_first),
        "joined_on": lambda v, label: parse_date(v, label, day_first),
        "snoozed_until": lambda v, label: parse_datetime(v, label, day_first),
        "consented_at": lambda v, label: parse_datetime(v, label, day_first),
    }
    if key in simple:
        return simple[key]
    if key.startswith(("own_", "manager_")):
        return parse_count
    return _text


_DATE_KEYS = ("renewal_date", "unavailable_until", "joined_on", "snoozed_until",
              "consented_at")


# --- rows → advocates --------------------------------------------------------------------


@dataclass(slots=True)
class ParsedRow:
    """One data row: the values that parsed (by field key) and what was wrong with it."""

    line: int
    email: str  # lower-case, "" when missing or invalid
    values: dict[str, Any]
    problems: list[str]
    present: frozenset[str]  # field keys the file has a column for ("name" for any name)


def _clean(cell: str) -> str:
    """Trim a cell, undo the export's formula guard and make every line break a plain \n
    (Windows tools write \r\n inside quoted cells; Slack and Teams want \n)."""
    cell = _unguard(cell.strip()).strip()
    return cell.replace("\r\n", "\n").replace("\r", "\n") if "\r" in cell else cell


def parse_row(line: int, cells: Sequence[str], columns: ColumnMap,
              parsers: Mapping[str, Callable[[str, str], Any]]) -> ParsedRow:
    """Parse every mapped cell of a row, collecting each problem instead of stopping."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    width = len(columns.labels)
    if len(cells) > width and any(c.strip() for c in cells[width:]):
        problems.append(f"the row has {len(cells)} cells but the header has {width} "
                        "(is a comma inside a cell not quoted?)")
    for key, indexes in columns.sources.items():
        raw, index = "", indexes[0]
        for i in indexes:
            cell = _clean(cells[i]) if i < len(cells) else ""
            if cell:
                raw, index = cell, i
                break
        try:
            values[key] = parsers[key](raw, columns.labels[index])
        except _Bad as bad:
            problems.append(str(bad))
    present = set(columns.sources)
    if present & set(_NAME_KEYS):
        full = values.pop("name", "")
        first, last = values.pop("first_name", ""), values.pop("last_name", "")
        values["name"] = full or " ".join(p for p in (first, last) if p)
        present = (present - set(_NAME_KEYS)) | {"name"}
    email = values.pop("email", "") if "email" in values else ""
    return ParsedRow(line=line, email=email, values=values, problems=problems,
                     present=frozenset(present))


def merge_row(
    row: ParsedRow, current: Advocate | None, now: datetime
) -> tuple[Advocate, list[str]]:
    """Apply a parsed row to the stored advocate (or a new one); return it and the problems
    that need the stored state to see (a new advocate without a name, consent conflicts).

    Rules (documented in docs/roster.md): a column the file lacks leaves the field alone;
    a blank cell clears a CRM field but leaves program-managed fields (status, snooze,
    points, joined on, consent) alone; a new advocate counts as consented by the program
    manager unless the consent column says no, which imports them paused.
    """
    problems: list[str] = []
    values = row.values
    if current is None:
        advocate = Advocate(email=row.email, name="", company="", consent_source=CRM_IMPORT,
                            consented_at=now, joined_on=now.date())
    else:
        advocate = replace(current)
    for key in _SIMPLE_KEYS:
        if key in values:
            setattr(advocate, key, values[key])
    for key in _KEEP_WHEN_BLANK_KEYS:
        if values.get(key) is not None:
            setattr(advocate, key, values[key])
    for side in ("own", "manager"):
        limits = {name: values[f"{side}_{name}"] for name in _LIMIT_FIELDS
                  if f"{side}_{name}" in values}
        if limits:
            attr = f"{side}_limits"
            setattr(advocate, attr, replace(getattr(advocate, attr), **limits))
    for key in ("name", "company"):
        if key in row.present:
            if not getattr(advocate, key):
                problems.append(f"{key} is empty")
        elif current is None and row.email:
            problems.append(f"{row.email} is not in the roster yet, and the file has no "
                            f"{key} column to create them with")
    if not advocate.region and advocate.country:
        advocate.region = region_for_country(advocate.country)
    _apply_consent(advocate, row, current, now, problems)
    return advocate, problems


def _apply_consent(advocate: Advocate, row: ParsedRow, current: Advocate | None,
                   now: datetime, problems: list[str]) -> None:
    """Status and consent together, because "no consent" decides the status: an advocate
    without consent is never active (docs/roster.md, "Consent")."""
    values = row.values
    consent: bool | None = values.get("consent")
    status: AdvocateStatus | None = values.get("status")
    source: str = values.get("consent_source") or ""
    consented_at: datetime | None = values.get("consented_at")
    if consent is False:
        if status is AdvocateStatus.ACTIVE:
            problems.append("status 'active' needs the advocate's consent, but the consent "
                            "column says no")
        retired = (status or advocate.status) is AdvocateStatus.RETIRED
        advocate.status = AdvocateStatus.RETIRED if retired else AdvocateStatus.PAUSED
        advocate.consented_at = None
        advocate.consent_source = source or NO_CONSENT
        return
    if status is not None:
        advocate.status = status
    if consent is True or current is None:
        was_consented = current is not None and current.consented_at is not None
        if consented_at is not None:
            advocate.consented_at = consented_at
        elif not was_consented:
            advocate.consented_at = now
        if source:
            advocate.consent_source = source
        elif not was_consented or not advocate.consent_source:
            advocate.consent_source = CRM_IMPORT
        waiting_for_consent = (current is not None and current.consented_at is None
                               and current.status is AdvocateStatus.PAUSED)
        if consent is True and status is None and waiting_for_consent:
            advocate.status = AdvocateStatus.ACTIVE
    else:
        if consented_at is not None:
            advocate.consented_at = consented_at
        if source:
            advocate.consent_source = source


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Everything wrong with one line of the file."""

    line: int
    reasons: tuple[str, ...]
    email: str = ""

    def __str__(self) -> str:
        return f"line {self.line}: " + "; ".join(self.reasons)


@dataclass(slots=True)
class ImportPlan:
    """What an import would do: pure data, computed before anything is written."""

    creates: list[Advocate] = field(default_factory=list)
    updates: list[Advocate] = field(default_factory=list)
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rows: int = 0


def _owner_columns_without_emails(table: CsvTable, columns: ColumnMap,
                                  warnings: list[str]) -> ColumnMap:
    """CRM "Contact Owner" / "Account Owner" columns usually hold names, which the bot
    cannot reach anyone with. A column with no "@" at all is ignored with a warning instead
    of failing every row; a column with some addresses is validated cell by cell."""
    indexes = columns.sources.get("account_owner_email")
    if not indexes:
        return columns
    names_only = [i for i in indexes
                  if not any("@" in cells[i] for _, cells in table.rows if i < len(cells))
                  and any(i < len(cells) and cells[i].strip() for _, cells in table.rows)]
    keep = [i for i in indexes if i not in names_only]
    if not keep:  # with an email column next to it, a names column is just not needed
        labels = " and ".join(f"'{columns.labels[i]}'" for i in names_only)
        warnings.append(f"column {labels} holds names, not email addresses, so it is ignored: "
                        "add an 'Account Owner Email' column to set account owners")
    sources = dict(columns.sources)
    if keep:
        sources["account_owner_email"] = tuple(keep)
    else:
        del sources["account_owner_email"]
    return replace(columns, sources=sources)


def plan_import(
    table: CsvTable,
    existing: Mapping[str, Advocate],
    *,
    now: datetime,
    day_first: bool | None = None,
    progress: ProgressCallback | None = None,
) -> ImportPlan:
    """Validate every row against the current roster (``existing``, by lower-case email)
    and sort the valid ones into creates, updates and unchanged. Pure: writes nothing."""
    columns = map_columns(table.header)
    plan = ImportPlan(warnings=list(table.warnings), rows=len(table.rows))
    if columns.unknown:
        names = ", ".join(f"'{u}'" for u in columns.unknown)
        plan.warnings.append(f"ignored unknown columns: {names}")
    columns = _owner_columns_without_emails(table, columns, plan.warnings)
    plan.warnings.extend(_shared_field_warnings(columns))
    if day_first is None:
        date_columns = [i for key in _DATE_KEYS for i in columns.sources.get(key, ())]
        day_first = infer_day_first(cells[i] for _, cells in table.rows for i in date_columns
                                    if i < len(cells))
    parsers = {key: _parser(key, day_first) for key in columns.sources}
    first_line: dict[str, int] = {}
    total = len(table.rows)
    for done, (line, cells) in enumerate(table.rows, start=1):
        row = parse_row(line, cells, columns, parsers)
        if row.email:
            if row.email in first_line:
                row.problems.append(f"email {row.email!r} already appears on line "
                                    f"{first_line[row.email]}")
            else:
                first_line[row.email] = line
        current = existing.get(row.email) if row.email else None
        advocate, problems = merge_row(row, current, now)
        problems = row.problems + problems
        if problems:
            plan.problems.append(RowProblem(line=line, reasons=tuple(problems), email=row.email))
        elif current is None:
            plan.creates.append(advocate)
        elif advocate_to_row(advocate) == advocate_to_row(current):
            plan.unchanged += 1
        else:
            plan.updates.append(advocate)
        if progress and (done % _PROGRESS_EVERY == 0 or done == total):
            progress("check", done, total)
    return plan


# --- advocates → CSV ---------------------------------------------------------------------


def _cell_date(value: date | None) -> str:
    return value.isoformat() if value else ""


def _cell_moment(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value else ""


def _cell_int(value: int | None) -> str:
    return "" if value is None else str(value)


def _consent_cell(advocate: Advocate) -> str:
    # "no" only where importing "no" back changes nothing: consent missing and not active.
    if advocate.consented_at is not None:
        return "yes"
    return "no" if advocate.status is not AdvocateStatus.ACTIVE else ""


def advocate_to_row(advocate: Advocate) -> tuple[str, ...]:
    """An advocate as cells under ``CANONICAL_HEADERS`` (the inverse of the import)."""
    a = advocate
    types = [t.value for t in ReferenceType if t in a.reference_types]
    own, manager = a.own_limits, a.manager_limits
    cells: dict[str, str] = {
        "email": a.email, "name": a.name, "title": a.title, "company": a.company,
        "account_id": a.account_id, "industry": a.industry, "region": a.region,
        "country": a.country,
        "company_size": a.company_size.value if a.company_size else "",
        "products": join_multi(a.products), "use_cases": join_multi(a.use_cases),
        "languages": join_multi(a.languages), "timezone": a.timezone,
        "reference_types": "; ".join(types),
        "public_recognition": "yes" if a.public_recognition else "no",
        "account_owner_email": a.account_owner_email or "",
        "health_score": _cell_int(a.health_score), "nps": _cell_int(a.nps),
        "renewal_date": _cell_date(a.renewal_date), "status": a.status.value,
        "unavailable_until": _cell_date(a.unavailable_until),
        "snoozed_until": _cell_moment(a.snoozed_until),
        "do_not_use_with": join_multi(a.do_not_use_with),
        **{f"own_{n}": _cell_int(getattr(own, n)) for n in _LIMIT_FIELDS},
        **{f"manager_{n}": _cell_int(getattr(manager, n)) for n in _LIMIT_FIELDS},
        "points": str(a.points), "joined_on": _cell_date(a.joined_on),
        "consent": _consent_cell(a), "consent_source": a.consent_source,
        "consented_at": _cell_moment(a.consented_at), "notes": a.notes,
    }
    return tuple(cells[c.key] for c in COLUMNS if c.header)


def render_roster_csv(advocates: Iterable[Advocate]) -> str:
    """The canonical roster CSV (RFC 4180: CRLF, quotes only where needed; formula-like
    cells prefixed with an apostrophe, which the import removes again)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CANONICAL_HEADERS)
    for advocate in advocates:
        writer.writerow([_guard(cell) for cell in advocate_to_row(advocate)])
    return out.getvalue()


# --- use cases ---------------------------------------------------------------------------


@dataclass(slots=True)
class ImportReport:
    """What an import did (or, when ``written`` is False, would have done)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rows: int = 0  # data rows read (blank rows and footers not counted)
    written: bool = False
    dry_run: bool = False
    skip_invalid: bool = False

    @property
    def skipped(self) -> int:
        """Rows left out because they were invalid (only with ``skip_invalid``)."""
        return len(self.problems) if self.skip_invalid else 0

    @property
    def ok(self) -> bool:
        return not self.problems


def read_roster_source(source: str | bytes | Path, *, encoding: str | None = None) -> str:
    """CSV text from a path, raw bytes, or text that is already decoded."""
    if isinstance(source, Path):
        try:
            data = source.read_bytes()
        except OSError as error:
            raise RosterFileError(f"cannot read {source}: {error.strerror or error}") from None
        return decode_csv_bytes(data, encoding)
    if isinstance(source, bytes):
        return decode_csv_bytes(source, encoding)
    return source.removeprefix("\ufeff")


async def import_roster(
    uow_factory: UnitOfWorkFactory,
    source: str | bytes | Path,
    *,
    now: datetime,
    skip_invalid: bool = False,
    dry_run: bool = False,
    day_first: bool | None = None,
    encoding: str | None = None,
    progress: ProgressCallback | None = None,
    actor: str = "cli",
) -> ImportReport:
    """Upsert the roster from a CSV file (a ``Path``), its bytes, or its text.

    All or nothing: with any invalid row nothing is written (the report lists every
    problem) unless ``skip_invalid``, which writes the valid rows and reports the rest as
    skipped. The current roster is loaded once and the whole import is one unit of work,
    so 10,000 rows cost one read and one commit. Raises ``RosterFileError`` when the file
    as a whole is unusable.
    """
    table = parse_csv(read_roster_source(source, encoding=encoding))
    async with uow_factory() as uow:
        existing = {a.email.lower(): a for a in await uow.advocates.list()}
        plan = plan_import(table, existing, now=now, day_first=day_first, progress=progress)
        report = ImportReport(created=len(plan.creates), updated=len(plan.updates),
                              unchanged=plan.unchanged, problems=plan.problems,
                              warnings=plan.warnings, rows=plan.rows, dry_run=dry_run,
                              skip_invalid=skip_invalid)
        if dry_run or (plan.problems and not skip_invalid):
            return report
        total = len(plan.creates) + len(plan.updates)
        for done, advocate in enumerate([*plan.creates, *plan.updates], start=1):
            if advocate.id is None:
                await uow.advocates.add(advocate)
            else:
                await uow.advocates.update(advocate)
            if progress and (done % _PROGRESS_EVERY == 0 or done == total):
                progress("write", done, total)
        await audit(uow, now, actor, "roster.imported", "roster", created=report.created,
                    updated=report.updated, unchanged=report.unchanged,
                    skipped=report.skipped,
                    skipped_lines=[p.line for p in plan.problems] if skip_invalid else [])
        await uow.commit()
    report.written = True
    return report


async def export_roster(uow_factory: UnitOfWorkFactory) -> str:
    """The whole roster as canonical CSV, ordered by email; ``import_roster`` reads it back
    without a change."""
    async with uow_factory() as uow:
        advocates = await uow.advocates.list()
    return render_roster_csv(advocates)


async def list_advocates(uow_factory: UnitOfWorkFactory, *,
                         status: AdvocateStatus | None = None) -> list[Advocate]:
    """The roster (or the advocates with ``status``), ordered by email."""
    async with uow_factory() as uow:
        return await uow.advocates.list(status=status)


async def get_advocate(uow_factory: UnitOfWorkFactory, email: str) -> Advocate:
    """One advocate by email, ignoring case; ``NotFound`` names the email otherwise."""
    async with uow_factory() as uow:
        advocate = await uow.advocates.get_by_email(email.strip())
    if advocate is None:
        raise NotFound(f"no advocate with email {email.strip()!r} in the roster")
    return advocate


def describe(advocate: Advocate) -> list[tuple[str, str]]:
    """Every roster field of an advocate as (canonical header, cell) pairs, for ``show``."""
    return list(zip(CANONICAL_HEADERS, advocate_to_row(advocate), strict=True))
