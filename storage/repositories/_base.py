"""What every SQL repository shares: the session, dialect-aware inserts and locks,
id checks, and the state sets the queries filter by."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    any_,
    bindparam,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.domain.model import (
    TERMINAL_REQUEST_STATES,
    AskState,
    EngagementState,
    ensure_utc,
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


def _assign(row: object, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(row, name, value)


def _aware(value: datetime) -> datetime:
    """``min()`` over a ``UTCDateTime`` column comes back without the column's type on
    SQLite (a naive value, or even a string): make it the aware UTC datetime it stores."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
