"""Advocates: a row version, and the roster's version counter.

Ranking a request read the whole active roster from the database every time (2.7 s per
intake at 20,000 advocates). Matching now keeps a copy of the roster in each process
(``storage.roster_cache``) and, per ranking, reads only the advocates written since its
copy's version. A transaction that wrote advocates increments ``roster_version.version``
just before it commits and stamps its rows with it; the counter's row lock orders
concurrent writers, so a version is never visible before an older one.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("advocates", sa.Column("row_version", sa.BigInteger(), nullable=False,
                                         server_default="0"))
    op.create_index("ix_advocates_row_version", "advocates", ["row_version"])
    op.create_table(
        "roster_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_roster_version"),
    )


def downgrade() -> None:
    op.drop_table("roster_version")
    op.drop_index("ix_advocates_row_version", table_name="advocates")
    # Plain ALTER TABLE (SQLite 3.35+): a batch copy would drop a table others refer to.
    op.execute("ALTER TABLE advocates DROP COLUMN row_version")
