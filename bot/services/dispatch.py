"""Delivering the outbox: the only place messages actually leave the bot.

Services write messages into the outbox inside their own transaction, so a message exists
exactly when the change that caused it was committed. The dispatcher then:

1. claims the due rows in one short unit of work (and resolves who each one goes to);
2. delivers each one *outside* any transaction, so a slow Slack or Teams call never holds
   a database lock;
3. records the result (sent / retry later / dead letter) in its own short unit of work.

Delivery is **at least once**: if the process dies after a messenger delivered a message
but before step 3 committed, the row is still pending and is delivered again. The outbox
key and the stored ``platform_ref`` keep everything else idempotent (a repeat of a message
that *replaces* another updates the same chat message in place); a rare duplicate post is
the price of never losing one.

Failures:

* ``DeliveryError`` with ``retry_after`` (HTTP 429, Teams throttling): retried exactly then,
  and the platform is left alone for the rest of this batch.
* other retryable failures (5xx, timeouts, any unexpected exception): exponential backoff
  ``base_delay * 2**attempts`` capped at ``max_delay``.
* ``DeliveryError(permanent=True)`` (channel not found, user deactivated): dead at once.
* no chat identity for the recipient: the platforms' ``Directory`` (if given) is asked for
  the user with that email (an advocate imported from the CRM has never used the bot);
  if none knows them, dead — retrying cannot help; the weekly digest lists dead letters
  with this reason. A directory that cannot answer right now is retried like a 5xx.
* no messenger for the platform (e.g. Teams not configured on this replica): retried, since
  it is a deployment problem another replica or a restart may fix.

After ``max_attempts`` a retryable failure becomes a dead letter, too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.domain.model import Person, Platform
from bot.ports import (
    Clock,
    DeliveryError,
    Directory,
    Messenger,
    OutboxMessage,
    UnitOfWork,
    UnitOfWorkFactory,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DispatchStats:
    """What one pass did. ``deferred`` counts messages left for later because their
    platform asked us to back off earlier in the same pass (not attempted, not counted)."""

    sent: int = 0
    retried: int = 0
    dead: int = 0
    deferred: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.dead + self.deferred


@dataclass(frozen=True, slots=True)
class _Resolved:
    """A claimed message with its recipient's chat identity filled in, or why it cannot be."""

    row: OutboxMessage
    platform: Platform | None
    problem: str = ""
    lookup_error: DeliveryError | None = None  # a directory could not answer; retry later


class OutboxDispatcher:
    """Delivers due outbox messages through each platform's ``Messenger``."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        messengers: Mapping[Platform, Messenger],
        clock: Clock,
        *,
        max_attempts: int = 8,
        base_delay: float = 5.0,
        max_delay: float = 3600.0,
        directories: Sequence[Directory] = (),
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._uow = uow
        self._messengers = dict(messengers)
        self._clock = clock
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._directories = tuple(directories)
        # Platform -> moment its rate limit lifts. In memory on purpose: it only saves
        # pointless calls within this replica; correctness comes from each row's schedule.
        self._blocked_until: dict[Platform, datetime] = {}

    # --- the loop ---------------------------------------------------------------------

    async def run_once(self, limit: int = 50) -> DispatchStats:
        """Deliver up to ``limit`` due messages; return what happened to them."""
        claimed = await self._claim(limit)
        sent = retried = dead = deferred = 0
        for item in claimed:
            outcome = await self._handle(item)
            if outcome == "sent":
                sent += 1
            elif outcome == "retry":
                retried += 1
            elif outcome == "dead":
                dead += 1
            else:
                deferred += 1
        stats = DispatchStats(sent=sent, retried=retried, dead=dead, deferred=deferred)
        if claimed:
            logger.info("outbox pass: %s", stats)
        return stats

    async def run_forever(self, stop: asyncio.Event, interval: float = 1.0) -> None:
        """Run passes until ``stop`` is set.

        A full batch is followed at once by the next pass (there is a backlog); otherwise
        the loop sleeps ``interval`` seconds or until ``stop``. A failing pass (the database
        is briefly unreachable, say) is logged and retried after ``interval``: the worker must
        outlive a blip, and nothing is lost because undelivered rows stay pending.
        """
        limit = 50
        while not stop.is_set():
            try:
                stats = await self.run_once(limit)
            except Exception:
                logger.exception("outbox pass failed; retrying in %.1f s", interval)
                stats = DispatchStats()
            if stats.handled - stats.deferred >= limit:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)

    # --- steps ------------------------------------------------------------------------

    async def _claim(self, limit: int) -> list[_Resolved]:
        async with self._uow() as uow:
            rows = await uow.outbox.claim_due(self._clock.now(), limit=limit)
            resolved = [await self._resolve(uow, row) for row in rows]
            await uow.commit()
        if self._directories:
            # Outside the transaction: a directory is a network call.
            resolved = [await self._look_up(item) if item.platform is None else item
                        for item in resolved]
        return resolved

    async def _look_up(self, item: _Resolved) -> _Resolved:
        """Ask each directory for a recipient the people table does not know yet."""
        email = item.row.message.recipient.email
        if not email:
            return item
        for directory in self._directories:
            try:
                found = await directory.find_by_email(email)
            except DeliveryError as error:
                return replace(item, lookup_error=error)
            if found is not None and found.identity is not None:
                recipient = item.row.message.recipient
                person = Person(
                    email=recipient.email,
                    display_name=recipient.display_name or found.display_name,
                    identity=found.identity,
                    timezone=recipient.timezone or found.timezone,
                )
                row = replace(item.row, message=replace(item.row.message, recipient=person))
                return _Resolved(row, found.identity.platform)
        return item

    async def _resolve(self, uow: UnitOfWork, row: OutboxMessage) -> _Resolved:
        """Find the chat identity a message goes to.

        Services address advocates by email (the roster has no chat ids); the people table
        links an email to the chat user who last used the bot with it (newest first).
        """
        recipient = row.message.recipient
        if recipient.identity is not None:
            return _Resolved(row, recipient.identity.platform)
        if not recipient.email:
            return _Resolved(row, None, "no chat identity and no email for the recipient")
        known = [p for p in await uow.people.find_by_email(recipient.email) if p.identity]
        if not known:
            return _Resolved(
                row, None,
                f"no chat identity for {recipient.email}: they have not used the bot yet",
            )
        found = known[0]
        assert found.identity is not None
        person = Person(
            email=recipient.email,
            display_name=recipient.display_name or found.display_name,
            identity=found.identity,
            timezone=recipient.timezone or found.timezone,
        )
        resolved_row = replace(row, message=replace(row.message, recipient=person))
        return _Resolved(resolved_row, found.identity.platform)

    async def _handle(self, item: _Resolved) -> str:
        row = item.row
        if item.lookup_error is not None:
            error = item.lookup_error
            if error.permanent:
                await self._dead(row, error.reason)
                return "dead"
            return await self._retry(row, f"directory: {error.reason}", error.retry_after)
        if item.platform is None:
            await self._dead(row, item.problem)
            return "dead"
        blocked = self._blocked_until.get(item.platform)
        if blocked is not None and blocked > self._clock.now():
            # Untried: hand it back for when the platform accepts messages again.
            async with self._uow() as uow:
                await uow.outbox.release(row.id, next_attempt_at=blocked)
                await uow.commit()
            return "deferred"
        messenger = self._messengers.get(item.platform)
        if messenger is None:
            return await self._retry(
                row, f"no messenger configured for {item.platform.value}", None
            )
        try:
            platform_ref = await messenger.deliver(row)
        except DeliveryError as error:
            if error.permanent:
                await self._dead(row, error.reason)
                return "dead"
            if error.retry_after is not None:
                until = self._clock.now() + timedelta(seconds=error.retry_after)
                self._blocked_until[item.platform] = until
            return await self._retry(row, error.reason, error.retry_after)
        except Exception as error:  # a messenger bug must not lose the message
            logger.exception("messenger %s failed on outbox message %s", item.platform, row.id)
            return await self._retry(row, repr(error), None)
        async with self._uow() as uow:
            await uow.outbox.mark_sent(row.id, platform_ref=platform_ref, now=self._clock.now())
            await uow.commit()
        logger.debug("sent outbox message %s (%s) as %s", row.id, row.message.key, platform_ref)
        return "sent"

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after a failure when ``attempts`` tries had failed before it."""
        return float(min(self.max_delay, self.base_delay * 2.0**attempts))

    async def _retry(self, row: OutboxMessage, error: str, retry_after: float | None) -> str:
        if row.attempts + 1 >= self.max_attempts:
            await self._dead(row, f"gave up after {row.attempts + 1} attempts: {error}")
            return "dead"
        delay = retry_after if retry_after is not None else self.backoff(row.attempts)
        next_at = self._clock.now() + timedelta(seconds=delay)
        async with self._uow() as uow:
            await uow.outbox.mark_retry(row.id, error=error, next_attempt_at=next_at)
            await uow.commit()
        logger.warning(
            "outbox message %s (%s) failed, retrying at %s: %s",
            row.id, row.message.key, next_at.isoformat(), error,
        )
        return "retry"

    async def _dead(self, row: OutboxMessage, error: str) -> None:
        async with self._uow() as uow:
            await uow.outbox.mark_dead(row.id, error=error, now=self._clock.now())
            await uow.commit()
        logger.error(
            "outbox message %s (%s, %s) is a dead letter: %s",
            row.id, row.message.key, row.message.template, error,
        )
