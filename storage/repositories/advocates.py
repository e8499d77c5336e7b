"""The roster in SQL: advocates, their usage, and the bulk upsert an import uses."""

from __future__ import annotations

import builtins
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    case,
    func,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute

from bot.domain.model import (
    Advocate,
    AdvocateStatus,
    AskState,
    CompanySize,
    LimitOverrides,
    ReferenceType,
    Usage,
    ensure_utc,
)
from storage.repositories._base import (
    _COUNTING_ENGAGEMENT_STATES,
    _OPEN_ASK_STATES,
    _assign,
    _email_key,
    _EntityRepository,
    _utc,
)
from storage.roster_cache import roster_cache
from storage.tables import (
    AdvocateRow,
    AskRow,
    EngagementRow,
    RosterVersionRow,
)


def _advocate_values(a: Advocate) -> dict[str, Any]:
    return {
        "email": a.email,
        "email_key": a.email.lower(),
        "name": a.name,
        "company": a.company,
        "title": a.title,
        "account_id": a.account_id,
        "industry": a.industry,
        "region": a.region,
        "country": a.country,
        "company_size": a.company_size.value if a.company_size else None,
        "products": list(a.products),
        "use_cases": list(a.use_cases),
        "languages": list(a.languages),
        "timezone": a.timezone,
        "call_hours": a.call_hours or None,
        "locale": a.locale or None,
        "reference_types": sorted(t.value for t in a.reference_types),
        "public_recognition": a.public_recognition,
        "account_owner_email": a.account_owner_email,
        "account_owner_key": _email_key(a.account_owner_email),
        "health_score": a.health_score,
        "nps": a.nps,
        "renewal_date": a.renewal_date,
        "customer_since": a.customer_since,
        "status": a.status.value,
        "unavailable_until": a.unavailable_until,
        "snoozed_until": _utc(a.snoozed_until),
        "do_not_use_with": list(a.do_not_use_with),
        "own_max_per_90_days": a.own_limits.max_per_90_days,
        "own_max_per_365_days": a.own_limits.max_per_365_days,
        "own_cooldown_days": a.own_limits.cooldown_days,
        "own_max_open_asks": a.own_limits.max_open_asks,
        "manager_max_per_90_days": a.manager_limits.max_per_90_days,
        "manager_max_per_365_days": a.manager_limits.max_per_365_days,
        "manager_cooldown_days": a.manager_limits.cooldown_days,
        "manager_max_open_asks": a.manager_limits.max_open_asks,
        "points": a.points,
        "joined_on": a.joined_on,
        "consent_source": a.consent_source,
        "consented_at": _utc(a.consented_at),
        "notes": a.notes,
        "import_fingerprint": None,  # any write but an import's: see ``upsert_many``
    }


def _advocate(row: AdvocateRow) -> Advocate:
    return Advocate(
        id=row.id,
        email=row.email,
        name=row.name,
        company=row.company,
        title=row.title,
        account_id=row.account_id,
        industry=row.industry,
        region=row.region,
        country=row.country,
        company_size=CompanySize(row.company_size) if row.company_size else None,
        products=tuple(row.products),
        use_cases=tuple(row.use_cases),
        languages=tuple(row.languages),
        timezone=row.timezone,
        call_hours=row.call_hours or "",
        locale=row.locale or "",
        reference_types=frozenset(ReferenceType(t) for t in row.reference_types),
        public_recognition=row.public_recognition,
        account_owner_email=row.account_owner_email,
        health_score=row.health_score,
        nps=row.nps,
        renewal_date=row.renewal_date,
        customer_since=row.customer_since,
        status=AdvocateStatus(row.status),
        unavailable_until=row.unavailable_until,
        snoozed_until=row.snoozed_until,
        do_not_use_with=tuple(row.do_not_use_with),
        own_limits=LimitOverrides(
            max_per_90_days=row.own_max_per_90_days,
            max_per_365_days=row.own_max_per_365_days,
            cooldown_days=row.own_cooldown_days,
            max_open_asks=row.own_max_open_asks,
        ),
        manager_limits=LimitOverrides(
            max_per_90_days=row.manager_max_per_90_days,
            max_per_365_days=row.manager_max_per_365_days,
            cooldown_days=row.manager_cooldown_days,
            max_open_asks=row.manager_max_open_asks,
        ),
        points=row.points,
        joined_on=row.joined_on,
        consent_source=row.consent_source,
        consented_at=row.consented_at,
        notes=row.notes,
    )


#: The ``row_version`` of a row written by a transaction that has not committed yet: above
#: every real version, so a ranking in that transaction reads its own writes.
PENDING_VERSION = 2**62

#: Rows per executemany in ``upsert_many``: large enough to amortise the round trip,
#: small enough to keep memory flat.
_UPSERT_BATCH = 1000


class SqlAdvocateRepository(_EntityRepository[Advocate, AdvocateRow]):
    _row, _what = AdvocateRow, "advocate"
    _values = staticmethod(_advocate_values)
    _to_domain = staticmethod(_advocate)

    #: Set once this unit of work has written an advocate (see ``active_roster``).
    _wrote = False

    def _pending(self) -> int:
        """The row version a write carries until ``stamp_writes`` gives it the real one."""
        self._wrote = True
        return PENDING_VERSION

    async def stamp_writes(self) -> None:
        """Just before the commit: take the next roster version (the counter incremented,
        and on PostgreSQL row-locked until the commit, which orders the writers) and give
        it to the rows this transaction wrote. Only then, so that a long import does not
        hold the counter, and every other advocate write with it, for its whole length.
        The counter is upserted, so an emptied table starts again."""
        if not self._wrote:
            return
        await self._session.flush()
        insert = self._insert(RosterVersionRow.__table__)
        stmt = insert.values(id=1, version=1).on_conflict_do_update(
            index_elements=[RosterVersionRow.__table__.c.id],
            set_={"version": RosterVersionRow.__table__.c.version + 1},
        ).returning(RosterVersionRow.__table__.c.version)
        version = int((await self._session.execute(stmt)).scalar_one())
        await self._session.execute(
            update(AdvocateRow.__table__).where(AdvocateRow.row_version == PENDING_VERSION)
            .values(row_version=version))
        self._session.expire_all()
        self._wrote = False

    async def add(self, advocate: Advocate) -> Advocate:
        """Insert; a second advocate with the same email (any case) is a ``ValueError``."""
        row = AdvocateRow(**_advocate_values(advocate), row_version=self._pending())
        try:
            # A savepoint, so that a duplicate leaves the rest of the transaction usable
            # (PostgreSQL aborts the whole transaction on an error otherwise).
            async with self._session.begin_nested():
                self._session.add(row)
        except IntegrityError:
            raise ValueError(f"duplicate advocate email {advocate.email}") from None
        return _advocate(row)

    async def update(self, advocate: Advocate) -> None:
        """Store every field; changing the email to another advocate's is a ``ValueError``."""
        row = await self._require(AdvocateRow, advocate.id, "advocate")
        values = {**_advocate_values(advocate), "row_version": self._pending()}
        if values["email_key"] == row.email_key:
            _assign(row, values)
            return
        try:
            async with self._session.begin_nested():  # see add()
                _assign(row, values)
        except IntegrityError:
            raise ValueError(f"duplicate advocate email {advocate.email}") from None

    async def get_by_email(self, email: str) -> Advocate | None:
        stmt = select(AdvocateRow).where(AdvocateRow.email_key == email.lower())
        row = await self._session.scalar(stmt)
        return _advocate(row) if row else None

    async def get_many_by_email(self, emails: Sequence[str]
                                ) -> builtins.dict[str, Advocate]:
        """The advocates with these emails (any case), by lower-case email: one query."""
        keys = sorted({e.lower() for e in emails})
        if not keys:
            return {}
        await self._session.flush()
        stmt = select(*AdvocateRow.__table__.columns).where(AdvocateRow.email_key.in_(keys))
        return {row.email_key: _advocate(cast(AdvocateRow, row))
                for row in await self._session.execute(stmt)}

    async def locales(self, emails: Sequence[str]) -> builtins.dict[str, str]:
        keys = sorted({e.lower() for e in emails if e})
        if not keys:
            return {}
        await self._session.flush()
        stmt = select(AdvocateRow.email_key, AdvocateRow.locale).where(
            AdvocateRow.email_key.in_(keys), AdvocateRow.locale.is_not(None))
        return {key: locale for key, locale in await self._session.execute(stmt) if locale}

    async def import_fingerprints(self) -> builtins.dict[str, str | None]:
        """Every email key with the fingerprint the last import stored (or None)."""
        await self._session.flush()
        stmt = select(AdvocateRow.email_key, AdvocateRow.import_fingerprint)
        return {key: fingerprint for key, fingerprint in await self._session.execute(stmt)}

    async def upsert_many(self, advocates: Sequence[tuple[Advocate, str | None]]) -> None:
        """``INSERT … ON CONFLICT (email_key) DO UPDATE`` in batches, one executemany each:
        a 20,000-row import is a few dozen statements instead of 20,000 savepoints. Each
        advocate comes with the fingerprint of its roster row, stored with it."""
        if not advocates:
            return
        # The table, not the mapped class: a plain Core executemany, without the ORM's
        # per-row bookkeeping (a third of the import's time otherwise).
        insert = self._insert(AdvocateRow.__table__)
        columns = [*_advocate_values(advocates[0][0]), "row_version"]
        stmt = insert.on_conflict_do_update(
            index_elements=[AdvocateRow.__table__.c.email_key],
            set_={name: getattr(insert.excluded, name) for name in columns
                  if name != "email_key"},
        )
        await self._session.flush()
        version = self._pending()
        for start in range(0, len(advocates), _UPSERT_BATCH):
            batch = advocates[start:start + _UPSERT_BATCH]
            await self._session.execute(stmt, [
                {**_advocate_values(a), "import_fingerprint": fingerprint,
                 "row_version": version}
                for a, fingerprint in batch])
        # Rows this session loaded before are stale now: reload them when next asked for.
        self._session.expire_all()

    async def owns_accounts(self, email: str) -> bool:
        """One indexed probe (``ix_advocates_account_owner_key``), however large the roster."""
        stmt = select(AdvocateRow.id).where(
            AdvocateRow.account_owner_key == email.lower()).limit(1)
        return await self._session.scalar(stmt) is not None

    async def list(self, *, status: AdvocateStatus | None = None) -> builtins.list[Advocate]:
        # Code-point order, like Python's sort, whatever collation the database has.
        key = AdvocateRow.email_key.collate("C") if self._postgres else AdvocateRow.email_key
        stmt = select(*AdvocateRow.__table__.columns).order_by(key, AdvocateRow.id)
        if status is not None:
            stmt = stmt.where(AdvocateRow.status == status.value)
        # Plain rows rather than mapped objects: the roster can be 100k rows, and nobody
        # needs them in the identity map. Flush first, since plain rows skip autoflush.
        await self._session.flush()
        result = await self._session.execute(stmt)
        return [_advocate(cast(AdvocateRow, row)) for row in result]

    async def count(self, *, status: AdvocateStatus) -> int:
        """One indexed count (``ix_advocates_status``)."""
        await self._session.flush()
        stmt = select(func.count()).select_from(AdvocateRow).where(
            AdvocateRow.status == status.value)
        return int(await self._session.scalar(stmt) or 0)

    async def active_roster(self) -> builtins.list[Advocate]:
        """The active advocates, ordered like ``list(status=ACTIVE)``, from this process's
        copy of the roster brought up to date with one query (``storage.roster_cache``).
        Treat them as read-only: they are shared with every later ranking."""
        cache = roster_cache(self._session.sync_session.get_bind())
        await self._session.flush()
        version = await self._session.scalar(select(RosterVersionRow.version)) or 0
        if version < cache.version:
            cache.reset()
        if version == cache.version and not self._wrote:
            return cache.active()
        stmt = select(*AdvocateRow.__table__.columns).where(
            AdvocateRow.row_version > cache.version)
        # In partitions, so that reading a whole roster (at start, after a big import)
        # lets other requests run between them instead of stalling the event loop.
        changed: builtins.list[Advocate] = []
        async for rows in (await self._session.stream(stmt)).partitions(500):
            changed.extend(_advocate(cast(AdvocateRow, row)) for row in rows)
        if self._wrote:  # not committed yet (PENDING_VERSION): for this ranking only
            return cache.active(changed)
        cache.update(version, changed)
        return cache.active()

    async def usage(self, advocate_ids: Sequence[int] | None, *,
                    since: datetime) -> dict[int, Usage]:
        """Four aggregate queries for any number of advocates (not one per advocate);
        ``None``: every advocate with any usage (matching, which reads the others as
        unused), without a list of ids to send."""
        ids = None if advocate_ids is None else sorted(set(advocate_ids))
        if ids == []:
            return {}
        since = ensure_utc(since)
        times = await self._recent_engagements(ids, since)
        last_engaged = await self._last_engaged(ids)
        open_asks = await self._open_asks(ids)
        streaks = await self._decline_streaks(ids)
        everyone = {*times, *last_engaged, *open_asks, *streaks} if ids is None else ids
        result: dict[int, Usage] = {}
        for advocate_id in everyone:
            streak, last_declined = streaks.get(advocate_id, (0, None))
            result[advocate_id] = Usage(
                engagement_times=tuple(times.get(advocate_id, ())),
                open_asks=open_asks.get(advocate_id, 0),
                consecutive_declines=streak,
                last_declined_at=last_declined,
                last_engaged_at=last_engaged.get(advocate_id),
            )
        return result

    def _of(self, column: InstrumentedAttribute[int], ids: Sequence[int] | None
            ) -> ColumnElement[bool]:
        return true() if ids is None else self._in_ids(column, ids)

    async def _recent_engagements(self, ids: Sequence[int] | None, since: datetime
                                  ) -> dict[int, list[datetime]]:
        """Each advocate's counting engagements at or after ``since``, oldest first."""
        times: dict[int, list[datetime]] = defaultdict(list)
        recent = (
            select(EngagementRow.advocate_id, _COUNTS_AT)
            .where(self._of(EngagementRow.advocate_id, ids), _COUNTING, _COUNTS_AT >= since)
            .order_by(EngagementRow.advocate_id, _COUNTS_AT)
        )
        for advocate_id, at in await self._session.execute(recent):
            times[advocate_id].append(at)
        return times

    async def _last_engaged(self, ids: Sequence[int] | None) -> dict[int, datetime]:
        stmt = (select(EngagementRow.advocate_id, func.max(_COUNTS_AT))
                .where(self._of(EngagementRow.advocate_id, ids), _COUNTING)
                .group_by(EngagementRow.advocate_id))
        return {advocate_id: at for advocate_id, at in await self._session.execute(stmt)}

    async def _open_asks(self, ids: Sequence[int] | None) -> dict[int, int]:
        stmt = (select(AskRow.advocate_id, func.count())
                .where(self._of(AskRow.advocate_id, ids), AskRow.state.in_(_OPEN_ASK_STATES))
                .group_by(AskRow.advocate_id))
        return {advocate_id: count for advocate_id, count in await self._session.execute(stmt)}

    async def _decline_streaks(self, ids: Sequence[int] | None
                               ) -> dict[int, tuple[int, datetime | None]]:
        """The decline streak: declined asks answered after the advocate's last accepted
        one. Walking each advocate's answered asks newest first, a running count of
        accepted ones stays 0 exactly until the last acceptance."""
        accepted_since = (
            func.sum(case((AskRow.state == AskState.ACCEPTED.value, 1), else_=0))
            .over(
                partition_by=AskRow.advocate_id,
                order_by=(func.coalesce(AskRow.answered_at, AskRow.created_at).desc(),
                          AskRow.id.desc()),
                rows=(None, 0),
            )
            .label("accepted_since")
        )
        answered = (
            select(AskRow.advocate_id, AskRow.state, AskRow.answered_at, accepted_since)
            .where(
                self._of(AskRow.advocate_id, ids),
                AskRow.state.in_((AskState.ACCEPTED.value, AskState.DECLINED.value)),
            )
            .subquery()
        )
        stmt = (select(answered.c.advocate_id, func.count(), func.max(answered.c.answered_at))
                .where(answered.c.state == AskState.DECLINED.value,
                       answered.c.accepted_since == 0)
                .group_by(answered.c.advocate_id))
        return {advocate_id: (count, last)
                for advocate_id, count, last in await self._session.execute(stmt)}


#: When an engagement counts against the limits, and which ones do.
_COUNTS_AT = func.coalesce(EngagementRow.scheduled_at, EngagementRow.accepted_at)
_COUNTING = EngagementRow.state.in_(_COUNTING_ENGAGEMENT_STATES)
