"""Advocates → the canonical roster CSV, which the import reads back without a change."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime

from bot.domain.model import Advocate, AdvocateStatus, ReferenceType
from bot.roster_csv.cells import guard_formula, join_multi
from bot.roster_csv.columns import CANONICAL_HEADERS, COLUMNS, LIMIT_FIELDS


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


def advocate_to_row(advocate: Advocate, consent_version: str = "") -> tuple[str, ...]:
    """An advocate as cells under ``CANONICAL_HEADERS`` (the inverse of the import);
    ``consent_version``: the wording of their latest consent (the consents table)."""
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
        "call_hours": a.call_hours,
        "locale": a.locale,
        "reference_types": "; ".join(types),
        "public_recognition": "yes" if a.public_recognition else "no",
        "account_owner_email": a.account_owner_email or "",
        "health_score": _cell_int(a.health_score), "nps": _cell_int(a.nps),
        "renewal_date": _cell_date(a.renewal_date),
        "customer_since": _cell_date(a.customer_since), "status": a.status.value,
        "unavailable_until": _cell_date(a.unavailable_until),
        "snoozed_until": _cell_moment(a.snoozed_until),
        "do_not_use_with": join_multi(a.do_not_use_with),
        **{f"own_{n}": _cell_int(getattr(own, n)) for n in LIMIT_FIELDS},
        **{f"manager_{n}": _cell_int(getattr(manager, n)) for n in LIMIT_FIELDS},
        "points": str(a.points), "joined_on": _cell_date(a.joined_on),
        "consent": _consent_cell(a), "consent_source": a.consent_source,
        "consented_at": _cell_moment(a.consented_at), "consent_version": consent_version,
        "notes": a.notes,
    }
    return tuple(cells[c.key] for c in COLUMNS if c.header)


def render_roster_csv(advocates: Iterable[Advocate],
                      consent_versions: Mapping[str, str] | None = None) -> str:
    """The canonical roster CSV (RFC 4180: CRLF, quotes only where needed; formula-like
    cells prefixed with an apostrophe, which the import removes again).
    ``consent_versions``: the latest consent's wording version by lower-case email."""
    versions = consent_versions or {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CANONICAL_HEADERS)
    for advocate in advocates:
        version = versions.get(advocate.email.lower(), "")
        writer.writerow([guard_formula(cell) for cell in advocate_to_row(advocate, version)])
    return out.getvalue()



def describe(advocate: Advocate, consent_version: str = "") -> list[tuple[str, str]]:
    """Every roster field of an advocate as (canonical header, cell) pairs, for ``show``."""
    return list(zip(CANONICAL_HEADERS, advocate_to_row(advocate, consent_version),
                    strict=True))
