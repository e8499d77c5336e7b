"""Consent: what an advocate agreed to, to which wording, when and on which platform.

The wording is a versioned template, ``templates/text/consent/<version>.txt.j2``; a change
of wording is a new file and a new ``CURRENT_VERSION``, never an edit of an old one, so a
record's version names exactly the words that person was shown. Consent is recorded when
an invited contact completes onboarding (``source`` "self"), and by a roster import: a row
with a ``Consent`` date is recorded as the advocate's own, a row without one as consented
by the program manager who imported it (``source`` "program_manager"). An advocate whose
latest consent is to an older wording is asked to re-confirm (``needs_reconfirm``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.errors import NotAllowed
from bot.domain.model import Actor
from bot.domain.nomination import ConsentRecord
from bot.ports import UnitOfWork
from bot.services.context import ServiceContext, actor_label, audit
from bot.services.roles import is_advocate

CURRENT_VERSION = "v1"
SELF = "self"
PROGRAM_MANAGER = "program_manager"


def needs_reconfirm(record: ConsentRecord | None) -> bool:
    """An advocate whose latest consent is to another wording than today's: asked to
    confirm again at their next check-in."""
    return record is not None and record.version != CURRENT_VERSION


def consent_view(record: ConsentRecord | None) -> dict[str, Any] | None:
    """A consent record as profiles and exports show it (JSON-safe); None: none recorded."""
    if record is None:
        return None
    return {"version": record.version, "agreed_at": record.agreed_at.isoformat(),
            "platform": record.platform, "agreed_to": list(record.agreed_to),
            "source": record.source, "current": record.version == CURRENT_VERSION}


async def record_consent(uow: UnitOfWork, *, email: str, advocate_id: int | None,
                         now: datetime, platform: str, agreed_to: tuple[str, ...],
                         source: str = SELF, recorded_by: str = "",
                         version: str = CURRENT_VERSION) -> ConsentRecord:
    return await uow.consents.add(ConsentRecord(
        email=email, advocate_id=advocate_id, version=version, agreed_at=now,
        platform=platform, agreed_to=agreed_to, source=source,
        recorded_by=recorded_by or email))


async def reconfirm(ctx: ServiceContext, actor: Actor, advocate_id: int) -> ConsentRecord:
    """The advocate agrees to today's wording (from their check-in): a new record, to what
    they had agreed to before."""
    now = ctx.now()
    async with ctx.uow() as uow:
        advocate = await uow.advocates.get(advocate_id)
        if advocate is None or not is_advocate(actor, advocate):
            raise NotAllowed("not_yours")
        before = await uow.consents.latest(advocate.email)
        platform = actor.person.identity.platform.value if actor.person.identity else "chat"
        record = await record_consent(uow, email=advocate.email, advocate_id=advocate_id,
                                      now=now, platform=platform,
                                      agreed_to=before.agreed_to if before else ())
        await audit(uow, now, actor_label(actor.person), "consent.confirmed",
                    f"advocate:{advocate_id}", version=CURRENT_VERSION, platform=platform)
        await uow.commit()
    return record


__all__ = ["CURRENT_VERSION", "PROGRAM_MANAGER", "SELF", "consent_view", "needs_reconfirm",
           "reconfirm", "record_consent"]
