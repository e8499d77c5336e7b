"""The SQL unit of work: one ``AsyncSession``, one transaction, every repository.

Services write ``async with uow_factory() as uow: …; await uow.commit()``. Leaving the
block without ``commit()`` — normally or through an exception — rolls everything back,
including outbox messages and idempotency keys, so a half-done use case leaves no trace
and a retried event is handled again from scratch.

The transaction starts lazily at the first statement (SQLite's ``BEGIN IMMEDIATE``
included), so a unit of work that ends up touching nothing takes no lock.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.ports import (
    AdvocateRepository,
    AskRepository,
    AuditLog,
    EngagementRepository,
    Idempotency,
    Outbox,
    PersonRepository,
    ReportRepository,
    RequestRepository,
)
from storage.repositories import (
    SqlAdvocateRepository,
    SqlAskRepository,
    SqlAuditLog,
    SqlEngagementRepository,
    SqlIdempotency,
    SqlOutbox,
    SqlPersonRepository,
    SqlReportRepository,
    SqlRequestRepository,
)


class SqlUnitOfWork:
    """Implements ``bot.ports.UnitOfWork``. Use once, as an async context manager."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        # The repositories are typed as the ports (Protocol attributes are invariant), so
        # this class satisfies bot.ports.UnitOfWork for a type checker too.
        # Creating a session connects nothing: the connection (and the transaction) is
        # taken at the first statement inside the block.
        session = sessions()
        dialect = session.bind.dialect.name if session.bind is not None else ""
        self._session: AsyncSession | None = session
        self._entered = False
        self.advocates: AdvocateRepository = SqlAdvocateRepository(session, dialect)
        self.requests: RequestRepository = SqlRequestRepository(session, dialect)
        self.asks: AskRepository = SqlAskRepository(session, dialect)
        self.engagements: EngagementRepository = SqlEngagementRepository(session, dialect)
        self.people: PersonRepository = SqlPersonRepository(session, dialect)
        self.audit: AuditLog = SqlAuditLog(session, dialect)
        self.outbox: Outbox = SqlOutbox(session, dialect)
        self.idempotency: Idempotency = SqlIdempotency(session, dialect)
        self.reports: ReportRepository = SqlReportRepository(session, dialect)

    @property
    def session(self) -> AsyncSession:
        """The underlying session, for storage code and tests; services use the repos."""
        if self._session is None:
            raise RuntimeError("this unit of work has ended; open a new one")
        return self._session

    async def __aenter__(self) -> Self:
        if self._entered:
            raise RuntimeError("a unit of work can be entered only once")
        self._entered = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self.session, None
        # close() rolls back whatever was not committed (also work done after a commit)
        # and returns the connection to the pool.
        await session.close()

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()


class SqlUnitOfWorkFactory:
    """Implements ``bot.ports.UnitOfWorkFactory``: ``factory()`` is a fresh unit of work."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # expire_on_commit=False: repositories hand out domain copies, never rows, so
        # nothing needs reloading after a commit (and async code must not lazy-load).
        self._sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=True)

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions)
