"""Engagements: a declined or withdrawn proposal is "accepted" (waiting for a time), not
"proposed" without a time.

The engagement lifecycle now has the move proposed → accepted; before it, a rep declining
an advocate's proposed time left the engagement "proposed" with no ``proposed_at``, and the
scheduling code guessed that such a row waited for the advocate's pick. This migration
moves those rows to the state they mean, so the rows and the code agree.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE engagements SET state = 'accepted' "
               "WHERE state = 'proposed' AND proposed_at IS NULL")


def downgrade() -> None:
    # Nothing to undo: "accepted" without a proposed time is what the older code guessed too.
    pass
