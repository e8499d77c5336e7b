"""The real clock. Services get it through ``bot.ports.Clock`` so tests can fix time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class AheadClock:
    """Real time moved ahead by ``ahead``: the browser sandbox's clock, which its "jump
    ahead" control moves so scheduled messages (reminders, check-ins, the digest) fall due."""

    def __init__(self, ahead: timedelta = timedelta(0)) -> None:
        self.ahead = ahead

    def now(self) -> datetime:
        return datetime.now(UTC) + self.ahead

    def jump(self, by: timedelta) -> None:
        self.ahead += by
