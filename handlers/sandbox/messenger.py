"""Where the outbox delivers sandbox people's messages: an inbox per person, in memory.

``SandboxMessenger`` is the sandbox's ``bot.ports.Messenger``: the real outbox dispatcher
hands it each message (rendered when the page is shown, from the same template and
context Slack and Teams render); a message that ``replaces`` an earlier one takes its
place, as an answered ask's message does in Slack. ``SandboxDirectory`` answers the
dispatcher's "who is this email?" for people who have not opened the sandbox yet (an
advocate on the roster is reached by email), so their messages wait in their inbox.
The clock the services read is ``bot.clock.AheadClock``, moved by "jump ahead".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.domain.model import Identity, Person, Platform
from bot.ports import DeliveryError, OutboxMessage

WORKSPACE = "sandbox"
MAX_KEPT = 200  # messages kept per person (the oldest go first)


def identity_for(email: str) -> Identity:
    """A sandbox person is their email, lower-cased."""
    return Identity(Platform.SANDBOX, WORKSPACE, email.strip().lower())


@dataclass(slots=True)
class Delivered:
    """One message in a person's inbox."""

    ref: str
    template: str
    context: dict[str, Any]
    at: datetime
    recipient: Person
    locale: str | None = None  # the recipient's, as the dispatcher set it


@dataclass
class Inbox:
    """Every sandbox person's messages, newest last; refs are ``m<number>``."""

    messages: dict[str, list[Delivered]] = field(default_factory=dict)
    _count: int = 0

    def of(self, email: str) -> list[Delivered]:
        return list(self.messages.get(email.strip().lower(), ()))

    def locale_of(self, email: str) -> str | None:
        """A person's locale, as the program last addressed them (None: not yet)."""
        kept = self.messages.get(email.strip().lower()) or []
        return kept[-1].locale if kept else None

    def put(self, user: str, message: Delivered, replaces: str | None) -> None:
        kept = self.messages.setdefault(user, [])
        for index, old in enumerate(kept):
            if replaces is not None and old.ref == replaces:
                kept[index] = message
                return
        kept.append(message)
        del kept[:-MAX_KEPT]

    def next_ref(self) -> str:
        self._count += 1
        return f"m{self._count}"


class SandboxMessenger:
    platform = Platform.SANDBOX

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def deliver(self, message: OutboxMessage) -> str | None:
        recipient = message.message.recipient
        identity = recipient.identity
        if identity is None or identity.platform is not Platform.SANDBOX:
            raise DeliveryError("not a sandbox person", permanent=True)
        ref = message.replaces_ref or self.inbox.next_ref()
        self.inbox.put(identity.user_id, Delivered(
            ref=ref, template=message.message.template, context=dict(message.message.context),
            at=message.created_at, recipient=recipient, locale=message.locale),
            message.replaces_ref)
        return ref


class SandboxDirectory:
    """Anyone with an email can be played in the sandbox."""

    platform = Platform.SANDBOX

    async def find_by_email(self, email: str) -> Person | None:
        if "@" not in email:
            return None
        return Person(email=email, identity=identity_for(email))
