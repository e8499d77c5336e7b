"""The SQL unit of work: one ``AsyncSession``, one transaction, every repository.

Services write ``async with uow_factory() as uow: …; await uow.commit()``. Leaving the
block without ``commit()`` — normally or through an exception — rolls everything back,
including outbox messages and idempotency keys, so a half-done use case leaves no trace
and a retried event is handled again from scratch.

The transaction starts lazily at the first statement (SQLite's ``BEGIN IMMEDIATE``
included), so a unit of work that ends up touching nothing takes no lock.

A unit of work that queued outbox messages says so when it commits, so the dispatcher
delivers them now instead of at its next poll: in this process through the factory's
``on_outbox_commit`` callback (called after the commit, never for a rollback), and to the
other replicas on PostgreSQL through ``NOTIFY`` on ``OUTBOX_CHANNEL``, issued in the same
transaction as the insert, so PostgreSQL delivers it exactly when — and only if — the
messages become visible (``storage.notify`` listens).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Self

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.ports import (
    AdvocateRepository,
    AskRepository,
    AuditLog,
    ConsentRepository,
    EngagementRepository,
    Idempotency,
    NominationRepository,
    Outbox,
    OutgoingMessage,
    PersonRepository,
    RequestRepository,
)
from bot.report_ports import ReportRepository
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
from storage.repositories.nominations import SqlConsentRepository, SqlNominationRepository

#: The PostgreSQL channel a commit that queued outbox messages notifies.
OUTBOX_CHANNEL = "advocate_bot_outbox"


class _WatchedOutbox(SqlOutbox):
    """``SqlOutbox`` that remembers whether this unit of work queued anything. Every method
    that inserts messages is overridden here; a new one must be too, or its messages wait
    for the dispatcher's poll."""

    queued = False

    async def add(self, message: OutgoingMessage, *, now: datetime) -> bool:
        added = await super().add(message, now=now)
        self.queued = self.queued or added
        return added

    async def add_many(self, messages: Sequence[OutgoingMessage], *, now: datetime) -> int:
        added = await super().add_many(messages, now=now)
        self.queued = self.queued or added > 0
        return added


class SqlUnitOfWork:
    """Implements ``bot.ports.UnitOfWork``. Use once, as an async context manager."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *,
                 on_outbox_commit: Callable[[], None] | None = None,
                 notify_channel: str | None = OUTBOX_CHANNEL) -> None:
        # The repositories are typed as the ports (Protocol attributes are invariant), so
        # this class satisfies bot.ports.UnitOfWork for a type checker too.
        # Creating a session connects nothing: the connection (and the transaction) is
        # taken at the first statement inside the block.
        session = sessions()
        dialect = session.bind.dialect.name if session.bind is not None else ""
        self._session: AsyncSession | None = session
        self._entered = False
        self._advocates = SqlAdvocateRepository(session, dialect)
        self.advocates: AdvocateRepository = self._advocates
        self.requests: RequestRepository = SqlRequestRepository(session, dialect)
        self.asks: AskRepository = SqlAskRepository(session, dialect)
        self.engagements: EngagementRepository = SqlEngagementRepository(session, dialect)
        self.people: PersonRepository = SqlPersonRepository(session, dialect)
        self.audit: AuditLog = SqlAuditLog(session, dialect)
        self._watched = _WatchedOutbox(session, dialect)
        self.outbox: Outbox = self._watched
        self._on_outbox_commit = on_outbox_commit
        self._notify = notify_channel if dialect == "postgresql" else None
        self.idempotency: Idempotency = SqlIdempotency(session, dialect)
        self.reports: ReportRepository = SqlReportRepository(session, dialect)
        self.nominations: NominationRepository = SqlNominationRepository(session, dialect)
        self.consents: ConsentRepository = SqlConsentRepository(session, dialect)

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
        queued, session = self._watched.queued, self.session
        await self._advocates.stamp_writes()  # the roster version, held only from here
        if queued and self._notify:
            await session.execute(text("SELECT pg_notify(:channel, '')"),
                                  {"channel": self._notify})
        await session.commit()
        self._watched.queued = False
        if queued and self._on_outbox_commit is not None:
            self._on_outbox_commit()

    async def rollback(self) -> None:
        await self.session.rollback()
        self._watched.queued = False


class SqlUnitOfWorkFactory:
    """Implements ``bot.ports.UnitOfWorkFactory``: ``factory()`` is a fresh unit of work."""

    def __init__(self, engine: AsyncEngine, *,
                 on_outbox_commit: Callable[[], None] | None = None,
                 notify_channel: str | None = OUTBOX_CHANNEL) -> None:
        """``on_outbox_commit`` is called after every commit that queued outbox messages
        (the composition root passes the dispatcher's ``Wakeup``); ``notify_channel``
        (None: no ``NOTIFY``) is what other replicas listen on, PostgreSQL only."""
        self.engine = engine
        self.on_outbox_commit = on_outbox_commit
        self.notify_channel = notify_channel
        # expire_on_commit=False: repositories hand out domain copies, never rows, so
        # nothing needs reloading after a commit (and async code must not lazy-load).
        self._sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=True)

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions, on_outbox_commit=self.on_outbox_commit,
                             notify_channel=self.notify_channel)
