"""Initial schema.

Advocates, reference requests, asks, engagements, people, audit log, outbox and
idempotency keys. Written by hand from an autogenerate draft. Like every migration it
uses plain SQLAlchemy types, not ``storage.tables``: it must keep describing the schema
as it was at 0001 when the models move on. On PostgreSQL datetimes are ``timestamptz``
and JSON is ``jsonb``; on SQLite they are ``DATETIME`` (naive UTC, see
``storage.tables.UTCDateTime``) and JSON.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EMAIL = 320
ENUM = 32


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _nullable_json() -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def _money() -> sa.Numeric[Decimal]:
    return sa.Numeric(precision=14, scale=2)


def _text(name: str) -> sa.Column[str]:
    return sa.Column(name, sa.Text(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "advocates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(EMAIL), nullable=False),
        sa.Column("email_key", sa.String(EMAIL), nullable=False),
        _text("name"),
        _text("company"),
        _text("title"),
        sa.Column("account_id", sa.String(255), nullable=False),
        _text("industry"),
        _text("region"),
        _text("country"),
        sa.Column("company_size", sa.String(ENUM), nullable=True),
        sa.Column("products", _json(), nullable=False),
        sa.Column("use_cases", _json(), nullable=False),
        sa.Column("languages", _json(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("reference_types", _json(), nullable=False),
        sa.Column("public_recognition", sa.Boolean(), nullable=False),
        sa.Column("account_owner_email", sa.String(EMAIL), nullable=True),
        sa.Column("health_score", sa.Integer(), nullable=True),
        sa.Column("nps", sa.Integer(), nullable=True),
        sa.Column("renewal_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(ENUM), nullable=False),
        sa.Column("unavailable_until", sa.Date(), nullable=True),
        sa.Column("snoozed_until", _timestamp(), nullable=True),
        sa.Column("do_not_use_with", _json(), nullable=False),
        sa.Column("own_max_per_90_days", sa.Integer(), nullable=True),
        sa.Column("own_max_per_365_days", sa.Integer(), nullable=True),
        sa.Column("own_cooldown_days", sa.Integer(), nullable=True),
        sa.Column("own_max_open_asks", sa.Integer(), nullable=True),
        sa.Column("manager_max_per_90_days", sa.Integer(), nullable=True),
        sa.Column("manager_max_per_365_days", sa.Integer(), nullable=True),
        sa.Column("manager_cooldown_days", sa.Integer(), nullable=True),
        sa.Column("manager_max_open_asks", sa.Integer(), nullable=True),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=True),
        _text("consent_source"),
        sa.Column("consented_at", _timestamp(), nullable=True),
        _text("notes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advocates")),
        sa.UniqueConstraint("email_key", name=op.f("uq_advocates_email_key")),
    )
    op.create_index("ix_advocates_status", "advocates", ["status"])

    op.create_table(
        "reference_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rep_email", sa.String(EMAIL), nullable=True),
        sa.Column("rep_email_key", sa.String(EMAIL), nullable=True),
        _text("rep_display_name"),
        sa.Column("rep_platform", sa.String(ENUM), nullable=True),
        sa.Column("rep_workspace_id", sa.String(255), nullable=True),
        sa.Column("rep_user_id", sa.String(255), nullable=True),
        sa.Column("rep_timezone", sa.String(64), nullable=True),
        _text("prospect_company"),
        sa.Column("reference_type", sa.String(ENUM), nullable=False),
        sa.Column("needed_by", sa.Date(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        _text("opportunity_name"),
        sa.Column("crm_opportunity_id", sa.String(255), nullable=False),
        sa.Column("opportunity_amount", _money(), nullable=True),
        _text("opportunity_stage"),
        _text("industry"),
        _text("region"),
        sa.Column("company_size", sa.String(ENUM), nullable=True),
        sa.Column("products", _json(), nullable=False),
        sa.Column("use_cases", _json(), nullable=False),
        _text("language"),
        sa.Column("proposed_times", _json(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("call_length_minutes", sa.Integer(), nullable=False),
        _text("meeting_link"),
        _text("notes"),
        sa.Column("parallel_asks", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(ENUM), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=True),
        _text("closed_reason"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_requests")),
    )
    op.create_index("ix_reference_requests_rep_email_key", "reference_requests",
                    ["rep_email_key"])
    op.create_index("ix_reference_requests_rep_identity", "reference_requests",
                    ["rep_platform", "rep_workspace_id", "rep_user_id"])
    op.create_index("ix_reference_requests_state_needed_by", "reference_requests",
                    ["state", "needed_by"])

    op.create_table(
        "asks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("advocate_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("expires_at", _timestamp(), nullable=True),
        sa.Column("state", sa.String(ENUM), nullable=False),
        sa.Column("answered_at", _timestamp(), nullable=True),
        _text("decline_reason"),
        sa.Column("approver_email", sa.String(EMAIL), nullable=True),
        sa.Column("approved_by", sa.String(EMAIL), nullable=True),
        sa.Column("approved_at", _timestamp(), nullable=True),
        _text("override_reason"),
        sa.ForeignKeyConstraint(["advocate_id"], ["advocates.id"],
                                name=op.f("fk_asks_advocate_id_advocates")),
        sa.ForeignKeyConstraint(["request_id"], ["reference_requests.id"],
                                name=op.f("fk_asks_request_id_reference_requests")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asks")),
    )
    op.create_index("ix_asks_advocate_id_state", "asks", ["advocate_id", "state"])
    op.create_index("ix_asks_request_id", "asks", ["request_id"])
    op.create_index("ix_asks_state_expires_at", "asks", ["state", "expires_at"])

    op.create_table(
        "engagements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("advocate_id", sa.Integer(), nullable=False),
        sa.Column("ask_id", sa.Integer(), nullable=False),
        sa.Column("reference_type", sa.String(ENUM), nullable=False),
        sa.Column("accepted_at", _timestamp(), nullable=False),
        sa.Column("state", sa.String(ENUM), nullable=False),
        sa.Column("scheduled_at", _timestamp(), nullable=True),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("proposed_at", _timestamp(), nullable=True),
        sa.Column("outcome", sa.String(ENUM), nullable=True),
        sa.Column("helpfulness", sa.Integer(), nullable=True),
        sa.Column("influenced_amount", _money(), nullable=True),
        _text("advocate_comment"),
        sa.Column("points_awarded", sa.Integer(), nullable=False),
        sa.Column("completed_at", _timestamp(), nullable=True),
        sa.ForeignKeyConstraint(["advocate_id"], ["advocates.id"],
                                name=op.f("fk_engagements_advocate_id_advocates")),
        sa.ForeignKeyConstraint(["ask_id"], ["asks.id"], name=op.f("fk_engagements_ask_id_asks")),
        sa.ForeignKeyConstraint(["request_id"], ["reference_requests.id"],
                                name=op.f("fk_engagements_request_id_reference_requests")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engagements")),
    )
    op.create_index("ix_engagements_advocate_id_state", "engagements", ["advocate_id", "state"])
    op.create_index("ix_engagements_request_id", "engagements", ["request_id"])

    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(ENUM), nullable=False),
        sa.Column("workspace_id", sa.String(255), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("email", sa.String(EMAIL), nullable=True),
        sa.Column("email_key", sa.String(EMAIL), nullable=True),
        _text("display_name"),
        sa.Column("timezone", sa.String(64), nullable=True),
        sa.Column("conversation_reference", _nullable_json(), nullable=True),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("platform", "workspace_id", "user_id",
                            name=op.f("uq_people_platform_workspace_id_user_id")),
    )
    op.create_index("ix_people_email_key", "people", ["email_key"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", _timestamp(), nullable=False),
        sa.Column("actor", sa.String(EMAIL), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("detail", _json(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_subject", "audit_log", ["subject"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("recipient_email", sa.String(EMAIL), nullable=True),
        sa.Column("recipient_platform", sa.String(ENUM), nullable=True),
        sa.Column("recipient_workspace_id", sa.String(255), nullable=True),
        sa.Column("recipient_user_id", sa.String(255), nullable=True),
        _text("recipient_display_name"),
        sa.Column("recipient_timezone", sa.String(64), nullable=True),
        sa.Column("template", sa.String(255), nullable=False),
        sa.Column("context", _json(), nullable=False),
        sa.Column("replaces", sa.String(500), nullable=True),
        sa.Column("status", sa.String(ENUM), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _timestamp(), nullable=False),
        _text("last_error"),
        sa.Column("sent_at", _timestamp(), nullable=True),
        sa.Column("platform_ref", sa.String(500), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("key", name=op.f("uq_outbox_key")),
    )
    op.create_index("ix_outbox_status_next_attempt_at", "outbox", ["status", "next_attempt_at"])

    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_idempotency_keys")),
    )


def downgrade() -> None:
    # Dropping a table drops its indexes; children before parents for the foreign keys.
    for table in ("idempotency_keys", "outbox", "audit_log", "people", "engagements", "asks",
                  "reference_requests", "advocates"):
        op.drop_table(table)
