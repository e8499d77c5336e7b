"""What every use case needs besides its arguments, built once by ``bot.bootstrap``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.domain.model import AuditEntry, Person, Role
from bot.domain.policy import ProgramPolicy
from bot.ports import Clock, OutgoingMessage, UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True)
class ServiceContext:
    uow: UnitOfWorkFactory
    clock: Clock
    policy: ProgramPolicy = field(default_factory=ProgramPolicy)
    program_managers: tuple[str, ...] = ()  # lower-case emails
    rep_email_domains: tuple[str, ...] = ()  # lower-case; empty = any internal person
    program_timezone: str = "UTC"
    program_locale: str = "en"  # PROGRAM_LOCALE: channel posts, and nobody else said

    def now(self) -> datetime:
        return self.clock.now()

    def manager_people(self) -> list[Person]:
        return [Person(email=email) for email in self.program_managers]


async def send(
    uow: UnitOfWork,
    now: datetime,
    to: Person,
    template: str,
    context: dict[str, Any],
    *,
    key: str,
    replaces: str | None = None,
    not_before: datetime | None = None,
) -> bool:
    """Queue a message in the outbox of this unit of work (so it commits with the change);
    ``not_before`` holds one that can wait for the recipient's hours
    (``messages.quiet_until``)."""
    return await uow.outbox.add(
        OutgoingMessage(recipient=to, template=template, context=context, key=key,
                        replaces=replaces, not_before=not_before),
        now=now,
    )


async def audit(
    uow: UnitOfWork, now: datetime, actor: str, action: str, subject: str, **detail: object
) -> None:
    await uow.audit.append(
        AuditEntry(at=now, actor=actor, action=action, subject=subject, detail=dict(detail))
    )


def actor_label(person: Person) -> str:
    """How the audit log names a person: their email, else platform:user."""
    if person.email:
        return person.email
    if person.identity:
        return f"{person.identity.platform.value}:{person.identity.user_id}"
    return "unknown"


__all__ = ["Role", "ServiceContext", "actor_label", "audit", "send"]
