"""Reference requests, the asks they send and the engagements they become, in SQL."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    or_,
    select,
)

from bot.domain.model import (
    Ask,
    AskState,
    CompanySize,
    Engagement,
    EngagementState,
    Identity,
    Outcome,
    Person,
    Platform,
    ReferenceRequest,
    ReferenceType,
    RequestState,
    ensure_utc,
)
from storage.repositories._base import (
    _OPEN_ASK_STATES,
    _TERMINAL_REQUEST_STATES,
    _email_key,
    _EntityRepository,
    _utc,
)
from storage.tables import (
    AskRow,
    EngagementRow,
    RequestRow,
)


def _request_values(r: ReferenceRequest) -> dict[str, Any]:
    identity = r.rep.identity
    return {
        "rep_email": r.rep.email,
        "rep_email_key": _email_key(r.rep.email),
        "rep_display_name": r.rep.display_name,
        "rep_platform": identity.platform.value if identity else None,
        "rep_workspace_id": identity.workspace_id if identity else None,
        "rep_user_id": identity.user_id if identity else None,
        "rep_timezone": r.rep.timezone,
        "prospect_company": r.prospect_company,
        "reference_type": r.reference_type.value,
        "needed_by": r.needed_by,
        "created_at": ensure_utc(r.created_at),
        "opportunity_name": r.opportunity_name,
        "crm_opportunity_id": r.crm_opportunity_id,
        "opportunity_amount": r.opportunity_amount,
        "opportunity_stage": r.opportunity_stage,
        "industry": r.industry,
        "region": r.region,
        "company_size": r.company_size.value if r.company_size else None,
        "products": list(r.products),
        "use_cases": list(r.use_cases),
        "language": r.language,
        "proposed_times": [ensure_utc(t).isoformat() for t in r.proposed_times],
        "timezone": r.timezone,
        "call_length_minutes": r.call_length_minutes,
        "meeting_link": r.meeting_link,
        "notes": r.notes,
        "parallel_asks": r.parallel_asks,
        "state": r.state.value,
        "updated_at": _utc(r.updated_at),
        "closed_reason": r.closed_reason,
    }


def _request(row: RequestRow) -> ReferenceRequest:
    identity = None
    if row.rep_platform is not None:
        identity = Identity(
            Platform(row.rep_platform), row.rep_workspace_id or "", row.rep_user_id or ""
        )
    return ReferenceRequest(
        id=row.id,
        rep=Person(
            email=row.rep_email,
            display_name=row.rep_display_name,
            identity=identity,
            timezone=row.rep_timezone,
        ),
        prospect_company=row.prospect_company,
        reference_type=ReferenceType(row.reference_type),
        needed_by=row.needed_by,
        created_at=row.created_at,
        opportunity_name=row.opportunity_name,
        crm_opportunity_id=row.crm_opportunity_id,
        opportunity_amount=row.opportunity_amount,
        opportunity_stage=row.opportunity_stage,
        industry=row.industry,
        region=row.region,
        company_size=CompanySize(row.company_size) if row.company_size else None,
        products=tuple(row.products),
        use_cases=tuple(row.use_cases),
        language=row.language,
        proposed_times=tuple(datetime.fromisoformat(t) for t in row.proposed_times),
        timezone=row.timezone,
        call_length_minutes=row.call_length_minutes,
        meeting_link=row.meeting_link,
        notes=row.notes,
        parallel_asks=row.parallel_asks,
        state=RequestState(row.state),
        updated_at=row.updated_at,
        closed_reason=row.closed_reason,
    )


class SqlRequestRepository(_EntityRepository[ReferenceRequest, RequestRow]):
    _row, _what = RequestRow, "request"
    _values = staticmethod(_request_values)
    _to_domain = staticmethod(_request)

    async def list_for_rep(
        self, rep: Person, *, include_closed: bool = False
    ) -> list[ReferenceRequest]:
        mine: list[ColumnElement[bool]] = []
        if rep.identity is not None:
            mine.append(and_(
                RequestRow.rep_platform == rep.identity.platform.value,
                RequestRow.rep_workspace_id == rep.identity.workspace_id,
                RequestRow.rep_user_id == rep.identity.user_id,
            ))
        if rep.email:
            mine.append(RequestRow.rep_email_key == rep.email.lower())
        if not mine:
            return []
        stmt = select(RequestRow).where(or_(*mine))
        if not include_closed:
            stmt = stmt.where(RequestRow.state.not_in(_TERMINAL_REQUEST_STATES))
        stmt = stmt.order_by(RequestRow.created_at.desc(), RequestRow.id.desc())
        return [_request(row) for row in await self._session.scalars(stmt)]

    async def list_open_needed_by(self, day: date) -> list[ReferenceRequest]:
        stmt = (
            select(RequestRow)
            .where(RequestRow.state.not_in(_TERMINAL_REQUEST_STATES), RequestRow.needed_by <= day)
            .order_by(RequestRow.id)
        )
        return [_request(row) for row in await self._session.scalars(stmt)]


def _ask_values(a: Ask) -> dict[str, Any]:
    return {
        "request_id": a.request_id,
        "advocate_id": a.advocate_id,
        "rank": a.rank,
        "created_at": ensure_utc(a.created_at),
        "expires_at": _utc(a.expires_at),
        "state": a.state.value,
        "answered_at": _utc(a.answered_at),
        "decline_reason": a.decline_reason,
        "approver_email": a.approver_email,
        "approved_by": a.approved_by,
        "approved_at": _utc(a.approved_at),
        "override_reason": a.override_reason,
    }


def _ask(row: AskRow) -> Ask:
    return Ask(
        id=row.id,
        request_id=row.request_id,
        advocate_id=row.advocate_id,
        rank=row.rank,
        created_at=row.created_at,
        expires_at=row.expires_at,
        state=AskState(row.state),
        answered_at=row.answered_at,
        decline_reason=row.decline_reason,
        approver_email=row.approver_email,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
        override_reason=row.override_reason,
    )


class SqlAskRepository(_EntityRepository[Ask, AskRow]):
    _row, _what = AskRow, "ask"
    _values = staticmethod(_ask_values)
    _to_domain = staticmethod(_ask)

    async def list_for_request(self, request_id: int) -> list[Ask]:
        stmt = select(AskRow).where(AskRow.request_id == request_id).order_by(AskRow.id)
        return [_ask(row) for row in await self._session.scalars(stmt)]

    async def list_expired(self, now: datetime, *, limit: int = 100) -> list[Ask]:
        stmt = (
            select(AskRow)
            .where(AskRow.state.in_(_OPEN_ASK_STATES), AskRow.expires_at <= ensure_utc(now))
            .order_by(AskRow.expires_at, AskRow.id)
            .limit(limit)
        )
        stmt = self._lock(stmt, skip_locked=True).execution_options(populate_existing=True)
        return [_ask(row) for row in await self._session.scalars(stmt)]


def _engagement_values(e: Engagement) -> dict[str, Any]:
    return {
        "request_id": e.request_id,
        "advocate_id": e.advocate_id,
        "ask_id": e.ask_id,
        "reference_type": e.reference_type.value,
        "accepted_at": ensure_utc(e.accepted_at),
        "state": e.state.value,
        "scheduled_at": _utc(e.scheduled_at),
        "duration_minutes": e.duration_minutes,
        "proposed_at": _utc(e.proposed_at),
        "outcome": e.outcome.value if e.outcome else None,
        "helpfulness": e.helpfulness,
        "influenced_amount": e.influenced_amount,
        "advocate_comment": e.advocate_comment,
        "points_awarded": e.points_awarded,
        "completed_at": _utc(e.completed_at),
    }


def _engagement(row: EngagementRow) -> Engagement:
    return Engagement(
        id=row.id,
        request_id=row.request_id,
        advocate_id=row.advocate_id,
        ask_id=row.ask_id,
        reference_type=ReferenceType(row.reference_type),
        accepted_at=row.accepted_at,
        state=EngagementState(row.state),
        scheduled_at=row.scheduled_at,
        duration_minutes=row.duration_minutes,
        proposed_at=row.proposed_at,
        outcome=Outcome(row.outcome) if row.outcome else None,
        helpfulness=row.helpfulness,
        influenced_amount=row.influenced_amount,
        advocate_comment=row.advocate_comment,
        points_awarded=row.points_awarded,
        completed_at=row.completed_at,
    )


class SqlEngagementRepository(_EntityRepository[Engagement, EngagementRow]):
    _row, _what = EngagementRow, "engagement"
    _values = staticmethod(_engagement_values)
    _to_domain = staticmethod(_engagement)

    async def get_for_request(self, request_id: int) -> Engagement | None:
        stmt = (
            select(EngagementRow)
            .where(
                EngagementRow.request_id == request_id,
                EngagementRow.state != EngagementState.CANCELLED.value,
            )
            .order_by(EngagementRow.id)
            .limit(1)
        )
        row = await self._session.scalar(stmt)
        return _engagement(row) if row else None

    async def list_for_advocate(self, advocate_id: int) -> list[Engagement]:
        stmt = (
            select(EngagementRow)
            .where(EngagementRow.advocate_id == advocate_id)
            .order_by(EngagementRow.accepted_at.desc(), EngagementRow.id.desc())
        )
        return [_engagement(row) for row in await self._session.scalars(stmt)]
