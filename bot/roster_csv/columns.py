"""The roster's columns: the fields, the headers export writes and import accepts.

Headers are matched by name, as CRMs spell them (case, punctuation and Salesforce API
suffixes ignored); ``docs/roster.md`` lists them for users, so keep the two in step.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.roster_csv.reading import RosterFileError


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
    _col("languages", "Languages", "Language", "Spoken Languages", "Languages Spoken"),
    _col("timezone", "Time Zone", "Timezone", "TZ", "IANA Time Zone", "Time Zone Sid Key"),
    _col("call_hours", "Call Hours", "Working Hours", "Business Hours", "Available Hours",
         "Call Availability"),
    # The language they read the bot in (``languages``: what they speak on a call).
    _col("locale", "Locale", "Preferred Language", "Language Preference", "hs_language",
         "Locale__c", "Preferred_Language__c"),
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
    # The account's customer-since day (Salesforce Customer_Since__c, HubSpot
    # became_a_customer_date): the nomination readiness check's tenure.
    _col("customer_since", "Customer Since", "Customer_Since__c", "Became a Customer Date",
         "became_a_customer_date", "Customer Since Date", "Customer Start Date",
         "Client Since"),
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
    _col("consented_at", "Consent Date", "Consented At", "Consented On", "Date of Consent"),
    # The consent wording's version (bot.services.consent), from the consents table: not
    # an advocate field. An import records the row's consent under it.
    _col("consent_version", "Consent Version", "Consent Wording Version"),
    _col("notes", "Notes", "Note", "Comments", "Description"),
)

CANONICAL_HEADERS: tuple[str, ...] = tuple(c.header for c in COLUMNS if c.header)
"""The headers ``export_roster`` writes, in order."""

_ALIASES: dict[str, tuple[str, int]] = {}
for _column in COLUMNS:
    for _rank, _alias in enumerate(_column.aliases):
        _ALIASES.setdefault(_alias, (_column.key, _rank))

LIMIT_FIELDS = ("max_per_90_days", "max_per_365_days", "cooldown_days", "max_open_asks")
NAME_KEYS = ("name", "first_name", "last_name")
# Plain attributes: a present column sets them; a blank cell sets the field's empty value.
SIMPLE_KEYS = ("name", "title", "company", "account_id", "industry", "region", "country",
                "company_size", "products", "use_cases", "languages", "timezone", "call_hours",
                "locale", "reference_types", "public_recognition", "account_owner_email",
                "health_score", "nps", "renewal_date", "customer_since", "unavailable_until",
                "do_not_use_with", "notes")
# Program-managed attributes: a blank cell leaves the stored value alone (see docs).
# Status and the consent columns follow the same rule in ``_apply_consent``.
KEEP_WHEN_BLANK_KEYS = ("snoozed_until", "points", "joined_on")


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


def shared_field_warnings(columns: ColumnMap) -> list[str]:
    warnings = []
    for indexes in columns.sources.values():
        if len(indexes) > 1:
            main = columns.labels[indexes[0]]
            others = ", ".join(f"'{columns.labels[i]}'" for i in indexes[1:])
            warnings.append(f"columns '{main}' and {others} hold the same field: '{main}' is "
                            "used, the others only where it is empty")
    return warnings

