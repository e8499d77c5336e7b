"""Cheap numbers about the database for ``/metrics`` and ``/readyz``: each is one indexed
query, computed when asked (a scrape every 15 s costs a few milliseconds), so nothing has
to be kept current on the write paths."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ports import OutboxStatus
from storage.migrate import alembic_config
from storage.tables import AdvocateRow, OutboxRow


@dataclass(frozen=True, slots=True)
class OutboxBacklog:
    """Messages waiting in the outbox (due or scheduled for a retry) and the oldest one's
    creation time (None when nothing waits)."""

    pending: int
    oldest_created_at: datetime | None

    def oldest_age(self, now: datetime) -> float:
        """Seconds the oldest waiting message has waited (0 when none waits)."""
        if self.oldest_created_at is None:
            return 0.0
        return max(0.0, (now - self.oldest_created_at).total_seconds())


async def outbox_backlog(engine: AsyncEngine) -> OutboxBacklog:
    """One scan of the pending rows, through ``ix_outbox_status_next_attempt_at``."""
    stmt = select(func.count(), func.min(OutboxRow.created_at)).where(
        OutboxRow.status == OutboxStatus.PENDING.value)
    async with engine.connect() as connection:
        pending, oldest = (await connection.execute(stmt)).one()
    return OutboxBacklog(int(pending or 0), oldest)


async def roster_counts(engine: AsyncEngine) -> dict[str, int]:
    """Advocates per status (``ix_advocates_status``); statuses with none are absent."""
    stmt = select(AdvocateRow.status, func.count()).group_by(AdvocateRow.status)
    async with engine.connect() as connection:
        return {str(status): int(count) for status, count in await connection.execute(stmt)}


@functools.cache
def shipped_revisions() -> tuple[str, frozenset[str]]:
    """The newest migration this code ships and every revision it knows (read from the
    scripts once per process: parsing them takes milliseconds of blocking work)."""
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    if head is None:
        raise RuntimeError("no migrations are shipped with this version")
    return head, frozenset(rev.revision for rev in script.walk_revisions())


async def migration_heads(engine: AsyncEngine) -> tuple[str, ...]:
    """The database's Alembic revision(s); empty when it has none. Raises what the driver
    raises when the database cannot be reached."""

    def heads(connection: Connection) -> tuple[str, ...]:
        return tuple(MigrationContext.configure(connection).get_current_heads())

    async with engine.connect() as connection:
        return await connection.run_sync(heads)


__all__ = ["OutboxBacklog", "migration_heads", "outbox_backlog", "roster_counts",
           "shipped_revisions"]
