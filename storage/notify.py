"""Hearing other replicas' outbox commits: PostgreSQL ``LISTEN`` on a dedicated connection.

A unit of work that queued messages issues ``NOTIFY`` on ``OUTBOX_CHANNEL`` in its own
transaction (``storage.uow``); every replica's ``OutboxListener`` hears it and wakes its
dispatcher, so a message queued by a click served on one replica is delivered at once
even when another replica's dispatcher claims it.

The listener holds one asyncpg connection of its own, outside the engine's pool: a pooled
connection is recycled, pre-pinged and handed to others, and ``LISTEN`` belongs to one
session for as long as it lives. When that connection is lost (the server restarted, a
proxy dropped it, a keepalive query failed) the listener reconnects with backoff; after
every (re)connection it wakes the dispatcher once, since notifications sent while nobody
listened are gone. Until then the dispatcher's poll covers the gap, so a lost listener
costs latency, never a message.

On SQLite (one process per database file) and with a PostgreSQL driver other than
asyncpg, there is nothing to listen to: ``run`` returns at once and the poll stays.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.uow import OUTBOX_CHANNEL

log = logging.getLogger(__name__)

#: What a lost or unreachable server looks like to the listener.
_CONNECTION_TROUBLE = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


class OutboxListener:
    """``LISTEN`` on ``channel`` and call ``on_notify`` for every notification."""

    def __init__(
        self,
        engine: AsyncEngine,
        on_notify: Callable[[], None],
        *,
        channel: str = OUTBOX_CHANNEL,
        reconnect_delay: float = 0.5,
        max_reconnect_delay: float = 30.0,
        keepalive: float = 30.0,
    ) -> None:
        self._engine = engine
        self._on_notify = on_notify
        self.channel = channel
        self.reconnect_delay = reconnect_delay
        self.max_reconnect_delay = max_reconnect_delay
        self.keepalive = keepalive
        self.connections = 0  # how many times it has (re)connected, for logs and tests
        self.listening = asyncio.Event()  # set while a connection is listening
        self.server_pid: int | None = None  # the listening backend, for operators and tests

    @property
    def supported(self) -> bool:
        """True when the engine is PostgreSQL through asyncpg."""
        dialect = self._engine.dialect
        return dialect.name == "postgresql" and dialect.driver == "asyncpg"

    async def run(self, stop: asyncio.Event) -> None:
        """Listen until ``stop`` is set, reconnecting whenever the connection is lost."""
        if not self.supported:
            return
        delay = self.reconnect_delay
        while not stop.is_set():
            try:
                connection = await self._connect()
            except _CONNECTION_TROUBLE as error:
                log.warning("outbox listener cannot connect (%s); retrying in %.1f s",
                            _describe(error), delay)
                await _wait(stop, delay)
                delay = min(self.max_reconnect_delay, delay * 2)
                continue
            delay = self.reconnect_delay
            try:
                await self._listen(connection, stop)
            except _CONNECTION_TROUBLE as error:
                log.warning("outbox listener lost its connection (%s); reconnecting in "
                            "%.1f s", _describe(error), delay)
            except Exception:
                # Not a connection problem, so a bug: say so loudly, but keep listening —
                # without the listener this replica only hears the others through the poll.
                log.exception("outbox listener failed; reconnecting in %.1f s", delay)
            finally:
                self.listening.clear()
                await _close(connection)
            await _wait(stop, delay)

    async def _connect(self) -> Any:
        _, options = self._engine.dialect.create_connect_args(self._engine.url)
        return await asyncpg.connect(**options, timeout=10)

    async def _listen(self, connection: Any, stop: asyncio.Event) -> None:
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        await connection.add_listener(self.channel, self._notified)
        self.connections += 1
        self.server_pid = connection.get_server_pid()
        if self.connections > 1:
            log.info("outbox listener reconnected to PostgreSQL")
        self.listening.set()
        self._on_notify()  # whatever was committed while nobody listened
        while not stop.is_set() and not lost.is_set():
            if not await _wait(stop, self.keepalive, lost):
                # Quiet for a while: make sure the connection is still there (a dropped
                # TCP connection is otherwise only noticed when the OS gives up on it).
                await connection.fetchval("SELECT 1", timeout=10)
        if lost.is_set() and not stop.is_set():
            raise ConnectionError("the server closed the listening connection")

    def _notified(self, _connection: Any, _pid: int, _channel: str, _payload: str) -> None:
        self._on_notify()


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__


async def _wait(stop: asyncio.Event, seconds: float, *also: asyncio.Event) -> bool:
    """Wait up to ``seconds`` for ``stop`` or any of ``also``; True if one was set."""
    waiters = [asyncio.ensure_future(event.wait()) for event in (stop, *also)]
    try:
        done, _ = await asyncio.wait(waiters, timeout=seconds,
                                     return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
    return bool(done)


async def _close(connection: Any) -> None:
    """Close politely if the connection still answers, else drop it."""
    if connection.is_closed():
        return
    try:
        await asyncio.wait_for(connection.close(), timeout=5)
    except Exception:
        connection.terminate()


__all__ = ["OUTBOX_CHANNEL", "OutboxListener"]
