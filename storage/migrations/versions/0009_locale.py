"""The language each person reads the bot in.

``people.locale``: what the chat platform says (Slack's ``users.info`` locale, Teams'
activity locale); ``people.chosen_locale``: what the person chose (``/advocate
language``), which wins. ``advocates.locale``: the roster's ``Locale`` column. All Babel
identifiers (``ja_JP``, ``en``); NULL when nobody said.

The languages advocates speak get one spelling per language, as the roster import now
writes them (``ja``, ``日本語``, ``Japanisch`` → ``Japanese``), so that a roster imported
before this release matches the intake's choice however either was written. Rows are
updated by distinct list of languages (a roster repeats a few lists), in chunks.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (("people", "locale"), ("people", "chosen_locale"), ("advocates", "locale"))


_ADVOCATES = sa.table("advocates", sa.column("id", sa.Integer()),
                      sa.column("languages", sa.JSON().with_variant(JSONB(), "postgresql")))
_CHUNK = 500


def upgrade() -> None:
    for table, column in _COLUMNS:
        op.add_column(table, sa.Column(column, sa.String(35), nullable=True))
    _spoken_languages_in_one_spelling()


def _spoken_languages_in_one_spelling() -> None:
    from bot.roster_csv import parse_languages  # the import's reading of a Languages cell

    bind = op.get_bind()
    ids_by_languages: dict[tuple[str, ...], list[int]] = {}
    for advocate_id, languages in bind.execute(sa.select(_ADVOCATES.c.id,
                                                         _ADVOCATES.c.languages)):
        ids_by_languages.setdefault(tuple(languages or ()), []).append(advocate_id)
    for languages, ids in ids_by_languages.items():
        spelled = list(parse_languages("; ".join(languages))) if languages else []
        if spelled == list(languages):
            continue
        for start in range(0, len(ids), _CHUNK):
            bind.execute(_ADVOCATES.update().where(_ADVOCATES.c.id.in_(ids[start:start + _CHUNK]))
                         .values(languages=spelled))


def downgrade() -> None:
    # The languages keep their one spelling (each a language's name, valid before too).
    # Plain ALTER TABLE (SQLite 3.35+): a batch copy would drop a table others refer to.
    for table, column in reversed(_COLUMNS):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
