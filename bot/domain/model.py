"""The reference program's vocabulary: people, requests, asks, engagements.

Everything here is plain data with no I/O. Entities (``Advocate``, ``ReferenceRequest``,
``Ask``, ``Engagement``) are mutable dataclasses that services load, change through the
domain functions and hand back to a repository; value objects are frozen.

All datetimes are timezone-aware UTC; ``ensure_utc`` refuses naive ones so that a
forgotten ``tzinfo`` fails loudly instead of shifting a call by hours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum


def ensure_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC; naive datetimes are a programming error."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: every datetime must carry a time zone")
    return value.astimezone(UTC)


class Platform(StrEnum):
    SLACK = "slack"
    TEAMS = "teams"
    SANDBOX = "sandbox"  # the browser sandbox (handlers/sandbox): one local person at a time


class Role(StrEnum):
    REP = "rep"
    ADVOCATE = "advocate"
    ACCOUNT_OWNER = "account_owner"
    PROGRAM_MANAGER = "program_manager"


class AdvocateStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    RETIRED = "retired"


class ReferenceType(StrEnum):
    CALL = "call"
    VIDEO_CALL = "video_call"
    EMAIL = "email"  # email / written reference
    SITE_VISIT = "site_visit"
    SPEAKING = "speaking"
    CASE_STUDY = "case_study"

    @property
    def label(self) -> str:
        return REFERENCE_TYPE_LABELS[self]

    @property
    def needs_call_time(self) -> bool:
        return self in (ReferenceType.CALL, ReferenceType.VIDEO_CALL)


def N_(word: str) -> str:
    """A word a person reads, named in code: marked so ``pybabel extract`` puts it in the
    catalog (docs/translating.md); the templates translate it where they show it
    (``_(reference_type_label)``). Messages carry the English word, so one queued before an
    upgrade still reads right."""
    return word


REFERENCE_TYPE_LABELS: dict[ReferenceType, str] = {
    ReferenceType.CALL: N_("Reference call"),
    ReferenceType.VIDEO_CALL: N_("Video call"),
    ReferenceType.EMAIL: N_("Email / written"),
    ReferenceType.SITE_VISIT: N_("Site visit"),
    ReferenceType.SPEAKING: N_("Speaking"),
    ReferenceType.CASE_STUDY: N_("Case study"),
}


class CompanySize(StrEnum):
    """Employee-count bands, ordered small to large (``rank`` gives the order)."""

    XS = "1-50"
    S = "51-200"
    M = "201-1000"
    L = "1001-5000"
    XL = "5001+"

    @property
    def rank(self) -> int:
        return list(CompanySize).index(self)


class RequestState(StrEnum):
    OPEN = "open"
    MATCHING = "matching"
    AWAITING_APPROVAL = "awaiting_approval"
    ASKING = "asking"
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    UNFULFILLED = "unfulfilled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_REQUEST_STATES


TERMINAL_REQUEST_STATES = frozenset(
    {RequestState.COMPLETED, RequestState.UNFULFILLED, RequestState.CANCELLED, RequestState.EXPIRED}
)


class AskState(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"  # the account owner has not approved yet
    PENDING = "pending"  # the advocate has the ask and has not answered
    ACCEPTED = "accepted"
    DECLINED = "declined"
    SNOOZED = "snoozed"  # "Not now": ends this ask and snoozes the advocate
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"  # the request was cancelled or filled elsewhere
    DENIED = "denied"  # the account owner said no

    @property
    def is_open(self) -> bool:
        return self in (AskState.AWAITING_APPROVAL, AskState.PENDING)


class EngagementState(StrEnum):
    ACCEPTED = "accepted"  # the advocate said yes; no time agreed yet
    PROPOSED = "proposed"  # the advocate proposed a new time; the rep must confirm
    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"

    @property
    def counts_toward_limits(self) -> bool:
        """Accepted, scheduled and completed engagements use up the advocate's capacity."""
        return self not in (EngagementState.CANCELLED, EngagementState.NO_SHOW)


class Outcome(StrEnum):
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    RESCHEDULED = "rescheduled"


@dataclass(frozen=True, slots=True)
class Identity:
    """A chat user: one platform, one workspace (Slack team) or tenant (Teams), one id."""

    platform: Platform
    workspace_id: str
    user_id: str


@dataclass(frozen=True, slots=True)
class Person:
    """Someone the bot talks to. ``identity`` is None until they are linked to a chat user.

    ``internal`` is what the chat platform says about who they are: True for a full member
    of the organisation's own workspace or tenant, False for a guest, a restricted user or
    someone from another organisation (Slack Connect, another tenant), None when the
    platform did not say. Only internal people can be reps: a customer must never see the
    roster's matches, however they reached the bot.

    ``locale`` is the language the platform says they use (Slack's ``users.info`` locale,
    Teams' activity locale); ``chosen_locale`` is the one they picked themselves
    (``/advocate language``), which wins. Both Babel identifiers (``ja_JP``, ``en``);
    ``bot.services.locales`` resolves which one a person reads.
    """

    email: str | None
    display_name: str = ""
    identity: Identity | None = None
    timezone: str | None = None
    internal: bool | None = None
    locale: str | None = None
    chosen_locale: str | None = None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is doing something, with the roles the program gives them, and the locale
    their replies are rendered in (``bot.services.locales.reading``; None: the program's)."""

    person: Person
    roles: frozenset[Role] = frozenset({Role.REP})
    locale: str | None = None

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def is_program_manager(self) -> bool:
        return Role.PROGRAM_MANAGER in self.roles


@dataclass(frozen=True, slots=True)
class LimitOverrides:
    """Per-advocate limits; ``None`` means "use the program's value"."""

    max_per_90_days: int | None = None
    max_per_365_days: int | None = None
    cooldown_days: int | None = None
    max_open_asks: int | None = None

    def is_empty(self) -> bool:
        return all(
            v is None
            for v in (
                self.max_per_90_days,
                self.max_per_365_days,
                self.cooldown_days,
                self.max_open_asks,
            )
        )


@dataclass(slots=True)
class Advocate:
    email: str
    name: str
    company: str
    id: int | None = None
    title: str = ""
    account_id: str = ""  # CRM account id
    industry: str = ""
    region: str = ""
    country: str = ""
    company_size: CompanySize | None = None
    products: tuple[str, ...] = ()
    use_cases: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("English",)
    timezone: str = "UTC"
    # When they take calls, in their own zone ("Mon-Fri 09:00-18:00", bot/domain/hours.py);
    # "" is the program's default.
    call_hours: str = ""
    # The language they read the bot in (a Babel identifier, "ja_JP"), from the roster's
    # Locale column; "" when the roster does not say. ``languages`` is what they can speak
    # on a call (matching); this is what the bot writes to them in.
    locale: str = ""
    reference_types: frozenset[ReferenceType] = frozenset({ReferenceType.CALL})
    public_recognition: bool = False
    account_owner_email: str | None = None
    health_score: int | None = None  # 0-100, from the CRM / CS tool
    nps: int | None = None  # 0-10
    renewal_date: date | None = None
    # The day the account became a customer (the roster's Customer Since column): the
    # nomination readiness check's tenure. None when the roster does not say.
    customer_since: date | None = None
    status: AdvocateStatus = AdvocateStatus.ACTIVE
    unavailable_until: date | None = None  # on leave; never asked up to and including this day
    snoozed_until: datetime | None = None  # "Not now" or the decline streak
    do_not_use_with: tuple[str, ...] = ()  # prospect companies this advocate must not meet
    own_limits: LimitOverrides = field(default_factory=LimitOverrides)  # stricter only
    manager_limits: LimitOverrides = field(default_factory=LimitOverrides)  # set by a PM
    points: int = 0
    joined_on: date | None = None
    consent_source: str = ""  # "crm-import", "self-onboarded", ...
    consented_at: datetime | None = None
    notes: str = ""


@dataclass(frozen=True, slots=True)
class Usage:
    """What an advocate has on their plate, as the limits see it.

    ``engagement_times`` holds, for every engagement that counts toward the limits, the
    moment it happened or will happen (the call time if scheduled, else when accepted).
    """

    engagement_times: tuple[datetime, ...] = ()
    open_asks: int = 0
    consecutive_declines: int = 0
    last_declined_at: datetime | None = None
    last_engaged_at: datetime | None = None  # for least-recently-used fairness


@dataclass(slots=True)
class ReferenceRequest:
    rep: Person
    prospect_company: str
    reference_type: ReferenceType
    needed_by: date
    created_at: datetime
    id: int | None = None
    opportunity_name: str = ""
    crm_opportunity_id: str = ""
    opportunity_amount: Decimal | None = None
    opportunity_stage: str = ""
    industry: str = ""
    region: str = ""
    company_size: CompanySize | None = None
    products: tuple[str, ...] = ()
    use_cases: tuple[str, ...] = ()
    language: str = ""  # "" = no language requirement
    proposed_times: tuple[datetime, ...] = ()  # UTC
    timezone: str = "UTC"  # the rep's zone, for showing times back to them
    call_length_minutes: int = 30
    meeting_link: str = ""
    notes: str = ""
    parallel_asks: int = 1
    state: RequestState = RequestState.OPEN
    updated_at: datetime | None = None
    closed_reason: str = ""


@dataclass(slots=True)
class Ask:
    request_id: int
    advocate_id: int
    rank: int
    created_at: datetime
    expires_at: datetime | None
    id: int | None = None
    state: AskState = AskState.PENDING
    answered_at: datetime | None = None
    decline_reason: str = ""
    approver_email: str | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    override_reason: str = ""  # set when a program manager overrode a limit for this ask


@dataclass(slots=True)
class Engagement:
    request_id: int
    advocate_id: int
    ask_id: int
    reference_type: ReferenceType
    accepted_at: datetime
    id: int | None = None
    state: EngagementState = EngagementState.ACCEPTED
    scheduled_at: datetime | None = None  # call start, UTC
    duration_minutes: int = 30
    proposed_at: datetime | None = None  # a time the advocate proposed, awaiting the rep
    outcome: Outcome | None = None
    helpfulness: int | None = None  # 1-5
    influenced_amount: Decimal | None = None
    advocate_comment: str = ""
    points_awarded: int = 0
    completed_at: datetime | None = None

    @property
    def counts_at(self) -> datetime:
        """The moment this engagement occupies in the advocate's rolling windows."""
        return self.scheduled_at or self.accepted_at


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the append-only activity log."""

    at: datetime
    actor: str  # email or "platform:user" of who did it; "system" for jobs
    action: str  # e.g. "request.submitted", "limit.override"
    subject: str  # e.g. "request:12", "advocate:7"
    detail: dict[str, object] = field(default_factory=dict)
    id: int | None = None
