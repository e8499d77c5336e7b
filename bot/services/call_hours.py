"""An advocate sets the hours they take calls in (``/advocate hours Mon-Fri 09:00-17:00``,
``default`` to go back to the program's). The hours are read as people write them
(``bot.domain.hours``) in the advocate's own zone, stored in their canonical spelling and
audited; asks, suggestions and quiet hours use them from then on.
"""

from __future__ import annotations

from bot.domain.errors import NotAllowed, NotFound
from bot.domain.hours import WorkingHours
from bot.domain.model import Actor, Advocate
from bot.services.context import ServiceContext, actor_label, audit
from bot.services.roles import is_advocate

DEFAULT_WORDS = frozenset({"default", "program", "reset", "clear", "none"})


async def set_own_hours(ctx: ServiceContext, actor: Actor, advocate_id: int, text: str
                        ) -> Advocate:
    """The advocate's own call hours; a word of ``DEFAULT_WORDS`` (or nothing) clears them
    (the program's default applies). Unreadable hours are an ``InvalidInput`` on
    ``hours``. Only the advocate may set them."""
    now = ctx.now()
    cleaned = " ".join(text.split())
    async with ctx.uow() as uow:
        advocate = await uow.advocates.get_for_update(advocate_id)
        if advocate is None:
            raise NotFound("not_yours")
        if not is_advocate(actor, advocate):
            raise NotAllowed("not_yours")
        hours = "" if cleaned.casefold() in DEFAULT_WORDS | {""} else WorkingHours.parse(
            cleaned, zone=advocate.timezone or "UTC").text()
        if advocate.call_hours == hours:
            return advocate
        before, advocate.call_hours = advocate.call_hours, hours
        await uow.advocates.update(advocate)
        await audit(uow, now, actor_label(actor.person), "advocate.call_hours",
                    f"advocate:{advocate.id}", before=before, after=hours)
        await uow.commit()
    return advocate


__all__ = ["DEFAULT_WORDS", "set_own_hours"]
