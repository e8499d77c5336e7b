"""Schema migrations, run from code: no ``alembic.ini`` on the user's side.

The migration scripts live in ``storage/migrations`` inside the package, so they ship in
the wheel; this module points Alembic at them and runs it over the bot's own async
engine. Start-up calls ``prepare_database``:

* an empty database is migrated (first run "just works", on SQLite and PostgreSQL);
* a current one is left alone;
* one that is behind is migrated only with ``AUTO_MIGRATE=true``: otherwise the bot
  refuses to start and says which command to run, because upgrading a production
  database should be a decision, not a side effect of a deploy;
* one at a revision this code does not know (a newer version migrated it) stops start-up:
  running old code on a newer schema corrupts data quietly.

Upgrades run in one transaction (PostgreSQL and SQLite both have transactional DDL). On
PostgreSQL a transaction-level advisory lock makes replicas that start together take
turns; the second finds the schema current and does nothing. SQLite's ``BEGIN
IMMEDIATE`` serialises them the same way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.tables import Base

log = logging.getLogger(__name__)

#: The migration scripts shipped with the package.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: Arbitrary constant key for ``pg_advisory_xact_lock`` ("advc" in ASCII).
_MIGRATION_LOCK_KEY = 0x61647663

SchemaState = Literal["empty", "current", "behind", "unknown"]

UPGRADE_HINT = "run `advocate-bot db upgrade` (or set AUTO_MIGRATE=true)"


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """Where the database's schema stands relative to this version of the code.

    ``current`` is the database's revision (None when it has none); ``head`` the newest
    revision this code ships.
    """

    state: SchemaState
    current: str | None
    head: str


class SchemaError(RuntimeError):
    """The database schema does not fit this version; the message says what to do."""

    def __init__(self, message: str, status: SchemaStatus) -> None:
        super().__init__(message)
        self.status = status


class SchemaBehindError(SchemaError):
    """The database needs migrating and automatic migration is off."""


class SchemaUnknownError(SchemaError):
    """The database is at a revision this code does not know, or has no history."""


def alembic_config(script_location: str | Path | None = None) -> Config:
    """An in-memory Alembic config pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(script_location or MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    return config


async def schema_status(
    engine: AsyncEngine, *, script_location: str | Path | None = None
) -> SchemaStatus:
    """Compare the database's Alembic revision with the newest one shipped."""
    script = ScriptDirectory.from_config(alembic_config(script_location))
    async with engine.connect() as connection:
        return await connection.run_sync(_status, script)


def _status(connection: Connection, script: ScriptDirectory) -> SchemaStatus:
    head = script.get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {script.dir}")
    heads = MigrationContext.configure(connection).get_current_heads()
    if not heads:
        ours = set(Base.metadata.tables) & set(inspect(connection).get_table_names())
        # Tables of ours without a version table: created by hand or by create_all();
        # nothing tells which migrations they match, so do not guess.
        return SchemaStatus("unknown" if ours else "empty", None, head)
    current = ",".join(heads)
    if heads == (head,):
        return SchemaStatus("current", current, head)
    for revision in heads:
        try:
            if script.get_revision(revision) is None:
                return SchemaStatus("unknown", current, head)
        except CommandError:  # ResolutionError and friends: not one of ours
            return SchemaStatus("unknown", current, head)
    return SchemaStatus("behind", current, head)


async def upgrade(
    engine: AsyncEngine,
    *,
    revision: str = "head",
    script_location: str | Path | None = None,
) -> None:
    """Apply pending migrations up to ``revision``, in one transaction.

    Refuses (``SchemaUnknownError``) a database this code cannot reason about — one a
    newer version migrated, or one with our tables but no history — instead of letting
    Alembic fail half-way with a less helpful message.
    """
    config = alembic_config(script_location)
    script = ScriptDirectory.from_config(config)
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
            )
        # Checked under the lock: another replica may have migrated while we waited.
        status = await connection.run_sync(_status, script)
        if status.state == "unknown":
            raise _unknown(status)
        await connection.run_sync(_upgrade, config, revision)


def _upgrade(connection: Connection, config: Config, revision: str) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def prepare_database(
    engine: AsyncEngine,
    *,
    auto_migrate: bool,
    script_location: str | Path | None = None,
) -> None:
    """Make the schema fit this version of the code, or explain why it will not start."""
    status = await schema_status(engine, script_location=script_location)
    if status.state == "current":
        return
    if status.state == "empty" or (status.state == "behind" and auto_migrate):
        await upgrade(engine, script_location=script_location)
        log.info("database schema upgraded from %s to %s", status.current or "empty",
                 status.head)
        return
    if status.state == "behind":
        raise SchemaBehindError(
            f"database schema is at {status.current}, this version needs {status.head}: "
            f"{UPGRADE_HINT}",
            status,
        )
    raise _unknown(status)


def _unknown(status: SchemaStatus) -> SchemaUnknownError:
    if status.current is None:
        return SchemaUnknownError(
            "database has advocate-bot tables but no migration history (no alembic_version "
            "table), so its schema cannot be checked: point DATABASE_URL at an empty "
            "database, or restore the alembic_version table from a backup",
            status,
        )
    return SchemaUnknownError(
        f"database schema is at {status.current}, which this version does not know (its "
        f"newest is {status.head}): a newer version of advocate-bot has migrated this "
        "database; run that version (or newer) instead",
        status,
    )
