"""Advocates: the fingerprint of the roster row an import last wrote.

Re-importing an unchanged 100,000-row roster parsed and compared every row (about 90 s
on a loaded machine). The import now stores a hash of each row it writes (its cells, the
file's header, the date order and the parsing rules); a row with the same hash is counted
as unchanged without being parsed. Any other write to the advocate clears the column, so
a hash only ever vouches for a row nobody has changed since.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("advocates", sa.Column("import_fingerprint", sa.String(32), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+): a batch copy would drop a table others refer to.
    op.execute("ALTER TABLE advocates DROP COLUMN import_fingerprint")
