"""The real clock. Services get it through ``bot.ports.Clock`` so tests can fix time."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
