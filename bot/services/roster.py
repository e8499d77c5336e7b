"""The roster's use cases: import a CRM export, export the canonical CSV, list, show.

The CSV itself — reading, header mapping, cell parsing, validation, writing — is the pure
``bot.roster_csv`` package; this module is where it meets storage. An import is one unit
of work: all of it or none of it (unless the caller asks to skip bad rows), and its rows
are written with a bulk upsert (``AdvocateRepository.upsert_many``), not one by one.

``docs/roster.md`` documents the header mapping and the rules for users; keep them in step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.domain.errors import NotFound
from bot.domain.model import Advocate, AdvocateStatus
from bot.domain.nomination import ConsentRecord
from bot.ports import UnitOfWork, UnitOfWorkFactory
from bot.roster_csv import (
    CANONICAL_HEADERS,
    PROGRESS_EVERY,
    ProgressCallback,
    RosterCheck,
    RosterFileError,
    RowProblem,
    describe,
    open_roster,
    render_roster_csv,
)
from bot.roster_csv.rows import Chunk
from bot.services.consent import CURRENT_VERSION, PROGRAM_MANAGER
from bot.services.context import audit

#: Rows read per chunk: one lookup of the stored advocates and one upsert each.
_CHUNK = PROGRESS_EVERY

__all__ = [
    "CANONICAL_HEADERS",
    "ImportReport",
    "ProgressCallback",
    "RosterFileError",
    "consent_version",
    "describe",
    "export_roster",
    "get_advocate",
    "import_roster",
    "list_advocates",
]


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



async def _record_consents(uow: UnitOfWork, chunk: Chunk,
                           writes: list[tuple[Advocate, str, Advocate | None]], *,
                           now: datetime, actor: str) -> None:
    """A consent record for every advocate this import consents (new, or no longer
    without consent): the CRM's word where the row's Consent column says yes, else the
    program manager's (docs/roster.md, "Consent"); under the row's Consent Version, else
    today's wording."""
    rows = {row.email: row.values for row, _ in chunk}
    records = []
    for advocate, _, current in writes:
        if advocate.consented_at is None or (current and current.consented_at is not None):
            continue
        values = rows.get(advocate.email.lower(), {})
        records.append(ConsentRecord(
            email=advocate.email, advocate_id=advocate.id,
            version=str(values.get("consent_version") or CURRENT_VERSION),
            agreed_at=advocate.consented_at, platform="import", recorded_by=actor,
            source="crm" if values.get("consent") is True else PROGRAM_MANAGER))
    if records:
        await uow.consents.add_many(records)


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
    skipped. The file is streamed a chunk of rows at a time: rows whose fingerprint an
    earlier import stored are unchanged without being parsed; the others are checked
    against their stored advocates (one query per chunk) and upserted in one statement
    per chunk, all in one unit of work. Memory stays flat in the file's size. Raises
    ``RosterFileError`` when the file as a whole is unusable.
    """
    table = open_roster(source, encoding=encoding)
    async with uow_factory() as uow:
        # Every stored email with its fingerprint: rows a fingerprint vouches for are not
        # parsed, and only emails the roster has are looked up (none in a first import).
        stored_keys = await uow.advocates.import_fingerprints()
        check = RosterCheck(table, now=now, day_first=day_first, known={
            fingerprint: key for key, fingerprint in stored_keys.items() if fingerprint})
        for done, chunk in check.chunks(_CHUNK):
            emails = [r.email for r, _ in chunk if r.email in stored_keys]
            if chunk:
                stored = await uow.advocates.get_many_by_email(emails) if emails else {}
                writes = check.sort(chunk, stored)
                if not dry_run and (skip_invalid or not check.problems):
                    await uow.advocates.upsert_many([(a, fp) for a, fp, _ in writes])
                    await _record_consents(uow, chunk, writes, now=now, actor=actor)
            if progress:
                progress("check", done, check.rows)
        report = ImportReport(created=check.created, updated=check.updated,
                              unchanged=check.unchanged, problems=check.problems,
                              warnings=check.warnings, rows=check.rows, dry_run=dry_run,
                              skip_invalid=skip_invalid)
        if dry_run or (check.problems and not skip_invalid):
            return report  # the unit of work ends without a commit: nothing is kept
        await audit(uow, now, actor, "roster.imported", "roster", created=report.created,
                    updated=report.updated, unchanged=report.unchanged,
                    skipped=report.skipped,
                    skipped_lines=[p.line for p in check.problems] if skip_invalid else [])
        await uow.commit()
    report.written = True
    return report


async def export_roster(uow_factory: UnitOfWorkFactory) -> str:
    """The whole roster as canonical CSV, ordered by email; ``import_roster`` reads it back
    without a change."""
    async with uow_factory() as uow:
        advocates = await uow.advocates.list()
        consents = await uow.consents.latest_all()
    return render_roster_csv(advocates, {k: c.version for k, c in consents.items()})


async def consent_version(uow_factory: UnitOfWorkFactory, email: str) -> str:
    """The wording version of the advocate's latest consent ("" when none is recorded)."""
    async with uow_factory() as uow:
        found = await uow.consents.latest(email.strip())
    return found.version if found else ""


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
        raise NotFound("no_advocate_with_email", email=email.strip())
    return advocate


