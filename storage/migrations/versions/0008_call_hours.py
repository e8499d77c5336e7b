"""Advocates: the hours they take calls in, in their own time zone.

"Mon-Fri 09:00-18:00" as ``bot.domain.hours.WorkingHours.text`` writes it; empty (NULL)
is the program's default. From the roster's ``Call Hours`` column.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("advocates", sa.Column("call_hours", sa.String(80), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+): a batch copy would drop a table others refer to.
    op.execute("ALTER TABLE advocates DROP COLUMN call_hours")
