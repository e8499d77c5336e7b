"""The outbox (claimed with leases, ``SKIP LOCKED`` on PostgreSQL) and the idempotency
ledger, in SQL."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    func,
    or_,
    select,
)
from sqlalchemy.orm import aliased

from bot.domain.model import (
    Identity,
    Person,
    Platform,
    ensure_utc,
)
from bot.domain.redaction import redact_json, redact_text
from bot.ports import (
    DEFAULT_LEASE,
    OutboxMessage,
    OutboxStatus,
    OutgoingMessage,
)
from storage.repositories._base import (
    _Repository,
)
from storage.repositories.people import _mentions
from storage.tables import (
    IdempotencyKeyRow,
    OutboxRow,
)


def _outbox_message(row: OutboxRow, replaces_ref: str | None = None) -> OutboxMessage:
    identity = None
    if row.recipient_platform is not None:
        identity = Identity(
            Platform(row.recipient_platform),
            row.recipient_workspace_id or "",
            row.recipient_user_id or "",
        )
    return OutboxMessage(
        id=row.id,
        message=OutgoingMessage(
            recipient=Person(
                email=row.recipient_email,
                display_name=row.recipient_display_name,
                identity=identity,
                timezone=row.recipient_timezone,
            ),
            template=row.template,
            context=dict(row.context),
            key=row.key,
            replaces=row.replaces,
        ),
        created_at=row.created_at,
        status=OutboxStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        sent_at=row.sent_at,
        platform_ref=row.platform_ref,
        replaces_ref=replaces_ref,
    )


class SqlOutbox(_Repository):
    async def add(self, message: OutgoingMessage, *, now: datetime) -> bool:
        """Queue ``message``; False if its key is already queued (in any state).

        ``ON CONFLICT DO NOTHING`` rather than catching an IntegrityError: on PostgreSQL a
        failed INSERT would poison the caller's whole transaction.
        """
        now = ensure_utc(now)
        recipient = message.recipient
        identity = recipient.identity
        stmt = (
            self._insert(OutboxRow)
            .values(
                key=message.key,
                recipient_email=recipient.email,
                recipient_platform=identity.platform.value if identity else None,
                recipient_workspace_id=identity.workspace_id if identity else None,
                recipient_user_id=identity.user_id if identity else None,
                recipient_display_name=recipient.display_name,
                recipient_timezone=recipient.timezone,
                template=message.template,
                context=message.context,
                replaces=message.replaces,
                status=OutboxStatus.PENDING.value,
                attempts=0,
                next_attempt_at=message.queued_at(now),
                last_error="",
                created_at=message.queued_at(now),
            )
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(OutboxRow.id)
        )
        inserted = await self._session.scalar(stmt)
        return inserted is not None

    async def claim_due(
        self, now: datetime, *, limit: int = 50, lease: timedelta = DEFAULT_LEASE
    ) -> list[OutboxMessage]:
        """Pending messages due at ``now``, oldest first, leased: their ``next_attempt_at``
        moves to ``now + lease`` so another dispatcher (replica) skips them while this one
        delivers. On PostgreSQL rows another dispatcher is claiming are skipped, not
        waited for.

        A message that replaces another waits until that one has been sent (or has died):
        it needs the original's ``platform_ref`` to update it in place rather than post a
        second message beside it."""
        original = aliased(OutboxRow)
        original_pending = (
            select(original.id)
            .where(original.key == OutboxRow.replaces,
                   original.status == OutboxStatus.PENDING.value)
            .exists()
        )
        stmt = (
            select(OutboxRow)
            .where(
                OutboxRow.status == OutboxStatus.PENDING.value,
                OutboxRow.next_attempt_at <= ensure_utc(now),
                ~original_pending,
            )
            .order_by(OutboxRow.created_at, OutboxRow.id)
            .limit(limit)
        )
        stmt = self._lock(stmt, skip_locked=True).execution_options(populate_existing=True)
        rows = list(await self._session.scalars(stmt))
        for row in rows:
            row.next_attempt_at = ensure_utc(now) + lease
        refs = await self._platform_refs(row.replaces for row in rows if row.replaces)
        return [_outbox_message(row, refs.get(row.replaces or "")) for row in rows]

    async def _platform_refs(self, keys: Iterable[str]) -> dict[str, str | None]:
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        stmt = select(OutboxRow.key, OutboxRow.platform_ref).where(
            OutboxRow.key.in_(wanted), OutboxRow.status == OutboxStatus.SENT.value
        )
        return {key: ref for key, ref in await self._session.execute(stmt)}

    async def mark_sent(self, message_id: int, *, platform_ref: str | None, now: datetime) -> None:
        row = await self._require(OutboxRow, message_id, "outbox message")
        row.status = OutboxStatus.SENT.value
        row.sent_at = ensure_utc(now)
        row.platform_ref = platform_ref
        row.attempts += 1

    async def mark_retry(self, message_id: int, *, error: str, next_attempt_at: datetime) -> None:
        row = await self._require(OutboxRow, message_id, "outbox message")
        row.attempts += 1
        row.last_error = error
        row.next_attempt_at = ensure_utc(next_attempt_at)

    async def release(self, message_id: int, *, next_attempt_at: datetime) -> None:
        row = await self._require(OutboxRow, message_id, "outbox message")
        row.next_attempt_at = ensure_utc(next_attempt_at)

    async def mark_dead(self, message_id: int, *, error: str, now: datetime) -> None:
        row = await self._require(OutboxRow, message_id, "outbox message")
        row.attempts += 1
        row.status = OutboxStatus.DEAD.value
        row.last_error = error
        row.next_attempt_at = ensure_utc(now)  # when it died: dead_letters filters on it

    async def platform_ref(self, key: str) -> str | None:
        return (await self._platform_refs([key])).get(key)

    async def dead_letters(self, *, since: datetime) -> list[OutboxMessage]:
        stmt = (
            select(OutboxRow)
            .where(
                OutboxRow.status == OutboxStatus.DEAD.value,
                OutboxRow.next_attempt_at >= ensure_utc(since),
            )
            .order_by(OutboxRow.id)
        )
        return [_outbox_message(row) for row in await self._session.scalars(stmt)]

    async def scrub_recipient(
        self, email: str, *, identities: Sequence[Identity] = (), placeholder: str,
        replacements: Mapping[str, str],
    ) -> tuple[int, int]:
        addressed: list[ColumnElement[bool]] = [
            func.lower(OutboxRow.recipient_email) == email.lower()]
        addressed += [and_(OutboxRow.recipient_platform == i.platform.value,
                           OutboxRow.recipient_workspace_id == i.workspace_id,
                           OutboxRow.recipient_user_id == i.user_id) for i in identities]
        deleted = await self._session.execute(
            delete(OutboxRow)
            .where(or_(*addressed), OutboxRow.status == OutboxStatus.PENDING.value)
            .returning(OutboxRow.id).execution_options(synchronize_session=False))
        dropped = len(deleted.all())
        words = [k for k in replacements if k]
        stmt = select(OutboxRow).where(or_(
            *addressed,
            *([_mentions(OutboxRow.context, words),
               _mentions(OutboxRow.last_error, words)] if words else []),
        )).execution_options(populate_existing=True)
        changed = 0
        for row in await self._session.scalars(stmt):
            if _addressed_to(row, email, identities):
                row.recipient_email = placeholder
                row.recipient_display_name = ""
                row.recipient_platform = row.recipient_workspace_id = None
                row.recipient_user_id = row.recipient_timezone = None
                row.context, row.last_error = {}, ""
                changed += 1
                continue
            context = redact_json(dict(row.context), replacements)
            error = redact_text(row.last_error, replacements)
            if context != row.context or error != row.last_error:
                row.context, row.last_error = context, error
                changed += 1
        await self._session.flush()
        return dropped, changed

    async def add_many(self, messages: Sequence[OutgoingMessage], *, now: datetime) -> int:
        """``add`` for many messages, a few multi-row INSERTs instead of one per message
        (fan-outs such as the quarterly check-in); returns how many were new."""
        now, added = ensure_utc(now), 0
        rows = [{
            "key": m.key,
            "recipient_email": m.recipient.email,
            "recipient_platform": m.recipient.identity.platform.value
            if m.recipient.identity else None,
            "recipient_workspace_id": m.recipient.identity.workspace_id
            if m.recipient.identity else None,
            "recipient_user_id": m.recipient.identity.user_id if m.recipient.identity else None,
            "recipient_display_name": m.recipient.display_name,
            "recipient_timezone": m.recipient.timezone,
            "template": m.template, "context": m.context, "replaces": m.replaces,
            "status": OutboxStatus.PENDING.value, "attempts": 0,
            "next_attempt_at": m.queued_at(now), "last_error": "", "created_at": m.queued_at(now),
        } for m in messages]
        if rows:
            # Core executemany: SQLAlchemy sends it as batched multi-row INSERTs
            # ("insertmanyvalues"), compiled once, RETURNING the rows that were new.
            table = OutboxRow.__table__
            stmt = (self._insert(table).on_conflict_do_nothing(index_elements=["key"])
                    .returning(table.c.id))
            added = len((await self._session.execute(stmt, rows)).all())
        return added


def _addressed_to(row: OutboxRow, email: str, identities: Sequence[Identity]) -> bool:
    if (row.recipient_email or "").lower() == email.lower():
        return True
    return any(row.recipient_platform == i.platform.value
               and row.recipient_workspace_id == i.workspace_id
               and row.recipient_user_id == i.user_id for i in identities)


class SqlIdempotency(_Repository):
    async def claim(self, key: str, *, now: datetime) -> bool:
        """True the first time ``key`` is seen. A concurrent transaction claiming the same
        key waits for this one on the unique index, then gets False once it commits."""
        stmt = (
            self._insert(IdempotencyKeyRow)
            .values(key=key, created_at=ensure_utc(now))
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(IdempotencyKeyRow.key)
        )
        return await self._session.scalar(stmt) is not None

    async def claim_many(self, keys: Iterable[str], *, now: datetime) -> set[str]:
        """``claim`` for many keys in a few statements; returns the keys claimed now.
        Inserted in sorted order, so two transactions claiming overlapping sets wait for
        each other on PostgreSQL instead of deadlocking."""
        wanted = sorted(set(keys))
        if not wanted:
            return set()
        table = IdempotencyKeyRow.__table__
        stmt = (self._insert(table).on_conflict_do_nothing(index_elements=["key"])
                .returning(table.c.key))
        at = ensure_utc(now)
        result = await self._session.execute(stmt, [{"key": k, "created_at": at} for k in wanted])
        return set(result.scalars())
