"""Work Slack was already told about: listeners that acknowledged and carry on.

Bolt answers Slack the moment a listener acks, and the listener finishes afterwards (a
submitted intake is filed after its modal closed). Two things keep that promise:

- **Finish before stopping.** Every listener runs inside ``InFlight.hold``; when the server
  shuts down (``handlers.web``'s shutdown hook, after it stopped taking requests) it waits
  for ``drain`` before the database closes.
- **Accept no more than can be finished.** The slow part of each listener runs in one of
  ``slots`` at a time (``work``), timed; when the work already accepted would take longer
  than ``SATURATED_SECONDS`` to get through, a new command or form is turned away at the
  door with "busy, try again" (``busy_answer``): the form stays open with what the person
  typed, nothing is half-done, and a shutdown can always drain what was accepted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

DRAIN_SECONDS = 25.0  # inside the 30 s most process managers grant before SIGKILL
SATURATED_SECONDS = 10.0  # accepted work this long to get through: turn new work away
DEFAULT_WORK_SLOTS = 4  # listeners doing their after-the-ack work at once, per process
FIRST_ESTIMATE = 0.05  # seconds one piece of work takes, until measured
SMOOTHING = 0.2  # weight of the newest measurement in the moving average
LOG_EVERY = 10.0  # seconds between two "busy" log lines


@dataclass
class InFlight:
    slots: int = DEFAULT_WORK_SLOTS
    running: int = 0  # listeners between their start and their end, waiting ones included
    seconds_each: float = FIRST_ESTIMATE  # moving average of one piece of work
    refused: int = 0  # turned away since the last log line
    _logged: float = float("-inf")
    _idle: asyncio.Event = field(default_factory=asyncio.Event)
    _work: asyncio.Semaphore | None = None
    _urgent: asyncio.Semaphore | None = None

    def __post_init__(self) -> None:
        self._idle.set()

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        """Around a whole listener: counted until it ends, so ``drain`` waits for it."""
        self.running += 1
        self._idle.clear()
        try:
            yield
        finally:
            self.running -= 1
            if not self.running:
                self._idle.set()

    @asynccontextmanager
    async def work(self, *, urgent: bool = False) -> AsyncIterator[None]:
        """One of ``slots`` for the slow part of a listener, timed.

        Acks share the event loop with the work they defer; queued behind a few slots,
        waiting work costs the loop nothing and acks stay as quick as an idle app's.
        ``urgent`` work (opening a modal within the 3 seconds its ``trigger_id`` lives)
        has slots of its own, so it never waits behind slower clicks.
        """
        if self._work is None or self._urgent is None:
            self._work = asyncio.Semaphore(self.slots)
            self._urgent = asyncio.Semaphore(self.slots)
        async with self._urgent if urgent else self._work:
            started = time.perf_counter()
            try:
                yield
            finally:
                took = time.perf_counter() - started
                self.seconds_each += SMOOTHING * (took - self.seconds_each)

    @property
    def backlog_seconds(self) -> float:
        """How long the work already accepted will take to get through."""
        return self.running * self.seconds_each / self.slots

    @property
    def saturated(self) -> bool:
        return self.backlog_seconds > SATURATED_SECONDS

    def turned_away(self) -> None:
        """Count one command or form turned away; log it at most every ``LOG_EVERY``
        seconds, so a flood is one line, not one per request."""
        self.refused += 1
        now = time.monotonic()
        if now - self._logged >= LOG_EVERY:
            log.warning("busy (%.0f s of work queued): turned %d command(s)/form(s) away",
                        self.backlog_seconds, self.refused)
            self._logged, self.refused = now, 0

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


def busy_answer(in_flight: InFlight, payload: Mapping[str, Any],
                words: Callable[[str], str]) -> tuple[int, str] | None:
    """The HTTP answer that turns a new command or form away while ``in_flight`` is
    saturated (status and JSON body), or None to let it through.

    A slash command gets an ephemeral "busy"; a submitted form stays open with "busy" on
    its first field. Clicks and events pass: a click is small, and an event is a read.
    ``words(template)`` renders a reply template to the text Slack shows.
    """
    if not in_flight.saturated:
        return None
    if "command" in payload:
        in_flight.turned_away()
        return 200, json.dumps({"response_type": "ephemeral", "text": words("busy")})
    if payload.get("type") == "view_submission":
        view = payload.get("view")
        blocks = view.get("blocks") if isinstance(view, Mapping) else None
        first = next((b.get("block_id") for b in blocks or () if isinstance(b, Mapping)
                      and b.get("type") == "input" and b.get("block_id")), None)
        if first is None:
            return None
        in_flight.turned_away()
        return 200, json.dumps({"response_action": "errors",
                                "errors": {first: words("busy_form")}})
    return None
