"""Delivering the outbox: the only place messages actually leave the bot.

Services write messages into the outbox inside their own transaction, so a message exists
exactly when the change that caused it was committed. The dispatcher then, in each pass:

1. claims the due rows in one short unit of work (and resolves who each one goes to);
2. delivers them *outside* any transaction, so a slow Slack or Teams call never holds a
   database lock: each platform's messages concurrently, at most ``concurrency`` calls in
   flight per platform, after a first one alone (a platform that is rate limiting us
   costs one refused call per pass, not ``concurrency``);
3. records every result of the pass (sent / retry later / dead letter / deferred) in one
   short unit of work — also when the pass is interrupted (cancelled at shutdown), for
   the deliveries that finished.

When to run a pass: ``run_forever`` wakes as soon as a unit of work commits messages (the
composition root wires the unit-of-work factory's commit signal — and, on PostgreSQL, a
``LISTEN`` on the channel other replicas ``NOTIFY`` — to a ``Wakeup``), when a retry it
scheduled falls due, or when a rate limit lifts; the ``interval`` poll is only a safety
net for a signal that was lost (a replica whose listener was reconnecting, say).

Delivery is **at least once**: if the process dies after a messenger delivered a message
but before step 3 committed, the row is still pending (its lease runs out) and is
delivered again. The outbox key and the stored ``platform_ref`` keep everything else
idempotent (a repeat of a message that *replaces* another updates the same chat message
in place); a rare duplicate post is the price of never losing one.

Failures:

* ``DeliveryError`` with ``retry_after`` (HTTP 429, Teams throttling): retried exactly then,
  and the platform is left alone until then: the rest of the pass's messages for it are
  deferred untried (calls already in flight finish, and are retried the same way if
  refused), and ``run_forever`` sleeps just until the block lifts.
* other retryable failures (5xx, timeouts, any unexpected exception): ``retry_delay`` —
  the first retry within ``base_delay`` (a second), then doubling up to ``max_delay``,
  each with random jitter so that messages failed by one outage do not return together.
  A blip costs the person waiting a second, not five; the default ``max_attempts`` keeps
  retrying for well over an hour before a message becomes a dead letter.
* ``DeliveryError(permanent=True)`` (channel not found, user deactivated): dead at once.
* no chat identity for the recipient: the platforms' ``Directory`` (if given) is asked for
  the user with that email (an advocate imported from the CRM has never used the bot);
  if none knows them, dead — retrying cannot help; the weekly digest lists dead letters
  with this reason. A directory that cannot answer right now is retried like a 5xx.
* no messenger for the platform (e.g. Teams not configured on this replica): retried, since
  it is a deployment problem another replica or a restart may fix.

After ``max_attempts`` a retryable failure becomes a dead letter, too.

Language: each claimed message is given the locale its recipient reads
(``OutboxMessage.locale``, ``bot.services.locales``: their own choice, the roster's, their
platform's, the program's), read from the people rows and the roster in two queries per
pass; a channel post, which no person row describes, is in the program's language.

Progress: every pass that handled something logs one INFO line — what it did, how long
it took, and the totals since start — so a 5,000-message check-in can be followed.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from bot.domain.model import Identity, Person, Platform
from bot.i18n import DEFAULT_LOCALE
from bot.ports import (
    Clock,
    DeliveryError,
    Directory,
    Messenger,
    OutboxMessage,
    OutgoingMessage,
    UnitOfWork,
    UnitOfWorkFactory,
    Unreachable,
)
from bot.services.locales import resolve_locale

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

    def __add__(self, other: DispatchStats) -> DispatchStats:
        return DispatchStats(sent=self.sent + other.sent, retried=self.retried + other.retried,
                             dead=self.dead + other.dead,
                             deferred=self.deferred + other.deferred)


OutcomeKind = Literal["sent", "retry", "dead", "deferred"]


def retry_delay(attempts: int, draw: float, *, base_delay: float = 1.0,
                max_delay: float = 3600.0, jitter: float = 0.5) -> float:
    """Seconds to wait before retrying a message that failed ``attempts + 1`` times in a
    row (``attempts`` = the failures before this one), for a 5xx or network error.

    The ceiling doubles from ``base_delay`` up to ``max_delay``; ``draw`` (uniform in
    [0, 1)) takes up to ``jitter`` of it off, so the delay lies in
    ``(ceiling * (1 - jitter), ceiling]``. Pure: the dispatcher supplies the draw.
    """
    if attempts < 0:
        raise ValueError(f"attempts must be 0 or more, not {attempts}")
    if not 0.0 <= draw < 1.0:
        raise ValueError(f"draw must be in [0, 1), not {draw}")
    if not 0.0 <= jitter <= 1.0:
        raise ValueError(f"jitter must be between 0 and 1, not {jitter}")
    ceiling = min(max_delay, base_delay * 2.0 ** min(attempts, 64))
    return float(ceiling * (1.0 - jitter * draw))


class Wakeup:
    """The signal that messages were committed to the outbox: the unit-of-work factory (and
    the PostgreSQL listener, for other replicas' commits) calls it, ``run_forever`` waits
    on it. Calling it while a pass runs makes the next wait return at once, so a commit
    that lands during a pass is never left to the safety-net poll."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def __call__(self) -> None:
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    def is_set(self) -> bool:
        return self._event.is_set()

    async def wait(self) -> None:
        await self._event.wait()


class DispatchObserver(Protocol):
    """Told every outcome, for metrics (``bot.metrics``): kept a Protocol so the service
    layer does not depend on a metrics library."""

    def outbox_result(self, platform: str, result: str, *, rate_limited: bool) -> None:
        """``result`` is ``sent``, ``retry``, ``dead`` or ``deferred``; ``platform`` is
        ``unknown`` when the recipient could not be resolved to a chat identity."""
        ...


# Told, in the dispatcher's unit of work, that a person cannot be reached on their
# platform (``bot.services.notices.unreachable_notices`` queues the program managers' notice).
OnUnreachable = Callable[[UnitOfWork, datetime, Person, str], Awaitable[None]]
# Told, in the same unit of work, of every message that became a dead letter (whatever the
# reason): ``bot.services.nominations.undeliverable`` hands an undeliverable invite over.
OnDead = Callable[[UnitOfWork, datetime, OutgoingMessage], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What became of one claimed message in a pass, recorded with the others."""

    row: OutboxMessage
    kind: OutcomeKind
    platform_ref: str | None = None
    error: str = ""
    next_at: datetime | None = None  # retry: when to try again; deferred: when it is due
    rate_limited: bool = False  # a retry the platform asked for (429 / Retry-After)
    unreachable: Person | None = None  # dead because the platform cannot reach this person

    @property
    def platform(self) -> str:
        identity = self.row.message.recipient.identity
        return identity.platform.value if identity is not None else "unknown"


@dataclass(frozen=True, slots=True)
class _Resolved:
    """A claimed message with its recipient's chat identity filled in, or why it cannot be."""

    row: OutboxMessage
    platform: Platform | None
    problem: str = ""
    lookup_error: DeliveryError | None = None  # a directory could not answer; retry later


@dataclass(frozen=True, slots=True)
class _Readers:
    """What decides the language of a pass's messages: the stored people they go to (by
    chat identity) and the roster's locales (by lower-case email)."""

    people: Mapping[Identity, Person]
    roster: Mapping[str, str]

    @classmethod
    async def read(cls, uow: UnitOfWork, items: Sequence[_Resolved]) -> _Readers:
        recipients = [item.row.message.recipient for item in items]
        identities = [p.identity for p in recipients if p.identity is not None]
        emails = [p.email for p in recipients if p.email]
        return cls(await uow.people.get_many(identities) if identities else {},
                   await uow.advocates.locales(emails) if emails else {})

    def localized(self, item: _Resolved, program_locale: str) -> _Resolved:
        recipient = item.row.message.recipient
        stored = self.people.get(recipient.identity) if recipient.identity else None
        locale = resolve_locale(stored or recipient,
                                self.roster.get((recipient.email or "").lower()),
                                program_locale)
        return replace(item, row=replace(item.row, locale=locale))


class OutboxDispatcher:
    """Delivers due outbox messages through each platform's ``Messenger``."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        messengers: Mapping[Platform, Messenger],
        clock: Clock,
        *,
        max_attempts: int = 14,
        base_delay: float = 1.0,
        max_delay: float = 3600.0,
        jitter: float = 0.5,
        directories: Sequence[Directory] = (),
        concurrency: int = 8,
        wakeup: Wakeup | None = None,
        observer: DispatchObserver | None = None,
        rng: random.Random | None = None,
        on_unreachable: OnUnreachable | None = None,
        program_locale: str = DEFAULT_LOCALE,
        on_dead: OnDead | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if not 0.0 <= jitter <= 1.0:
            raise ValueError("jitter must be between 0 and 1")
        self._uow = uow
        self._on_unreachable = on_unreachable
        self.program_locale = program_locale
        self._on_dead = on_dead
        self._messengers = dict(messengers)
        self._clock = clock
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.jitter = jitter
        self.concurrency = concurrency
        self._directories = tuple(directories)
        self.wakeup = wakeup or Wakeup()
        self._observer = observer
        self._rng = rng or random.Random()
        # Platform -> moment its rate limit lifts. In memory on purpose: it only saves
        # pointless calls within this replica; correctness comes from each row's schedule.
        self._blocked_until: dict[Platform, datetime] = {}
        # The earliest retry the last pass scheduled, so run_forever is back for it.
        self._next_retry_at: datetime | None = None
        self.totals = DispatchStats()  # every pass of this dispatcher, for progress logs

    def wake(self) -> None:
        """Run a pass now (messages were committed); same as calling ``wakeup``."""
        self.wakeup()

    # --- the loop ---------------------------------------------------------------------

    async def run_once(self, limit: int = 50) -> DispatchStats:
        """Deliver up to ``limit`` due messages; return what happened to them."""
        started = time.perf_counter()
        claimed = await self._claim(limit)
        if not claimed:
            return DispatchStats()
        outcomes: list[_Outcome] = []
        try:
            await self._deliver_all(claimed, outcomes)
        except BaseException:
            # Interrupted (cancelled at shutdown, say): keep what was delivered, so it is
            # not delivered again; the rest stays pending until its lease runs out.
            try:
                await self._record(outcomes)
            except Exception:
                logger.exception("could not record %d outbox result(s)", len(outcomes))
            raise
        await self._record(outcomes)
        kinds = Counter(outcome.kind for outcome in outcomes)
        stats = DispatchStats(sent=kinds["sent"], retried=kinds["retry"], dead=kinds["dead"],
                              deferred=kinds["deferred"])
        self.totals += stats
        logger.info(
            "outbox pass: %d sent, %d retried, %d dead, %d deferred in %.2f s "
            "(since start: %d sent, %d retried, %d dead)",
            stats.sent, stats.retried, stats.dead, stats.deferred,
            time.perf_counter() - started,
            self.totals.sent, self.totals.retried, self.totals.dead,
        )
        return stats

    async def run_forever(self, stop: asyncio.Event, interval: float = 1.0) -> None:
        """Run passes until ``stop`` is set.

        A full batch is followed at once by the next pass (there is a backlog); otherwise
        the loop sleeps until the ``wakeup`` signal (messages committed), until the
        earliest retry it scheduled falls due, until a platform's rate limit lifts (when
        messages were deferred for it), or ``interval`` seconds at most — or until
        ``stop``. A failing pass (the database is briefly unreachable, say) is logged and
        retried after ``interval``: the worker must outlive a blip, and nothing is lost
        because undelivered rows stay pending.
        """
        limit = 50
        while not stop.is_set():
            # Cleared before the pass claims: a commit during the pass sets it again.
            self.wakeup.clear()
            failed = False
            try:
                stats = await self.run_once(limit)
            except Exception:
                logger.exception("outbox pass failed; retrying in %.1f s", interval)
                stats, failed = DispatchStats(), True
            if stats.handled - stats.deferred >= limit:
                continue
            wait = interval
            if stats.deferred:
                wait = min(wait, self.blocked_for())
            if self._next_retry_at is not None:
                wait = min(wait, max(0.0, (self._next_retry_at - self._clock.now())
                                     .total_seconds()))
                self._next_retry_at = None
            await self._sleep(stop, wait, wakeable=not failed)

    async def _sleep(self, stop: asyncio.Event, seconds: float, *, wakeable: bool) -> None:
        """Wait ``seconds``, or less if ``stop`` is set or (when ``wakeable``) messages are
        committed. After a failed pass only ``stop`` cuts the wait short: commits must not
        turn a database outage into a busy loop."""
        if seconds <= 0 or stop.is_set():
            return
        waiters = [asyncio.ensure_future(stop.wait())]
        if wakeable:
            waiters.append(asyncio.ensure_future(self.wakeup.wait()))
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)

    def blocked_for(self) -> float:
        """Seconds until the first rate-limited platform takes messages again (0 if none)."""
        now = self._clock.now()
        waits = [(until - now).total_seconds() for until in self._blocked_until.values()
                 if until > now]
        return min(waits, default=0.0)

    # --- steps ------------------------------------------------------------------------

    async def _claim(self, limit: int) -> list[_Resolved]:
        async with self._uow() as uow:
            rows = await uow.outbox.claim_due(self._clock.now(), limit=limit)
            resolved = [await self._resolve(uow, row) for row in rows]
            readers = await _Readers.read(uow, resolved)
            await uow.commit()
        if self._directories:
            # Outside the transaction: a directory is a network call.
            resolved = [await self._look_up(item) if item.platform is None else item
                        for item in resolved]
        return [readers.localized(item, self.program_locale) for item in resolved]

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
                    locale=found.locale,
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

    async def _deliver_all(self, claimed: Sequence[_Resolved], outcomes: list[_Outcome]
                           ) -> None:
        """Decide each claimed message's outcome, appending it to ``outcomes`` as it is
        known (so an interrupted pass can still record the finished ones)."""
        by_platform: dict[Platform, list[OutboxMessage]] = defaultdict(list)
        for item in claimed:
            if item.lookup_error is not None:
                error = item.lookup_error
                outcomes.append(self._dead(item.row, error.reason) if error.permanent else
                                self._retry(item.row, f"directory: {error.reason}",
                                            error.retry_after))
            elif item.platform is None:
                outcomes.append(self._dead(item.row, item.problem))
            elif item.platform not in self._messengers:
                outcomes.append(self._retry(
                    item.row, f"no messenger configured for {item.platform.value}", None))
            else:
                by_platform[item.platform].append(item.row)
        await _all(self._deliver_platform(platform, rows, outcomes)
                   for platform, rows in by_platform.items())

    async def _deliver_platform(self, platform: Platform, rows: Sequence[OutboxMessage],
                                outcomes: list[_Outcome]) -> None:
        """The first message alone (a platform that answers 429 is asked once), then the
        rest with at most ``concurrency`` calls in flight."""
        messenger = self._messengers[platform]
        outcomes.append(await self._deliver(messenger, platform, rows[0]))
        slots = asyncio.Semaphore(self.concurrency)

        async def one(row: OutboxMessage) -> None:
            async with slots:
                outcomes.append(await self._deliver(messenger, platform, row))

        await _all(one(row) for row in rows[1:])

    async def _deliver(self, messenger: Messenger, platform: Platform, row: OutboxMessage
                       ) -> _Outcome:
        blocked = self._blocked_until.get(platform)
        if blocked is not None and blocked > self._clock.now():
            # Untried: hand it back for when the platform accepts messages again.
            return _Outcome(row, "deferred", next_at=blocked)
        try:
            platform_ref = await messenger.deliver(row)
        except Unreachable as error:
            return _Outcome(row, "dead", error=error.reason, unreachable=error.recipient)
        except DeliveryError as error:
            if error.permanent:
                return self._dead(row, error.reason)
            if error.retry_after is not None:
                until = self._clock.now() + timedelta(seconds=error.retry_after)
                self._blocked_until[platform] = max(until, blocked or until)
            return self._retry(row, error.reason, error.retry_after)
        except Exception as error:  # a messenger bug must not lose the message
            logger.exception("messenger %s failed on outbox message %s", platform, row.id)
            return self._retry(row, repr(error), None)
        logger.debug("sent outbox message %s (%s) as %s", row.id, row.message.key, platform_ref)
        return _Outcome(row, "sent", platform_ref=platform_ref)

    async def _record(self, outcomes: Sequence[_Outcome]) -> None:
        """Every result of a pass, in one unit of work."""
        if not outcomes:
            return
        now = self._clock.now()
        async with self._uow() as uow:
            for outcome in outcomes:
                row_id, next_at = outcome.row.id, outcome.next_at or now
                if outcome.kind == "sent":
                    await uow.outbox.mark_sent(row_id, platform_ref=outcome.platform_ref,
                                               now=now)
                elif outcome.kind == "retry":
                    await uow.outbox.mark_retry(row_id, error=outcome.error,
                                                next_attempt_at=next_at)
                elif outcome.kind == "dead":
                    await uow.outbox.mark_dead(row_id, error=outcome.error, now=now)
                    if outcome.unreachable is not None and self._on_unreachable is not None:
                        await self._on_unreachable(uow, now, outcome.unreachable,
                                                   outcome.row.message.template)
                    if self._on_dead is not None:
                        await self._on_dead(uow, now, outcome.row.message)
                else:
                    await uow.outbox.release(row_id, next_attempt_at=next_at)
            await uow.commit()
        for outcome in outcomes:
            row = outcome.row
            if self._observer is not None:
                self._observer.outbox_result(outcome.platform, outcome.kind,
                                             rate_limited=outcome.rate_limited)
            if outcome.kind == "retry" and outcome.next_at is not None:
                if self._next_retry_at is None or outcome.next_at < self._next_retry_at:
                    self._next_retry_at = outcome.next_at
            if outcome.kind == "retry":
                logger.warning(
                    "outbox message %s (%s) failed, retrying at %s: %s",
                    row.id, row.message.key, (outcome.next_at or now).isoformat(),
                    outcome.error,
                )
            elif outcome.kind == "dead":
                logger.error(
                    "outbox message %s (%s, %s) is a dead letter: %s",
                    row.id, row.message.key, row.message.template, outcome.error,
                )

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after a failure when ``attempts`` tries had failed before it
        (``retry_delay`` with this dispatcher's settings and a fresh random draw)."""
        return retry_delay(attempts, self._rng.random(), base_delay=self.base_delay,
                           max_delay=self.max_delay, jitter=self.jitter)

    def _retry(self, row: OutboxMessage, error: str, retry_after: float | None) -> _Outcome:
        if row.attempts + 1 >= self.max_attempts:
            return self._dead(row, f"gave up after {row.attempts + 1} attempts: {error}")
        delay = retry_after if retry_after is not None else self.backoff(row.attempts)
        return _Outcome(row, "retry", error=error,
                        next_at=self._clock.now() + timedelta(seconds=delay),
                        rate_limited=retry_after is not None)

    @staticmethod
    def _dead(row: OutboxMessage, error: str) -> _Outcome:
        return _Outcome(row, "dead", error=error)


async def _all(coroutines: Iterable[Coroutine[Any, Any, None]]) -> None:
    """Run ``coroutines`` concurrently. If one raises (or the caller is cancelled), the
    others are cancelled and waited for before the exception goes on: no delivery outlives
    its pass."""
    tasks = [asyncio.ensure_future(coroutine) for coroutine in coroutines]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
