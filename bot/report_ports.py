"""What the digest and the program report read from storage: their values and queries.

The repositories' side of ``bot/services/digest.py`` and ``bot/services/report.py``
(``storage/stats.py``, ``storage/report_sql.py`` answer them); the rest of the ports are in
``bot/ports.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from bot.domain.model import (
    Ask,
)
from bot.domain.policy import LimitPolicy


@dataclass(frozen=True, slots=True)
class FlowStats:
    """What happened to requests in a time window, from SQL aggregates.

    ``fulfilled`` counts requests whose engagement was completed in the window and
    ``unfulfilled`` those closed as unfulfilled in it. ``accept_waits`` holds, for each
    request first accepted in the window, the seconds from its creation to that first
    acceptance, sorted (one week's worth: small enough for a median in Python).
    """

    opened: int = 0
    fulfilled: int = 0
    unfulfilled: int = 0
    influenced: Decimal = Decimal("0.00")
    accept_waits: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class WaitingRequest:
    request_id: int
    prospect_company: str
    rep_email: str | None
    created_at: datetime
    needed_by: date
    state: str


@dataclass(frozen=True, slots=True)
class AdvocateLoad:
    """An advocate at or near a rolling limit: engagements counted against each window."""

    advocate_id: int
    name: str
    used_90: int
    limit_90: int
    used_365: int
    limit_365: int

    @property
    def at_limit(self) -> bool:
        return self.used_90 >= self.limit_90 or self.used_365 >= self.limit_365


@dataclass(frozen=True, slots=True)
class AdvocateScore:
    """Points and completed engagements of one advocate in a window (top advocates)."""

    advocate_id: int
    name: str
    points: int
    engagements: int
    public_recognition: bool


@dataclass(frozen=True, slots=True)
class RenewalCaution:
    advocate_id: int
    name: str
    renewal_date: date


@dataclass(frozen=True, slots=True)
class CompletedEngagement:
    """A completed engagement and which of its advocate's completed engagements it is
    (``ordinal`` 1 = their first), for recognition and milestones."""

    engagement_id: int
    advocate_id: int
    reference_type: str
    points: int
    completed_at: datetime
    ordinal: int


@dataclass(frozen=True, slots=True)
class AdvocateQuarter:
    """One advocate's numbers for a period (the check-in's "your quarter in numbers")."""

    asks: int = 0
    accepted: int = 0
    declined: int = 0
    completed: int = 0
    points: int = 0


@dataclass(frozen=True, slots=True)
class DeadLetter:
    recipient: str
    template: str
    error: str
    failed_at: datetime


@dataclass(frozen=True, slots=True)
class ReportTotals:
    """The program report's request numbers for a window (``ProgramReportQueries``).

    ``fulfilled``/``unfulfilled``/``influenced`` as in ``FlowStats``; ``won`` is the part of
    ``influenced`` whose opportunity's stage reads closed-won; the accept times are over
    the requests first accepted in the window (None when there are none): the median
    (the mean of the two middle values for an even count) and the 90th percentile
    (nearest rank), in seconds.
    """

    opened: int = 0
    fulfilled: int = 0
    unfulfilled: int = 0
    influenced: Decimal = Decimal("0.00")
    won: Decimal = Decimal("0.00")
    median_accept_seconds: float | None = None
    p90_accept_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class ReportGroup:
    """One row of a report breakdown (per advocate, rep, industry or region): ``name``
    (empty when the record leaves it blank), ``requests`` opened in the window (for an
    advocate: asks received), engagements completed in it and their outcomes' amounts."""

    name: str
    requests: int = 0
    engagements: int = 0
    influenced: Decimal = Decimal("0.00")
    won: Decimal = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class AdvocateHealth:
    """The roster's health for a report: ``active``/``paused`` as the roster stands now;
    ``near_limit`` and ``idle`` as of the window's end (as the digest counts them);
    ``new`` (joined) and ``left`` (left the program) in the window."""

    active: int = 0
    paused: int = 0
    near_limit: int = 0
    idle: int = 0
    new: int = 0
    left: int = 0


@dataclass(frozen=True, slots=True)
class NominationFunnel:
    """The report's nominations for a window: ``nominated`` (made in it), ``approved`` and
    ``declined`` (decided in it), ``joined`` (became advocates in it), ``waiting`` (still
    open at its end: not declined, joined or "No thanks" by then), ``converted`` (of those
    made in it, how many joined before its end) and the median time from nomination to
    joining of those who joined in it (seconds; None when none did)."""

    nominated: int = 0
    approved: int = 0
    declined: int = 0
    joined: int = 0
    waiting: int = 0
    converted: int = 0
    median_join_seconds: float | None = None


REPORT_GROUPS = ("advocate", "rep", "industry", "region")


class ProgramReportQueries(Protocol):
    """The quarterly program report's aggregates (``uow.reports`` serves them too)."""

    async def report_totals(self, start: datetime, end: datetime) -> ReportTotals: ...

    async def engagements_by_type(self, start: datetime, end: datetime) -> dict[str, int]:
        """Engagements completed in the window per reference type (types with none absent)."""
        ...

    async def report_groups(self, by: str, start: datetime, end: datetime
                            ) -> list[ReportGroup]:
        """The window's numbers per ``by`` (one of ``REPORT_GROUPS``), most engagements
        first, then most requests, then by name."""
        ...

    async def advocate_health(self, start: datetime, end: datetime, limits: LimitPolicy, *,
                              idle_days: int, days: tuple[date, date]) -> AdvocateHealth:
        """``days``: the window's first and last day on the program's calendar (who
        joined in it: the roster's ``joined_on`` is a day)."""
        ...

    async def influenced_series(self, bounds: Sequence[datetime]) -> list[Decimal]:
        """Influenced amounts of engagements completed in each window between consecutive
        ``bounds``."""
        ...

    async def nomination_funnel(self, start: datetime, end: datetime) -> NominationFunnel: ...


class ReportRepository(ProgramReportQueries, Protocol):
    """Read-only aggregates for the digest, the check-ins, recognition and the program
    report.

    Every method is a handful of grouped queries however large the program is; none
    loads every row. Time windows are half-open ``[start, end)`` in UTC.
    """

    async def flow(self, start: datetime, end: datetime) -> FlowStats: ...

    async def weekly_counts(self, bounds: Sequence[datetime]) -> list[tuple[int, int]]:
        """(opened, fulfilled) for each window between consecutive ``bounds``."""
        ...

    async def waiting_past_sla(self, as_of: datetime, *, created_before: datetime,
                               limit: int = 5) -> tuple[int, list[WaitingRequest]]:
        """Requests opened before ``created_before`` that, at ``as_of``, were neither closed
        nor accepted by any advocate: how many, and the oldest ``limit`` of them."""
        ...

    async def upcoming_calls(self, start: datetime, end: datetime) -> int:
        """Engagements (not cancelled) whose call time falls in the window."""
        ...

    async def advocate_loads(self, as_of: datetime, limits: LimitPolicy, *, near: int = 1
                             ) -> list[AdvocateLoad]:
        """Active advocates whose engagements agreed by ``as_of`` (counted in the 90 and
        365 days before it, and upcoming) come within ``near`` of their effective limit
        (program ``limits``, a manager's override, then the advocate's own stricter wish).
        """
        ...

    async def idle_advocates(self, as_of: datetime, *, days: int) -> int:
        """Active advocates (in the program at least ``days``) with no engagement that
        counts in the ``days`` before ``as_of``."""
        ...

    async def top_advocates(self, start: datetime, end: datetime, *, limit: int
                            ) -> list[AdvocateScore]:
        """By points earned from engagements completed in the window, most first."""
        ...

    async def renewal_cautions(self, today: date, *, days: int, limit: int = 5
                               ) -> tuple[int, list[RenewalCaution]]:
        """Active advocates renewing within ``days`` of ``today``: how many, soonest first."""
        ...

    async def dead_letters(self, start: datetime, end: datetime, *, limit: int = 5
                           ) -> tuple[int, list[DeadLetter]]:
        """Messages that failed for good in the window: how many, and the latest few."""
        ...

    async def completed_engagements(self, start: datetime, end: datetime
                                    ) -> list[CompletedEngagement]:
        """Engagements completed in the window, oldest first, each with its ordinal."""
        ...

    async def advocate_numbers(self, start: datetime, end: datetime
                               ) -> dict[int, AdvocateQuarter]:
        """Per advocate: asks received, accepted and declined, engagements completed and
        points earned in the window (advocates with nothing are absent)."""
        ...

    async def expiring_asks(self, start: datetime, end: datetime) -> list[Ask]:
        """Asks still waiting for the advocate whose ``expires_at`` falls in the window."""
        ...

    async def audited_subjects(self, action: str, *, since: datetime) -> set[str]:
        """Subjects of audit entries with ``action`` at or after ``since``."""
        ...

    async def claimed_keys(self, prefix: str) -> set[str]:
        """Idempotency-ledger keys starting with ``prefix``."""
        ...
