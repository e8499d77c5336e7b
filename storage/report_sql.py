"""The quarterly program report's aggregates in SQL (``bot.ports.ProgramReportQueries``).

Mixed into ``SqlReportRepository``, so the report reads through ``uow.reports`` like the
digest. Every number is a grouped query over its window (indexed on the times it
filters by); the median and the 90th percentile of the time to first accept are picked by
``ORDER BY … OFFSET`` over the window's waits, computed in SQL (SQLite's ``julianday``,
PostgreSQL's ``extract(epoch …)``), so no list of requests ever reaches Python; the
nominations' funnel is one pass of conditional counts and the same median.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.model import AdvocateStatus, EngagementState, RequestState, ensure_utc
from bot.domain.nomination import NominationState
from bot.domain.policy import LimitPolicy
from bot.ports import (
    REPORT_GROUPS,
    AdvocateHealth,
    NominationFunnel,
    ReportGroup,
    ReportTotals,
)
from storage.tables import (
    AdvocateRow,
    AskRow,
    AuditRow,
    EngagementRow,
    NominationRow,
    RequestRow,
)

#: How CRMs name a won opportunity's stage (Salesforce "Closed Won", HubSpot "closedwon"),
#: compared lower-cased with the spaces around it trimmed.
WON_STAGES = ("closed won", "closedwon", "closed-won", "closed_won", "won")
CENTS = Decimal("0.01")


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENTS)


class ProgramReportSql:
    """The report's queries; needs the repository's ``_session`` and ``_dialect``."""

    _session: AsyncSession
    _dialect: str

    def _seconds_between(self, earlier: Any, later: Any) -> Any:
        if self._dialect == "postgresql":
            return func.extract("epoch", later - earlier)
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0

    @staticmethod
    def _completed_in(start: datetime, end: datetime) -> Any:
        return and_(EngagementRow.state == EngagementState.COMPLETED.value,
                    EngagementRow.completed_at >= start, EngagementRow.completed_at < end)

    @staticmethod
    def _won_amount() -> Any:
        won = func.lower(func.trim(RequestRow.opportunity_stage)).in_(WON_STAGES)
        return func.coalesce(func.sum(case((won, EngagementRow.influenced_amount), else_=0)), 0)

    async def report_totals(self, start: datetime, end: datetime) -> ReportTotals:
        start, end = ensure_utc(start), ensure_utc(end)
        opened = await self._session.scalar(
            select(func.count()).select_from(RequestRow)
            .where(RequestRow.created_at >= start, RequestRow.created_at < end))
        fulfilled, influenced, won = (await self._session.execute(
            select(func.count(func.distinct(EngagementRow.request_id)),
                   func.coalesce(func.sum(EngagementRow.influenced_amount), 0),
                   self._won_amount())
            .join(RequestRow, RequestRow.id == EngagementRow.request_id)
            .where(self._completed_in(start, end)))).one()
        unfulfilled = await self._session.scalar(
            select(func.count()).select_from(RequestRow)
            .where(RequestRow.state == RequestState.UNFULFILLED.value,
                   RequestRow.updated_at >= start, RequestRow.updated_at < end))
        median, p90 = await self._accept_waits(start, end)
        return ReportTotals(opened=opened or 0, fulfilled=fulfilled or 0,
                            unfulfilled=unfulfilled or 0, influenced=_money(influenced),
                            won=_money(won), median_accept_seconds=median,
                            p90_accept_seconds=p90)

    async def _accept_waits(self, start: datetime, end: datetime
                            ) -> tuple[float | None, float | None]:
        """The median and 90th percentile of the waits, from creation, of the requests
        first accepted in the window, in seconds (None when there are none)."""
        first = (select(EngagementRow.request_id.label("request_id"),
                        func.min(EngagementRow.accepted_at).label("first_at"))
                 .group_by(EngagementRow.request_id).subquery())
        waits = (select(self._seconds_between(RequestRow.created_at, first.c.first_at)
                        .label("wait"))
                 .join(first, first.c.request_id == RequestRow.id)
                 .where(first.c.first_at >= start, first.c.first_at < end).subquery())
        return await self._median_and_p90(waits)

    async def _median_and_p90(self, waits: Any) -> tuple[float | None, float | None]:
        """The median (the mean of the two middle values of an even count) and the 90th
        percentile (nearest rank) of ``waits.c.wait``, picked in SQL; None when empty."""
        count = int(await self._session.scalar(select(func.count()).select_from(waits)) or 0)
        if not count:
            return None, None

        async def nth(rank: int, take: int = 1) -> list[float]:  # 0-based rank, ascending
            rows = await self._session.scalars(
                select(waits.c.wait).order_by(waits.c.wait).offset(rank).limit(take))
            return [float(value) for value in rows]

        middle = await nth((count - 1) // 2, 1 if count % 2 else 2)
        p90 = await nth(math.ceil(0.9 * count) - 1)
        return sum(middle) / len(middle), p90[0]

    async def engagements_by_type(self, start: datetime, end: datetime) -> dict[str, int]:
        rows = await self._session.execute(
            select(EngagementRow.reference_type, func.count())
            .where(self._completed_in(ensure_utc(start), ensure_utc(end)))
            .group_by(EngagementRow.reference_type))
        return {str(kind): int(count) for kind, count in rows}

    async def report_groups(self, by: str, start: datetime, end: datetime
                            ) -> list[ReportGroup]:
        if by not in REPORT_GROUPS:
            raise ValueError(f"no report breakdown by {by!r}")
        start, end = ensure_utc(start), ensure_utc(end)
        if by == "advocate":
            key: Any = EngagementRow.advocate_id
            opened = (select(AskRow.advocate_id, func.count())
                      .where(AskRow.created_at >= start, AskRow.created_at < end)
                      .group_by(AskRow.advocate_id))
        else:
            key = {"rep": func.coalesce(RequestRow.rep_email_key, ""),
                   "industry": RequestRow.industry, "region": RequestRow.region}[by]
            opened = (select(key, func.count())
                      .where(RequestRow.created_at >= start, RequestRow.created_at < end)
                      .group_by(key))
        done = (select(key, func.count(), func.coalesce(func.sum(
                    EngagementRow.influenced_amount), 0), self._won_amount())
                .join(RequestRow, RequestRow.id == EngagementRow.request_id)
                .where(self._completed_in(start, end)).group_by(key))
        numbers: dict[Any, dict[str, Any]] = {}
        for name, count in await self._session.execute(opened):
            numbers.setdefault(name, {})["requests"] = int(count)
        for name, count, influenced, won in await self._session.execute(done):
            numbers.setdefault(name, {}).update(
                engagements=int(count), influenced=_money(influenced), won=_money(won))
        names = await self._advocate_names(list(numbers)) if by == "advocate" else {}
        groups = [ReportGroup(name=str(names.get(k, k) if by == "advocate" else (k or "")),
                              **values) for k, values in numbers.items()]
        return sorted(groups, key=lambda g: (-g.engagements, -g.requests, g.name))

    async def _advocate_names(self, ids: list[int]) -> dict[int, str]:
        names: dict[int, str] = {}
        for at in range(0, len(ids), 1000):  # bound the IN list
            batch = ids[at:at + 1000]
            rows = await self._session.execute(
                select(AdvocateRow.id, AdvocateRow.name).where(AdvocateRow.id.in_(batch)))
            names.update({i: str(name) for i, name in rows})
        return names

    async def advocate_health(self, start: datetime, end: datetime, limits: LimitPolicy, *,
                              idle_days: int, days: tuple[date, date]) -> AdvocateHealth:
        start, end = ensure_utc(start), ensure_utc(end)
        first_day, last_day = days
        status = dict((await self._session.execute(
            select(AdvocateRow.status, func.count()).group_by(AdvocateRow.status))).all())
        new = await self._session.scalar(
            select(func.count()).select_from(AdvocateRow)
            .where(AdvocateRow.joined_on >= first_day, AdvocateRow.joined_on <= last_day))
        left = await self._session.scalar(
            select(func.count(func.distinct(AuditRow.subject)))
            .where(AuditRow.action == "advocate.left", AuditRow.at >= start, AuditRow.at < end))
        loads = await self.advocate_loads(end, limits)  # type: ignore[attr-defined]
        idle = await self.idle_advocates(end, days=idle_days)  # type: ignore[attr-defined]
        return AdvocateHealth(active=int(status.get(AdvocateStatus.ACTIVE.value, 0)),
                              paused=int(status.get(AdvocateStatus.PAUSED.value, 0)),
                              near_limit=len(loads), idle=int(idle), new=int(new or 0),
                              left=int(left or 0))

    async def influenced_series(self, bounds: Sequence[datetime]) -> list[Decimal]:
        edges = [ensure_utc(b) for b in bounds]
        if len(edges) < 2:
            return []
        amount = func.coalesce(EngagementRow.influenced_amount, literal(0))
        sums = [func.coalesce(func.sum(case((and_(EngagementRow.completed_at >= lo,
                                                  EngagementRow.completed_at < hi), amount),
                                            else_=0)), 0)
                for lo, hi in itertools.pairwise(edges)]
        row = (await self._session.execute(
            select(*sums).where(self._completed_in(edges[0], edges[-1])))).one()
        return [_money(value) for value in row]

    async def nomination_funnel(self, start: datetime, end: datetime) -> NominationFunnel:
        """One pass over the nominations touching the window (``NominationFunnel``): a
        nomination is closed when declined (at ``decided_at``), joined or "No thanks" (at
        ``answered_at``; "Not now" stays open)."""
        start, end = ensure_utc(start), ensure_utc(end)
        n, state = NominationRow, NominationRow.state
        joined = state == NominationState.JOINED.value
        made = and_(n.created_at >= start, n.created_at < end)

        def count(*when: Any) -> Any:
            return func.coalesce(func.sum(case((and_(*when), 1), else_=0)), 0)

        closed_before_end = case(
            (and_(state == NominationState.DECLINED.value, n.decided_at < end), 1),
            (and_(state.in_((NominationState.JOINED.value, NominationState.NO_THANKS.value)),
                  n.answered_at < end), 1), else_=0)
        row = (await self._session.execute(select(
            count(made),
            count(n.decided_at >= start, n.decided_at < end,
                  state != NominationState.DECLINED.value),
            count(n.decided_at >= start, n.decided_at < end,
                  state == NominationState.DECLINED.value),
            count(joined, n.answered_at >= start, n.answered_at < end),
            count(n.created_at < end, closed_before_end == 0),
            count(made, joined, n.answered_at < end),
        ).where(n.created_at < end))).one()
        waits = (select(self._seconds_between(n.created_at, n.answered_at).label("wait"))
                 .where(joined, n.answered_at >= start, n.answered_at < end).subquery())
        median, _ = await self._median_and_p90(waits)
        nominated, approved, declined, joined_now, waiting, converted = (int(v) for v in row)
        return NominationFunnel(nominated=nominated, approved=approved, declined=declined,
                                joined=joined_now, waiting=waiting, converted=converted,
                                median_join_seconds=median)


__all__ = ["WON_STAGES", "ProgramReportSql"]
