"""Shared fixtures for the service tests: a fake database, a clock, a context, people.

Kept deliberately small and stable because every service test module leans on it. Tests
read like conversations, so the helpers at the bottom answer "what did this person get?"
straight from the fake outbox (``db.state.outbox``), in the order the messages were queued.

Other test modules may import the plain helpers (``messages_to``, ``templates_to``,
``audit_actions``, ``build_advocate``, ``actor``) from here; the fixtures arrive through
pytest as usual.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.domain.model import (
    Actor,
    Advocate,
    CompanySize,
    Identity,
    Person,
    Platform,
    ReferenceType,
    Role,
)
from bot.domain.policy import ProgramPolicy
from bot.ports import OutgoingMessage
from bot.services.context import ServiceContext
from tests.fakes import FakeDatabase, FixedClock

# A Monday morning; far enough from quarter ends and DST changes to keep the maths obvious.
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

PM_EMAIL = "pat.manager@vendor.example"
REP_EMAIL = "riley.rep@vendor.example"
OTHER_REP_EMAIL = "sam.seller@vendor.example"
OWNER_EMAIL = "olive.owner@vendor.example"

AddAdvocate = Callable[..., Awaitable[Advocate]]

_serial = itertools.count(1)


def person(email: str, name: str = "", *, user_id: str | None = None,
           timezone: str | None = "UTC", platform: Platform = Platform.SLACK) -> Person:
    """A chat user with an identity, as a handler would build it from a payload."""
    uid = user_id or "U" + email.split("@", 1)[0].replace(".", "_").upper()
    return Person(
        email=email,
        display_name=name or email.split("@", 1)[0].replace(".", " ").title(),
        identity=Identity(platform, "T0001", uid),
        timezone=timezone,
    )


def actor(who: Person | str, *roles: Role) -> Actor:
    """An actor with exactly these roles (REP is always included, as in ``resolve_actor``)."""
    p = who if isinstance(who, Person) else person(who)
    return Actor(person=p, roles=frozenset({Role.REP, *roles}))


def build_advocate(**overrides: Any) -> Advocate:
    """An unsaved advocate who fits a typical fintech request; override any field."""
    n = next(_serial)
    fields: dict[str, Any] = {
        "email": f"advocate{n}@customer{n}.example",
        "name": f"Avery Advocate {n}",
        "company": f"Customer {n} Ltd",
        "title": "Head of Payments",
        "industry": "Fintech",
        "region": "EMEA",
        "country": "DE",
        "company_size": CompanySize.M,
        "products": ("Payments API",),
        "use_cases": ("Checkout",),
        "languages": ("English",),
        "timezone": "Europe/Berlin",
        "reference_types": frozenset({ReferenceType.CALL, ReferenceType.VIDEO_CALL}),
        "health_score": 90,
    }
    fields.update(overrides)
    return Advocate(**fields)


# --- fixtures --------------------------------------------------------------------------


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def db() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def policy() -> ProgramPolicy:
    return ProgramPolicy()


@pytest.fixture
def ctx(db: FakeDatabase, clock: FixedClock, policy: ProgramPolicy) -> ServiceContext:
    """The context every use case takes; ``dataclasses.replace(ctx, policy=...)`` to vary."""
    return ServiceContext(
        uow=db.uow,
        clock=clock,
        policy=policy,
        program_managers=(PM_EMAIL,),
        program_timezone="Europe/Berlin",
    )


@pytest.fixture
def rep_person() -> Person:
    return person(REP_EMAIL, "Riley Rep", timezone="America/New_York")


@pytest.fixture
def rep(rep_person: Person) -> Actor:
    return actor(rep_person)


@pytest.fixture
def other_rep() -> Actor:
    return actor(person(OTHER_REP_EMAIL, "Sam Seller", timezone="Europe/London"))


@pytest.fixture
def pm() -> Actor:
    return actor(person(PM_EMAIL, "Pat Manager", timezone="Europe/Berlin"),
                 Role.PROGRAM_MANAGER)


@pytest.fixture
def owner() -> Actor:
    return actor(person(OWNER_EMAIL, "Olive Owner", timezone="Europe/Paris"),
                 Role.ACCOUNT_OWNER)


@pytest.fixture
def add_advocate(db: FakeDatabase, clock: FixedClock) -> AddAdvocate:
    """Store an advocate (``build_advocate`` defaults + overrides) and return it with its id."""

    async def add(**overrides: Any) -> Advocate:
        async with db.uow() as uow:
            stored = await uow.advocates.add(build_advocate(**overrides))
            await uow.commit()
        return stored

    return add


def sample_draft(**overrides: Any) -> Any:
    """A valid intake form for a fintech reference call a week out (``RequestDraft``)."""
    from bot.services.intake import RequestDraft

    fields: dict[str, Any] = {
        "prospect_company": "Globex Bank",
        "reference_type": "call",
        "needed_by": date(2026, 3, 20),
        "industry": "Fintech",
        "region": "EMEA",
        "company_size": "201-1000",
        "products": ("Payments API",),
        "use_cases": ("Checkout",),
        "proposed_times": (datetime(2026, 3, 10, 15, 0, tzinfo=UTC),
                           datetime(2026, 3, 11, 16, 30, tzinfo=UTC)),
        "timezone": "America/New_York",
        "call_length_minutes": 30,
        "notes": "They want to hear about the migration.",
    }
    fields.update(overrides)
    return RequestDraft(**fields)


def advocate_actor(advocate: Advocate) -> Actor:
    """The advocate as they appear when they click a button in their DM."""
    return actor(person(advocate.email, advocate.name, timezone=advocate.timezone),
                 Role.ADVOCATE)


# --- what did each person get? ----------------------------------------------------------


def outbox(db: FakeDatabase) -> list[OutgoingMessage]:
    """Every queued message, oldest first."""
    return [m.message for m in sorted(db.state.outbox.values(), key=lambda m: m.id)]


def messages_to(db: FakeDatabase, email: str) -> list[OutgoingMessage]:
    """The messages queued for one person (by email, case-insensitive), oldest first."""
    return [m for m in outbox(db) if (m.recipient.email or "").lower() == email.lower()]


def templates_to(db: FakeDatabase, email: str) -> list[str]:
    return [m.template for m in messages_to(db, email)]


def last_to(db: FakeDatabase, email: str, template: str | None = None) -> OutgoingMessage:
    """The newest message to a person (optionally of one template); fails if there is none."""
    found = [m for m in messages_to(db, email) if template is None or m.template == template]
    assert found, f"{email} got no {template or 'message'}; got {templates_to(db, email)}"
    return found[-1]


def audit_actions(db: FakeDatabase, subject: str | None = None) -> list[str]:
    """Audit actions in the order they happened (optionally for one subject)."""
    return [e.action for e in db.state.audit if subject is None or e.subject == subject]


def with_policy(ctx: ServiceContext, **changes: Any) -> ServiceContext:
    """The same context with some policy values changed."""
    return replace(ctx, policy=replace(ctx.policy, **changes))
