"""The database tables, as SQLAlchemy 2 typed declarative models.

These rows are storage's own business: ``repositories.py`` maps them to and from the
domain dataclasses, and no row ever leaves this package. Enums are stored as their string
values in plain ``VARCHAR`` columns (not native enums) so adding a state is a code change,
not a migration. Lists and sets are JSON arrays (sets sorted, so equal sets store equally).

Every change here needs a migration in ``storage/migrations/versions``; the test suite
fails if autogenerate finds a difference between these models and the migrated schema.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

# Deterministic constraint and index names, so migrations can refer to them on both
# databases (SQLite would otherwise leave unique constraints unnamed).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

EMAIL_LENGTH = 320  # RFC 5321: 64 local part + @ + 255 domain
ENUM_LENGTH = 32
LOCALE_LENGTH = 35  # a Babel locale identifier ("ja_JP", "zh_Hant_TW"); BCP 47 allows 35


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database.

    PostgreSQL stores it as ``timestamptz``. SQLite has no time zones: its driver would
    silently drop an offset and store local wall time, so this type converts to UTC and
    stores naive UTC there, and hands back aware UTC either way. A naive datetime is a bug
    (see ``bot.domain.model.ensure_utc``) and is refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(DateTime(timezone=False))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: every stored datetime must be aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Money(TypeDecorator[Decimal]):
    """``Numeric(14, 2)``, exact on PostgreSQL and exact enough on SQLite.

    SQLite has no decimal type (it stores a double) and SQLAlchemy warns on every read of
    a Decimal column there; 14 significant digits fit a double losslessly, so this type
    reads the float and rounds it back to cents instead.
    """

    impl = Numeric(14, 2)
    cache_ok = True
    CENTS = Decimal("0.01")

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Numeric(14, 2, asdecimal=False))
        return dialect.type_descriptor(Numeric(14, 2))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return float(value)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(repr(value) if isinstance(value, float) else str(value)).quantize(
            self.CENTS
        )


#: JSON everywhere; JSONB on PostgreSQL (compact, indexable).
JSONValue = JSON().with_variant(JSONB(), "postgresql")
#: Same, but Python ``None`` is SQL NULL rather than the JSON value ``null``.
NullableJSON = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class AdvocateRow(Base):
    __tablename__ = "advocates"
    __table_args__ = (
        UniqueConstraint("email_key"),
        Index("ix_advocates_status", "status"),
        Index("ix_advocates_account_owner_key", "account_owner_key"),
        Index("ix_advocates_row_version", "row_version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    # lower(email): the unique key. A column rather than a functional index so that both
    # databases enforce it the same way and lookups can use a plain index.
    email_key: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    name: Mapped[str] = mapped_column(Text)
    company: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text, default="")
    account_id: Mapped[str] = mapped_column(String(255), default="")
    industry: Mapped[str] = mapped_column(Text, default="")
    region: Mapped[str] = mapped_column(Text, default="")
    country: Mapped[str] = mapped_column(Text, default="")
    company_size: Mapped[str | None] = mapped_column(String(ENUM_LENGTH))
    products: Mapped[list[str]] = mapped_column(JSONValue)
    use_cases: Mapped[list[str]] = mapped_column(JSONValue)
    languages: Mapped[list[str]] = mapped_column(JSONValue)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    call_hours: Mapped[str | None] = mapped_column(String(80))  # None: the program's default
    # The language they read the bot in, from the roster's Locale column (0009).
    locale: Mapped[str | None] = mapped_column(String(LOCALE_LENGTH))
    reference_types: Mapped[list[str]] = mapped_column(JSONValue)
    public_recognition: Mapped[bool] = mapped_column(Boolean, default=False)
    account_owner_email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    # lower(account_owner_email), indexed: "is this person an account owner?" is asked on
    # every action (roles), and must not scan the roster (migration 0003).
    account_owner_key: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    health_score: Mapped[int | None] = mapped_column(Integer)
    nps: Mapped[int | None] = mapped_column(Integer)
    renewal_date: Mapped[date | None] = mapped_column(Date)
    customer_since: Mapped[date | None] = mapped_column(Date)  # the account's (0011)
    status: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    unavailable_until: Mapped[date | None] = mapped_column(Date)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    do_not_use_with: Mapped[list[str]] = mapped_column(JSONValue)
    own_max_per_90_days: Mapped[int | None] = mapped_column(Integer)
    own_max_per_365_days: Mapped[int | None] = mapped_column(Integer)
    own_cooldown_days: Mapped[int | None] = mapped_column(Integer)
    own_max_open_asks: Mapped[int | None] = mapped_column(Integer)
    manager_max_per_90_days: Mapped[int | None] = mapped_column(Integer)
    manager_max_per_365_days: Mapped[int | None] = mapped_column(Integer)
    manager_cooldown_days: Mapped[int | None] = mapped_column(Integer)
    manager_max_open_asks: Mapped[int | None] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer, default=0)
    joined_on: Mapped[date | None] = mapped_column(Date)
    consent_source: Mapped[str] = mapped_column(Text, default="")
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notes: Mapped[str] = mapped_column(Text, default="")
    # The hash of the roster row the last import wrote; cleared by every other write, so
    # an import can count an identical row as unchanged without parsing it (0006).
    import_fingerprint: Mapped[str | None] = mapped_column(String(32))
    # The roster version (``RosterVersionRow``) of the write that last changed this row:
    # matching's in-process copy of the roster reads only rows newer than its own (0007).
    row_version: Mapped[int] = mapped_column(BigInteger, default=0)


class RosterVersionRow(Base):
    """One row: a counter each transaction that wrote advocates increments as it commits.
    The row lock orders the writers, so versions become visible in order (0007)."""

    __tablename__ = "roster_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class RequestRow(Base):
    __tablename__ = "reference_requests"
    __table_args__ = (
        Index("ix_reference_requests_rep_identity", "rep_platform", "rep_workspace_id",
              "rep_user_id"),
        Index("ix_reference_requests_rep_email_key", "rep_email_key"),
        Index("ix_reference_requests_state_needed_by", "state", "needed_by"),
        # The digest's windows (0002): requests opened, and closed unfulfilled, in a week.
        Index("ix_reference_requests_created_at", "created_at"),
        Index("ix_reference_requests_state_updated_at", "state", "updated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The rep, denormalised: a request keeps who asked even if the person row changes.
    rep_email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    rep_email_key: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    rep_display_name: Mapped[str] = mapped_column(Text, default="")
    rep_platform: Mapped[str | None] = mapped_column(String(ENUM_LENGTH))
    rep_workspace_id: Mapped[str | None] = mapped_column(String(255))
    rep_user_id: Mapped[str | None] = mapped_column(String(255))
    rep_timezone: Mapped[str | None] = mapped_column(String(64))
    prospect_company: Mapped[str] = mapped_column(Text)
    reference_type: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    needed_by: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opportunity_name: Mapped[str] = mapped_column(Text, default="")
    crm_opportunity_id: Mapped[str] = mapped_column(String(255), default="")
    opportunity_amount: Mapped[Decimal | None] = mapped_column(Money)
    opportunity_stage: Mapped[str] = mapped_column(Text, default="")
    industry: Mapped[str] = mapped_column(Text, default="")
    region: Mapped[str] = mapped_column(Text, default="")
    company_size: Mapped[str | None] = mapped_column(String(ENUM_LENGTH))
    products: Mapped[list[str]] = mapped_column(JSONValue)
    use_cases: Mapped[list[str]] = mapped_column(JSONValue)
    language: Mapped[str] = mapped_column(Text, default="")
    proposed_times: Mapped[list[str]] = mapped_column(JSONValue)  # ISO 8601, UTC
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    call_length_minutes: Mapped[int] = mapped_column(Integer, default=30)
    meeting_link: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    parallel_asks: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_reason: Mapped[str] = mapped_column(Text, default="")


class AskRow(Base):
    __tablename__ = "asks"
    __table_args__ = (
        Index("ix_asks_advocate_id_state", "advocate_id", "state"),
        Index("ix_asks_request_id", "request_id"),
        Index("ix_asks_state_expires_at", "state", "expires_at"),
        Index("ix_asks_created_at", "created_at"),  # a quarter's asks, for check-ins (0002)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("reference_requests.id"))
    advocate_id: Mapped[int] = mapped_column(ForeignKey("advocates.id"))
    rank: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    approver_email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    approved_by: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    override_reason: Mapped[str] = mapped_column(Text, default="")


class EngagementRow(Base):
    __tablename__ = "engagements"
    __table_args__ = (
        Index("ix_engagements_advocate_id_state", "advocate_id", "state"),
        Index("ix_engagements_request_id", "request_id"),
        # Engagements completed (or calls scheduled) in a window: digest, recognition,
        # check-ins (0002).
        Index("ix_engagements_state_completed_at", "state", "completed_at"),
        Index("ix_engagements_scheduled_at", "scheduled_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("reference_requests.id"))
    advocate_id: Mapped[int] = mapped_column(ForeignKey("advocates.id"))
    ask_id: Mapped[int] = mapped_column(ForeignKey("asks.id"))
    reference_type: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=30)
    proposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(ENUM_LENGTH))
    helpfulness: Mapped[int | None] = mapped_column(Integer)
    influenced_amount: Mapped[Decimal | None] = mapped_column(Money)
    advocate_comment: Mapped[str] = mapped_column(Text, default="")
    points_awarded: Mapped[int] = mapped_column(Integer, default=0)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PersonRow(Base):
    __tablename__ = "people"
    __table_args__ = (
        UniqueConstraint("platform", "workspace_id", "user_id"),
        Index("ix_people_email_key", "email_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    workspace_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    email_key: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))  # lower(email)
    display_name: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str | None] = mapped_column(String(64))
    # What the chat platform said: a full member of our workspace/tenant (True), a guest
    # or an outsider (False), not said (None). Only internal people can be reps.
    internal: Mapped[bool | None] = mapped_column(Boolean)
    # The language the platform says they use, and the one they chose (which wins) (0009).
    locale: Mapped[str | None] = mapped_column(String(LOCALE_LENGTH))
    chosen_locale: Mapped[str | None] = mapped_column(String(LOCALE_LENGTH))
    # Teams needs a stored conversation reference to message someone proactively.
    conversation_reference: Mapped[dict[str, Any] | None] = mapped_column(NullableJSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditRow(Base):
    """Append-only: the repository never deletes these rows and updates them only to
    forget a person (``AuditLog.scrub``: their email and name replaced, nothing else)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_subject", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    action: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(255))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONValue)


class OutboxRow(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("key"),
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(500))
    recipient_email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    recipient_platform: Mapped[str | None] = mapped_column(String(ENUM_LENGTH))
    recipient_workspace_id: Mapped[str | None] = mapped_column(String(255))
    recipient_user_id: Mapped[str | None] = mapped_column(String(255))
    recipient_display_name: Mapped[str] = mapped_column(Text, default="")
    recipient_timezone: Mapped[str | None] = mapped_column(String(64))
    template: Mapped[str] = mapped_column(String(255))
    context: Mapped[dict[str, Any]] = mapped_column(JSONValue)
    replaces: Mapped[str | None] = mapped_column(String(500))  # key of the message to update
    status: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When the dispatcher may try (again); for a dead letter, when it died.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    platform_ref: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdempotencyKeyRow(Base):
    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(500), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NominationRow(Base):
    """A customer contact nominated to join the program (0010)."""

    __tablename__ = "nominations"
    __table_args__ = (
        Index("ix_nominations_email_key", "email_key"),
        Index("ix_nominations_state_created_at", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    email_key: Mapped[str] = mapped_column(String(EMAIL_LENGTH))  # lower(email)
    name: Mapped[str] = mapped_column(Text, default="")
    company: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    nominator_email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    nominator_name: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    readiness: Mapped[list[Any]] = mapped_column(JSONValue)  # Problem.to_json() each
    override: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_by: Mapped[str] = mapped_column(String(EMAIL_LENGTH), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    advocate_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConsentRow(Base):
    """Consent given: the wording's version, when, where, to what (0010). Append-only but
    for forgetting a person, which deletes their rows."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_email_key", "email_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    email_key: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    advocate_id: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    agreed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    platform: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    agreed_to: Mapped[list[str]] = mapped_column(JSONValue)
    source: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    recorded_by: Mapped[str] = mapped_column(String(EMAIL_LENGTH), default="")
