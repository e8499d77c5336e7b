"""Notices to the program managers about the program's own plumbing.

A person the bot cannot reach on their platform (a Teams user who never opened the bot,
so there is no conversation to write to) is a program matter, not a messenger's: the
managers are told once per person, in the same unit of work that marks the message dead.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.model import Person
from bot.ports import UnitOfWork
from bot.services.context import ServiceContext, send
from bot.services.dispatch import OnUnreachable
from bot.services.messages import quiet_until

UNREACHABLE_TEMPLATE = "teams_unreachable"


def unreachable_notices(ctx: ServiceContext) -> OnUnreachable:
    """The outbox dispatcher's ``on_unreachable`` for this program."""

    async def tell_managers(uow: UnitOfWork, now: datetime, recipient: Person,
                            template: str) -> None:
        who = recipient.email or (recipient.identity.user_id if recipient.identity else "?")
        for manager in ctx.manager_people():
            manager = Person(email=manager.email, timezone=ctx.program_timezone)
            await send(uow, now, manager, UNREACHABLE_TEMPLATE,
                       {"who": who, "name": recipient.display_name, "template": template},
                       key=f"{UNREACHABLE_TEMPLATE}:{who.lower()}:{manager.email}",
                       not_before=quiet_until(ctx, manager, now))

    return tell_managers
