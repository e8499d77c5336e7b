"""The language each person reads the bot in.

``people.locale``: what the chat platform says (Slack's ``users.info`` locale, Teams'
activity locale); ``people.chosen_locale``: what the person chose (``/advocate
language``), which wins. ``advocates.locale``: the roster's ``Locale`` column. All Babel
identifiers (``ja_JP``, ``en``); NULL when nobody said.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (("people", "locale"), ("people", "chosen_locale"), ("advocates", "locale"))


def upgrade() -> None:
    for table, column in _COLUMNS:
        op.add_column(table, sa.Column(column, sa.String(35), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+): a batch copy would drop a table others refer to.
    for table, column in reversed(_COLUMNS):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
