"""In-memory fakes of the ports, for unit tests of the services.

``FakeDatabase`` holds committed state; each ``FakeUnitOfWork`` works on a deep copy and
swaps it in on ``commit()``, so a unit of work left without committing changes nothing —
the same contract the SQL unit of work keeps. ``FakeMessenger`` keeps a transcript.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from types import TracebackType
from typing import Any, Self

import pytest

from bot.domain.errors import DomainError, InvalidInput, Problem
from bot.domain.limits import effective_limits
from bot.domain.model import (
    Advocate,
    AdvocateStatus,
    Ask,
    AskState,
    AuditEntry,
    Engagement,
    EngagementState,
    Identity,
    Person,
    Platform,
    ReferenceRequest,
    RequestState,
    Usage,
)
from bot.domain.nomination import ConsentRecord, Nomination, NominationState
from bot.domain.policy import LimitPolicy
from bot.domain.redaction import redact_json, redact_text
from bot.ports import DEFAULT_LEASE, DeliveryError, OutboxMessage, OutboxStatus, OutgoingMessage
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


class FixedClock:
    """A clock that only moves when told to."""

    def __init__(self, now: datetime | None = None) -> None:
        self._now = now or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now

    def set(self, now: datetime) -> None:
        self._now = now


@dataclass
class _State:
    advocates: dict[int, Advocate] = field(default_factory=dict)
    advocate_fingerprints: dict[int, str] = field(default_factory=dict)  # by upsert_many
    requests: dict[int, ReferenceRequest] = field(default_factory=dict)
    asks: dict[int, Ask] = field(default_factory=dict)
    engagements: dict[int, Engagement] = field(default_factory=dict)
    people: dict[Identity, tuple[Person, int]] = field(default_factory=dict)
    conversation_references: dict[Identity, dict] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    outbox: dict[int, OutboxMessage] = field(default_factory=dict)
    idempotency: set[str] = field(default_factory=set)
    nominations: dict[int, Nomination] = field(default_factory=dict)
    consents: list[ConsentRecord] = field(default_factory=list)


class FakeDatabase:
    def __init__(self) -> None:
        self.state = _State()
        self.ids = itertools.count(1)
        self.commits = 0

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)


class _Repo:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    @property
    def _s(self) -> _State:
        assert self._uow.state is not None, "repository used outside its unit of work"
        return self._uow.state

    def _next_id(self) -> int:
        return next(self._uow.db.ids)


class FakeAdvocates(_Repo):
    async def add(self, advocate: Advocate) -> Advocate:
        if await self.get_by_email(advocate.email):
            raise ValueError(f"duplicate advocate email {advocate.email}")
        stored = replace(advocate, id=self._next_id())
        self._s.advocates[stored.id] = stored
        return copy.deepcopy(stored)

    async def update(self, advocate: Advocate) -> None:
        assert advocate.id in self._s.advocates
        self._s.advocates[advocate.id] = copy.deepcopy(advocate)
        self._s.advocate_fingerprints.pop(advocate.id, None)

    async def get(self, advocate_id: int) -> Advocate | None:
        return copy.deepcopy(self._s.advocates.get(advocate_id))

    get_for_update = get

    async def get_by_email(self, email: str) -> Advocate | None:
        for advocate in self._s.advocates.values():
            if advocate.email.lower() == email.lower():
                return copy.deepcopy(advocate)
        return None

    async def owns_accounts(self, email: str) -> bool:
        return any((a.account_owner_email or "").lower() == email.lower()
                   for a in self._s.advocates.values())

    async def get_many_by_email(self, emails: Sequence[str]) -> dict[str, Advocate]:
        keys = {e.lower() for e in emails}
        return {a.email.lower(): copy.deepcopy(a) for a in self._s.advocates.values()
                if a.email.lower() in keys}

    async def locales(self, emails: Sequence[str]) -> dict[str, str]:
        keys = {e.lower() for e in emails}
        return {a.email.lower(): a.locale for a in self._s.advocates.values()
                if a.email.lower() in keys and a.locale}

    async def import_fingerprints(self) -> dict[str, str | None]:
        return {a.email.lower(): self._s.advocate_fingerprints.get(advocate_id)
                for advocate_id, a in self._s.advocates.items()}

    async def upsert_many(self, advocates: Sequence[tuple[Advocate, str | None]]) -> None:
        by_email = {a.email.lower(): a.id for a in self._s.advocates.values()}
        for advocate, fingerprint in advocates:
            known = by_email.get(advocate.email.lower())
            if known is None:
                known = (await self.add(advocate)).id
            else:
                await self.update(replace(advocate, id=known))
            if fingerprint is not None:
                self._s.advocate_fingerprints[known] = fingerprint

    async def list(self, *, status: AdvocateStatus | None = None) -> list[Advocate]:
        found = [a for a in self._s.advocates.values() if status is None or a.status == status]
        return copy.deepcopy(sorted(found, key=lambda a: a.email.lower()))

    async def count(self, *, status: AdvocateStatus) -> int:
        return sum(1 for a in self._s.advocates.values() if a.status == status)

    async def active_roster(self) -> list[Advocate]:
        return await self.list(status=AdvocateStatus.ACTIVE)

    async def usage(self, advocate_ids: Sequence[int] | None, *,
                    since: datetime) -> dict[int, Usage]:
        if advocate_ids is None:  # everyone with any engagement or ask
            advocate_ids = sorted({e.advocate_id for e in self._s.engagements.values()}
                                  | {a.advocate_id for a in self._s.asks.values()})
        result: dict[int, Usage] = {}
        for advocate_id in advocate_ids:
            engagements = [
                e
                for e in self._s.engagements.values()
                if e.advocate_id == advocate_id and e.state.counts_toward_limits
            ]
            asks = sorted(
                (a for a in self._s.asks.values() if a.advocate_id == advocate_id),
                key=lambda a: (a.answered_at or a.created_at, a.id or 0),
            )
            streak, last_declined = 0, None
            for ask in reversed(
                [a for a in asks if a.state in (AskState.ACCEPTED, AskState.DECLINED)]
            ):
                if ask.state != AskState.DECLINED:
                    break
                streak += 1
                last_declined = last_declined or ask.answered_at
            result[advocate_id] = Usage(
                engagement_times=tuple(
                    sorted(e.counts_at for e in engagements if e.counts_at >= since)
                ),
                open_asks=sum(1 for a in asks if a.state.is_open),
                consecutive_declines=streak,
                last_declined_at=last_declined,
                last_engaged_at=max((e.counts_at for e in engagements), default=None),
            )
        return result


class FakeRequests(_Repo):
    async def add(self, request: ReferenceRequest) -> ReferenceRequest:
        stored = replace(request, id=self._next_id())
        self._s.requests[stored.id] = stored
        return copy.deepcopy(stored)

    async def update(self, request: ReferenceRequest) -> None:
        assert request.id in self._s.requests
        self._s.requests[request.id] = copy.deepcopy(request)

    async def get(self, request_id: int) -> ReferenceRequest | None:
        return copy.deepcopy(self._s.requests.get(request_id))

    get_for_update = get

    async def list_for_rep(
        self, rep: Person, *, include_closed: bool = False
    ) -> list[ReferenceRequest]:
        def mine(r: ReferenceRequest) -> bool:
            if rep.identity is not None and r.rep.identity == rep.identity:
                return True
            return bool(rep.email) and (r.rep.email or "").lower() == (rep.email or "").lower()

        found = [
            r
            for r in self._s.requests.values()
            if mine(r) and (include_closed or not r.state.is_terminal)
        ]
        return copy.deepcopy(sorted(found, key=lambda r: (r.created_at, r.id), reverse=True))

    async def list_open_needed_by(self, day: date) -> list[ReferenceRequest]:
        return copy.deepcopy(
            [r for r in self._s.requests.values() if not r.state.is_terminal and r.needed_by <= day]
        )


class FakeAsks(_Repo):
    async def add(self, ask: Ask) -> Ask:
        stored = replace(ask, id=self._next_id())
        self._s.asks[stored.id] = stored
        return copy.deepcopy(stored)

    async def update(self, ask: Ask) -> None:
        assert ask.id in self._s.asks
        self._s.asks[ask.id] = copy.deepcopy(ask)

    async def get(self, ask_id: int) -> Ask | None:
        return copy.deepcopy(self._s.asks.get(ask_id))

    get_for_update = get

    async def list_for_request(self, request_id: int) -> list[Ask]:
        return copy.deepcopy(
            sorted(
                (a for a in self._s.asks.values() if a.request_id == request_id), key=lambda a: a.id
            )
        )

    async def list_expired(self, now: datetime, *, limit: int = 100) -> list[Ask]:
        found = [
            a
            for a in self._s.asks.values()
            if a.state.is_open and a.expires_at is not None and a.expires_at <= now
        ]
        return copy.deepcopy(sorted(found, key=lambda a: a.expires_at)[:limit])


class FakeEngagements(_Repo):
    async def add(self, engagement: Engagement) -> Engagement:
        stored = replace(engagement, id=self._next_id())
        self._s.engagements[stored.id] = stored
        return copy.deepcopy(stored)

    async def update(self, engagement: Engagement) -> None:
        assert engagement.id in self._s.engagements
        self._s.engagements[engagement.id] = copy.deepcopy(engagement)

    async def get(self, engagement_id: int) -> Engagement | None:
        return copy.deepcopy(self._s.engagements.get(engagement_id))

    async def get_for_request(self, request_id: int) -> Engagement | None:
        for e in self._s.engagements.values():
            if e.request_id == request_id and e.state.value != "cancelled":
                return copy.deepcopy(e)
        return None

    async def list_for_advocate(self, advocate_id: int) -> list[Engagement]:
        found = [e for e in self._s.engagements.values() if e.advocate_id == advocate_id]
        return copy.deepcopy(sorted(found, key=lambda e: (e.accepted_at, e.id), reverse=True))


class FakePeople(_Repo):
    async def upsert(self, person: Person) -> None:
        assert person.identity is not None, "only chat users with an identity are stored"
        stored = self._s.people.get(person.identity)
        if stored is not None:  # as in SQL: the choice stays, a silent platform keeps its
            person = replace(person, chosen_locale=stored[0].chosen_locale,
                             locale=person.locale or stored[0].locale)
        else:
            person = replace(person, chosen_locale=None)
        self._s.people[person.identity] = (person, self._next_id())

    async def get_by_identity(self, identity: Identity) -> Person | None:
        found = self._s.people.get(identity)
        return found[0] if found else None

    async def get_many(self, identities: Sequence[Identity]) -> dict[Identity, Person]:
        return {i: self._s.people[i][0] for i in identities if i in self._s.people}

    async def choose_locale(self, identity: Identity, locale: str | None) -> bool:
        stored = self._s.people.get(identity)
        if stored is None:
            return False
        self._s.people[identity] = (replace(stored[0], chosen_locale=locale), stored[1])
        return True

    async def find_by_email(self, email: str) -> list[Person]:
        found = [
            (seq, p)
            for p, seq in self._s.people.values()
            if (p.email or "").lower() == email.lower()
        ]
        return [p for _, p in sorted(found, key=lambda pair: pair[0], reverse=True)]

    async def save_conversation_reference(self, identity: Identity, reference: dict) -> None:
        self._s.conversation_references[identity] = copy.deepcopy(reference)

    async def conversation_reference(self, identity: Identity) -> dict | None:
        return copy.deepcopy(self._s.conversation_references.get(identity))

    async def delete_by_email(self, email: str) -> list[Identity]:
        gone = sorted((i for i, (p, _) in self._s.people.items()
                       if (p.email or "").lower() == email.lower()),
                      key=lambda i: (i.platform.value, i.workspace_id, i.user_id))
        for identity in gone:
            del self._s.people[identity]
            self._s.conversation_references.pop(identity, None)
        return gone


class FakeAudit(_Repo):
    async def append(self, entry: AuditEntry) -> None:
        self._s.audit.append(replace(entry, id=self._next_id()))

    async def list(self, *, subject: str | None = None, limit: int = 100) -> list[AuditEntry]:
        found = [e for e in self._s.audit if subject is None or e.subject == subject]
        return list(reversed(found))[:limit]

    async def scrub(self, replacements: Mapping[str, str]) -> int:
        actors = {k.lower(): v for k, v in replacements.items() if k}
        changed = 0
        for index, entry in enumerate(self._s.audit):
            actor = actors.get(entry.actor.lower(), entry.actor)
            detail = redact_json(dict(entry.detail), replacements)
            if actor != entry.actor or detail != entry.detail:
                self._s.audit[index] = replace(entry, actor=actor, detail=detail)
                changed += 1
        return changed


class FakeOutbox(_Repo):
    async def add(self, message: OutgoingMessage, *, now: datetime) -> bool:
        if any(m.message.key == message.key for m in self._s.outbox.values()):
            return False
        message_id = self._next_id()
        at = message.queued_at(now)
        self._s.outbox[message_id] = OutboxMessage(
            id=message_id, message=message, created_at=at, next_attempt_at=at
        )
        return True

    async def claim_due(
        self, now: datetime, *, limit: int = 50, lease: timedelta = DEFAULT_LEASE
    ) -> list[OutboxMessage]:
        pending_keys = {m.message.key for m in self._s.outbox.values()
                        if m.status == OutboxStatus.PENDING}
        due = [
            m
            for m in self._s.outbox.values()
            if m.status == OutboxStatus.PENDING and (m.next_attempt_at or m.created_at) <= now
            and m.message.replaces not in pending_keys  # waits for the message it replaces
        ]
        due.sort(key=lambda m: (m.created_at, m.id))
        for m in due[:limit]:
            m.next_attempt_at = now + lease
        claimed = copy.deepcopy(due[:limit])
        for m in claimed:
            if m.message.replaces:
                m.replaces_ref = await self.platform_ref(m.message.replaces)
        return claimed

    async def mark_sent(self, message_id: int, *, platform_ref: str | None, now: datetime) -> None:
        m = self._s.outbox[message_id]
        m.status, m.sent_at, m.platform_ref = OutboxStatus.SENT, now, platform_ref
        m.attempts += 1

    async def mark_retry(self, message_id: int, *, error: str, next_attempt_at: datetime) -> None:
        m = self._s.outbox[message_id]
        m.attempts += 1
        m.last_error, m.next_attempt_at = error, next_attempt_at

    async def release(self, message_id: int, *, next_attempt_at: datetime) -> None:
        self._s.outbox[message_id].next_attempt_at = next_attempt_at

    async def mark_dead(self, message_id: int, *, error: str, now: datetime) -> None:
        m = self._s.outbox[message_id]
        m.attempts += 1
        m.status, m.last_error, m.next_attempt_at = OutboxStatus.DEAD, error, now

    async def platform_ref(self, key: str) -> str | None:
        for m in self._s.outbox.values():
            if m.message.key == key and m.status == OutboxStatus.SENT:
                return m.platform_ref
        return None

    async def dead_letters(self, *, since: datetime) -> list[OutboxMessage]:
        return copy.deepcopy(
            [
                m
                for m in self._s.outbox.values()
                if m.status == OutboxStatus.DEAD and (m.next_attempt_at or since) >= since
            ]
        )

    async def scrub_recipient(
        self, email: str, *, identities: Sequence[Identity] = (), placeholder: str,
        replacements: Mapping[str, str],
    ) -> tuple[int, int]:
        def addressed(m: OutboxMessage) -> bool:
            to = m.message.recipient
            return (to.email or "").lower() == email.lower() or to.identity in identities

        dropped = [i for i, m in self._s.outbox.items()
                   if addressed(m) and m.status == OutboxStatus.PENDING]
        for message_id in dropped:
            del self._s.outbox[message_id]
        changed = 0
        for m in self._s.outbox.values():
            if addressed(m):
                m.message = replace(m.message, recipient=Person(email=placeholder), context={})
                m.last_error = ""
                changed += 1
                continue
            context = redact_json(m.message.context, replacements)
            error = redact_text(m.last_error, replacements)
            if context != m.message.context or error != m.last_error:
                m.message = replace(m.message, context=context)
                m.last_error = error
                changed += 1
        return len(dropped), changed

    async def add_many(self, messages: Sequence[OutgoingMessage], *, now: datetime) -> int:
        return sum([await self.add(message, now=now) for message in messages])


class FakeIdempotency(_Repo):
    async def claim(self, key: str, *, now: datetime) -> bool:
        if key in self._s.idempotency:
            return False
        self._s.idempotency.add(key)
        return True

    async def claim_many(self, keys: Iterable[str], *, now: datetime) -> set[str]:
        return {key for key in sorted(set(keys)) if await self.claim(key, now=now)}


class FakeReports(_Repo):
    """The report queries as plain Python over the fake's rows; the SQL version must give
    the same answers (``tests/integration/test_digest_sql.py``)."""

    async def flow(self, start: datetime, end: datetime) -> FlowStats:
        s = self._s
        opened = sum(1 for r in s.requests.values() if start <= r.created_at < end)
        done = [e for e in s.engagements.values() if e.state is EngagementState.COMPLETED
                and e.completed_at is not None and start <= e.completed_at < end]
        unfulfilled = sum(1 for r in s.requests.values() if r.state is RequestState.UNFULFILLED
                          and r.updated_at is not None and start <= r.updated_at < end)
        first: dict[int, datetime] = {}
        for e in s.engagements.values():
            first[e.request_id] = min(first.get(e.request_id, e.accepted_at), e.accepted_at)
        waits = sorted((at - s.requests[rid].created_at).total_seconds()
                       for rid, at in first.items() if start <= at < end)
        influenced = sum((e.influenced_amount or Decimal(0) for e in done), Decimal(0))
        return FlowStats(opened=opened, fulfilled=len({e.request_id for e in done}),
                         unfulfilled=unfulfilled, influenced=influenced.quantize(Decimal("0.01")),
                         accept_waits=tuple(waits))

    async def weekly_counts(self, bounds: Sequence[datetime]) -> list[tuple[int, int]]:
        s = self._s
        return [(sum(1 for r in s.requests.values() if lo <= r.created_at < hi),
                 sum(1 for e in s.engagements.values() if e.state is EngagementState.COMPLETED
                     and e.completed_at is not None and lo <= e.completed_at < hi))
                for lo, hi in itertools.pairwise(bounds)]

    async def waiting_past_sla(self, as_of: datetime, *, created_before: datetime,
                               limit: int = 5) -> tuple[int, list[WaitingRequest]]:
        s = self._s
        accepted = {e.request_id for e in s.engagements.values() if e.accepted_at <= as_of}
        found = sorted(
            (r for r in s.requests.values()
             if r.created_at < created_before and r.id not in accepted
             and not (r.state.is_terminal and r.updated_at is not None
                      and r.updated_at <= as_of)),
            key=lambda r: (r.created_at, r.id))
        return len(found), [
            WaitingRequest(request_id=r.id or 0, prospect_company=r.prospect_company,
                           rep_email=r.rep.email, created_at=r.created_at,
                           needed_by=r.needed_by, state=r.state.value) for r in found[:limit]]

    async def upcoming_calls(self, start: datetime, end: datetime) -> int:
        return sum(1 for e in self._s.engagements.values()
                   if e.state is not EngagementState.CANCELLED and e.scheduled_at is not None
                   and start <= e.scheduled_at < end)

    async def advocate_loads(self, as_of: datetime, limits: LimitPolicy, *, near: int = 1
                             ) -> list[AdvocateLoad]:
        found = []
        for a in self._s.advocates.values():
            if a.status is not AdvocateStatus.ACTIVE:
                continue
            times = [e.counts_at for e in self._s.engagements.values()
                     if e.advocate_id == a.id and e.state.counts_toward_limits
                     and e.accepted_at <= as_of]
            u90 = sum(1 for t in times if t >= as_of - timedelta(days=90))
            u365 = sum(1 for t in times if t >= as_of - timedelta(days=365))
            if not u365:
                continue
            eff = effective_limits(limits, a)
            if u90 >= eff.max_per_90_days - near or u365 >= eff.max_per_365_days - near:
                found.append(AdvocateLoad(a.id or 0, a.name, u90, eff.max_per_90_days,
                                          u365, eff.max_per_365_days))
        return sorted(found, key=lambda x: (-x.used_90, x.name, x.advocate_id))

    async def idle_advocates(self, as_of: datetime, *, days: int) -> int:
        since = as_of - timedelta(days=days)
        busy = {e.advocate_id for e in self._s.engagements.values()
                if e.state.counts_toward_limits and since <= e.counts_at <= as_of}
        return sum(1 for a in self._s.advocates.values()
                   if a.status is AdvocateStatus.ACTIVE and a.id not in busy
                   and (a.joined_on is None or a.joined_on <= since.date()))

    async def top_advocates(self, start: datetime, end: datetime, *, limit: int
                            ) -> list[AdvocateScore]:
        points: dict[int, list[int]] = {}
        for e in self._s.engagements.values():
            if (e.state is EngagementState.COMPLETED and e.completed_at is not None
                    and start <= e.completed_at < end):
                points.setdefault(e.advocate_id, []).append(e.points_awarded)
        scores = [AdvocateScore(aid, self._s.advocates[aid].name, sum(p), len(p),
                                self._s.advocates[aid].public_recognition)
                  for aid, p in points.items()]
        scores.sort(key=lambda x: (-x.points, -x.engagements, x.name, x.advocate_id))
        return scores[:limit]

    async def renewal_cautions(self, today: date, *, days: int, limit: int = 5
                               ) -> tuple[int, list[RenewalCaution]]:
        found = sorted(
            (RenewalCaution(a.id or 0, a.name, a.renewal_date)
             for a in self._s.advocates.values()
             if a.status is AdvocateStatus.ACTIVE and a.renewal_date is not None
             and today <= a.renewal_date <= today + timedelta(days=days)),
            key=lambda x: (x.renewal_date, x.name, x.advocate_id))
        return len(found), found[:limit]

    async def dead_letters(self, start: datetime, end: datetime, *, limit: int = 5
                           ) -> tuple[int, list[DeadLetter]]:
        dead = sorted(
            (m for m in self._s.outbox.values() if m.status == OutboxStatus.DEAD
             and m.next_attempt_at is not None and start <= m.next_attempt_at < end),
            key=lambda m: (m.next_attempt_at, m.id), reverse=True)
        return len(dead), [
            DeadLetter(recipient=m.message.recipient.email
                       or (m.message.recipient.identity.user_id
                           if m.message.recipient.identity else "?"),
                       template=m.message.template, error=m.last_error,
                       failed_at=m.next_attempt_at or start) for m in dead[:limit]]

    async def completed_engagements(self, start: datetime, end: datetime
                                    ) -> list[CompletedEngagement]:
        done = sorted((e for e in self._s.engagements.values()
                       if e.state is EngagementState.COMPLETED and e.completed_at is not None),
                      key=lambda e: (e.completed_at, e.id))
        seen: dict[int, int] = {}
        found = []
        for e in done:
            seen[e.advocate_id] = seen.get(e.advocate_id, 0) + 1
            assert e.completed_at is not None and e.id is not None
            if start <= e.completed_at < end:
                found.append(CompletedEngagement(e.id, e.advocate_id, e.reference_type.value,
                                                 e.points_awarded, e.completed_at,
                                                 seen[e.advocate_id]))
        return found

    async def advocate_numbers(self, start: datetime, end: datetime
                               ) -> dict[int, AdvocateQuarter]:
        numbers: dict[int, dict[str, int]] = {}
        for a in self._s.asks.values():
            if start <= a.created_at < end:
                n = numbers.setdefault(a.advocate_id, {})
                n["asks"] = n.get("asks", 0) + 1
                n["accepted"] = n.get("accepted", 0) + (a.state is AskState.ACCEPTED)
                n["declined"] = n.get("declined", 0) + (a.state is AskState.DECLINED)
        for e in self._s.engagements.values():
            if (e.state is EngagementState.COMPLETED and e.completed_at is not None
                    and start <= e.completed_at < end):
                n = numbers.setdefault(e.advocate_id, {})
                n["completed"] = n.get("completed", 0) + 1
                n["points"] = n.get("points", 0) + e.points_awarded
        return {aid: AdvocateQuarter(**n) for aid, n in numbers.items()}

    async def expiring_asks(self, start: datetime, end: datetime) -> list[Ask]:
        return copy.deepcopy(sorted(
            (a for a in self._s.asks.values() if a.state is AskState.PENDING
             and a.expires_at is not None and start <= a.expires_at < end),
            key=lambda a: (a.expires_at, a.id)))

    async def audited_subjects(self, action: str, *, since: datetime) -> set[str]:
        return {e.subject for e in self._s.audit if e.action == action and e.at >= since}

    async def claimed_keys(self, prefix: str) -> set[str]:
        return {key for key in self._s.idempotency if key.startswith(prefix)}


class FakeNominations(_Repo):
    async def add(self, nomination: Nomination) -> Nomination:
        stored = replace(nomination, id=self._next_id())
        self._s.nominations[stored.id or 0] = stored
        return copy.deepcopy(stored)

    async def update(self, nomination: Nomination) -> None:
        assert nomination.id in self._s.nominations
        self._s.nominations[nomination.id] = copy.deepcopy(nomination)

    async def get(self, nomination_id: int) -> Nomination | None:
        return copy.deepcopy(self._s.nominations.get(nomination_id))

    get_for_update = get

    async def for_email(self, email: str) -> list[Nomination]:
        key = email.strip().lower()
        return copy.deepcopy(sorted(
            (n for n in self._s.nominations.values() if n.email.lower() == key),
            key=lambda n: (n.created_at, n.id or 0), reverse=True))

    async def waiting(self, *, created_before: datetime) -> list[Nomination]:
        return copy.deepcopy(sorted(
            (n for n in self._s.nominations.values() if n.state is NominationState.PENDING
             and n.created_at < created_before), key=lambda n: (n.created_at, n.id or 0)))

    async def forget(self, email: str) -> int:
        gone = [i for i, n in self._s.nominations.items() if n.email.lower() == email.lower()]
        for i in gone:
            del self._s.nominations[i]
        return len(gone)

    async def account_contacts(self, domain: str) -> list[Advocate]:
        return copy.deepcopy([a for a in self._s.advocates.values()
                              if a.email.lower().endswith("@" + domain)])

    async def engagements_since(self, advocate_ids: Sequence[int], since: datetime) -> int:
        return sum(1 for e in self._s.engagements.values() if e.advocate_id in advocate_ids
                   and e.state.counts_toward_limits and e.counts_at >= since)


class FakeConsents(_Repo):
    async def add(self, record: ConsentRecord) -> ConsentRecord:
        stored = replace(record, id=self._next_id())
        self._s.consents.append(stored)
        return stored

    async def add_many(self, records: Sequence[ConsentRecord]) -> int:
        for record in records:
            await self.add(record)
        return len(records)

    async def latest(self, email: str) -> ConsentRecord | None:
        return (await self.latest_all()).get(email.strip().lower())

    async def latest_all(self) -> dict[str, ConsentRecord]:
        ordered = sorted(self._s.consents, key=lambda r: (r.agreed_at, r.id or 0))
        return {r.email.lower(): r for r in ordered}

    async def forget(self, email: str) -> int:
        before = len(self._s.consents)
        self._s.consents = [r for r in self._s.consents if r.email.lower() != email.lower()]
        return before - len(self._s.consents)


class FakeUnitOfWork:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db
        self.state: _State | None = None
        self.committed = False
        self.advocates = FakeAdvocates(self)
        self.requests = FakeRequests(self)
        self.asks = FakeAsks(self)
        self.engagements = FakeEngagements(self)
        self.people = FakePeople(self)
        self.audit = FakeAudit(self)
        self.outbox = FakeOutbox(self)
        self.idempotency = FakeIdempotency(self)
        self.reports = FakeReports(self)
        self.nominations = FakeNominations(self)
        self.consents = FakeConsents(self)

    async def __aenter__(self) -> Self:
        self.state = copy.deepcopy(self.db.state)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.state = None

    async def commit(self) -> None:
        assert self.state is not None, "commit outside the unit of work"
        self.db.state = copy.deepcopy(self.state)
        self.db.commits += 1
        self.committed = True

    async def rollback(self) -> None:
        assert self.state is not None
        self.state = copy.deepcopy(self.db.state)


@dataclass
class Delivery:
    to: Person
    template: str
    context: dict
    replaces_ref: str | None
    locale: str | None = None


class FakeMessenger:
    """Records every delivery; ``fail_next`` queues ``DeliveryError``s to raise first."""

    def __init__(self, platform: Platform = Platform.SLACK) -> None:
        self.platform = platform
        self.transcript: list[Delivery] = []
        self.fail_next: list[DeliveryError] = []
        self._refs = itertools.count(1)

    async def deliver(self, message: OutboxMessage) -> str | None:
        if self.fail_next:
            raise self.fail_next.pop(0)
        m = message.message
        self.transcript.append(Delivery(m.recipient, m.template, m.context, message.replaces_ref,
                                       message.locale))
        return message.replaces_ref or f"{self.platform.value}-msg-{next(self._refs)}"

    def sent_to(self, email: str) -> list[Delivery]:
        return [d for d in self.transcript if (d.to.email or "").lower() == email.lower()]

    def templates(self) -> list[str]:
        return [d.template for d in self.transcript]


def said(problem: Problem | DomainError) -> str:
    """The words a refusal or field error shows a person (plain text; its template)."""
    from bot.rendering import Renderer
    return Renderer().problem_text(problem)


def phrases(reasons: Iterable[Problem | Mapping[str, Any]]) -> tuple[str, ...]:
    """Reasons (a match's, a limit check's, or as a message context stores them) as the
    phrases a person reads (plain text; ``templates/text/reasons/``)."""
    return tuple(_renderer().problem_text(reason) for reason in reasons)


@cache
def _renderer() -> Any:
    from bot.rendering import Renderer
    return Renderer()


def ics_of(message: Any) -> str:
    """The ``.ics`` a message (outbox or delivery, anything with a ``context``) carries,
    as the messengers make it."""
    from bot.rendering import Renderer
    ics = Renderer().invite_ics(message.context)
    assert ics is not None, "the message carries no invite"
    return ics


#: The one neutral refusal, as people read it.
NOT_YOURS = said(Problem("not_yours"))


def words(error: InvalidInput) -> dict[str, str]:
    """An ``InvalidInput``'s problems as the words each field shows."""
    return {name: said(problem) for name, problem in error.errors.items()}


@contextmanager
def raises_saying(kind: type[DomainError], pattern: str) -> Iterator[pytest.ExceptionInfo[Any]]:
    """``pytest.raises(kind)`` whose words (not its code) match ``pattern`` (``re.search``)."""
    with pytest.raises(kind) as info:
        yield info
    text = said(info.value)
    assert re.search(pattern, text), f"{pattern!r} not in {text!r}"
