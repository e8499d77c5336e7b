"""Rows → advocates: parse each mapped cell, merge the row into the stored advocate (or a
new one), and sort the valid rows into creates, updates and unchanged. Pure.

Every problem of every row is collected before anything is written, because a program
manager fixing a 2,000-row file wants one list of everything that is wrong.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from bot.domain.inputs import has_control_characters
from bot.domain.model import Advocate, AdvocateStatus
from bot.roster_csv.cells import (
    DATE_KEYS,
    BadCell,
    cell_parser,
    infer_day_first,
    refuse_control_characters_in,
    region_for_country,
    unguard_formula,
)
from bot.roster_csv.columns import (
    KEEP_WHEN_BLANK_KEYS,
    LIMIT_FIELDS,
    NAME_KEYS,
    SIMPLE_KEYS,
    ColumnMap,
    map_columns,
    shared_field_warnings,
)
from bot.roster_csv.reading import CsvTable, SalesforceFooter
from bot.roster_csv.writing import advocate_to_row

CRM_IMPORT = "crm-import"
"""``consent_source`` of an advocate the program manager vouches for by importing them."""
NO_CONSENT = "crm-import: no consent"
"""``consent_source`` of an advocate imported with a consent column saying no."""

ProgressCallback = Callable[[str, int, int], None]
"""``progress("check", rows done, rows in the file)``, after each chunk is checked and
written."""

PROGRESS_EVERY = 250


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
    cell = unguard_formula(cell.strip()).strip()
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
    # One scan of the whole row; only a row that has a control character is checked cell
    # by cell, to say which column holds it.
    suspicious = has_control_characters("".join(cells))
    for key, indexes in columns.sources.items():
        raw, index = "", indexes[0]
        for i in indexes:
            cell = _clean(cells[i]) if i < len(cells) else ""
            if cell:
                raw, index = cell, i
                break
        try:
            if suspicious:
                refuse_control_characters_in(raw, columns.labels[index])
            values[key] = parsers[key](raw, columns.labels[index])
        except BadCell as bad:
            problems.append(str(bad))
    present = set(columns.sources)
    if present & set(NAME_KEYS):
        full = values.pop("name", "")
        first, last = values.pop("first_name", ""), values.pop("last_name", "")
        values["name"] = full or " ".join(p for p in (first, last) if p)
        present = (present - set(NAME_KEYS)) | {"name"}
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
    for key in SIMPLE_KEYS:
        if key in values:
            setattr(advocate, key, values[key])
    for key in KEEP_WHEN_BLANK_KEYS:
        if values.get(key) is not None:
            setattr(advocate, key, values[key])
    for side in ("own", "manager"):
        limits = {name: values[f"{side}_{name}"] for name in LIMIT_FIELDS
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


#: Part of every row's fingerprint: change it when parsing or merging rules change, so that
#: the next import checks every row again instead of trusting fingerprints of older rules.
RULES_VERSION = "roster-rules-1"

Chunk = list[tuple[ParsedRow, str]]
"""Parsed rows, each with its fingerprint."""


class RosterCheck:
    """One import's validation, streamed: the file is read twice (a scan for what the
    whole file decides — the date order, owner columns without addresses, a Salesforce
    footer — then the rows in chunks), never held whole.

    ``known`` maps the fingerprints stored by earlier imports to their advocates' email
    keys. A row whose fingerprint is known is unchanged — the same cells under the same
    header, date order and rules, imported into an advocate nobody has changed since
    (every other write clears the stored fingerprint) — and is counted without being
    parsed. The other rows come out of ``chunks`` parsed, and ``sort`` merges them into
    the stored advocates, counting creates, updates and unchanged rows and collecting
    every problem with its line.
    """

    def __init__(self, table: CsvTable, *, now: datetime, day_first: bool | None = None,
                 known: Mapping[str, str] | None = None) -> None:
        self.table, self.now, self.known = table, now, known or {}
        columns = map_columns(table.header)
        self.warnings: list[str] = []
        if columns.unknown:
            names = ", ".join(f"'{u}'" for u in columns.unknown)
            self.warnings.append(f"ignored unknown columns: {names}")
        self.rows, self.footer, found_day_first, columns = _scan(table, columns, self.warnings)
        self.columns = columns
        self.warnings.extend(shared_field_warnings(columns))
        self.day_first = found_day_first if day_first is None else day_first
        self.parsers = {key: cell_parser(key, self.day_first) for key in columns.sources}
        self._fingerprints = hashlib.blake2b(digest_size=16)
        self._fingerprints.update(repr((RULES_VERSION, table.header, self.day_first,
                                        sorted(columns.sources.items()))).encode())
        self.first_line: dict[str, int] = {}
        self.created = self.updated = self.unchanged = 0
        self.problems: list[RowProblem] = []

    def fingerprint(self, cells: Sequence[str]) -> str:
        digest = self._fingerprints.copy()
        digest.update("\x1f".join(cells).encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def chunks(self, size: int) -> Iterator[tuple[int, Chunk]]:
        """``(rows read so far, the parsed rows among them)`` every ``size`` rows."""
        chunk: Chunk = []
        done = 0
        for line, cells in self.table.rows():
            if self.footer and line >= self.footer:
                break
            done += 1
            fingerprint = self.fingerprint(cells)
            email = self.known.get(fingerprint)
            if email is not None and email not in self.first_line:
                self.first_line[email] = line
                self.unchanged += 1
            else:
                chunk.append((self._parse(line, cells), fingerprint))
            if done % size == 0:
                yield done, chunk
                chunk = []
        if done % size or not done:
            yield done, chunk

    def _parse(self, line: int, cells: Sequence[str]) -> ParsedRow:
        row = parse_row(line, cells, self.columns, self.parsers)
        if row.email:
            if row.email in self.first_line:
                row.problems.append(f"email {row.email!r} already appears on line "
                                    f"{self.first_line[row.email]}")
            else:
                self.first_line[row.email] = line
        return row

    def sort(self, chunk: Chunk, stored: Mapping[str, Advocate]
             ) -> list[tuple[Advocate, str, Advocate | None]]:
        """Merge a chunk into the stored advocates (by lower-case email): what to write,
        as ``(advocate, fingerprint, stored advocate or None)``. Unchanged rows that were
        checked are written too, unchanged, to store their fingerprint."""
        writes = []
        for row, fingerprint in chunk:
            current = stored.get(row.email) if row.email else None
            advocate, problems = merge_row(row, current, self.now)
            problems = row.problems + problems
            if problems:
                self.problems.append(RowProblem(line=row.line, reasons=tuple(problems),
                                                email=row.email))
                continue
            if current is None:
                self.created += 1
            elif advocate == current or advocate_to_row(advocate) == advocate_to_row(current):
                self.unchanged += 1
                advocate = current
            else:
                self.updated += 1
            writes.append((advocate, fingerprint, current))
        return writes


def _scan(table: CsvTable, columns: ColumnMap, warnings: list[str]
          ) -> tuple[int, int | None, bool | None, ColumnMap]:
    """One pass over the rows for what the whole file decides: the row count, the first
    line of a Salesforce footer, the date order and owner columns without addresses."""
    owners = columns.sources.get("account_owner_email", ())
    with_at, filled = set(), set()
    count = run = 0
    footer: int | None = None
    finder = SalesforceFooter()

    def date_cells() -> Iterator[str]:
        nonlocal count, run, footer
        date_columns = [i for key in DATE_KEYS for i in columns.sources.get(key, ())]
        for line, cells in table.rows():
            if finder.feed(line, cells):
                continue
            count += 1
            for i in owners:
                if i < len(cells):
                    with_at.update((i,) if "@" in cells[i] else ())
                    filled.update((i,) if cells[i].strip() else ())
            yield from (cells[i] for i in date_columns if i < len(cells))

    day_first = infer_day_first(date_cells())
    if finder.span:
        count -= finder.run
        footer = finder.span[0]
        warnings.append(f"ignored the Salesforce report footer (lines {finder.span[0]}-"
                        f"{finder.span[1]})")
    names_only = [i for i in owners if i not in with_at and i in filled]
    return count, footer, day_first, _without_owner_columns(columns, names_only, warnings)


def _without_owner_columns(columns: ColumnMap, names_only: Sequence[int],
                           warnings: list[str]) -> ColumnMap:
    """CRM "Contact Owner" / "Account Owner" columns usually hold names, which the bot
    cannot reach anyone with. A column with no "@" at all is ignored with a warning instead
    of failing every row; a column with some addresses is validated cell by cell."""
    indexes = columns.sources.get("account_owner_email")
    if not indexes:
        return columns
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
) -> ImportPlan:
    """Validate every row against a roster in memory (``existing``, by lower-case email)
    and sort the valid ones into creates, updates and unchanged. Pure: writes nothing.
    (``bot.services.roster`` runs the same ``RosterCheck`` chunk by chunk on storage.)"""
    check = RosterCheck(table, now=now, day_first=day_first)
    plan = ImportPlan(warnings=check.warnings, rows=check.rows, problems=check.problems)
    for _, chunk in check.chunks(PROGRESS_EVERY):
        for advocate, _, current in check.sort(chunk, existing):
            if current is None:
                plan.creates.append(advocate)
            elif advocate is not current:
                plan.updates.append(advocate)
    plan.unchanged = check.unchanged
    return plan
