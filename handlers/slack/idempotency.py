"""Doing a thing once although Slack may ask twice.

Slack repeats itself in two ways: the Events API retries a delivery it thinks failed (the
same ``event_id``, with an ``X-Slack-Retry-Num`` header), and people double-click buttons
(two ``block_actions`` payloads for the same button on the same message). Each repeat gets
a key; the first to finish its work records the key in the ``idempotency_keys`` table
(``uow.idempotency``), and later arrivals with the key do nothing.

The key is recorded *after* the work succeeded, not before: a click whose work failed (the
database was briefly away, say) may be clicked again and then does the work. While the
first is still working, an in-memory set turns same-process repeats away; repeats that
reach another replica in that window are safe because every service is itself idempotent
about state (an answered ask stays answered), which is what decides correctness. The keys
only save the second attempt's work and its confusing "already done" reply.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from bot.ports import Clock, UnitOfWorkFactory

T = TypeVar("T")

RETRY_HEADER = "x-slack-retry-num"


class Repeat(Exception):
    """Raised instead of running work whose key was seen; callers treat it as "done"."""


def event_key(body: Mapping[str, Any]) -> str | None:
    """``slack:event:<event_id>`` for an Events API callback (retries share the id)."""
    event_id = body.get("event_id")
    return f"slack:event:{event_id}" if event_id else None


def click_key(body: Mapping[str, Any], action: Mapping[str, Any]) -> str:
    """One click of one button: (action id, value, the message or view it sits on, user).

    The container's message ``ts`` (or view id for App Home and modals) keeps the same
    button on two different messages apart, e.g. a request's matches shown again later.
    """
    container = body.get("container") or {}
    where = (
        container.get("message_ts")
        or (body.get("message") or {}).get("ts")
        or container.get("view_id")
        or (body.get("view") or {}).get("id")
        or "-"
    )
    user = (body.get("user") or {}).get("id", "-")
    value = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
    return f"slack:click:{action.get('action_id')}:{value}:{where}:{user}"


def retry_number(headers: Mapping[str, Any]) -> int:
    """Slack's ``X-Slack-Retry-Num`` (0 for a first delivery). Bolt hands headers over as
    lower-case names with lists of values."""
    for name, value in headers.items():
        if name.lower() == RETRY_HEADER:
            raw = value[0] if isinstance(value, list | tuple) and value else value
            try:
                return int(str(raw))
            except ValueError:
                return 0
    return 0


class Once:
    """Runs work at most once per key (see the module docstring for the exact promise)."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
        self._running: set[str] = set()

    async def seen(self, key: str) -> bool:
        """Was ``key`` recorded before? Asked by claiming and rolling back, so nothing is
        written (the port only offers ``claim``; its effect needs a commit)."""
        async with self._uow() as uow:
            first = await uow.idempotency.claim(key, now=self._clock.now())
            await uow.rollback()
        return not first

    async def record(self, key: str) -> bool:
        """Record ``key``; False if another replica recorded it meanwhile."""
        async with self._uow() as uow:
            first = await uow.idempotency.claim(key, now=self._clock.now())
            await uow.commit()
        return first

    async def run(self, key: str, work: Callable[[], Awaitable[T]]) -> T:
        """``work()`` unless ``key`` is in flight here or was recorded; raises ``Repeat``
        then. The key is recorded once ``work`` returned."""
        if key in self._running:
            raise Repeat(key)
        self._running.add(key)
        try:
            if await self.seen(key):
                raise Repeat(key)
            result = await work()
            await self.record(key)
            return result
        finally:
            self._running.discard(key)


__all__ = ["RETRY_HEADER", "Once", "Repeat", "click_key", "event_key", "retry_number"]
