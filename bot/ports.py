"""The interfaces the services need from the outside world.

Storage implements the repositories and the unit of work (``storage/``); the chat
front ends implement ``Messenger`` (``handlers/slack``, ``handlers/teams``); tests use the
in-memory fakes in ``tests/fakes.py``. Services depend on these Protocols only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
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
from bot.domain.nomination import ConsentRecord, Nomination
from bot.domain.policy import LimitPolicy


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
    to update in place (e.g. an ask whose buttons disappear once answered). ``not_before``
    holds a message that can wait until the recipient's hours open (quiet hours): it is
    queued as of then (its ``next_attempt_at`` and ``created_at``).
    """

    recipient: Person
    template: str
    context: dict[str, Any]
    key: str
    replaces: str | None = None
    not_before: datetime | None = None

    def queued_at(self, now: datetime) -> datetime:
        """When the message may first go: ``now``, or later for one held for quiet hours."""
        return max(now, self.not_before) if self.not_before is not None else now


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
    locale: str | None = None  # the recipient's, set before delivery (bot.services.locales)


class DeliveryError(Exception):
    """A messenger could not deliver. ``permanent`` errors are not retried."""

    def __init__(
        self, reason: str, *, retry_after: float | None = None, permanent: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.permanent = permanent


class Unreachable(DeliveryError):
    """The platform has no way to reach ``recipient`` yet (a Teams user who never opened
    the bot): a dead letter at once, and the program managers are told (once per person)."""

    def __init__(self, reason: str, recipient: Person) -> None:
        super().__init__(reason, permanent=True)
        self.recipient = recipient


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

    async def owns_accounts(self, email: str) -> bool:
        """Is ``email`` (any case) the account owner of at least one advocate? An indexed
        lookup: roles ask it on every action, so it must not read the roster."""
        ...

    async def get_many_by_email(self, emails: Sequence[str]) -> dict[str, Advocate]:
        """The advocates with these emails (any case), keyed by lower-case email."""
        ...

    async def import_fingerprints(self) -> dict[str, str | None]:
        """Every advocate's lower-case email with the fingerprint of the roster row
        ``upsert_many`` stored (None if there is none: every other write of an advocate
        clears it)."""
        ...

    async def upsert_many(self, advocates: Sequence[tuple[Advocate, str | None]]) -> None:
        """Insert or update (by email, any case) many advocates in a few statements, for
        the roster import, each with the fingerprint of its roster row (None: not from a
        file); ``id`` is ignored.
        All or nothing with the unit of work."""
        ...

    async def list(self, *, status: AdvocateStatus | None = None) -> list[Advocate]:
        """All advocates (or those with ``status``), ordered by email."""
        ...

    async def count(self, *, status: AdvocateStatus) -> int:
        """How many advocates have ``status`` (an indexed count)."""
        ...

    async def locales(self, emails: Sequence[str]) -> dict[str, str]:
        """The roster's ``Locale`` of the advocates among ``emails`` that have one, keyed
        by lower-case email, in one indexed query."""
        ...

    async def active_roster(self) -> list[Advocate]:
        """The active advocates, ordered by email, as this transaction sees them, for
        matching: may come from a copy kept in memory, so treat them as read-only."""
        ...

    async def usage(self, advocate_ids: Sequence[int] | None, *,
                    since: datetime) -> dict[int, Usage]:
        """Limits-relevant usage per advocate: counting engagements at or after ``since``,
        open asks, the current decline streak and the last engagement time. Every id asked
        for is in the answer (an unused advocate gets ``Usage()``); with ``None``, every
        advocate who has any usage (the others are unused)."""
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

    async def get_many(self, identities: Sequence[Identity]) -> dict[Identity, Person]:
        """The stored people among ``identities``, in one query (the outbox dispatcher
        reads its recipients' locales this way)."""
        ...

    async def choose_locale(self, identity: Identity, locale: str | None) -> bool:
        """Keep the language the person chose (None: none); False if they are not stored."""
        ...

    async def find_by_email(self, email: str) -> list[Person]:
        """Every chat identity linked to an email (case-insensitive), newest first."""
        ...

    async def save_conversation_reference(self, identity: Identity, reference: dict) -> None:
        """Keep the platform's address for messaging this person unprompted (Teams needs a
        Bot Framework conversation reference for every proactive message). The person's row
        is created if the bot has not stored them yet; ``upsert`` leaves the reference be."""
        ...

    async def conversation_reference(self, identity: Identity) -> dict | None:
        """The stored conversation reference, or None if the person never talked to (or
        installed) the bot on that platform."""
        ...

    async def delete_by_email(self, email: str) -> list[Identity]:
        """Delete every person row linked to ``email`` (case-insensitive), conversation
        references included; returns the identities deleted (forgetting an advocate)."""
        ...


class AuditLog(Protocol):
    async def append(self, entry: AuditEntry) -> None: ...

    async def list(self, *, subject: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """Newest first."""
        ...

    async def scrub(self, replacements: Mapping[str, str]) -> int:
        """Erase a person from the log: an ``actor`` equal to a key (ignoring case) becomes
        its value, and every string in ``detail`` has the keys replaced (whole words,
        ignoring case; see ``bot.domain.redaction``). Returns how many entries changed.
        The one exception to append-only, for forgetting an advocate."""
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
        them while this one delivers (``SKIP LOCKED`` on PostgreSQL while claiming). A
        message that replaces another is not due while that one is still pending."""
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

    async def scrub_recipient(
        self, email: str, *, identities: Sequence[Identity] = (), placeholder: str,
        replacements: Mapping[str, str],
    ) -> tuple[int, int]:
        """Erase a person from the outbox (forgetting an advocate).

        Messages addressed to ``email`` (ignoring case) or to one of ``identities``: pending
        ones are deleted; sent and dead ones keep their row (and status, for the digest's
        counts) but lose the recipient (email → ``placeholder``, no name, identity or zone),
        their context and their error text. Every other message whose context or error
        quotes a key of ``replacements`` gets it replaced (``bot.domain.redaction``).
        Returns (deleted, changed)."""
        ...

    async def add_many(self, messages: Sequence[OutgoingMessage], *, now: datetime) -> int:
        """``add`` for each message, in bulk (fan-outs); returns how many were new."""
        ...


class Idempotency(Protocol):
    async def claim(self, key: str, *, now: datetime) -> bool:
        """Record ``key``; True the first time, False for every repeat (event ids, clicks,
        scheduled-job periods). Takes effect with the unit of work's commit."""
        ...

    async def claim_many(self, keys: Iterable[str], *, now: datetime) -> set[str]:
        """``claim`` for each key, in bulk; returns the keys claimed by this call."""
        ...


# --- reporting (digest, check-ins, recognition) ------------------------------------------


@dataclass(frozen=True, slots=True)
class FlowStats:
    """What happened to requests in a time window, from SQL aggregates.

    ``fulfilled`` counts requests whose engagement was completed in the window and
    ``unfulfilled`` those closed as unfulfilled in it. ``accept_waits`` holds, for each
    request first accepted in the window, the seconds from its creation to that first
    acceptance, sorted (one week's worth: small enough for a median in Python).
    """

    opened: int = 0
    fulfilled: int = 0
    unfulfilled: int = 0
    influenced: Decimal = Decimal("0.00")
    accept_waits: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class WaitingRequest:
    request_id: int
    prospect_company: str
    rep_email: str | None
    created_at: datetime
    needed_by: date
    state: str


@dataclass(frozen=True, slots=True)
class AdvocateLoad:
    """An advocate at or near a rolling limit: engagements counted against each window."""

    advocate_id: int
    name: str
    used_90: int
    limit_90: int
    used_365: int
    limit_365: int

    @property
    def at_limit(self) -> bool:
        return self.used_90 >= self.limit_90 or self.used_365 >= self.limit_365


@dataclass(frozen=True, slots=True)
class AdvocateScore:
    """Points and completed engagements of one advocate in a window (top advocates)."""

    advocate_id: int
    name: str
    points: int
    engagements: int
    public_recognition: bool


@dataclass(frozen=True, slots=True)
class RenewalCaution:
    advocate_id: int
    name: str
    renewal_date: date


@dataclass(frozen=True, slots=True)
class CompletedEngagement:
    """A completed engagement and which of its advocate's completed engagements it is
    (``ordinal`` 1 = their first), for recognition and milestones."""

    engagement_id: int
    advocate_id: int
    reference_type: str
    points: int
    completed_at: datetime
    ordinal: int


@dataclass(frozen=True, slots=True)
class AdvocateQuarter:
    """One advocate's numbers for a period (the check-in's "your quarter in numbers")."""

    asks: int = 0
    accepted: int = 0
    declined: int = 0
    completed: int = 0
    points: int = 0


@dataclass(frozen=True, slots=True)
class DeadLetter:
    recipient: str
    template: str
    error: str
    failed_at: datetime


@dataclass(frozen=True, slots=True)
class ReportTotals:
    """The program report's request numbers for a window (``ProgramReportQueries``).

    ``fulfilled``/``unfulfilled``/``influenced`` as in ``FlowStats``; ``won`` is the part of
    ``influenced`` whose opportunity's stage reads closed-won; the accept times are over
    the requests first accepted in the window (None when there are none): the median
    (the mean of the two middle values for an even count) and the 90th percentile
    (nearest rank), in seconds.
    """

    opened: int = 0
    fulfilled: int = 0
    unfulfilled: int = 0
    influenced: Decimal = Decimal("0.00")
    won: Decimal = Decimal("0.00")
    median_accept_seconds: float | None = None
    p90_accept_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class ReportGroup:
    """One row of a report breakdown (per advocate, rep, industry or region): ``name``
    (empty when the record leaves it blank), ``requests`` opened in the window (for an
    advocate: asks received), engagements completed in it and their outcomes' amounts."""

    name: str
    requests: int = 0
    engagements: int = 0
    influenced: Decimal = Decimal("0.00")
    won: Decimal = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class AdvocateHealth:
    """The roster's health for a report: ``active``/``paused`` as the roster stands now;
    ``near_limit`` and ``idle`` as of the window's end (as the digest counts them);
    ``new`` (joined) and ``left`` (left the program) in the window."""

    active: int = 0
    paused: int = 0
    near_limit: int = 0
    idle: int = 0
    new: int = 0
    left: int = 0


@dataclass(frozen=True, slots=True)
class NominationFunnel:
    """The report's nominations for a window: ``nominated`` (made in it), ``approved`` and
    ``declined`` (decided in it), ``joined`` (became advocates in it), ``waiting`` (still
    open at its end: not declined, joined or "No thanks" by then), ``converted`` (of those
    made in it, how many joined before its end) and the median time from nomination to
    joining of those who joined in it (seconds; None when none did)."""

    nominated: int = 0
    approved: int = 0
    declined: int = 0
    joined: int = 0
    waiting: int = 0
    converted: int = 0
    median_join_seconds: float | None = None


REPORT_GROUPS = ("advocate", "rep", "industry", "region")


class ProgramReportQueries(Protocol):
    """The quarterly program report's aggregates (``uow.reports`` serves them too)."""

    async def report_totals(self, start: datetime, end: datetime) -> ReportTotals: ...

    async def engagements_by_type(self, start: datetime, end: datetime) -> dict[str, int]:
        """Engagements completed in the window per reference type (types with none absent)."""
        ...

    async def report_groups(self, by: str, start: datetime, end: datetime
                            ) -> list[ReportGroup]:
        """The window's numbers per ``by`` (one of ``REPORT_GROUPS``), most engagements
        first, then most requests, then by name."""
        ...

    async def advocate_health(self, start: datetime, end: datetime, limits: LimitPolicy, *,
                              idle_days: int, days: tuple[date, date]) -> AdvocateHealth:
        """``days``: the window's first and last day on the program's calendar (who
        joined in it: the roster's ``joined_on`` is a day)."""
        ...

    async def influenced_series(self, bounds: Sequence[datetime]) -> list[Decimal]:
        """Influenced amounts of engagements completed in each window between consecutive
        ``bounds``."""
        ...

    async def nomination_funnel(self, start: datetime, end: datetime) -> NominationFunnel: ...


class ReportRepository(ProgramReportQueries, Protocol):
    """Read-only aggregates for the digest, the check-ins, recognition and the program
    report.

    Every method is a handful of grouped queries however large the program is; none
    loads every row. Time windows are half-open ``[start, end)`` in UTC.
    """

    async def flow(self, start: datetime, end: datetime) -> FlowStats: ...

    async def weekly_counts(self, bounds: Sequence[datetime]) -> list[tuple[int, int]]:
        """(opened, fulfilled) for each window between consecutive ``bounds``."""
        ...

    async def waiting_past_sla(self, as_of: datetime, *, created_before: datetime,
                               limit: int = 5) -> tuple[int, list[WaitingRequest]]:
        """Requests opened before ``created_before`` that, at ``as_of``, were neither closed
        nor accepted by any advocate: how many, and the oldest ``limit`` of them."""
        ...

    async def upcoming_calls(self, start: datetime, end: datetime) -> int:
        """Engagements (not cancelled) whose call time falls in the window."""
        ...

    async def advocate_loads(self, as_of: datetime, limits: LimitPolicy, *, near: int = 1
                             ) -> list[AdvocateLoad]:
        """Active advocates whose engagements agreed by ``as_of`` (counted in the 90 and
        365 days before it, and upcoming) come within ``near`` of their effective limit
        (program ``limits``, a manager's override, then the advocate's own stricter wish).
        """
        ...

    async def idle_advocates(self, as_of: datetime, *, days: int) -> int:
        """Active advocates (in the program at least ``days``) with no engagement that
        counts in the ``days`` before ``as_of``."""
        ...

    async def top_advocates(self, start: datetime, end: datetime, *, limit: int
                            ) -> list[AdvocateScore]:
        """By points earned from engagements completed in the window, most first."""
        ...

    async def renewal_cautions(self, today: date, *, days: int, limit: int = 5
                               ) -> tuple[int, list[RenewalCaution]]:
        """Active advocates renewing within ``days`` of ``today``: how many, soonest first."""
        ...

    async def dead_letters(self, start: datetime, end: datetime, *, limit: int = 5
                           ) -> tuple[int, list[DeadLetter]]:
        """Messages that failed for good in the window: how many, and the latest few."""
        ...

    async def completed_engagements(self, start: datetime, end: datetime
                                    ) -> list[CompletedEngagement]:
        """Engagements completed in the window, oldest first, each with its ordinal."""
        ...

    async def advocate_numbers(self, start: datetime, end: datetime
                               ) -> dict[int, AdvocateQuarter]:
        """Per advocate: asks received, accepted and declined, engagements completed and
        points earned in the window (advocates with nothing are absent)."""
        ...

    async def expiring_asks(self, start: datetime, end: datetime) -> list[Ask]:
        """Asks still waiting for the advocate whose ``expires_at`` falls in the window."""
        ...

    async def audited_subjects(self, action: str, *, since: datetime) -> set[str]:
        """Subjects of audit entries with ``action`` at or after ``since``."""
        ...

    async def claimed_keys(self, prefix: str) -> set[str]:
        """Idempotency-ledger keys starting with ``prefix``."""
        ...


class NominationRepository(Protocol):
    """Nominations (``bot.domain.nomination``), and the roster questions of the readiness
    check: the contacts at an email domain, their counting engagements since a moment."""

    async def add(self, nomination: Nomination) -> Nomination: ...
    async def update(self, nomination: Nomination) -> None: ...
    async def get(self, nomination_id: int) -> Nomination | None: ...
    async def get_for_update(self, nomination_id: int) -> Nomination | None: ...
    async def for_email(self, email: str) -> list[Nomination]: ...  # newest first, any case
    async def waiting(self, *, created_before: datetime) -> list[Nomination]: ...  # pending
    async def forget(self, email: str) -> int: ...
    async def account_contacts(self, domain: str) -> list[Advocate]: ...
    async def engagements_since(self, advocate_ids: Sequence[int], since: datetime) -> int: ...


class ConsentRepository(Protocol):
    """Consent records; ``latest_all`` is the latest of everyone, by lower-case email."""

    async def add(self, record: ConsentRecord) -> ConsentRecord: ...
    async def add_many(self, records: Sequence[ConsentRecord]) -> int: ...
    async def latest(self, email: str) -> ConsentRecord | None: ...
    async def latest_all(self) -> dict[str, ConsentRecord]: ...
    async def forget(self, email: str) -> int: ...


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
    reports: ReportRepository
    nominations: NominationRepository
    consents: ConsentRepository

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
