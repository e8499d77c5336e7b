"""Advocates: an indexed, lower-cased copy of the account owner's email.

Every action resolves the actor's roles, and "does this person own any advocate's
account?" scanned the whole roster to answer (1.5 s per click at 25,000 advocates). The
key column mirrors ``email_key``: a plain indexed column rather than a functional index,
so SQLite and PostgreSQL answer the same query the same way.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("advocates", sa.Column("account_owner_key", sa.String(320), nullable=True))
    op.execute("UPDATE advocates SET account_owner_key = lower(account_owner_email) "
               "WHERE account_owner_email IS NOT NULL")
    op.create_index("ix_advocates_account_owner_key", "advocates", ["account_owner_key"])


def downgrade() -> None:
    op.drop_index("ix_advocates_account_owner_key", table_name="advocates")
    with op.batch_alter_table("advocates") as batch:
        batch.drop_column("account_owner_key")
