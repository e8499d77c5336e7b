"""Indexes for the reports: the weekly digest, recognition and the check-ins' numbers.

Every report filters a time window (requests opened or closed unfulfilled in a week,
engagements completed or scheduled in a week or quarter, a quarter's asks); without these
indexes each of those queries scans its whole table, which grows by the year.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES: tuple[tuple[str, str, list[str]], ...] = (
    ("ix_reference_requests_created_at", "reference_requests", ["created_at"]),
    ("ix_reference_requests_state_updated_at", "reference_requests", ["state", "updated_at"]),
    ("ix_asks_created_at", "asks", ["created_at"]),
    ("ix_engagements_state_completed_at", "engagements", ["state", "completed_at"]),
    ("ix_engagements_scheduled_at", "engagements", ["scheduled_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
