"""Work Slack was already told about: listeners that acknowledged and carry on.

Bolt answers Slack the moment a listener acks, and the listener finishes afterwards (a
submitted intake is filed after its modal closed). A server that stops in between would
lose what the person saw accepted. Every listener runs inside ``InFlight.hold``; when the
server shuts down (``handlers.web``'s shutdown hook, after it stopped taking requests) it
waits for ``drain`` before the database closes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

DRAIN_SECONDS = 25.0  # inside the 30 s most process managers grant before SIGKILL


@dataclass
class InFlight:
    running: int = 0
    _idle: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self._idle.set()

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        self.running += 1
        self._idle.clear()
        try:
            yield
        finally:
            self.running -= 1
            if not self.running:
                self._idle.set()

    async def drain(self, limit: float = DRAIN_SECONDS) -> int:
        """Wait up to ``limit`` seconds for the running listeners; how many were left."""
        if self.running:
            log.info("waiting for %d Slack listener(s) to finish", self.running)
            try:
                await asyncio.wait_for(self._idle.wait(), limit)
            except TimeoutError:
                log.warning("stopped with %d Slack listener(s) unfinished after %.0f s",
                            self.running, limit)
        return self.running
