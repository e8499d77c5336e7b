"""SQL implementations of the repository Protocols in ``bot.ports``.

Each repository works inside one ``AsyncSession`` owned by the unit of work
(``storage.uow``) and maps rows to domain dataclasses and back; callers only ever see
domain objects, so a service cannot lazy-load, mutate a row behind the repository's back
or keep a row alive past its transaction. The behaviour is the one ``tests/fakes.py``
describes; ``tests/integration/test_storage_contract.py`` checks that both agree.

Dialect differences are kept to a few spots: row locks (``FOR UPDATE`` and ``SKIP LOCKED``
exist on PostgreSQL only; SQLite's ``BEGIN IMMEDIATE`` already serialises writers),
``INSERT … ON CONFLICT DO NOTHING`` (same SQL, different constructs) and passing a long
list of ids as one parameter (an array on PostgreSQL, a JSON array on SQLite).
"""

from __future__ import annotations

import builtins
import itertools
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Text,
    and_,
    any_,
    bindparam,
    case,
    delete,
    func,
    or_,
    select,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from bot.domain.model import (
    TERMINAL_REQUEST_STATES,
    Advocate,
    AdvocateStatus,
    Ask,
    AskState,
    AuditEntry,
    CompanySize,
    Engagement,
    EngagementState,
    Identity,
    LimitOverrides,
    Outcome,
    Person,
    Platform,
    ReferenceRequest,
    ReferenceType,
    RequestState,
    Usage,
    ensure_utc,
)
from bot.domain.policy import LimitPolicy
from bot.domain.redaction import redact_json, redact_text, search_forms
from bot.ports import (
    DEFAULT_LEASE,
    AdvocateLoad,
    AdvocateQuarter,
    AdvocateScore,
    CompletedEngagement,
    DeadLetter,
    FlowStats,
    OutboxMessage,
    OutboxStatus,
    OutgoingMessage,
    RenewalCaution,
    WaitingRequest,
)
from storage.tables import (
    AdvocateRow,
    AskRow,
    AuditRow,
    EngagementRow,
    IdempotencyKeyRow,
    OutboxRow,
    PersonRow,
    RequestRow,
)

RowT = TypeVar("RowT")
EntityT = TypeVar("EntityT")

_OPEN_ASK_STATES = tuple(s.value for s in AskState if s.is_open)
_COUNTING_ENGAGEMENT_STATES = tuple(s.value for s in EngagementState if s.counts_toward_limits)
_TERMINAL_REQUEST_STATES = tuple(sorted(s.value for s in TERMINAL_REQUEST_STATES))


#: Ids are ``INTEGER`` columns: 32 bits on PostgreSQL (SQLite's are 64).
MAX_ID = 2**31 - 1


def _storable_id(value: object) -> bool:
    """An id a row can have. Ids arrive from button values and commands; one that no row
    can have is simply not found, instead of an overflow error from the driver (which
    differs between SQLite and PostgreSQL)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


class _Repository:
    """Shared plumbing: the session and the dialect-specific bits."""

    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self._session = session
        self._dialect = dialect

    @property
    def _postgres(self) -> bool:
        return self._dialect == "postgresql"

    def _lock(self, stmt: Select[Any], *, skip_locked: bool = False) -> Select[Any]:
        """``FOR UPDATE`` on PostgreSQL; nothing on SQLite, whose ``BEGIN IMMEDIATE``
        already holds the database's single write lock for the whole transaction."""
        if self._postgres:
            return stmt.with_for_update(skip_locked=skip_locked)
        return stmt

    def _insert(self, table: Any) -> Any:
        """An INSERT construct that knows ``ON CONFLICT`` for this dialect."""
        return (postgresql.insert if self._postgres else sqlite.insert)(table)

    def _in_ids(
        self, column: InstrumentedAttribute[int], ids: Sequence[int]
    ) -> ColumnElement[bool]:
        """``column IN ids`` as a single bound parameter, however many ids there are.

        Matching asks for the usage of every eligible advocate (100k of them); an expanded
        ``IN (?, ?, …)`` would exceed both databases' parameter limits (32k) and re-render
        the statement each time.
        """
        if self._postgres:
            array = bindparam("ids", list(ids), type_=postgresql.ARRAY(Integer), unique=True)
            return column == any_(array)
        each = func.json_each(bindparam("ids", json.dumps(list(ids)), unique=True))
        return column.in_(select(each.table_valued("value").c.value))

    async def _require(self, row_type: type[RowT], row_id: int | None, what: str) -> RowT:
        row = await self._session.get(row_type, row_id) if row_id is not None else None
        if row is None:
            raise LookupError(f"{what} {row_id} does not exist")
        return row


class _EntityRepository(_Repository, Generic[EntityT, RowT]):
    """add / update / get / get_for_update for an entity stored in one table.

    Subclasses name their row class and the two mappers; the SQL is the same for all.
    """

    _row: type[RowT]
    _what: str  # for "request 12 does not exist"
    _values: Callable[[Any], dict[str, Any]]  # entity -> column values (a staticmethod)
    _to_domain: Callable[[Any], Any]  # row -> entity (a staticmethod)

    async def add(self, entity: EntityT) -> EntityT:
        row = self._row(**self._values(entity))
        self._session.add(row)
        await self._session.flush()
        return cast(EntityT, self._to_domain(row))

    async def update(self, entity: EntityT) -> None:
        row = await self._require(self._row, getattr(entity, "id", None), self._what)
        _assign(row, self._values(entity))

    async def get(self, entity_id: int) -> EntityT | None:
        if not _storable_id(entity_id):
            return None
        row = await self._session.get(self._row, entity_id)
        return cast(EntityT, self._to_domain(row)) if row else None

    async def get_for_update(self, entity_id: int) -> EntityT | None:
        if not _storable_id(entity_id):
            return None
        row_id = cast(Any, self._row).id
        stmt = self._lock(select(self._row).where(row_id == entity_id))
        row = await self._session.scalar(stmt.execution_options(populate_existing=True))
        return cast(EntityT, self._to_domain(row)) if row else None


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else ensure_utc(value)


def _email_key(email: str | None) -> str | None:
    return None if email is None else email.lower()


# --- advocates ------------------------------------------------------------------------


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
        "reference_types": sorted(t.value for t in a.reference_types),
        "public_recognition": a.public_recognition,
        "account_owner_email": a.account_owner_email,
        "account_owner_key": _email_key(a.account_owner_email),
        "health_score": a.health_score,
        "nps": a.nps,
        "renewal_date": a.renewal_date,
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
        reference_types=frozenset(ReferenceType(t) for t in row.reference_types),
        public_recognition=row.public_recognition,
        account_owner_email=row.account_owner_email,
        health_score=row.health_score,
        nps=row.nps,
        renewal_date=row.renewal_date,
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


#: Rows per executemany in ``upsert_many``: large enough to amortise the round trip,
#: small enough to keep memory flat.
_UPSERT_BATCH = 1000


def _assign(row: object, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(row, name, value)


class SqlAdvocateRepository(_EntityRepository[Advocate, AdvocateRow]):
    _row, _what = AdvocateRow, "advocate"
    _values = staticmethod(_advocate_values)
    _to_domain = staticmethod(_advocate)

    async def add(self, advocate: Advocate) -> Advocate:
        """Insert; a second advocate with the same email (any case) is a ``ValueError``."""
        row = AdvocateRow(**_advocate_values(advocate))
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
        values = _advocate_values(advocate)
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

    async def upsert_many(self, advocates: Sequence[Advocate]) -> None:
        """``INSERT … ON CONFLICT (email_key) DO UPDATE`` in batches, one executemany each:
        a 20,000-row import is a few dozen statements instead of 20,000 savepoints."""
        if not advocates:
            return
        # The table, not the mapped class: a plain Core executemany, without the ORM's
        # per-row bookkeeping (a third of the import's time otherwise).
        insert = self._insert(AdvocateRow.__table__)
        columns = list(_advocate_values(advocates[0]))
        stmt = insert.on_conflict_do_update(
            index_elements=[AdvocateRow.__table__.c.email_key],
            set_={name: getattr(insert.excluded, name) for name in columns
                  if name != "email_key"},
        )
        await self._session.flush()
        for start in range(0, len(advocates), _UPSERT_BATCH):
            batch = advocates[start:start + _UPSERT_BATCH]
            await self._session.execute(stmt, [_advocate_values(a) for a in batch])
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

    async def usage(self, advocate_ids: Sequence[int], *, since: datetime) -> dict[int, Usage]:
        """Four aggregate queries for any number of advocates (not one per advocate)."""
        ids = sorted(set(advocate_ids))
        if not ids:
            return {}
        since = ensure_utc(since)

        counts_at = func.coalesce(EngagementRow.scheduled_at, EngagementRow.accepted_at)
        counting = and_(
            self._in_ids(EngagementRow.advocate_id, ids),
            EngagementRow.state.in_(_COUNTING_ENGAGEMENT_STATES),
        )
        times: dict[int, list[datetime]] = defaultdict(list)
        recent = (
            select(EngagementRow.advocate_id, counts_at)
            .where(counting, counts_at >= since)
            .order_by(EngagementRow.advocate_id, counts_at)
        )
        for advocate_id, at in await self._session.execute(recent):
            times[advocate_id].append(at)

        last_engaged: dict[int, datetime] = {
            advocate_id: at
            for advocate_id, at in await self._session.execute(
                select(EngagementRow.advocate_id, func.max(counts_at))
                .where(counting)
                .group_by(EngagementRow.advocate_id)
            )
        }

        open_asks: dict[int, int] = {
            advocate_id: count
            for advocate_id, count in await self._session.execute(
                select(AskRow.advocate_id, func.count())
                .where(self._in_ids(AskRow.advocate_id, ids), AskRow.state.in_(_OPEN_ASK_STATES))
                .group_by(AskRow.advocate_id)
            )
        }

        # The decline streak: declined asks answered after the advocate's last accepted
        # one. Walking each advocate's answered asks newest first, a running count of
        # accepted ones stays 0 exactly until the last acceptance.
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
                self._in_ids(AskRow.advocate_id, ids),
                AskRow.state.in_((AskState.ACCEPTED.value, AskState.DECLINED.value)),
            )
            .subquery()
        )
        streaks = {
            advocate_id: (count, last)
            for advocate_id, count, last in await self._session.execute(
                select(answered.c.advocate_id, func.count(), func.max(answered.c.answered_at))
                .where(answered.c.state == AskState.DECLINED.value, answered.c.accepted_since == 0)
                .group_by(answered.c.advocate_id)
            )
        }

        result: dict[int, Usage] = {}
        for advocate_id in advocate_ids:
            streak, last_declined = streaks.get(advocate_id, (0, None))
            result[advocate_id] = Usage(
                engagement_times=tuple(times.get(advocate_id, ())),
                open_asks=open_asks.get(advocate_id, 0),
                consecutive_declines=streak,
                last_declined_at=last_declined,
                last_engaged_at=last_engaged.get(advocate_id),
            )
        return result


# --- reference requests ---------------------------------------------------------------


def _request_values(r: ReferenceRequest) -> dict[str, Any]:
    identity = r.rep.identity
    return {
        "rep_email": r.rep.email,
        "rep_email_key": _email_key(r.rep.email),
        "rep_display_name": r.rep.display_name,
        "rep_platform": identity.platform.value if identity else None,
        "rep_workspace_id": identity.workspace_id if identity else None,
        "rep_user_id": identity.user_id if identity else None,
        "rep_timezone": r.rep.timezone,
        "prospect_company": r.prospect_company,
        "reference_type": r.reference_type.value,
        "needed_by": r.needed_by,
        "created_at": ensure_utc(r.created_at),
        "opportunity_name": r.opportunity_name,
        "crm_opportunity_id": r.crm_opportunity_id,
        "opportunity_amount": r.opportunity_amount,
        "opportunity_stage": r.opportunity_stage,
        "industry": r.industry,
        "region": r.region,
        "company_size": r.company_size.value if r.company_size else None,
        "products": list(r.products),
        "use_cases": list(r.use_cases),
        "language": r.language,
        "proposed_times": [ensure_utc(t).isoformat() for t in r.proposed_times],
        "timezone": r.timezone,
        "call_length_minutes": r.call_length_minutes,
        "meeting_link": r.meeting_link,
        "notes": r.notes,
        "parallel_asks": r.parallel_asks,
        "state": r.state.value,
        "updated_at": _utc(r.updated_at),
        "closed_reason": r.closed_reason,
    }


def _request(row: RequestRow) -> ReferenceRequest:
    identity = None
    if row.rep_platform is not None:
        identity = Identity(
            Platform(row.rep_platform), row.rep_workspace_id or "", row.rep_user_id or ""
        )
    return ReferenceRequest(
        id=row.id,
        rep=Person(
            email=row.rep_email,
            display_name=row.rep_display_name,
            identity=identity,
            timezone=row.rep_timezone,
        ),
        prospect_company=row.prospect_company,
        reference_type=ReferenceType(row.reference_type),
        needed_by=row.needed_by,
        created_at=row.created_at,
        opportunity_name=row.opportunity_name,
        crm_opportunity_id=row.crm_opportunity_id,
        opportunity_amount=row.opportunity_amount,
        opportunity_stage=row.opportunity_stage,
        industry=row.industry,
        region=row.region,
        company_size=CompanySize(row.company_size) if row.company_size else None,
        products=tuple(row.products),
        use_cases=tuple(row.use_cases),
        language=row.language,
        proposed_times=tuple(datetime.fromisoformat(t) for t in row.proposed_times),
        timezone=row.timezone,
        call_length_minutes=row.call_length_minutes,
        meeting_link=row.meeting_link,
        notes=row.notes,
        parallel_asks=row.parallel_asks,
        state=RequestState(row.state),
        updated_at=row.updated_at,
        closed_reason=row.closed_reason,
    )


class SqlRequestRepository(_EntityRepository[ReferenceRequest, RequestRow]):
    _row, _what = RequestRow, "request"
    _values = staticmethod(_request_values)
    _to_domain = staticmethod(_request)

    async def list_for_rep(
        self, rep: Person, *, include_closed: bool = False
    ) -> list[ReferenceRequest]:
        mine: list[ColumnElement[bool]] = []
        if rep.identity is not None:
            mine.append(and_(
                RequestRow.rep_platform == rep.identity.platform.value,
                RequestRow.rep_workspace_id == rep.identity.workspace_id,
                RequestRow.rep_user_id == rep.identity.user_id,
            ))
        if rep.email:
            mine.append(RequestRow.rep_email_key == rep.email.lower())
        if not mine:
            return []
        stmt = select(RequestRow).where(or_(*mine))
        if not include_closed:
            stmt = stmt.where(RequestRow.state.not_in(_TERMINAL_REQUEST_STATES))
        stmt = stmt.order_by(RequestRow.created_at.desc(), RequestRow.id.desc())
        return [_request(row) for row in await self._session.scalars(stmt)]

    async def list_open_needed_by(self, day: date) -> list[ReferenceRequest]:
        stmt = (
            select(RequestRow)
            .where(RequestRow.state.not_in(_TERMINAL_REQUEST_STATES), RequestRow.needed_by <= day)
            .order_by(RequestRow.id)
        )
        return [_request(row) for row in await self._session.scalars(stmt)]


# --- asks -----------------------------------------------------------------------------


def _ask_values(a: Ask) -> dict[str, Any]:
    return {
        "request_id": a.request_id,
        "advocate_id": a.advocate_id,
        "rank": a.rank,
        "created_at": ensure_utc(a.created_at),
        "expires_at": _utc(a.expires_at),
        "state": a.state.value,
        "answered_at": _utc(a.answered_at),
        "decline_reason": a.decline_reason,
        "approver_email": a.approver_email,
        "approved_by": a.approved_by,
        "approved_at": _utc(a.approved_at),
        "override_reason": a.override_reason,
    }


def _ask(row: AskRow) -> Ask:
    return Ask(
        id=row.id,
        request_id=row.request_id,
        advocate_id=row.advocate_id,
        rank=row.rank,
        created_at=row.created_at,
        expires_at=row.expires_at,
        state=AskState(row.state),
        answered_at=row.answered_at,
        decline_reason=row.decline_reason,
        approver_email=row.approver_email,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
        override_reason=row.override_reason,
    )


class SqlAskRepository(_EntityRepository[Ask, AskRow]):
    _row, _what = AskRow, "ask"
    _values = staticmethod(_ask_values)
    _to_domain = staticmethod(_ask)

    async def list_for_request(self, request_id: int) -> list[Ask]:
        stmt = select(AskRow).where(AskRow.request_id == request_id).order_by(AskRow.id)
        return [_ask(row) for row in await self._session.scalars(stmt)]

    async def list_expired(self, now: datetime, *, limit: int = 100) -> list[Ask]:
        stmt = (
            select(AskRow)
            .where(AskRow.state.in_(_OPEN_ASK_STATES), AskRow.expires_at <= ensure_utc(now))
            .order_by(AskRow.expires_at, AskRow.id)
            .limit(limit)
        )
        stmt = self._lock(stmt, skip_locked=True).execution_options(populate_existing=True)
        return [_ask(row) for row in await self._session.scalars(stmt)]


# --- engagements ----------------------------------------------------------------------


def _engagement_values(e: Engagement) -> dict[str, Any]:
    return {
        "request_id": e.request_id,
        "advocate_id": e.advocate_id,
        "ask_id": e.ask_id,
        "reference_type": e.reference_type.value,
        "accepted_at": ensure_utc(e.accepted_at),
        "state": e.state.value,
        "scheduled_at": _utc(e.scheduled_at),
        "duration_minutes": e.duration_minutes,
        "proposed_at": _utc(e.proposed_at),
        "outcome": e.outcome.value if e.outcome else None,
        "helpfulness": e.helpfulness,
        "influenced_amount": e.influenced_amount,
        "advocate_comment": e.advocate_comment,
        "points_awarded": e.points_awarded,
        "completed_at": _utc(e.completed_at),
    }


def _engagement(row: EngagementRow) -> Engagement:
    return Engagement(
        id=row.id,
        request_id=row.request_id,
        advocate_id=row.advocate_id,
        ask_id=row.ask_id,
        reference_type=ReferenceType(row.reference_type),
        accepted_at=row.accepted_at,
        state=EngagementState(row.state),
        scheduled_at=row.scheduled_at,
        duration_minutes=row.duration_minutes,
        proposed_at=row.proposed_at,
        outcome=Outcome(row.outcome) if row.outcome else None,
        helpfulness=row.helpfulness,
        influenced_amount=row.influenced_amount,
        advocate_comment=row.advocate_comment,
        points_awarded=row.points_awarded,
        completed_at=row.completed_at,
    )


class SqlEngagementRepository(_EntityRepository[Engagement, EngagementRow]):
    _row, _what = EngagementRow, "engagement"
    _values = staticmethod(_engagement_values)
    _to_domain = staticmethod(_engagement)

    async def get_for_request(self, request_id: int) -> Engagement | None:
        stmt = (
            select(EngagementRow)
            .where(
                EngagementRow.request_id == request_id,
                EngagementRow.state != EngagementState.CANCELLED.value,
            )
            .order_by(EngagementRow.id)
            .limit(1)
        )
        row = await self._session.scalar(stmt)
        return _engagement(row) if row else None

    async def list_for_advocate(self, advocate_id: int) -> list[Engagement]:
        stmt = (
            select(EngagementRow)
            .where(EngagementRow.advocate_id == advocate_id)
            .order_by(EngagementRow.accepted_at.desc(), EngagementRow.id.desc())
        )
        return [_engagement(row) for row in await self._session.scalars(stmt)]


# --- people ---------------------------------------------------------------------------


def _person(row: PersonRow) -> Person:
    return Person(
        email=row.email,
        display_name=row.display_name,
        identity=Identity(Platform(row.platform), row.workspace_id, row.user_id),
        timezone=row.timezone,
        internal=row.internal,
    )


class SqlPersonRepository(_Repository):
    async def upsert(self, person: Person) -> None:
        """Insert or refresh by identity. The stored Teams conversation reference, which
        ``Person`` does not carry, is kept."""
        if person.identity is None:
            raise ValueError("only chat users with an identity are stored")
        now = datetime.now(UTC)
        values = {
            "email": person.email,
            "email_key": _email_key(person.email),
            "display_name": person.display_name,
            "timezone": person.timezone,
            "internal": person.internal,
            "updated_at": now,
        }
        stmt = self._insert(PersonRow).values(
            platform=person.identity.platform.value,
            workspace_id=person.identity.workspace_id,
            user_id=person.identity.user_id,
            **values,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["platform", "workspace_id", "user_id"], set_=values
        )
        # Reads below use populate_existing: a row already in the identity map would
        # otherwise hide what this statement wrote.
        await self._session.execute(stmt)

    async def get_by_identity(self, identity: Identity) -> Person | None:
        stmt = select(PersonRow).where(
            PersonRow.platform == identity.platform.value,
            PersonRow.workspace_id == identity.workspace_id,
            PersonRow.user_id == identity.user_id,
        )
        row = await self._session.scalar(stmt.execution_options(populate_existing=True))
        return _person(row) if row else None

    async def find_by_email(self, email: str) -> list[Person]:
        stmt = (
            select(PersonRow)
            .where(PersonRow.email_key == email.lower())
            .order_by(PersonRow.updated_at.desc(), PersonRow.id.desc())
            .execution_options(populate_existing=True)
        )
        return [_person(row) for row in await self._session.scalars(stmt)]

    async def save_conversation_reference(self, identity: Identity, reference: dict) -> None:
        """Store (or replace) the reference; a person not stored yet gets a bare row, which a
        later ``upsert`` fills in without losing the reference."""
        now = datetime.now(UTC)
        stmt = self._insert(PersonRow).values(
            platform=identity.platform.value,
            workspace_id=identity.workspace_id,
            user_id=identity.user_id,
            display_name="",
            conversation_reference=dict(reference),
            updated_at=now,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["platform", "workspace_id", "user_id"],
            set_={"conversation_reference": dict(reference)},
        )
        await self._session.execute(stmt)

    async def conversation_reference(self, identity: Identity) -> dict | None:
        stmt = select(PersonRow.conversation_reference).where(
            PersonRow.platform == identity.platform.value,
            PersonRow.workspace_id == identity.workspace_id,
            PersonRow.user_id == identity.user_id,
        )
        found = await self._session.scalar(stmt.execution_options(populate_existing=True))
        return dict(found) if found else None

    async def delete_by_email(self, email: str) -> builtins.list[Identity]:
        rows = await self._session.execute(
            delete(PersonRow).where(PersonRow.email_key == email.lower())
            .returning(PersonRow.platform, PersonRow.workspace_id, PersonRow.user_id)
            .execution_options(synchronize_session=False))
        return [Identity(Platform(p), w, u) for p, w, u in sorted(rows)]


# --- audit log ------------------------------------------------------------------------


class SqlAuditLog(_Repository):
    async def append(self, entry: AuditEntry) -> None:
        self._session.add(AuditRow(
            at=ensure_utc(entry.at),
            actor=entry.actor,
            action=entry.action,
            subject=entry.subject,
            detail=dict(entry.detail),
        ))

    async def list(
        self, *, subject: str | None = None, limit: int = 100
    ) -> builtins.list[AuditEntry]:
        stmt = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if subject is not None:
            stmt = stmt.where(AuditRow.subject == subject)
        return [
            AuditEntry(at=row.at, actor=row.actor, action=row.action, subject=row.subject,
                       detail=dict(row.detail), id=row.id)
            for row in await self._session.scalars(stmt)
        ]

    async def scrub(self, replacements: Mapping[str, str]) -> int:
        keys = [k for k in replacements if k]
        if not keys:
            return 0
        actors = {k.lower(): v for k, v in replacements.items() if k}
        stmt = select(AuditRow).where(or_(
            func.lower(AuditRow.actor).in_(sorted(actors)),
            _mentions(AuditRow.detail, keys),
        )).execution_options(populate_existing=True)
        changed = 0
        for row in await self._session.scalars(stmt):
            actor = actors.get(row.actor.lower(), row.actor)
            detail = redact_json(dict(row.detail), replacements)
            if actor != row.actor or detail != row.detail:
                row.actor, row.detail = actor, detail
                changed += 1
        await self._session.flush()
        return changed


def _mentions(column: Any, words: Iterable[str]) -> ColumnElement[bool]:
    """A cheap SQL prefilter: the column's text contains one of ``words`` in any of the
    forms it may be stored in; ``redact_*`` then decides exactly in Python."""
    text = sql_cast(column, Text)
    return or_(*(text.contains(form, autoescape=True)
                 for word in words for form in search_forms(word)),
               *(func.lower(text).contains(word.lower(), autoescape=True) for word in words))


# --- outbox ---------------------------------------------------------------------------


def _outbox_message(row: OutboxRow, replaces_ref: str | None = None) -> OutboxMessage:
    identity = None
    if row.recipient_platform is not None:
        identity = Identity(
            Platform(row.recipient_platform),
            row.recipient_workspace_id or "",
            row.recipient_user_id or "",
        )
    return OutboxMessage(
        id=row.id,
        message=OutgoingMessage(
            recipient=Person(
                email=row.recipient_email,
                display_name=row.recipient_display_name,
                identity=identity,
                timezone=row.recipient_timezone,
            ),
            template=row.template,
            context=dict(row.context),
            key=row.key,
            replaces=row.replaces,
        ),
        created_at=row.created_at,
        status=OutboxStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        sent_at=row.sent_at,
        platform_ref=row.platform_ref,
        replaces_ref=replaces_ref,
    )


class SqlOutbox(_Repository):
    async def add(self, message: OutgoingMessage, *, now: datetime) -> bool:
        """Queue ``message``; False if its key is already queued (in any state).

        ``ON CONFLICT DO NOTHING`` rather than catching an IntegrityError: on PostgreSQL a
        failed INSERT would poison the caller's whole transaction.
        """
        now = ensure_utc(now)
        recipient = message.recipient
        identity = recipient.identity
        stmt = (
            self._insert(OutboxRow)
            .values(
                key=message.key,
                recipient_email=recipient.email,
                recipient_platform=identity.platform.value if identity else None,
                recipient_workspace_id=identity.workspace_id if identity else None,
                recipient_user_id=identity.user_id if identity else None,
                recipient_display_name=recipient.display_name,
                recipient_timezone=recipient.timezone,
                template=message.template,
                context=message.context,
                replaces=message.replaces,
                status=OutboxStatus.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                last_error="",
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(OutboxRow.id)
        )
        inserted = await self._session.scalar(stmt)
        return inserted is not None

    async def claim_due(
        self, now: datetime, *, limit: int = 50, lease: timedelta = DEFAULT_LEASE
    ) -> list[OutboxMessage]:
        """Pending messages due at ``now``, oldest first, leased: their ``next_attempt_at``
        moves to ``now + lease`` so another dispatcher (replica) skips them while this one
        delivers. On PostgreSQL rows another dispatcher is claiming are skipped, not
        waited for.

        A message that replaces another waits until that one has been sent (or has died):
        it needs the original's ``platform_ref`` to update it in place rather than post a
        second message beside it."""
        original = aliased(OutboxRow)
        original_pending = (
            select(original.id)
            .where(original.key == OutboxRow.replaces,
                   original.status == OutboxStatus.PENDING.value)
            .exists()
        )
        stmt = (
            select(OutboxRow)
            .where(
                OutboxRow.status == OutboxStatus.PENDING.value,
                OutboxRow.next_attempt_at <= ensure_utc(now),
                ~original_pending,
            )
            .order_by(OutboxRow.created_at, OutboxRow.id)
            .limit(limit)
        )
        stmt = self._lock(stmt, skip_locked=True).execution_options(populate_existing=True)
        rows = list(await self._session.scalars(stmt))
        for row in rows:
            row.next_attempt_at = ensure_utc(now) + lease
        refs = await self._platform_refs(row.replaces for row in rows if row.replaces)
        return [_outbox_message(row, refs.get(row.replaces or "")) for row in rows]

    async def _platform_refs(self, keys: Iterable[str]) -> dict[str, str | None]:
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        stmt = select(OutboxRow.key, OutboxRow.platform_ref).where(
            OutboxRow.key.in_(wanted), OutboxRow.status == OutboxStatus.SENT.value
        )
        return {key: ref for key, ref in await self._session.execute(stmt)}

    async def mark_sent(self, message_id: int, *, platform_ref: str | None, now: datetime) -> None:
        row = await self._require(OutboxRow, message_id, "outbox message")
        row.status = OutboxStatus.SENT.value
        row.sent_at = ensure_utc(now)
        row.platform_ref = platform_ref
        row.attempts += 1

    async def mark_retry(self, message_id: int, *, error: str, next_attempt_at: datetime) -> None:
        row = await self._require(OutboxRow, message_id, "outbox message")
        row.attempts += 1
        row.last_error = error
        row.next_attempt_at = ensure_utc(next_attempt_at)

    async def release(self, message_id: int, *, next_attempt_at: datetime) -> None:
        row = await self._require(OutboxRow, message_id, "outbox message")
        row.next_attempt_at = ensure_utc(next_attempt_at)

    async def mark_dead(self, message_id: int, *, error: str, now: datetime) -> None:
        row = await self._require(OutboxRow, message_id, "outbox message")
        row.attempts += 1
        row.status = OutboxStatus.DEAD.value
        row.last_error = error
        row.next_attempt_at = ensure_utc(now)  # when it died: dead_letters filters on it

    async def platform_ref(self, key: str) -> str | None:
        return (await self._platform_refs([key])).get(key)

    async def dead_letters(self, *, since: datetime) -> list[OutboxMessage]:
        stmt = (
            select(OutboxRow)
            .where(
                OutboxRow.status == OutboxStatus.DEAD.value,
                OutboxRow.next_attempt_at >= ensure_utc(since),
            )
            .order_by(OutboxRow.id)
        )
        return [_outbox_message(row) for row in await self._session.scalars(stmt)]

    async def scrub_recipient(
        self, email: str, *, identities: Sequence[Identity] = (), placeholder: str,
        replacements: Mapping[str, str],
    ) -> tuple[int, int]:
        addressed: list[ColumnElement[bool]] = [
            func.lower(OutboxRow.recipient_email) == email.lower()]
        addressed += [and_(OutboxRow.recipient_platform == i.platform.value,
                           OutboxRow.recipient_workspace_id == i.workspace_id,
                           OutboxRow.recipient_user_id == i.user_id) for i in identities]
        deleted = await self._session.execute(
            delete(OutboxRow)
            .where(or_(*addressed), OutboxRow.status == OutboxStatus.PENDING.value)
            .returning(OutboxRow.id).execution_options(synchronize_session=False))
        dropped = len(deleted.all())
        words = [k for k in replacements if k]
        stmt = select(OutboxRow).where(or_(
            *addressed,
            *([_mentions(OutboxRow.context, words),
               _mentions(OutboxRow.last_error, words)] if words else []),
        )).execution_options(populate_existing=True)
        changed = 0
        for row in await self._session.scalars(stmt):
            if _addressed_to(row, email, identities):
                row.recipient_email = placeholder
                row.recipient_display_name = ""
                row.recipient_platform = row.recipient_workspace_id = None
                row.recipient_user_id = row.recipient_timezone = None
                row.context, row.last_error = {}, ""
                changed += 1
                continue
            context = redact_json(dict(row.context), replacements)
            error = redact_text(row.last_error, replacements)
            if context != row.context or error != row.last_error:
                row.context, row.last_error = context, error
                changed += 1
        await self._session.flush()
        return dropped, changed


def _addressed_to(row: OutboxRow, email: str, identities: Sequence[Identity]) -> bool:
    if (row.recipient_email or "").lower() == email.lower():
        return True
    return any(row.recipient_platform == i.platform.value
               and row.recipient_workspace_id == i.workspace_id
               and row.recipient_user_id == i.user_id for i in identities)


# --- idempotency ----------------------------------------------------------------------


class SqlIdempotency(_Repository):
    async def claim(self, key: str, *, now: datetime) -> bool:
        """True the first time ``key`` is seen. A concurrent transaction claiming the same
        key waits for this one on the unique index, then gets False once it commits."""
        stmt = (
            self._insert(IdempotencyKeyRow)
            .values(key=key, created_at=ensure_utc(now))
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(IdempotencyKeyRow.key)
        )
        return await self._session.scalar(stmt) is not None


# --- reports (digest, check-ins, recognition) ------------------------------------------


_NOT_ACCEPTED_STATES = tuple(
    s.value for s in (RequestState.OPEN, RequestState.MATCHING, RequestState.AWAITING_APPROVAL,
                      RequestState.ASKING)
)


class SqlReportRepository(_Repository):
    """``bot.ports.ReportRepository``: grouped queries, never a Python loop over the
    program's history. Each method costs a few indexed scans of its window."""

    async def flow(self, start: datetime, end: datetime) -> FlowStats:
        start, end = ensure_utc(start), ensure_utc(end)
        opened = await self._session.scalar(
            select(func.count()).select_from(RequestRow)
            .where(RequestRow.created_at >= start, RequestRow.created_at < end))
        completed = and_(EngagementRow.state == EngagementState.COMPLETED.value,
                         EngagementRow.completed_at >= start, EngagementRow.completed_at < end)
        fulfilled, influenced = (await self._session.execute(
            select(func.count(func.distinct(EngagementRow.request_id)),
                   func.coalesce(func.sum(EngagementRow.influenced_amount), 0))
            .where(completed))).one()
        unfulfilled = await self._session.scalar(
            select(func.count()).select_from(RequestRow)
            .where(RequestRow.state == RequestState.UNFULFILLED.value,
                   RequestRow.updated_at >= start, RequestRow.updated_at < end))
        first = (select(EngagementRow.request_id.label("request_id"),
                        func.min(EngagementRow.accepted_at).label("first_at"))
                 .group_by(EngagementRow.request_id).subquery())
        pairs = await self._session.execute(
            select(RequestRow.created_at, first.c.first_at)
            .join(first, first.c.request_id == RequestRow.id)
            .where(first.c.first_at >= start, first.c.first_at < end))
        waits = sorted(
            (_aware(first_at) - created).total_seconds() for created, first_at in pairs)
        return FlowStats(opened=opened or 0, fulfilled=fulfilled or 0,
                         unfulfilled=unfulfilled or 0,
                         influenced=Decimal(str(influenced or 0)).quantize(Decimal("0.01")),
                         accept_waits=tuple(waits))

    async def weekly_counts(self, bounds: Sequence[datetime]) -> list[tuple[int, int]]:
        edges = [ensure_utc(b) for b in bounds]
        if len(edges) < 2:
            return []

        def buckets(column: Any) -> list[Any]:
            return [func.coalesce(func.sum(case((and_(column >= lo, column < hi), 1), else_=0)),
                                  0) for lo, hi in itertools.pairwise(edges)]

        opened = (await self._session.execute(
            select(*buckets(RequestRow.created_at))
            .where(RequestRow.created_at >= edges[0], RequestRow.created_at < edges[-1]))).one()
        fulfilled = (await self._session.execute(
            select(*buckets(EngagementRow.completed_at))
            .where(EngagementRow.state == EngagementState.COMPLETED.value,
                   EngagementRow.completed_at >= edges[0],
                   EngagementRow.completed_at < edges[-1]))).one()
        return [(int(o), int(f)) for o, f in zip(opened, fulfilled, strict=True)]

    async def waiting_past_sla(self, as_of: datetime, *, created_before: datetime,
                               limit: int = 5) -> tuple[int, list[WaitingRequest]]:
        as_of = ensure_utc(as_of)
        accepted = (select(EngagementRow.id)
                    .where(EngagementRow.request_id == RequestRow.id,
                           EngagementRow.accepted_at <= as_of).exists())
        closed = and_(RequestRow.state.in_(_TERMINAL_REQUEST_STATES),
                      RequestRow.updated_at <= as_of)
        where = (RequestRow.created_at < ensure_utc(created_before), ~accepted, ~closed)
        count = await self._session.scalar(select(func.count()).select_from(RequestRow)
                                           .where(*where))
        rows = await self._session.scalars(
            select(RequestRow).where(*where)
            .order_by(RequestRow.created_at, RequestRow.id).limit(limit))
        return count or 0, [
            WaitingRequest(request_id=row.id, prospect_company=row.prospect_company,
                           rep_email=row.rep_email, created_at=row.created_at,
                           needed_by=row.needed_by, state=row.state) for row in rows]

    async def upcoming_calls(self, start: datetime, end: datetime) -> int:
        count = await self._session.scalar(
            select(func.count()).select_from(EngagementRow)
            .where(EngagementRow.state != EngagementState.CANCELLED.value,
                   EngagementRow.scheduled_at >= ensure_utc(start),
                   EngagementRow.scheduled_at < ensure_utc(end)))
        return count or 0

    @staticmethod
    def _effective(own: Any, manager: Any, program: int) -> Any:
        """``effective_limits`` in SQL: the manager's value replaces the program's, the
        advocate's own can only lower it."""
        base = func.coalesce(manager, program)
        return case((and_(own.is_not(None), own < base), own), else_=base)

    async def advocate_loads(self, as_of: datetime, limits: LimitPolicy, *, near: int = 1
                             ) -> list[AdvocateLoad]:
        as_of = ensure_utc(as_of)
        counts_at = func.coalesce(EngagementRow.scheduled_at, EngagementRow.accepted_at)
        agreed = and_(EngagementRow.state.in_(_COUNTING_ENGAGEMENT_STATES),
                      EngagementRow.accepted_at <= as_of)
        used = (select(
            EngagementRow.advocate_id.label("advocate_id"),
            func.sum(case((counts_at >= as_of - timedelta(days=90), 1), else_=0)).label("u90"),
            func.count().label("u365"))
            .where(agreed, counts_at >= as_of - timedelta(days=365))
            .group_by(EngagementRow.advocate_id).subquery())
        a = AdvocateRow
        limit_90 = self._effective(a.own_max_per_90_days, a.manager_max_per_90_days,
                                   limits.max_per_90_days)
        limit_365 = self._effective(a.own_max_per_365_days, a.manager_max_per_365_days,
                                    limits.max_per_365_days)
        rows = await self._session.execute(
            select(a.id, a.name, used.c.u90, limit_90, used.c.u365, limit_365)
            .join(used, used.c.advocate_id == a.id)
            .where(a.status == AdvocateStatus.ACTIVE.value,
                   or_(used.c.u90 >= limit_90 - near, used.c.u365 >= limit_365 - near))
            .order_by(used.c.u90.desc(), a.name, a.id))
        return [AdvocateLoad(advocate_id=i, name=n, used_90=int(u90), limit_90=int(l90),
                             used_365=int(u365), limit_365=int(l365))
                for i, n, u90, l90, u365, l365 in rows]

    async def idle_advocates(self, as_of: datetime, *, days: int) -> int:
        as_of = ensure_utc(as_of)
        since = as_of - timedelta(days=days)
        counts_at = func.coalesce(EngagementRow.scheduled_at, EngagementRow.accepted_at)
        recent = (select(EngagementRow.id)
                  .where(EngagementRow.advocate_id == AdvocateRow.id,
                         EngagementRow.state.in_(_COUNTING_ENGAGEMENT_STATES),
                         counts_at >= since, counts_at <= as_of).exists())
        count = await self._session.scalar(
            select(func.count()).select_from(AdvocateRow)
            .where(AdvocateRow.status == AdvocateStatus.ACTIVE.value,
                   or_(AdvocateRow.joined_on.is_(None), AdvocateRow.joined_on <= since.date()),
                   ~recent))
        return count or 0

    async def top_advocates(self, start: datetime, end: datetime, *, limit: int
                            ) -> list[AdvocateScore]:
        points = func.sum(EngagementRow.points_awarded)
        rows = await self._session.execute(
            select(AdvocateRow.id, AdvocateRow.name, points, func.count(),
                   AdvocateRow.public_recognition)
            .join(AdvocateRow, AdvocateRow.id == EngagementRow.advocate_id)
            .where(EngagementRow.state == EngagementState.COMPLETED.value,
                   EngagementRow.completed_at >= ensure_utc(start),
                   EngagementRow.completed_at < ensure_utc(end))
            .group_by(AdvocateRow.id, AdvocateRow.name, AdvocateRow.public_recognition)
            .order_by(points.desc(), func.count().desc(), AdvocateRow.name, AdvocateRow.id)
            .limit(limit))
        return [AdvocateScore(advocate_id=i, name=n, points=int(p or 0), engagements=int(c),
                              public_recognition=bool(pub)) for i, n, p, c, pub in rows]

    async def renewal_cautions(self, today: date, *, days: int, limit: int = 5
                               ) -> tuple[int, list[RenewalCaution]]:
        where = (AdvocateRow.status == AdvocateStatus.ACTIVE.value,
                 AdvocateRow.renewal_date >= today,
                 AdvocateRow.renewal_date <= today + timedelta(days=days))
        count = await self._session.scalar(select(func.count()).select_from(AdvocateRow)
                                           .where(*where))
        rows = await self._session.execute(
            select(AdvocateRow.id, AdvocateRow.name, AdvocateRow.renewal_date).where(*where)
            .order_by(AdvocateRow.renewal_date, AdvocateRow.name, AdvocateRow.id).limit(limit))
        return count or 0, [RenewalCaution(i, n, d) for i, n, d in rows]

    async def dead_letters(self, start: datetime, end: datetime, *, limit: int = 5
                           ) -> tuple[int, list[DeadLetter]]:
        where = (OutboxRow.status == OutboxStatus.DEAD.value,
                 OutboxRow.next_attempt_at >= ensure_utc(start),
                 OutboxRow.next_attempt_at < ensure_utc(end))
        count = await self._session.scalar(select(func.count()).select_from(OutboxRow)
                                           .where(*where))
        rows = await self._session.execute(
            select(OutboxRow.recipient_email, OutboxRow.recipient_user_id, OutboxRow.template,
                   OutboxRow.last_error, OutboxRow.next_attempt_at).where(*where)
            .order_by(OutboxRow.next_attempt_at.desc(), OutboxRow.id.desc()).limit(limit))
        return count or 0, [DeadLetter(recipient=email or user_id or "?", template=template,
                                       error=error, failed_at=at)
                            for email, user_id, template, error, at in rows]

    async def completed_engagements(self, start: datetime, end: datetime
                                    ) -> list[CompletedEngagement]:
        later = aliased(EngagementRow)
        ordinal = (select(func.count()).select_from(later)
                   .where(later.advocate_id == EngagementRow.advocate_id,
                          later.state == EngagementState.COMPLETED.value,
                          or_(later.completed_at < EngagementRow.completed_at,
                              and_(later.completed_at == EngagementRow.completed_at,
                                   later.id <= EngagementRow.id)))
                   .scalar_subquery())
        rows = await self._session.execute(
            select(EngagementRow.id, EngagementRow.advocate_id, EngagementRow.reference_type,
                   EngagementRow.points_awarded, EngagementRow.completed_at, ordinal)
            .where(EngagementRow.state == EngagementState.COMPLETED.value,
                   EngagementRow.completed_at >= ensure_utc(start),
                   EngagementRow.completed_at < ensure_utc(end))
            .order_by(EngagementRow.completed_at, EngagementRow.id))
        return [CompletedEngagement(engagement_id=i, advocate_id=a, reference_type=t,
                                    points=p, completed_at=at, ordinal=int(n))
                for i, a, t, p, at, n in rows]

    async def advocate_numbers(self, start: datetime, end: datetime
                               ) -> dict[int, AdvocateQuarter]:
        start, end = ensure_utc(start), ensure_utc(end)
        numbers: dict[int, dict[str, int]] = defaultdict(dict)
        for advocate_id, asks, accepted, declined in await self._session.execute(
                select(AskRow.advocate_id, func.count(),
                       func.sum(case((AskRow.state == AskState.ACCEPTED.value, 1), else_=0)),
                       func.sum(case((AskRow.state == AskState.DECLINED.value, 1), else_=0)))
                .where(AskRow.created_at >= start, AskRow.created_at < end)
                .group_by(AskRow.advocate_id)):
            numbers[advocate_id].update(asks=asks, accepted=int(accepted or 0),
                                        declined=int(declined or 0))
        for advocate_id, completed, points in await self._session.execute(
                select(EngagementRow.advocate_id, func.count(),
                       func.sum(EngagementRow.points_awarded))
                .where(EngagementRow.state == EngagementState.COMPLETED.value,
                       EngagementRow.completed_at >= start, EngagementRow.completed_at < end)
                .group_by(EngagementRow.advocate_id)):
            numbers[advocate_id].update(completed=completed, points=int(points or 0))
        return {advocate_id: AdvocateQuarter(**values) for advocate_id, values in numbers.items()}

    async def expiring_asks(self, start: datetime, end: datetime) -> list[Ask]:
        rows = await self._session.scalars(
            select(AskRow).where(AskRow.state == AskState.PENDING.value,
                                 AskRow.expires_at >= ensure_utc(start),
                                 AskRow.expires_at < ensure_utc(end))
            .order_by(AskRow.expires_at, AskRow.id))
        return [_ask(row) for row in rows]

    async def audited_subjects(self, action: str, *, since: datetime) -> set[str]:
        rows = await self._session.scalars(
            select(AuditRow.subject).distinct()
            .where(AuditRow.action == action, AuditRow.at >= ensure_utc(since)))
        return set(rows)

    async def claimed_keys(self, prefix: str) -> set[str]:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = await self._session.scalars(
            select(IdempotencyKeyRow.key)
            .where(IdempotencyKeyRow.key.like(escaped + "%", escape="\\")))
        return set(rows)


def _aware(value: datetime) -> datetime:
    """``min()`` over a ``UTCDateTime`` column comes back without the column's type on
    SQLite (a naive value, or even a string): make it the aware UTC datetime it stores."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
