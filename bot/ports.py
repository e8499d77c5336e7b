"""The interfaces the services need from the outside world.

Storage implements the repositories and the unit of work (``storage/``); the chat
front ends implement ``Messenger`` (``handlers/slack``, ``handlers/teams``); tests use the
in-memory fakes in ``tests/fakes.py``. Services depend on these Protocols only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from types import TracebackType
from typing import Any, Protocol, Self

from bot.domain.model import (
    Advocate,
    AdvocateStatus,
    Ask,
    AuditEntry,
    Engagement,
    Identity,
    Person,
    Platform,
    ReferenceRequest,
    Usage,
)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware UTC."""
        ...


# --- outbox ---------------------------------------------------------------------------


DEFAULT_LEASE = timedelta(seconds=60)  # how long a claimed outbox row is left to its claimer


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"  # failed for good; reported in the digest


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A platform-neutral message a service wants delivered.

    ``template`` names a template family (``templates/<platform>/<template>.*.j2``) and
    ``context`` is its JSON-serialisable data. ``key`` makes writing it idempotent: a second
    message with the same key is dropped. ``replaces`` names the key of an earlier message
    to update in place (e.g. an ask whose buttons disappear once answered).
    """

    recipient: Person
    template: str
    context: dict[str, Any]
    key: str
    replaces: str | None = None


@dataclass(slots=True)
class OutboxMessage:
    """An outbox row as the dispatcher sees it."""

    id: int
    message: OutgoingMessage
    created_at: datetime
    status: OutboxStatus = OutboxStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str = ""
    sent_at: datetime | None = None
    platform_ref: str | None = None  # e.g. Slack "channel:ts", Teams activity id
    replaces_ref: str | None = field(default=None)  # platform_ref of the message it updates


class DeliveryError(Exception):
    """A messenger could not deliver. ``permanent`` errors are not retried."""

    def __init__(
        self, reason: str, *, retry_after: float | None = None, permanent: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.permanent = permanent


class Messenger(Protocol):
    """Delivers outbox messages on one platform. Renders the template itself."""

    platform: Platform

    async def deliver(self, message: OutboxMessage) -> str | None:
        """Send (or, with ``replaces_ref``, update) a message; return its platform ref.

        Raises ``DeliveryError`` on failure (with ``retry_after`` when the platform gave one).
        """
        ...


class Directory(Protocol):
    """Finds a platform's chat user by email: who is this, which time zone.

    The roster knows advocates by email only; before one of them has used the bot, the
    outbox dispatcher asks the platform's directory (Slack: ``users.lookupByEmail``) for
    their chat identity instead of giving the message up as undeliverable.
    """

    platform: Platform

    async def find_by_email(self, email: str) -> Person | None:
        """The chat user with this email, with ``identity`` set; None if there is none.

        Raises ``DeliveryError`` when the platform cannot answer right now (retryable).
        """
        ...


# --- repositories ---------------------------------------------------------------------


class AdvocateRepository(Protocol):
    async def add(self, advocate: Advocate) -> Advocate:
        """Insert; returns the advocate with its ``id`` set."""
        ...

    async def update(self, advocate: Advocate) -> None: ...

    async def get(self, advocate_id: int) -> Advocate | None: ...

    async def get_for_update(self, advocate_id: int) -> Advocate | None:
        """Load and lock the row until the unit of work ends (``FOR UPDATE`` on PostgreSQL)."""
        ...

    async def get_by_email(self, email: str) -> Advocate | None:
        """Case-insensitive lookup."""
        ...

    async def list(self, *, status: AdvocateStatus | None = None) -> list[Advocate]:
        """All advocates (or those with ``status``), ordered by email."""
        ...

    async def usage(self, advocate_ids: Sequence[int], *, since: datetime) -> dict[int, Usage]:
        """Limits-relevant usage per advocate: counting engagements at or after ``since``,
        open asks, the current decline streak and the last engagement time. Every id asked
        for is in the answer (an unused advocate gets ``Usage()``)."""
        ...


class RequestRepository(Protocol):
    async def add(self, request: ReferenceRequest) -> ReferenceRequest: ...

    async def update(self, request: ReferenceRequest) -> None: ...

    async def get(self, request_id: int) -> ReferenceRequest | None: ...

    async def get_for_update(self, request_id: int) -> ReferenceRequest | None: ...

    async def list_for_rep(
        self, rep: Person, *, include_closed: bool = False
    ) -> list[ReferenceRequest]:
        """A rep's requests, newest first; matched on identity, else on email."""
        ...

    async def list_open_needed_by(self, day: date) -> list[ReferenceRequest]:
        """Non-terminal requests whose ``needed_by`` is on or before ``day``."""
        ...


class AskRepository(Protocol):
    async def add(self, ask: Ask) -> Ask: ...

    async def update(self, ask: Ask) -> None: ...

    async def get(self, ask_id: int) -> Ask | None: ...

    async def get_for_update(self, ask_id: int) -> Ask | None: ...

    async def list_for_request(self, request_id: int) -> list[Ask]:
        """Every ask of a request, in creation order."""
        ...

    async def list_expired(self, now: datetime, *, limit: int = 100) -> list[Ask]:
        """Open asks whose ``expires_at`` has passed (the sweep skips rows another replica
        holds: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL)."""
        ...


class EngagementRepository(Protocol):
    async def add(self, engagement: Engagement) -> Engagement: ...

    async def update(self, engagement: Engagement) -> None: ...

    async def get(self, engagement_id: int) -> Engagement | None: ...

    async def get_for_request(self, request_id: int) -> Engagement | None:
        """The request's live (not cancelled) engagement, if any."""
        ...

    async def list_for_advocate(self, advocate_id: int) -> list[Engagement]:
        """Newest first."""
        ...


class PersonRepository(Protocol):
    """Chat users the bot knows: identity ↔ email, display name, cached time zone."""

    async def upsert(self, person: Person) -> None:
        """Insert or refresh by identity (and link its email)."""
        ...

    async def get_by_identity(self, identity: Identity) -> Person | None: ...

    async def find_by_email(self, email: str) -> list[Person]:
        """Every chat identity linked to an email (case-insensitive), newest first."""
        ...


class AuditLog(Protocol):
    async def append(self, entry: AuditEntry) -> None: ...

    async def list(self, *, subject: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """Newest first."""
        ...


class Outbox(Protocol):
    async def add(self, message: OutgoingMessage, *, now: datetime) -> bool:
        """Queue a message; False (and nothing written) if its key was queued before."""
        ...

    async def claim_due(
        self, now: datetime, *, limit: int = 50, lease: timedelta = DEFAULT_LEASE
    ) -> list[OutboxMessage]:
        """Pending messages due at ``now``, oldest first, leased to the caller: their
        ``next_attempt_at`` moves to ``now + lease`` so other dispatchers (replicas) skip
        them while this one delivers (``SKIP LOCKED`` on PostgreSQL while claiming)."""
        ...

    async def mark_sent(
        self, message_id: int, *, platform_ref: str | None, now: datetime
    ) -> None: ...

    async def mark_retry(
        self, message_id: int, *, error: str, next_attempt_at: datetime
    ) -> None: ...

    async def release(self, message_id: int, *, next_attempt_at: datetime) -> None:
        """Hand a claimed message back untried (no attempt counted), due again then."""
        ...

    async def mark_dead(self, message_id: int, *, error: str, now: datetime) -> None: ...

    async def platform_ref(self, key: str) -> str | None:
        """The platform ref a sent message got, by its key (for in-place updates)."""
        ...

    async def dead_letters(self, *, since: datetime) -> list[OutboxMessage]: ...


class Idempotency(Protocol):
    async def claim(self, key: str, *, now: datetime) -> bool:
        """Record ``key``; True the first time, False for every repeat (event ids, clicks,
        scheduled-job periods). Takes effect with the unit of work's commit."""
        ...


class UnitOfWork(Protocol):
    """One transaction. Leaving the ``async with`` block without ``commit()`` rolls back."""

    advocates: AdvocateRepository
    requests: RequestRepository
    asks: AskRepository
    engagements: EngagementRepository
    people: PersonRepository
    audit: AuditLog
    outbox: Outbox
    idempotency: Idempotency

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
