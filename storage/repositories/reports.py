"""The digest's and reports' aggregates, computed in SQL."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    and_,
    case,
    func,
    or_,
    select,
)
from sqlalchemy.orm import aliased

from bot.domain.model import (
    AdvocateStatus,
    Ask,
    AskState,
    EngagementState,
    RequestState,
    ensure_utc,
)
from bot.domain.policy import LimitPolicy
from bot.ports import OutboxStatus
from bot.report_ports import (
    AdvocateLoad,
    AdvocateQuarter,
    AdvocateScore,
    CompletedEngagement,
    DeadLetter,
    FlowStats,
    RenewalCaution,
    WaitingRequest,
)
from storage.report_sql import ProgramReportSql
from storage.repositories._base import (
    _COUNTING_ENGAGEMENT_STATES,
    _TERMINAL_REQUEST_STATES,
    _aware,
    _Repository,
)
from storage.repositories.requests import _ask
from storage.tables import (
    AdvocateRow,
    AskRow,
    AuditRow,
    EngagementRow,
    IdempotencyKeyRow,
    OutboxRow,
    RequestRow,
)

_NOT_ACCEPTED_STATES = tuple(
    s.value for s in (RequestState.OPEN, RequestState.MATCHING, RequestState.AWAITING_APPROVAL,
                      RequestState.ASKING)
)


class SqlReportRepository(ProgramReportSql, _Repository):
    """``bot.ports.ReportRepository``: grouped queries, never a Python loop over the
    program's history. Each method costs a few indexed scans of its window."""

    async def flow(self, start: datetime, end: datetime) -> FlowStats:
        start, end = ensure_utc(start), ensure_utc(end)
        opened = await self._session.scalar(
            select(func.count()).select_from(RequestRow)
            .where(RequestRow.created_at >= start, RequestRow.created_at < end))
        completed = and_(EngagementRow.state == EngagementState.COMPLETED.value,
                         EngagementRow.completed_at >= start, EngagementRow.completed_at < end)
        fulfilled, influenced = (await self._session.execute(
            select(func.count(func.distinct(EngagementRow.request_id)),
                   func.coalesce(func.sum(EngagementRow.influenced_amount), 0))
            .where(completed))).one()
        unfulfilled = await self._session.scalar(
            select(func.count()).select_from(RequestRow)
            .where(RequestRow.state == RequestState.UNFULFILLED.value,
                   RequestRow.updated_at >= start, RequestRow.updated_at < end))
        first = (select(EngagementRow.request_id.label("request_id"),
                        func.min(EngagementRow.accepted_at).label("first_at"))
                 .group_by(EngagementRow.request_id).subquery())
        pairs = await self._session.execute(
            select(RequestRow.created_at, first.c.first_at)
            .join(first, first.c.request_id == RequestRow.id)
            .where(first.c.first_at >= start, first.c.first_at < end))
        waits = sorted(
            (_aware(first_at) - created).total_seconds() for created, first_at in pairs)
        return FlowStats(opened=opened or 0, fulfilled=fulfilled or 0,
                         unfulfilled=unfulfilled or 0,
                         influenced=Decimal(str(influenced or 0)).quantize(Decimal("0.01")),
                         accept_waits=tuple(waits))

    async def weekly_counts(self, bounds: Sequence[datetime]) -> list[tuple[int, int]]:
        edges = [ensure_utc(b) for b in bounds]
        if len(edges) < 2:
            return []

        def buckets(column: Any) -> list[Any]:
            return [func.coalesce(func.sum(case((and_(column >= lo, column < hi), 1), else_=0)),
                                  0) for lo, hi in itertools.pairwise(edges)]

        opened = (await self._session.execute(
            select(*buckets(RequestRow.created_at))
            .where(RequestRow.created_at >= edges[0], RequestRow.created_at < edges[-1]))).one()
        fulfilled = (await self._session.execute(
            select(*buckets(EngagementRow.completed_at))
            .where(EngagementRow.state == EngagementState.COMPLETED.value,
                   EngagementRow.completed_at >= edges[0],
                   EngagementRow.completed_at < edges[-1]))).one()
        return [(int(o), int(f)) for o, f in zip(opened, fulfilled, strict=True)]

    async def waiting_past_sla(self, as_of: datetime, *, created_before: datetime,
                               limit: int = 5) -> tuple[int, list[WaitingRequest]]:
        as_of = ensure_utc(as_of)
        accepted = (select(EngagementRow.id)
                    .where(EngagementRow.request_id == RequestRow.id,
                           EngagementRow.accepted_at <= as_of).exists())
        closed = and_(RequestRow.state.in_(_TERMINAL_REQUEST_STATES),
                      RequestRow.updated_at <= as_of)
        where = (RequestRow.created_at < ensure_utc(created_before), ~accepted, ~closed)
        count = await self._session.scalar(select(func.count()).select_from(RequestRow)
                                           .where(*where))
        rows = await self._session.scalars(
            select(RequestRow).where(*where)
            .order_by(RequestRow.created_at, RequestRow.id).limit(limit))
        return count or 0, [
            WaitingRequest(request_id=row.id, prospect_company=row.prospect_company,
                           rep_email=row.rep_email, created_at=row.created_at,
                           needed_by=row.needed_by, state=row.state) for row in rows]

    async def upcoming_calls(self, start: datetime, end: datetime) -> int:
        count = await self._session.scalar(
            select(func.count()).select_from(EngagementRow)
            .where(EngagementRow.state != EngagementState.CANCELLED.value,
                   EngagementRow.scheduled_at >= ensure_utc(start),
                   EngagementRow.scheduled_at < ensure_utc(end)))
        return count or 0

    @staticmethod
    def _effective(own: Any, manager: Any, program: int) -> Any:
        """``effective_limits`` in SQL: the manager's value replaces the program's, the
        advocate's own can only lower it."""
        base = func.coalesce(manager, program)
        return case((and_(own.is_not(None), own < base), own), else_=base)

    async def advocate_loads(self, as_of: datetime, limits: LimitPolicy, *, near: int = 1
                             ) -> list[AdvocateLoad]:
        as_of = ensure_utc(as_of)
        counts_at = func.coalesce(EngagementRow.scheduled_at, EngagementRow.accepted_at)
        agreed = and_(EngagementRow.state.in_(_COUNTING_ENGAGEMENT_STATES),
                      EngagementRow.accepted_at <= as_of)
        used = (select(
            EngagementRow.advocate_id.label("advocate_id"),
            func.sum(case((counts_at >= as_of - timedelta(days=90), 1), else_=0)).label("u90"),
            func.count().label("u365"))
            .where(agreed, counts_at >= as_of - timedelta(days=365))
            .group_by(EngagementRow.advocate_id).subquery())
        a = AdvocateRow
        limit_90 = self._effective(a.own_max_per_90_days, a.manager_max_per_90_days,
                                   limits.max_per_90_days)
        limit_365 = self._effective(a.own_max_per_365_days, a.manager_max_per_365_days,
                                    limits.max_per_365_days)
        rows = await self._session.execute(
            select(a.id, a.name, used.c.u90, limit_90, used.c.u365, limit_365)
            .join(used, used.c.advocate_id == a.id)
            .where(a.status == AdvocateStatus.ACTIVE.value,
                   or_(used.c.u90 >= limit_90 - near, used.c.u365 >= limit_365 - near))
            .order_by(used.c.u90.desc(), a.name, a.id))
        return [AdvocateLoad(advocate_id=i, name=n, used_90=int(u90), limit_90=int(l90),
                             used_365=int(u365), limit_365=int(l365))
                for i, n, u90, l90, u365, l365 in rows]

    async def idle_advocates(self, as_of: datetime, *, days: int) -> int:
        as_of = ensure_utc(as_of)
        since = as_of - timedelta(days=days)
        counts_at = func.coalesce(EngagementRow.scheduled_at, EngagementRow.accepted_at)
        recent = (select(EngagementRow.id)
                  .where(EngagementRow.advocate_id == AdvocateRow.id,
                         EngagementRow.state.in_(_COUNTING_ENGAGEMENT_STATES),
                         counts_at >= since, counts_at <= as_of).exists())
        count = await self._session.scalar(
            select(func.count()).select_from(AdvocateRow)
            .where(AdvocateRow.status == AdvocateStatus.ACTIVE.value,
                   or_(AdvocateRow.joined_on.is_(None), AdvocateRow.joined_on <= since.date()),
                   ~recent))
        return count or 0

    async def top_advocates(self, start: datetime, end: datetime, *, limit: int
                            ) -> list[AdvocateScore]:
        points = func.sum(EngagementRow.points_awarded)
        rows = await self._session.execute(
            select(AdvocateRow.id, AdvocateRow.name, points, func.count(),
                   AdvocateRow.public_recognition)
            .join(AdvocateRow, AdvocateRow.id == EngagementRow.advocate_id)
            .where(EngagementRow.state == EngagementState.COMPLETED.value,
                   EngagementRow.completed_at >= ensure_utc(start),
                   EngagementRow.completed_at < ensure_utc(end))
            .group_by(AdvocateRow.id, AdvocateRow.name, AdvocateRow.public_recognition)
            .order_by(points.desc(), func.count().desc(), AdvocateRow.name, AdvocateRow.id)
            .limit(limit))
        return [AdvocateScore(advocate_id=i, name=n, points=int(p or 0), engagements=int(c),
                              public_recognition=bool(pub)) for i, n, p, c, pub in rows]

    async def renewal_cautions(self, today: date, *, days: int, limit: int = 5
                               ) -> tuple[int, list[RenewalCaution]]:
        where = (AdvocateRow.status == AdvocateStatus.ACTIVE.value,
                 AdvocateRow.renewal_date >= today,
                 AdvocateRow.renewal_date <= today + timedelta(days=days))
        count = await self._session.scalar(select(func.count()).select_from(AdvocateRow)
                                           .where(*where))
        rows = await self._session.execute(
            select(AdvocateRow.id, AdvocateRow.name, AdvocateRow.renewal_date).where(*where)
            .order_by(AdvocateRow.renewal_date, AdvocateRow.name, AdvocateRow.id).limit(limit))
        return count or 0, [RenewalCaution(i, n, d) for i, n, d in rows]

    async def dead_letters(self, start: datetime, end: datetime, *, limit: int = 5
                           ) -> tuple[int, list[DeadLetter]]:
        where = (OutboxRow.status == OutboxStatus.DEAD.value,
                 OutboxRow.next_attempt_at >= ensure_utc(start),
                 OutboxRow.next_attempt_at < ensure_utc(end))
        count = await self._session.scalar(select(func.count()).select_from(OutboxRow)
                                           .where(*where))
        rows = await self._session.execute(
            select(OutboxRow.recipient_email, OutboxRow.recipient_user_id, OutboxRow.template,
                   OutboxRow.last_error, OutboxRow.next_attempt_at).where(*where)
            .order_by(OutboxRow.next_attempt_at.desc(), OutboxRow.id.desc()).limit(limit))
        return count or 0, [DeadLetter(recipient=email or user_id or "?", template=template,
                                       error=error, failed_at=at)
                            for email, user_id, template, error, at in rows]

    async def completed_engagements(self, start: datetime, end: datetime
                                    ) -> list[CompletedEngagement]:
        later = aliased(EngagementRow)
        ordinal = (select(func.count()).select_from(later)
                   .where(later.advocate_id == EngagementRow.advocate_id,
                          later.state == EngagementState.COMPLETED.value,
                          or_(later.completed_at < EngagementRow.completed_at,
                              and_(later.completed_at == EngagementRow.completed_at,
                                   later.id <= EngagementRow.id)))
                   .scalar_subquery())
        rows = await self._session.execute(
            select(EngagementRow.id, EngagementRow.advocate_id, EngagementRow.reference_type,
                   EngagementRow.points_awarded, EngagementRow.completed_at, ordinal)
            .where(EngagementRow.state == EngagementState.COMPLETED.value,
                   EngagementRow.completed_at >= ensure_utc(start),
                   EngagementRow.completed_at < ensure_utc(end))
            .order_by(EngagementRow.completed_at, EngagementRow.id))
        return [CompletedEngagement(engagement_id=i, advocate_id=a, reference_type=t,
                                    points=p, completed_at=at, ordinal=int(n))
                for i, a, t, p, at, n in rows]

    async def advocate_numbers(self, start: datetime, end: datetime
                               ) -> dict[int, AdvocateQuarter]:
        start, end = ensure_utc(start), ensure_utc(end)
        numbers: dict[int, dict[str, int]] = defaultdict(dict)
        for advocate_id, asks, accepted, declined in await self._session.execute(
                select(AskRow.advocate_id, func.count(),
                       func.sum(case((AskRow.state == AskState.ACCEPTED.value, 1), else_=0)),
                       func.sum(case((AskRow.state == AskState.DECLINED.value, 1), else_=0)))
                .where(AskRow.created_at >= start, AskRow.created_at < end)
                .group_by(AskRow.advocate_id)):
            numbers[advocate_id].update(asks=asks, accepted=int(accepted or 0),
                                        declined=int(declined or 0))
        for advocate_id, completed, points in await self._session.execute(
                select(EngagementRow.advocate_id, func.count(),
                       func.sum(EngagementRow.points_awarded))
                .where(EngagementRow.state == EngagementState.COMPLETED.value,
                       EngagementRow.completed_at >= start, EngagementRow.completed_at < end)
                .group_by(EngagementRow.advocate_id)):
            numbers[advocate_id].update(completed=completed, points=int(points or 0))
        return {advocate_id: AdvocateQuarter(**values) for advocate_id, values in numbers.items()}

    async def expiring_asks(self, start: datetime, end: datetime) -> list[Ask]:
        rows = await self._session.scalars(
            select(AskRow).where(AskRow.state == AskState.PENDING.value,
                                 AskRow.expires_at >= ensure_utc(start),
                                 AskRow.expires_at < ensure_utc(end))
            .order_by(AskRow.expires_at, AskRow.id))
        return [_ask(row) for row in rows]

    async def audited_subjects(self, action: str, *, since: datetime) -> set[str]:
        rows = await self._session.scalars(
            select(AuditRow.subject).distinct()
            .where(AuditRow.action == action, AuditRow.at >= ensure_utc(since)))
        return set(rows)

    async def claimed_keys(self, prefix: str) -> set[str]:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = await self._session.scalars(
            select(IdempotencyKeyRow.key)
            .where(IdempotencyKeyRow.key.like(escaped + "%", escape="\\")))
        return set(rows)
