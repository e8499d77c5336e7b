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

from bot.domain.nomination import ConsentRecord
from bot.ports import UnitOfWork

CURRENT_VERSION = "v1"
SELF = "self"
PROGRAM_MANAGER = "program_manager"


def needs_reconfirm(record: ConsentRecord | None) -> bool:
    """An advocate who agreed to another wording than today's (or never did in chat)."""
    return record is None or record.version != CURRENT_VERSION


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


__all__ = ["CURRENT_VERSION", "PROGRAM_MANAGER", "SELF", "consent_view", "needs_reconfirm",
           "record_consent"]
