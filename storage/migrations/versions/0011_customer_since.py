"""Advocates: the day their account became a customer.

From the roster's ``Customer Since`` column (Salesforce ``Customer_Since__c``, HubSpot
``became_a_customer_date``); the nomination readiness check reads it as the account's
tenure. NULL when the roster does not say (every row this migration finds).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("advocates", sa.Column("customer_since", sa.Date(), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+): a batch copy would drop a table others refer to.
    op.execute("ALTER TABLE advocates DROP COLUMN customer_since")
