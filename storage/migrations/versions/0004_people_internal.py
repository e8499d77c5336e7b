"""People: whether the chat platform says they are one of the organisation's own.

Reps must be internal: a guest, a restricted user or someone from another workspace or
tenant (often a customer) must never see the roster's matches. The directory keeps what
Slack or Teams said in the people table, so a restart does not forget it. Existing rows
get NULL ("not said"), and the Slack directory asks ``users.info`` again for them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("people", sa.Column("internal", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.drop_column("internal")
