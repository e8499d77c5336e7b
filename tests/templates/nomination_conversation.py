"""Every nomination message, with ``text`` in every free field: nominated (with each
readiness finding), approved and declined, invited, answered Not now, No thanks and
joined, and an invite handed to the nominator; for the template tests of both surfaces."""

from __future__ import annotations

from datetime import date

from bot.domain.model import Role
from bot.ports import OutgoingMessage
from bot.services.nominations import answer_invite, decide_nomination, nominate, undeliverable
from bot.services.onboarding import OnboardingAnswers, join
from tests.unit.conftest import OWNER_EMAIL, PM_EMAIL, actor, outbox, person
from tests.unit.test_templates_text import World


async def nomination_conversation(text: str) -> list[OutgoingMessage]:
    w = World()
    await w.advocate("Ben", text, email="ben@acme.example", health_score=10, nps=2,
                     renewal_date=date(2026, 3, 20), account_owner_email=OWNER_EMAIL)
    owner = actor(person(OWNER_EMAIL, f"Olive {text}"), Role.ACCOUNT_OWNER)
    pm = actor(person(PM_EMAIL, f"Pat {text}"), Role.PROGRAM_MANAGER)
    ids = []
    for n in range(4):
        filed = await nominate(w.ctx, owner, f"c{n}@acme.example", f"Why {text}",
                               name=f"Cara{n} {text}")
        ids.append(filed.nomination.id or 0)
    await decide_nomination(w.ctx, pm, ids[0], False, f"Because {text}")
    for nomination_id in ids[1:]:
        await decide_nomination(w.ctx, pm, nomination_id, True)
    await answer_invite(w.ctx, actor(person("c1@acme.example")), ids[1], "not_now")
    await answer_invite(w.ctx, actor(person("c2@acme.example")), ids[2], "no_thanks")
    await join(w.ctx, actor(person("c3@acme.example", f"Cara3 {text}")), ids[3],
               OnboardingAnswers(reference_types=("call",), languages=("English",),
                                 timezone="Europe/Berlin", public_thanks=True, consent=True))
    filed = await nominate(w.ctx, pm, "zed@elsewhere.example", f"Why {text}")
    await decide_nomination(w.ctx, pm, filed.nomination.id or 0, True)
    invite = next(m for m in outbox(w.db) if m.template == "nomination_invite"
                  and m.recipient.email == "zed@elsewhere.example")
    async with w.db.uow() as uow:
        await undeliverable(w.ctx, uow, w.clock.now(), invite)
        await uow.commit()
    return outbox(w.db)
