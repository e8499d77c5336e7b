"""Nominations and consents (``bot.domain.nomination``), and the few questions the
readiness check asks of the roster about a contact's account."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select

from bot.domain.errors import Problem
from bot.domain.model import Advocate
from bot.domain.nomination import ConsentRecord, Nomination, NominationState
from storage.repositories._base import (
    _COUNTING_ENGAGEMENT_STATES,
    _EntityRepository,
    _Repository,
    _utc,
)
from storage.repositories.advocates import _advocate
from storage.tables import AdvocateRow, ConsentRow, EngagementRow, NominationRow


def _values(n: Nomination) -> dict[str, Any]:
    return {
        "email": n.email, "email_key": n.email.strip().lower(), "name": n.name,
        "company": n.company, "reason": n.reason, "nominator_email": n.nominator_email,
        "nominator_name": n.nominator_name, "state": n.state.value,
        "readiness": [p.to_json() for p in n.readiness], "override": n.override,
        "decided_by": n.decided_by, "decided_at": _utc(n.decided_at),
        "decline_reason": n.decline_reason, "answered_at": _utc(n.answered_at),
        "advocate_id": n.advocate_id, "created_at": _utc(n.created_at),
        "updated_at": _utc(n.updated_at),
    }


def _nomination(row: NominationRow) -> Nomination:
    return Nomination(
        id=row.id, email=row.email, name=row.name, company=row.company, reason=row.reason,
        nominator_email=row.nominator_email, nominator_name=row.nominator_name,
        state=NominationState(row.state),
        readiness=tuple(Problem.from_json(p) for p in row.readiness or ()),
        override=row.override, decided_by=row.decided_by, decided_at=row.decided_at,
        decline_reason=row.decline_reason, answered_at=row.answered_at,
        advocate_id=row.advocate_id, created_at=row.created_at, updated_at=row.updated_at)


class SqlNominationRepository(_EntityRepository[Nomination, NominationRow]):
    _row = NominationRow
    _what = "nomination"
    _values = staticmethod(_values)
    _to_domain = staticmethod(_nomination)

    async def for_email(self, email: str) -> list[Nomination]:
        """Every nomination of this contact (any case), newest first."""
        stmt = (select(NominationRow).where(NominationRow.email_key == email.strip().lower())
                .order_by(NominationRow.created_at.desc(), NominationRow.id.desc()))
        return [_nomination(r) for r in await self._session.scalars(stmt)]

    async def forget(self, email: str) -> int:
        """Delete a forgotten person's nominations; how many there were."""
        result = await self._session.execute(delete(NominationRow).where(
            NominationRow.email_key == email.strip().lower()))
        return int(getattr(result, "rowcount", 0) or 0)

    async def waiting(self, *, created_before: datetime) -> list[Nomination]:
        """Pending nominations filed before this moment, oldest first (the digest)."""
        stmt = (select(NominationRow)
                .where(NominationRow.state == NominationState.PENDING.value,
                       NominationRow.created_at < _utc(created_before))
                .order_by(NominationRow.created_at, NominationRow.id))
        return [_nomination(r) for r in await self._session.scalars(stmt)]

    async def account_contacts(self, domain: str) -> list[Advocate]:
        """The roster's contacts whose email is at ``domain`` (lower-case)."""
        stmt = select(AdvocateRow).where(AdvocateRow.email_key.like(f"%@{domain}"))
        return [_advocate(r) for r in await self._session.scalars(stmt)]

    async def engagements_since(self, advocate_ids: Sequence[int], since: datetime) -> int:
        """Engagements that count toward the limits, by these advocates, since then."""
        if not advocate_ids:
            return 0
        moment = func.coalesce(EngagementRow.scheduled_at, EngagementRow.accepted_at)
        stmt = select(func.count()).select_from(EngagementRow).where(
            self._in_ids(EngagementRow.advocate_id, advocate_ids),
            EngagementRow.state.in_(_COUNTING_ENGAGEMENT_STATES),
            moment >= _utc(since))
        return int(await self._session.scalar(stmt) or 0)


def _consent(row: ConsentRow) -> ConsentRecord:
    return ConsentRecord(id=row.id, email=row.email, advocate_id=row.advocate_id,
                         version=row.version, agreed_at=row.agreed_at, platform=row.platform,
                         agreed_to=tuple(row.agreed_to or ()), source=row.source,
                         recorded_by=row.recorded_by)


def _consent_values(record: ConsentRecord) -> dict[str, Any]:
    return {"email": record.email, "email_key": record.email.strip().lower(),
            "advocate_id": record.advocate_id, "version": record.version,
            "agreed_at": _utc(record.agreed_at), "platform": record.platform,
            "agreed_to": list(record.agreed_to), "source": record.source,
            "recorded_by": record.recorded_by}


class SqlConsentRepository(_Repository):
    async def add(self, record: ConsentRecord) -> ConsentRecord:
        row = ConsentRow(**_consent_values(record))
        self._session.add(row)
        await self._session.flush()
        return _consent(row)

    async def add_many(self, records: Sequence[ConsentRecord]) -> int:
        """Record many consents in one statement (a roster import)."""
        if records:
            await self._session.execute(insert(ConsentRow), [_consent_values(r)
                                                             for r in records])
        return len(records)

    async def latest(self, email: str) -> ConsentRecord | None:
        stmt = (select(ConsentRow).where(ConsentRow.email_key == email.strip().lower())
                .order_by(ConsentRow.agreed_at.desc(), ConsentRow.id.desc()).limit(1))
        row = await self._session.scalar(stmt)
        return _consent(row) if row else None

    async def latest_all(self) -> dict[str, ConsentRecord]:
        """The latest consent of everyone, by lower-case email (the roster export)."""
        stmt = select(ConsentRow).order_by(ConsentRow.agreed_at, ConsentRow.id)
        return {row.email_key: _consent(row) for row in await self._session.scalars(stmt)}

    async def forget(self, email: str) -> int:
        """Delete a forgotten person's consents; how many there were."""
        result = await self._session.execute(
            delete(ConsentRow).where(ConsentRow.email_key == email.strip().lower()))
        return int(getattr(result, "rowcount", 0) or 0)


__all__ = ["SqlConsentRepository", "SqlNominationRepository"]
